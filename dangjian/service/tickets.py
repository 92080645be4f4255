"""PDCA tickets (整改工单): the services that fill a ticket's steps and move it through
Plan → Do → Check → Act → closed (``models.TRANSITIONS``), its actions and evidence, overdue tickets and reminders.

Rules in one place, read by the pages, the API and the demo alike:

- ``allowed_moves`` is what the UI shows; ``move`` refuses anything else (wrong state, wrong role, stale version,
  missing step fields), writes a ``TicketTransition`` row and an audit event.
- A step's fields are edited only while the ticket is in that step (``STEP_FIELDS``); the due date may also be
  extended later, and the owner organization changed, by ``ticket.manage`` (the committee's staff) only.
- Actions (措施落实情况) with evidence files are added in Do; Do → Check needs at least one.
- ``remind_due`` mails the owners of tickets overdue or due within ``REMIND_DAYS`` days, once a day per ticket
  (``Ticket.reminded_at``); ``manage.py remind_tickets`` calls it.

The opening of a ticket lives in ``service.common.open_ticket`` (every origin shares it); ``open_staff_ticket``
here is the staff origin with its permission check.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import ACTIONS, AccessDenied, can, require, scope
from dangjian.core.audit import log_action
from dangjian.core.dates import month_start, next_month
from dangjian.core.errors import ConflictError, DomainError, actor
from dangjian.orgs.models import Organization, RoleGrant
from dangjian.service.common import check_area, open_ticket
from dangjian.service.models import (
    OPEN_STATES,
    TRANSITIONS,
    NeedCategory,
    Origin,
    Satisfaction,
    ServiceArea,
    Ticket,
    TicketAction,
    TicketEvidence,
    TicketTransition,
    TState,
)

log = logging.getLogger(__name__)

REMIND_DAYS = 2
REASON_MAX = 500
TEXT_MAX = 2000
FILES_PER_ACTION = 10

# The field -> the state in which the step that owns it is filled.
STEP_FIELDS: dict[str, str] = {
    "title": TState.PLAN, "description": TState.PLAN, "area": TState.PLAN, "analysis": TState.PLAN,
    "measures": TState.PLAN, "owner": TState.PLAN, "due_date": TState.PLAN,
    "verification": TState.CHECK, "satisfaction": TState.CHECK, "callback_on": TState.CHECK,
    "standardization": TState.ACT, "similar_cases": TState.ACT, "recurrence": TState.ACT,
}
TEXT_FIELDS = ("title", "description", "analysis", "measures", "verification", "standardization", "similar_cases")
FIELD_LABELS = {
    "title": "标题", "description": "问题描述", "area": "服务区域", "analysis": "原因分析", "measures": "整改措施",
    "owner": "责任人", "due_date": "完成期限", "verification": "核查情况", "satisfaction": "诉求人满意度",
    "callback_on": "回访日期", "standardization": "固化与改进", "similar_cases": "举一反三",
    "recurrence": "同类问题重复发生", "org": "责任单位", "date": "落实日期",
}


# ---- reading -----------------------------------------------------------------------------------------------------


def visible(user) -> QuerySet:
    """The tickets the user may see, with what lists show."""
    return scope(user, "ticket.view", Ticket.objects.select_related("org", "area", "owner"))


def overdue_q(today: datetime.date | None = None) -> Q:
    """Open and past its due date."""
    return Q(state__in=OPEN_STATES, due_date__lt=today or timezone.localdate())


def is_overdue(ticket: Ticket, today: datetime.date | None = None) -> bool:
    return (ticket.state in OPEN_STATES and ticket.due_date is not None
            and ticket.due_date < (today or timezone.localdate()))


def own_overdue_q(user, today: datetime.date | None = None) -> Q:
    """“My organization's overdue tickets”: overdue, and either owned by the user or of an organization the user
    is granted a role on (the organization itself, not its subtree)."""
    paths = list(RoleGrant.objects.filter(user_id=user.pk).values_list("org__path", flat=True))
    return overdue_q(today) & (Q(owner_id=user.pk) | Q(org__path__in=paths))


FILTER_KEYS = ("org", "state", "origin", "overdue", "area", "month", "q", "mine")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def filter_tickets(user, qs: QuerySet, f: dict, today: datetime.date | None = None) -> QuerySet:
    """The list filters shared by the page, its export and the API: ``org`` (its subtree), ``state`` (a state or
    "open"), ``origin``, ``overdue``, ``mine`` (my organization's overdue), ``area``, ``month`` created (YYYY-MM)
    and ``q`` (number, title, description). Values that make no sense are ignored; an organization outside the
    user's scope gives nothing."""
    today = today or timezone.localdate()
    if f.get("org"):
        org = scope(user, "ticket.view", Organization.objects.all()).filter(pk=_int(f["org"]) or 0).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    state = f.get("state")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in TState.values:
        qs = qs.filter(state=state)
    if f.get("origin") in Origin.values:
        qs = qs.filter(origin=f["origin"])
    if f.get("overdue") in ("1", "true", "on", True):
        qs = qs.filter(overdue_q(today))
    if f.get("mine") in ("1", "true", "on", True):
        qs = qs.filter(own_overdue_q(user, today))
    if _int(f.get("area")):
        qs = qs.filter(area_id=_int(f["area"]))
    if f.get("month"):
        try:
            first = month_start(str(f["month"]))
        except DomainError:
            first = None
        if first is not None:
            tz = timezone.get_current_timezone()
            qs = qs.filter(created_at__gte=datetime.datetime.combine(first, datetime.time.min, tz),
                           created_at__lt=datetime.datetime.combine(next_month(first), datetime.time.min, tz))
    q = (f.get("q") or "").strip()[:100]
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(title__contains=q) | Q(description__contains=q))
    return qs


