"""需求征集: service areas, needs entered by staff (or by the API), their triage, and the public need form.

- ``ServiceArea``: the grids (网格) of an organization; created, renamed and disabled by whoever manages its needs
  (``need.manage``). Needs, tickets and survey links name one.
- ``create_need``: one need with its number (XQ2026-000123). The requester's name and contact are private: lists,
  exports and the API list show them masked (``mask_name``, ``core.public.mask_contact``); the detail page shows them
  to ``need.manage`` holders on request, and that reading is audited (``log_contact_viewed``).
- Triage, only from 待受理: ``accept_need`` opens the PDCA ticket (``service.common.open_ticket``) in the same
  transaction; ``decline_need`` records why (the reason is required).
- ``NeedChannel``: the public form of an organization or one of its areas — a random key in a link and QR code.
  Enabling, renewing (old QR codes stop working) and disabling are audited.
- ``submit_public_need`` stores a need sent through the public form. The input is checked again here; the rate
  limits are counted in the database with the channel's row locked (and on PostgreSQL the client's advisory
  lock), so they hold across app servers: ``PER_CLIENT_HOUR`` needs per client an hour and ``PER_CHANNEL_DAY`` per
  channel a day. A client is ``core.public.client_hash`` (no address is stored).
"""

import datetime
import re

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core import public
from dangjian.core.access import require, scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError, actor
from dangjian.core.public import RateLimited, mask_contact
from dangjian.orgs.models import Organization
from dangjian.service.common import (
    TITLE_MAX,
    assign_number,
    check_area,
    new_key,
    open_ticket,
    placeholder_number,
)
from dangjian.service.models import (
    Channel,
    Need,
    NeedCategory,
    NeedChannel,
    NeedKind,
    NeedSource,
    NeedState,
    Origin,
    ServiceArea,
    Urgency,
)

PER_CLIENT_HOUR = 3  # needs one client may send through public forms in an hour
PER_CHANNEL_DAY = 100  # needs one public form takes in a day
PUBLIC_TEXT_MIN, PUBLIC_TEXT_MAX = 10, 1000
TEXT_MIN, TEXT_MAX = 2, 2000
NAME_MAX = 40
ADDRESS_MAX = 120
DECLINE_MIN, DECLINE_MAX = 2, 300
AREA_NAME_MAX, GRID_MANAGER_MAX, AREA_NOTE_MAX = 60, 40, 200
DEFAULT_DUE_DAYS = {Urgency.NORMAL: 15, Urgency.URGENT: 5, Urgency.CRITICAL: 1}
EARLIEST = datetime.date(2000, 1, 1)

NUMBER_PREFIX = "XQ"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

__all__ = ["RateLimited", "mask_contact", "mask_name"]


# ---- masking ------------------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """The requester as lists show them: 张** for 张三丰, 张* for 张三, z*** for a Latin name."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# ---- checks ---------------------------------------------------------------------------------------------------


def _plain(value, *, field: str, max_len: int, label: str, required: bool = False) -> str:
    """A one-line field: stripped, without NUL or control characters, at most ``max_len`` characters."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if "\x00" in text or _CONTROL.search(text):
        raise DomainError(_("{label}含有无效字符，请重新输入。").format(label=label), field)
    if required and not text:
        raise DomainError(_("请填写{label}。").format(label=label), field)
    if len(text) > max_len:
        raise DomainError(_("{label}不能超过{n}个字。").format(label=label, n=max_len), field)
    return text


def _choice(value, choices, *, field: str, label: str) -> str:
    value = getattr(value, "value", value)
    if value not in choices.values:
        raise DomainError(_("请选择有效的{label}。").format(label=label), field)
    return value


def _received_on(value) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise DomainError(_("受理日期格式应为 YYYY-MM-DD，例如 2026-03-06。"), "received_on") from None
    if not isinstance(value, datetime.date):
        raise DomainError(_("请填写受理日期。"), "received_on")
    if isinstance(value, datetime.datetime):
        value = value.date()
    if value > timezone.localdate():
        raise DomainError(_("受理日期不能晚于今天。"), "received_on")
    if value < EARLIEST:
        raise DomainError(_("受理日期不能早于2000年。"), "received_on")
    return value


def derive_title(text: str) -> str:
    """A title from the text's first sentence, for a public need sent without one."""
    first = re.split(r"[。！？!?\n；;]", text.strip(), maxsplit=1)[0].strip() or text.strip()
    first = re.sub(r"\s+", " ", first)
    return first if len(first) <= 30 else first[:29] + "…"