def is_complaint(ticket: Ticket) -> bool:
    return bool(ticket.need_id) and ticket.need.category == NeedCategory.COMPLAINT


@dataclass(frozen=True)
class Move:
    to: str
    label: str
    needs_reason: bool
    danger: bool


def needs_reason(from_state: str, to_state: str) -> bool:
    """Returning, cancelling and reopening say why."""
    return to_state == TState.CANCELLED or from_state == TState.CLOSED or (
        from_state == TState.CHECK and to_state == TState.DO)


def _rule(from_state: str, to_state: str):
    for rule in TRANSITIONS:
        if rule[0] == from_state and rule[1] == to_state:
            return rule
    return None


def allowed_moves(user, ticket: Ticket) -> list[Move]:
    """The moves the user may make from the ticket's state, in the order of TRANSITIONS (the UI's buttons)."""
    out = []
    for frm, to, action, label in TRANSITIONS:
        if frm == ticket.state and can(user, action, ticket.org.path):
            reason = needs_reason(frm, to)
            out.append(Move(to, _(label), reason, reason))
    return out


def may_handle(user, ticket: Ticket) -> bool:
    return can(user, "ticket.handle", ticket.org.path)


def may_manage(user, ticket: Ticket) -> bool:
    return can(user, "ticket.manage", ticket.org.path)


def ancestor_paths(path: str) -> list[str]:
    """The paths of the organization at ``path`` and of its ancestors ("0001.0004." -> ["0001.", "0001.0004."])."""
    parts = [p for p in path.split(".") if p]
    return [".".join(parts[: i + 1]) + "." for i in range(len(parts))]


def owner_choices(org: Organization) -> QuerySet:
    """Who may own a ticket of ``org``: active users who may handle tickets there (a grant on it or an ancestor)."""
    roles = ACTIONS["ticket.handle"]
    return (get_user_model().objects.filter(is_active=True, grants__role__in=roles,
                                            grants__org__path__in=ancestor_paths(org.path),
                                            grants__org__archived=False)
            .distinct().order_by("username"))


# ---- helpers of the writes ---------------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    return (Ticket.objects.select_for_update(of=("self",)).select_related("org", "need", "area", "owner")
            .get(pk=ticket.pk))


def _check_version(ticket: Ticket, version) -> None:
    if version is None:
        return
    try:
        version = int(version)
    except (TypeError, ValueError) as exc:
        raise DomainError(_("版本号无效，请刷新页面后重试。"), "version") from exc
    if version != ticket.version:
        raise ConflictError(_("该工单已被他人修改（您看到的是第{old}版，现在是第{new}版），本次操作未保存；"
                              "请刷新页面，核对后重新操作。").format(old=version, new=ticket.version), "version")


def _text(value, field: str, *, required: bool = False, limit: int = TEXT_MAX) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise DomainError(_("请填写{field}。").format(field=_(FIELD_LABELS[field])), field)
    if len(value) > limit:
        raise DomainError(_("{field}不能超过{n}字。").format(field=_(FIELD_LABELS[field]), n=limit), field)
    return value


def _created_on(ticket: Ticket) -> datetime.date:
    return timezone.localdate(ticket.created_at) if ticket.created_at else timezone.localdate()


def _date(value, field: str, ticket: Ticket, *, not_future: bool = False) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise DomainError(_("{field}格式应为“年-月-日”，例如 2026-05-01。").format(
                field=_(FIELD_LABELS[field])), field) from exc
    if value < _created_on(ticket):
        raise DomainError(_("{field}不能早于工单立项日期（{day}）。").format(
            field=_(FIELD_LABELS[field]), day=_created_on(ticket).isoformat()), field)
    if not_future and value > timezone.localdate():
        raise DomainError(_("{field}不能晚于今天。").format(field=_(FIELD_LABELS[field])), field)
    return value


def _open(ticket: Ticket) -> None:
    if ticket.state not in OPEN_STATES:
        raise DomainError(_("工单已“{state}”，不能再修改；如需继续整改，请由党建管理员重新打开。").format(
            state=TState(ticket.state).label), "state")