def check_fields(org: Organization, *, kind, category, source, urgency, area, title, text, requester="",
                 contact="", address="", received_on=None, text_min=TEXT_MIN, text_max=TEXT_MAX,
                 links=True) -> dict:
    """The cleaned fields of a need for ``org``; the first problem raises DomainError naming its field."""
    if org.archived:
        raise DomainError(_("该单位已撤销，不能再登记需求。"), "org")
    data = {
        "kind": _choice(kind, NeedKind, field="kind", label=_("类型")),
        "category": _choice(category, NeedCategory, field="category", label=_("类别")),
        "source": _choice(source, NeedSource, field="source", label=_("来源")),
        "urgency": _choice(urgency, Urgency, field="urgency", label=_("紧急程度")),
        "text": public.clean_text(text, min_len=text_min, max_len=text_max, field="text", links=links),
        "requester": _plain(requester, field="requester", max_len=NAME_MAX, label=_("诉求人")),
        "contact": public.clean_contact(contact),
        "address": _plain(address, field="address", max_len=ADDRESS_MAX, label=_("地址")),
        "received_on": _received_on(received_on),
    }
    title = _plain(title, field="title", max_len=TITLE_MAX, label=_("标题"))
    data["title"] = title or derive_title(data["text"])
    if area is not None:
        check_area(org, area)
        if area.archived:
            raise DomainError(_("所选服务区域已停用，请重新选择。"), "area")
    data["area"] = area
    return data


# ---- areas ----------------------------------------------------------------------------------------------------


def areas_visible(user, action: str = "need.view"):
    return scope(user, action, ServiceArea.objects.all())


def _area_fields(name, grid_manager, note) -> dict:
    return {
        "name": _plain(name, field="name", max_len=AREA_NAME_MAX, label=_("区域名称"), required=True),
        "grid_manager": _plain(grid_manager, field="grid_manager", max_len=GRID_MANAGER_MAX, label=_("网格经理")),
        "note": _plain(note, field="note", max_len=AREA_NOTE_MAX, label=_("说明")),
    }


def _unique_area_name(org, name: str, exclude: int | None = None) -> None:
    qs = ServiceArea.objects.filter(org=org, name=name)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise DomainError(_("本单位已有名为“{name}”的服务区域，请换一个名称。").format(name=name), "name")