def _reason(reason: str, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(_("请填写理由。"), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("理由不能超过{n}字。").format(n=REASON_MAX), "reason")
    return reason


# ---- opening (staff origin) --------------------------------------------------------------------------------------


def open_staff_ticket(user, org: Organization, *, title: str, description: str, area: ServiceArea | None = None,
                      due_date: datetime.date | None = None, request=None) -> Ticket:
    """A problem found by the organization's own people (自查发现): ``ticket.handle`` on the organization."""
    require(user, "ticket.handle", org.path)
    if org.archived:
        raise DomainError(_("该组织已撤销，不能新建工单。"), "org")
    if due_date is not None and due_date < timezone.localdate():
        raise DomainError(_("完成期限不能早于今天。"), "due_date")
    if len((description or "").strip()) > TEXT_MAX:
        raise DomainError(_("问题描述不能超过{n}字。").format(n=TEXT_MAX), "description")
    if len((title or "").strip()) > 60:
        raise DomainError(_("标题不能超过60字。"), "title")
    return open_ticket(user, org, origin=Origin.STAFF, title=title, description=description, area=area,
                       due_date=due_date, request=request)


# ---- the step fields ---------------------------------------------------------------------------------------------


def save_fields(user, ticket: Ticket, changes: dict, *, version=None, request=None) -> Ticket:
    """Change some of the ticket's step fields (``STEP_FIELDS``) and, for ``ticket.manage``, its organization.

    A step's fields change only while the ticket is in that step; the due date may be extended in any open step
    by ``ticket.manage``; the organization (``org``) only by ``ticket.manage``, to one in their scope, and the
    area and owner follow it (cleared where they do not belong to the new organization). All or nothing."""
    with transaction.atomic():
        t = _lock(ticket)
        require(user, "ticket.view", t.org.path)
        require(user, "ticket.handle", t.org.path)
        _check_version(t, version)
        _open(t)
        manage = may_manage(user, t)
        unknown = set(changes) - set(STEP_FIELDS) - {"org"}
        if unknown:
            raise DomainError(_("不能修改字段：{names}。").format(names="、".join(sorted(unknown))), sorted(unknown)[0])
        before = {}
        after = {}
        reason = ""
        new_org = changes.get("org")
        if new_org is not None and new_org.pk != t.org_id:
            if not manage or not can(user, "ticket.manage", new_org.path):
                raise AccessDenied("ticket.manage")
            if new_org.archived:
                raise DomainError(_("该组织已撤销，不能作为责任单位。"), "org")
            before["org"], after["org"] = t.org.name, new_org.name
            t.org = new_org
            if t.area_id and t.area.org_id != new_org.pk:
                t.area = None
            if t.owner_id and not can(t.owner, "ticket.handle", new_org.path):
                t.owner = None
        for field, value in changes.items():
            if field == "org":
                continue
            step = STEP_FIELDS[field]
            if t.state != step and not (field == "due_date" and manage):
                raise DomainError(_("“{field}”只能在“{state}”阶段填写，工单当前为“{now}”。").format(
                    field=_(FIELD_LABELS[field]), state=TState(step).label, now=TState(t.state).label), field)
            old = getattr(t, field)
            if field in TEXT_FIELDS:
                value = _text(value, field, required=field in ("title", "description"),
                              limit=60 if field == "title" else TEXT_MAX)
            elif field in ("due_date", "callback_on"):
                value = _date(value, field, t, not_future=field == "callback_on")
                if field == "due_date" and value is None and t.state != TState.PLAN:
                    raise DomainError(_("实施后不能取消完成期限。"), field)
            elif field == "satisfaction":
                value = value or ""
                if value and value not in Satisfaction.values:
                    raise DomainError(_("请从列表中选择诉求人满意度。"), field)
            elif field == "recurrence":
                value = bool(value)
            elif field == "area":
                if value is not None:
                    check_area(t.org, value)
            elif field == "owner":
                if value is not None and (not value.is_active or not can(value, "ticket.handle", t.org.path)):
                    raise DomainError(_("责任人须为能处理该单位工单的用户。"), field)
            if value != old:
                before[field] = old.pk if hasattr(old, "pk") else old
                after[field] = value.pk if hasattr(value, "pk") else value
                setattr(t, field, value)
        if "due_date" in after and t.state != TState.PLAN:
            reason = _("延期")
            t.reminded_at = None
        if not after:
            return t
        t.version += 1
        t.save()
        log_action(user, "ticket.updated", t, org_path=t.org.path, request=request, number=t.number,
                   before=before, after=after, note=reason)
        return t


# ---- moving ------------------------------------------------------------------------------------------------------


def _requirements(t: Ticket, to_state: str) -> None:
    """What each step must hold before the ticket leaves it: a sentence naming the first thing missing."""
    frm = t.state
    if frm == TState.PLAN and to_state == TState.DO:
        for field in ("analysis", "measures"):
            if not getattr(t, field).strip():
                raise DomainError(_("请先填写“{field}”，再提交计划。").format(field=_(FIELD_LABELS[field])), field)
        if t.due_date is None:
            raise DomainError(_("请先确定完成期限，再提交计划。"), "due_date")
    elif frm == TState.DO and to_state == TState.CHECK:
        if not t.actions.exists():
            raise DomainError(_("请至少登记一条措施落实情况，再提交检查。"), "actions")
    elif frm == TState.CHECK and to_state == TState.ACT:
        if not t.verification.strip():
            raise DomainError(_("请先填写“核查情况”，再确认检查通过。"), "verification")
        if t.origin == Origin.NEED:
            if not t.satisfaction:
                raise DomainError(_("来自群众诉求的工单须回访诉求人：请填写诉求人满意度。"), "satisfaction")
            if t.callback_on is None:
                raise DomainError(_("来自群众诉求的工单须回访诉求人：请填写回访日期。"), "callback_on")
    elif frm == TState.ACT and to_state == TState.CLOSED:
        if not t.standardization.strip():
            raise DomainError(_("请先填写“固化与改进”，再销号。"), "standardization")
        if is_complaint(t) and not t.similar_cases.strip():
            raise DomainError(_("投诉类工单须“举一反三”：请填写排查同类问题的情况，再销号。"), "similar_cases")


def _event(frm: str, to: str) -> str:
    if to == TState.CLOSED:
        return "ticket.closed"
    if to == TState.CANCELLED:
        return "ticket.cancelled"
    if frm == TState.CLOSED:
        return "ticket.reopened"
    if frm == TState.CHECK and to == TState.DO:
        return "ticket.returned"
    return "ticket.moved"


def move(user, ticket: Ticket, to_state: str, *, version, reason: str = "", request=None) -> Ticket:
    """Move the ticket to ``to_state`` if TRANSITIONS allows it from its state for this user, the ``version`` the
    user saw is still current and the step is complete. Writes the history row and the audit event."""
    with transaction.atomic():
        t = _lock(ticket)
        require(user, "ticket.view", t.org.path)
        if to_state not in TState.values:
            raise DomainError(_("目标状态无效。"), "to_state")
        _check_version(t, version)
        if version is None:
            raise DomainError(_("缺少版本号，请刷新页面后重试。"), "version")
        rule = _rule(t.state, to_state)
        if rule is None:
            raise DomainError(_("工单当前为“{state}”，不能转为“{to}”。").format(
                state=TState(t.state).label, to=TState(to_state).label), "to_state")
        require(user, rule[2], t.org.path)
        reason = _reason(reason, needs_reason(t.state, to_state))
        _requirements(t, to_state)
        frm = t.state
        t.state = to_state
        t.version += 1
        if to_state == TState.CLOSED:
            t.closed_at = timezone.now()
        elif frm == TState.CLOSED:
            t.closed_at = None
            t.reminded_at = None
        t.save(update_fields=["state", "version", "closed_at", "reminded_at"])
        TicketTransition.objects.create(ticket=t, from_state=frm, to_state=to_state, actor=actor(user), reason=reason)
        log_action(user, _event(frm, to_state), t, org_path=t.org.path, request=request, number=t.number,
                   from_state=frm, to_state=to_state, reason=reason)
        return t


# ---- actions and evidence ----------------------------------------------------------------------------------------


def _check_do(user, t: Ticket) -> None:
    require(user, "ticket.view", t.org.path)
    require(user, "ticket.handle", t.org.path)
    if t.state != TState.DO:
        raise DomainError(_("措施落实情况和佐证材料只能在“实施（D）”阶段登记，工单当前为“{state}”。").format(
            state=TState(t.state).label), "state")


def _store(user, t: Ticket, action: TicketAction, upload, checked: tuple[str, str]) -> TicketEvidence:
    content_type, name = checked
    ev = TicketEvidence(ticket=t, action=action, name=name, content_type=content_type, size=upload.size,
                        uploaded_by=actor(user))
    ev.file.save(name, upload, save=False)
    try:
        ev.save()
    except Exception:
        ev.file.storage.delete(ev.file.name)
        raise
    return ev


def _check_files(files) -> list[tuple[str, str]]:
    from dangjian.assessments.evidence import check_upload

    files = list(files or [])
    if len(files) > FILES_PER_ACTION:
        raise DomainError(_("每条记录最多上传{n}个文件。").format(n=FILES_PER_ACTION), "files")
    out = []
    for f in files:
        try:
            out.append(check_upload(f))
        except DomainError as exc:
            raise DomainError(_("“{name}”：{msg}").format(name=getattr(f, "name", ""), msg=exc.message),
                              "files") from exc
    return out


def add_action(user, ticket: Ticket, *, date, text: str, files=(), request=None) -> TicketAction:
    """One step of the Do phase (措施落实情况) with its evidence files; a refused file stores nothing at all."""
    checked = _check_files(files)
    stored: list[str] = []
    try:
        with transaction.atomic():
            t = _lock(ticket)
            _check_do(user, t)
            day = _date(date, "date", t, not_future=True) if date not in (None, "") else None
            if day is None:
                raise DomainError(_("请填写落实日期。"), "date")
            text = (text or "").strip()
            if not text:
                raise DomainError(_("请填写措施落实情况。"), "text")
            if len(text) > TEXT_MAX:
                raise DomainError(_("措施落实情况不能超过{n}字。").format(n=TEXT_MAX), "text")
            action = TicketAction.objects.create(ticket=t, date=day, text=text, created_by=actor(user))
            names = []
            for upload, ok in zip(files or [], checked, strict=True):
                ev = _store(user, t, action, upload, ok)
                stored.append(ev.file.name)
                names.append(ev.name)
            log_action(user, "ticket.action_added", t, org_path=t.org.path, request=request, number=t.number,
                       action_id=action.pk, date=day, files=names)
            return action
    except Exception:
        for name in stored:
            TicketEvidence.file.field.storage.delete(name)
        raise



def upload_evidence(user, action: TicketAction, upload, *, request=None) -> TicketEvidence:
    """One more file for an action of a ticket in Do, checked by content (assessments.evidence.check_upload)."""
    checked = _check_files([upload]) if upload is not None else None
    if checked is None:
        raise DomainError(_("请选择要上传的文件。"), "file")
    stored = None
    try:
        with transaction.atomic():
            t = _lock(action.ticket)
            _check_do(user, t)
            if action.evidence.filter(withdrawn_at__isnull=True).count() >= FILES_PER_ACTION:
                raise DomainError(_("每条记录最多上传{n}个文件。").format(n=FILES_PER_ACTION), "file")
            ev = _store(user, t, action, upload, checked[0])
            stored = ev.file.name
            log_action(user, "ticket.evidence_uploaded", t, org_path=t.org.path, request=request, number=t.number,
                       action_id=action.pk, name=ev.name, size=ev.size, content_type=ev.content_type)
            return ev
    except Exception:
        if stored:
            TicketEvidence.file.field.storage.delete(stored)
        raise


def withdraw_evidence(user, evidence: TicketEvidence, *, request=None) -> TicketEvidence:
    """撤回: the file leaves the lists and downloads while the ticket is in Do; the row and the audit event stay."""
    with transaction.atomic():
        t = _lock(evidence.ticket)
        _check_do(user, t)
        ev = TicketEvidence.objects.select_for_update().get(pk=evidence.pk)
        if ev.withdrawn_at is not None:
            raise DomainError(_("该文件已撤回。"), "file")
        ev.withdrawn_at = timezone.now()
        ev.save(update_fields=["withdrawn_at"])
        log_action(user, "ticket.evidence_withdrawn", t, org_path=t.org.path, request=request, number=t.number,
                   name=ev.name, evidence=ev.pk)
        return ev


# ---- reminders ---------------------------------------------------------------------------------------------------


def _handlers_by_org(orgs: list[Organization]) -> dict[int, list]:
    """For each organization, the users who hold ``ticket.handle`` on it directly, else on its nearest ancestor
    that has such users (a branch without a secretary account falls to its general branch, then the committee)."""
    paths = {p for o in orgs for p in ancestor_paths(o.path)}
    grants = (RoleGrant.objects.filter(role__in=ACTIONS["ticket.handle"], org__path__in=paths,
                                       user__is_active=True, org__archived=False)
              .select_related("user", "org").order_by("user_id"))
    at: dict[str, list] = {}
    for g in grants:
        at.setdefault(g.org.path, [])
        if g.user not in at[g.org.path]:
            at[g.org.path].append(g.user)
    out = {}
    for o in orgs:
        for p in reversed(ancestor_paths(o.path)):
            if at.get(p):
                out[o.pk] = at[p]
                break
        else:
            out[o.pk] = []
    return out


def due_for_reminder(today: datetime.date) -> QuerySet:
    """Open tickets overdue or due within REMIND_DAYS days and not yet reminded today."""
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    return (Ticket.objects.filter(state__in=OPEN_STATES, due_date__isnull=False,
                                  due_date__lte=today + datetime.timedelta(days=REMIND_DAYS))
            .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=start)))


def _mail_body(user, tickets: list[Ticket], today: datetime.date) -> str:
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
    name = user.get_full_name() or user.get_username()
    lines = [_("{name}，您好：").format(name=name), "",
             _("以下整改工单已逾期或将在{n}天内到期，请及时处理：").format(n=REMIND_DAYS), ""]
    for t in tickets:
        days = (t.due_date - today).days
        when = (_("已逾期{n}天").format(n=-days) if days < 0 else _("今天到期") if days == 0
                else _("还有{n}天到期").format(n=days))
        lines.append(f"· {t.number} {t.title}（{t.org.name}，{TState(t.state).label}，"
                     f"{_('完成期限')} {t.due_date.isoformat()}，{when}）")
        lines.append("  " + base + reverse("service:ticket_detail", args=[t.pk]))
    lines += ["", _("此邮件由党建量化考评与对标管理平台自动发送，每张工单每天最多提醒一次。")]
    return "\n".join(lines)


def _remind_in_app(tickets: list[Ticket], handlers: dict[int, list], today: datetime.date) -> int:
    """站内消息 of the day's reminder: to the owner, else the organization's ticket handlers (with or without an
    e-mail address), once per ticket and day (the message key). Set-based (core.notifications.deliver)."""
    from dangjian.core.notifications import deliver, make

    rows = []
    for t in tickets:
        users = [t.owner] if t.owner is not None and t.owner.is_active else handlers.get(t.org_id, [])
        days = (t.due_date - today).days
        when = (_("已逾期{n}天").format(n=-days) if days < 0 else _("今天到期") if days == 0
                else _("还有{n}天到期").format(n=days))
        title = _("整改工单{number}{when}").format(number=t.number, when=when)
        body = _("{title}（{org}，{state}，完成期限 {due}），请及时处理。").format(
            title=t.title, org=t.org.name, state=TState(t.state).label, due=t.due_date.isoformat())
        url = reverse("service:ticket_detail", args=[t.pk])
        rows += [make(u, "ticket.due", title, body, url, t.org.path, key=f"ticket.due:{t.pk}:{today.isoformat()}")
                 for u in users]
    return len(deliver(rows, email=False))