@transaction.atomic
def create_area(user, org: Organization, *, name: str, grid_manager: str = "", note: str = "") -> ServiceArea:
    require(user, "need.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.archived:
        raise DomainError(_("该单位已撤销，不能新建服务区域。"), "org")
    fields = _area_fields(name, grid_manager, note)
    _unique_area_name(org, fields["name"])
    area = ServiceArea.objects.create(org=org, **fields)
    log_action(user, "service_area.created", area, org_path=org.path, after=fields)
    return area


@transaction.atomic
def update_area(user, area: ServiceArea, *, name: str, grid_manager: str = "", note: str = "") -> ServiceArea:
    require(user, "need.manage", area.org.path)
    area = ServiceArea.objects.select_for_update(of=("self",)).select_related("org").get(pk=area.pk)
    fields = _area_fields(name, grid_manager, note)
    _unique_area_name(area.org, fields["name"], exclude=area.pk)
    before = {k: getattr(area, k) for k in fields}
    for k, v in fields.items():
        setattr(area, k, v)
    area.save(update_fields=list(fields))
    log_action(user, "service_area.updated", area, org_path=area.org.path, before=before, after=fields)
    return area


@transaction.atomic
def set_area_archived(user, area: ServiceArea, archived: bool) -> ServiceArea:
    """Disable (停用) an area — it stays on the needs and tickets that name it but is offered no more, and its
    public form closes — or enable it again."""
    require(user, "need.manage", area.org.path)
    area = ServiceArea.objects.select_for_update(of=("self",)).select_related("org").get(pk=area.pk)
    if area.archived == archived:
        raise DomainError(_("该服务区域已经停用。") if archived else _("该服务区域没有停用。"))
    area.archived = archived
    area.save(update_fields=["archived"])
    if archived:
        NeedChannel.objects.filter(area=area, enabled=True).update(enabled=False)
    log_action(user, "service_area.archived" if archived else "service_area.restored", area, org_path=area.org.path)
    return area


# ---- needs ----------------------------------------------------------------------------------------------------


def needs_visible(user):
    return scope(user, "need.view", Need.objects.all())


def _summary(need: Need) -> dict:
    """What the audit keeps of a need: never the requester or the contact, only whether they were given."""
    return {"number": need.number, "kind": need.kind, "category": need.category, "source": need.source,
            "urgency": need.urgency, "area": need.area_id, "channel": need.channel,
            "received_on": need.received_on, "with_requester": bool(need.requester),
            "with_contact": bool(need.contact)}


@transaction.atomic
def create_need(user, org: Organization, *, kind=NeedKind.PEOPLE, category=NeedCategory.NEED,
                source=NeedSource.VISIT, urgency=Urgency.NORMAL, area: ServiceArea | None = None, title: str = "",
                text: str = "", requester: str = "", contact: str = "", address: str = "", received_on=None,
                channel: str = Channel.STAFF, request=None) -> Need:
    """A need entered by staff (or sent through the API): ``need.manage`` on ``org``."""
    require(user, "need.manage", org.path)
    if channel not in (Channel.STAFF, Channel.API):
        raise DomainError(_("渠道无效。"), "channel")
    data = check_fields(org, kind=kind, category=category, source=source, urgency=urgency, area=area, title=title,
                        text=text, requester=requester, contact=contact, address=address,
                        received_on=received_on if received_on is not None else timezone.localdate())
    need = Need.objects.create(org=org, number=placeholder_number(), channel=channel, created_by=actor(user),
                               **data)
    assign_number(need, NUMBER_PREFIX, need.received_on)
    log_action(user, "need.created", need, org_path=org.path, request=request, **_summary(need))
    return need


def _locked(user, need: Need) -> Need:
    require(user, "need.manage", need.org.path)
    locked = Need.objects.select_for_update().get(pk=need.pk)
    locked.org = need.org  # already fetched, same row
    return locked


def default_due_date(need: Need, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=DEFAULT_DUE_DAYS.get(need.urgency, 15))


@transaction.atomic
def accept_need(user, need: Need, *, title: str = "", description: str = "", due_date=None, request=None):
    """受理: the need's ticket is opened in Plan, owned by the need's organization; the need becomes 已受理."""
    need = _locked(user, need)
    if need.state != NeedState.RECEIVED:
        raise DomainError(_("只有待受理的需求才能受理，该需求当前为“{state}”。").format(
            state=need.get_state_display()), "state")
    if isinstance(due_date, str) and due_date.strip():
        try:
            due_date = datetime.date.fromisoformat(due_date.strip())
        except ValueError:
            raise DomainError(_("完成期限格式应为 YYYY-MM-DD。"), "due_date") from None
    due_date = due_date or default_due_date(need)
    if due_date < timezone.localdate():
        raise DomainError(_("完成期限不能早于今天。"), "due_date")
    title = _plain(title, field="title", max_len=TITLE_MAX, label=_("工单标题")) or need.title
    description = (description or "").strip() or need.text
    if "\x00" in description:
        raise DomainError(_("问题描述含有无效字符，请重新输入。"), "description")
    area = need.area if need.area_id else None
    if area is not None and area.archived:  # the ticket names no disabled area
        area = None
    ticket = open_ticket(user, need.org, origin=Origin.NEED, need=need, title=title, description=description,
                         area=area, due_date=due_date, request=request)
    need.state = NeedState.ACCEPTED
    need.save(update_fields=["state"])
    log_action(user, "need.accepted", need, org_path=need.org.path, request=request, number=need.number,
               ticket=ticket.number, due_date=due_date)
    return ticket


@transaction.atomic
def decline_need(user, need: Need, reason: str, *, request=None) -> Need:
    """不予受理, with the reason (required: the requester is told why)."""
    need = _locked(user, need)
    if need.state != NeedState.RECEIVED:
        raise DomainError(_("只有待受理的需求才能不予受理，该需求当前为“{state}”。").format(
            state=need.get_state_display()), "state")
    reason = (reason or "").strip()
    if "\x00" in reason:
        raise DomainError(_("理由含有无效字符，请重新输入。"), "reason")
    if len(reason) < DECLINE_MIN:
        raise DomainError(_("请填写不予受理的理由（至少{n}个字）。").format(n=DECLINE_MIN), "reason")
    if len(reason) > DECLINE_MAX:
        raise DomainError(_("理由不能超过{n}个字。").format(n=DECLINE_MAX), "reason")
    need.state = NeedState.DECLINED
    need.decline_reason = reason
    need.save(update_fields=["state", "decline_reason"])
    log_action(user, "need.declined", need, org_path=need.org.path, request=request, number=need.number,
               reason=reason)
    return need


def log_contact_viewed(user, need: Need, request=None) -> None:
    """Record that ``user`` read the requester's full name and contact (the detail page or the API)."""
    require(user, "need.manage", need.org.path)
    log_action(user, "need.contact_viewed", need, org_path=need.org.path, request=request, number=need.number)


# ---- public channels ------------------------------------------------------------------------------------------


def channels_visible(user, action: str = "need.manage"):
    return scope(user, action, NeedChannel.objects.all())


@transaction.atomic
def enable_channel(user, org: Organization, area: ServiceArea | None = None) -> NeedChannel:
    """Open the public form of ``org`` (or of its ``area``): a new key the first time, the same key when it was
    closed before."""
    require(user, "need.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.archived:
        raise DomainError(_("该单位已撤销，不能开放需求征集二维码。"), "org")
    check_area(org, area)
    if area is not None and area.archived:
        raise DomainError(_("所选服务区域已停用，请先启用该区域。"), "area")
    channel = NeedChannel.objects.select_for_update().filter(org=org, area=area).order_by("id").first()
    if channel is None:
        channel = NeedChannel.objects.create(org=org, area=area, key=new_key(), enabled=True, created_by=actor(user))
    elif channel.enabled:
        raise DomainError(_("该需求征集二维码已经开放。"))
    else:
        channel.enabled = True
        channel.save(update_fields=["enabled"])
    log_action(user, "need_channel.enabled", channel, org_path=org.path, area=area.pk if area else None)
    return channel


def _locked_channel(user, channel: NeedChannel) -> NeedChannel:
    require(user, "need.manage", channel.org.path)
    return NeedChannel.objects.select_for_update(of=("self",)).select_related("org", "area").get(pk=channel.pk)


@transaction.atomic
def disable_channel(user, channel: NeedChannel) -> NeedChannel:
    channel = _locked_channel(user, channel)
    if not channel.enabled:
        raise DomainError(_("该需求征集二维码没有开放，无需关闭。"))
    channel.enabled = False
    channel.save(update_fields=["enabled"])
    log_action(user, "need_channel.disabled", channel, org_path=channel.org.path)
    return channel


@transaction.atomic
def reopen_channel(user, channel: NeedChannel) -> NeedChannel:
    return enable_channel(user, channel.org, channel.area)


@transaction.atomic
def renew_channel(user, channel: NeedChannel) -> NeedChannel:
    """A new key: the old link and every QR code printed with it stop working at once."""
    channel = _locked_channel(user, channel)
    channel.key = new_key()
    channel.save(update_fields=["key"])
    log_action(user, "need_channel.renewed", channel, org_path=channel.org.path, enabled=channel.enabled)
    return channel


def public_channel(key: str) -> NeedChannel:
    """An open channel by its key, else Http404 (a wrong, renewed or closed key looks the same)."""
    if not key or len(key) > 64:
        raise Http404(_("页面不存在。"))
    channel = (NeedChannel.objects.select_related("org", "area")
               .filter(key=key, enabled=True, org__archived=False).first())
    if channel is None or (channel.area is not None and channel.area.archived):
        raise Http404(_("页面不存在。"))
    return channel


def public_areas(channel: NeedChannel) -> list[ServiceArea]:
    """The areas a person may choose on the public form: none for an area's own form, else the organization's."""
    if channel.area_id:
        return []
    return list(ServiceArea.objects.filter(org_id=channel.org_id, archived=False).order_by("name"))


def submit_public_need(key: str, *, category: str, text: str, title: str = "", area_id: int | None = None,
                       requester: str = "", contact: str = "", client: str, request=None) -> Need:
    """Store a need from the public form of the open channel ``key``. Checked again here (the form shows the same
    sentences beside its fields); the rate limits are counted with the channel's row locked."""
    public.check_client(client)
    with transaction.atomic():
        channel = (NeedChannel.objects.select_for_update(of=("self",)).select_related("org", "area")
                   .filter(key=key, enabled=True, org__archived=False).first())
        if channel is None or (channel.area is not None and channel.area.archived):
            raise Http404(_("页面不存在。"))
        if channel.area_id:
            area = channel.area
        elif area_id:
            area = ServiceArea.objects.filter(pk=area_id, org_id=channel.org_id, archived=False).first()
            if area is None:
                raise DomainError(_("所选服务区域无效，请重新选择。"), "area")
        else:
            area = None
        data = check_fields(channel.org, kind=NeedKind.PEOPLE, category=category, source=NeedSource.ONLINE,
                            urgency=Urgency.NORMAL, area=area, title=title, text=text, requester=requester,
                            contact=contact, received_on=timezone.localdate(), text_min=PUBLIC_TEXT_MIN,
                            text_max=PUBLIC_TEXT_MAX, links=False)
        if public.LINK_RE.search(data["title"]):
            raise DomainError(_("内容中不能包含网址或链接，请删除后再提交。"), "title")
        public.client_lock(client)
        now = timezone.now()
        recent = Need.objects.filter(client_hash=client, created_at__gte=now - datetime.timedelta(hours=1)).count()
        if recent >= PER_CLIENT_HOUR:
            raise RateLimited(_("您在一小时内已提交{n}条诉求，请稍后再试；紧急情况请拨打95598供电服务热线。").format(
                n=PER_CLIENT_HOUR))
        # A channel's day: the needs its form took (an organization's form counts its areas' forms too).
        day = Need.objects.filter(org_id=channel.org_id, channel=Channel.PUBLIC,
                                  created_at__gte=now - datetime.timedelta(days=1))
        if channel.area_id:
            day = day.filter(area_id=channel.area_id)
        today = day.count()
        if today >= PER_CHANNEL_DAY:
            raise RateLimited(_("本单位今日收到的诉求已达上限，请明天再试；紧急情况请拨打95598供电服务热线。"))
        need = Need.objects.create(org=channel.org, number=placeholder_number(), channel=Channel.PUBLIC,
                                   client_hash=client, **data)
        assign_number(need, NUMBER_PREFIX, need.received_on)
        log_action(None, "need.received", need, org_path=channel.org.path, request=request, channel=channel.pk,
                   **{k: v for k, v in _summary(need).items() if k != "channel"}, length=len(need.text))
    return need