def remind_due(today: datetime.date | None = None) -> dict[str, int]:
    """Mail each owner (else the organization's ticket handlers) the tickets overdue or due within REMIND_DAYS days.

    Idempotent per day: a ticket is claimed by setting ``reminded_at`` before mailing (so two runs at once cannot
    both mail it) and released again if its mail could not be sent. Returns counts: ``tickets`` reminded,
    ``emails`` sent, ``overdue`` among the tickets reminded, ``unreachable`` tickets with nobody to mail (not
    claimed, so they are tried again), ``failed`` mails."""
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        claimed = list(due_for_reminder(today).select_for_update(of=("self",), skip_locked=True)
                       .select_related("org", "owner").order_by("due_date", "pk"))
        handlers = _handlers_by_org(list({t.org_id: t.org for t in claimed}.values()))
        to_mail: dict[int, tuple] = {}
        unreachable = []
        for t in claimed:
            if t.owner is not None and t.owner.is_active and t.owner.email:
                recipients = [t.owner]
            else:
                recipients = [u for u in handlers.get(t.org_id, []) if u.email]
            if not recipients:
                unreachable.append(t)
                continue
            t._previous_reminded_at = t.reminded_at
            for u in recipients:
                to_mail.setdefault(u.pk, (u, []))[1].append(t)
        reachable = [t for t in claimed if t not in unreachable]
        Ticket.objects.filter(pk__in=[t.pk for t in reachable]).update(reminded_at=now)
        _remind_in_app(claimed, handlers, today)  # in the app too, even for those without an e-mail address
    sent, failed_tickets, failed = 0, set(), 0
    reached: dict[int, list[str]] = {}
    from_email = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    with mail.get_connection() as conn:
        for user, tickets in to_mail.values():
            subject = _("【整改工单提醒】您有{n}张工单已逾期或即将到期").format(n=len(tickets))
            msg = mail.EmailMessage(subject, _mail_body(user, tickets, today), from_email, [user.email],
                                    connection=conn)
            try:
                msg.send()
            except Exception:  # one bad address or a dropped connection: the others still go
                log.exception("ticket reminder to %s failed", user.email)
                failed += 1
                failed_tickets.update(t.pk for t in tickets)
                continue
            sent += 1
            for t in tickets:
                reached.setdefault(t.pk, []).append(user.get_username())
    with transaction.atomic():
        # A ticket none of whose mails went out is released, to be tried on the next run.
        lost = [t for t in reachable if t.pk in failed_tickets and t.pk not in reached]
        for t in lost:
            Ticket.objects.filter(pk=t.pk, reminded_at=now).update(reminded_at=t._previous_reminded_at)
        done = [t for t in reachable if t.pk in reached]
        for t in done:
            log_action(None, "ticket.reminded", t, org_path=t.org.path, number=t.number, due_date=t.due_date,
                       overdue=t.due_date < today, recipients=reached[t.pk])
    return {"tickets": len(done), "emails": sent, "overdue": sum(1 for t in done if t.due_date < today),
            "unreachable": len(unreachable), "failed": failed}


__all__ = ["visible", "overdue_q", "is_overdue", "allowed_moves", "move", "save_fields", "open_staff_ticket",
           "add_action", "upload_evidence", "withdraw_evidence", "remind_due", "owner_choices"]
