"""Reminders before the deadlines of the monthly evaluations (`manage.py remind_deadlines`, once a day).

For every open month, each deadline is reminded on three days: ``REMINDER_DAYS_BEFORE`` days before it (default 2),
on the day, and the day after (overdue). Who is reminded:

- 报送截止 / 自评截止: the secretaries (RoleGrant 书记 on the organization itself) of organizations that have not
  reached 已报送 / 已自评;
- 考评截止: the assessors assigned (AssessorAssignment) to organizations not yet 已考评;
- every deadline: the staff of the month's committee (its nearest organization upwards with 党建管理员 grants)
  get one digest ("本月还有 12 个组织未报送");
- the member months (党员评价): members who have not self-evaluated by 自评截止, and the branch secretaries of
  members not yet determined by 评定截止.

One message per (user, month, deadline, day) through the message key, so running twice on a day sends nothing
new. Set-based: a handful of queries per month, whatever the number of organizations and members.
"""

import datetime

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.assessments.models import AssessorAssignment, Period, PeriodStatus, State
from dangjian.core.audit import log_action
from dangjian.core.notifications import deliver, make
from dangjian.orgs.models import Role, RoleGrant
from dangjian.standards.models import ancestor_or_self_paths

BEFORE, DUE, OVERDUE = "before", "due", "overdue"
NAMES_SHOWN = 20

# deadline -> the states that have not reached it
NOT_REACHED = {
    "submit_due": (State.NOT_STARTED,),
    "self_due": (State.NOT_STARTED, State.SUBMITTED),
    "assess_due": (State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED),
}
PENDING = NOT_REACHED["assess_due"]


def days_before() -> int:
    return int(getattr(settings, "REMINDER_DAYS_BEFORE", 2))


def stage_of(due: datetime.date, today: datetime.date) -> str | None:
    """Which reminder ``today`` is for a deadline: N days before, on the day, the day after; else None."""
    delta = (due - today).days
    if delta == 0:
        return DUE
    if delta == -1:
        return OVERDUE
    n = days_before()
    if n > 0 and delta == n:
        return BEFORE
    return None


def _reminder_dates(today: datetime.date) -> list[datetime.date]:
    dates = [today, today - datetime.timedelta(days=1)]
    if days_before() > 0:
        dates.append(today + datetime.timedelta(days=days_before()))
    return dates


def _when(stage: str, due: datetime.date, today: datetime.date) -> str:
    if stage == BEFORE:
        return _("还有{n}天截止（{date}）").format(n=(due - today).days, date=due.isoformat())
    if stage == DUE:
        return _("今天截止（{date}）").format(date=due.isoformat())
    return _("已逾期（截止日期 {date}）").format(date=due.isoformat())


def _names(names: list[str]) -> str:
    shown = "、".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += _("等{n}个组织").format(n=len(names))
    return shown


def _staff_of(owner_path: str) -> list[int]:
    """The active 党建管理员 of the nearest organization at or above ``owner_path`` that has any."""
    grants = RoleGrant.objects.filter(role=Role.STAFF, org__path__in=ancestor_or_self_paths(owner_path),
                                      org__archived=False, user__is_active=True).values_list("user_id", "org__path")
    at: dict[str, list[int]] = {}
    for uid, path in grants:
        at.setdefault(path, []).append(uid)
    return sorted(set(at[max(at, key=len)])) if at else []


# ---- the organization evaluation --------------------------------------------------------------------------------


WHAT = {
    # deadline -> (title, body, the step's name in the staff's digest)
    "submit_due": (
        gettext_noop("{month}组织考评：月小结报送{when}"),
        gettext_noop("{owner}{month}组织考评，以下组织尚未报送月小结：{orgs}。请登录平台填写月小结、上传佐证资料并报送。"),
        gettext_noop("未报送月小结")),
    "self_due": (
        gettext_noop("{month}组织考评：自评{when}"),
        gettext_noop("{owner}{month}组织考评，以下组织尚未提交自评：{orgs}。请登录平台逐项自评并提交。"),
        gettext_noop("未提交自评")),
    "assess_due": (
        gettext_noop("{month}组织考评：现场考评{when}"),
        gettext_noop("{owner}{month}组织考评，您负责考评的以下组织尚未完成考评：{orgs}。"),
        gettext_noop("未完成考评")),
}
STEP = {"submit_due": gettext_noop("月小结报送"), "self_due": gettext_noop("自评"),
        "assess_due": gettext_noop("现场考评")}


def _period_rows(period: Period, today: datetime.date) -> list:
    """The messages of one month on ``today``: at most five queries, none per organization."""
    stages = {field: stage_of(getattr(period, field), today) for field in NOT_REACHED}
    stages = {field: stage for field, stage in stages.items() if stage}
    if not stages:
        return []
    month, owner = f"{period.month:%Y-%m}", period.owner.name
    period_url = reverse("assessments:period_detail", args=[period.pk])
    rows = []
    # evaluation id -> (organization name, path, state, organization id) of the organizations not yet assessed
    pending = {row[0]: row[1:] for row in period.evaluations.filter(state__in=PENDING).values_list(
        "id", "org_name", "org_path", "state", "org_id")}
    if not pending:
        return []
    by_org = {org_id: pk for pk, (_n, _p, _s, org_id) in pending.items()}

    def message(user_id, deadline, stage, eval_ids):
        ids = sorted(eval_ids, key=lambda pk: pending[pk][1])
        single = len(ids) == 1
        title = _(WHAT[deadline][0]).format(month=month, when=_when(stage, getattr(period, deadline), today))
        body = _(WHAT[deadline][1]).format(owner=owner, month=month, orgs=_names([pending[pk][0] for pk in ids]))
        url = reverse("assessments:evaluation_detail", args=[ids[0]]) if single else period_url
        return make(user_id, f"eval.{deadline}", title, body, url, pending[ids[0]][1] if single else period.owner.path,
                    key=f"eval:{period.pk}:{deadline}:{stage}")

    sec_deadlines = [d for d in ("submit_due", "self_due") if d in stages]
    if sec_deadlines:
        widest = NOT_REACHED[sec_deadlines[-1]]
        secretaries = (RoleGrant.objects.filter(role=Role.SECRETARY, org__archived=False, user__is_active=True,
                                                org__evaluations__period=period,
                                                org__evaluations__state__in=widest)
                       .values_list("user_id", "org_id").distinct())
        evals_of: dict[int, list[int]] = {}
        for uid, org_id in secretaries:
            if org_id in by_org:
                evals_of.setdefault(uid, []).append(by_org[org_id])
        for deadline in sec_deadlines:
            for uid, ids in evals_of.items():
                ids = [pk for pk in ids if pending[pk][2] in NOT_REACHED[deadline]]
                if ids:
                    rows.append(message(uid, deadline, stages[deadline], ids))
    if "assess_due" in stages:
        evals_of = {}
        for uid, pk in AssessorAssignment.objects.filter(evaluation__period=period, evaluation__state__in=PENDING,
                                                        assessor__is_active=True).values_list("assessor_id",
                                                                                              "evaluation_id"):
            evals_of.setdefault(uid, []).append(pk)
        for uid, ids in evals_of.items():
            rows.append(message(uid, "assess_due", stages["assess_due"], ids))
    staff = _staff_of(period.owner.path)
    if staff:
        counts = dict(period.evaluations.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        total = sum(counts.values())
        for deadline, stage in stages.items():
            behind = sum(counts.get(s, 0) for s in NOT_REACHED[deadline])
            if not behind:
                continue
            title = _("{month}组织考评进度：{step}{when}").format(
                month=month, step=_(STEP[deadline]), when=_when(stage, getattr(period, deadline), today))
            body = _("{owner}{month}组织考评：本月还有 {n} 个组织{what}（共 {total} 个参评组织）。").format(
                owner=owner, month=month, n=behind, what=_(WHAT[deadline][2]), total=total)
            for uid in staff:
                rows.append(make(uid, "eval.digest", title, body, period_url, period.owner.path,
                                 key=f"eval:{period.pk}:{deadline}:{stage}:digest"))
    return rows


def _eval_periods(today: datetime.date):
    from django.db.models import Q

    dates = _reminder_dates(today)
    return (Period.objects.filter(status=PeriodStatus.OPEN)
            .filter(Q(submit_due__in=dates) | Q(self_due__in=dates) | Q(assess_due__in=dates))
            .select_related("owner").order_by("pk"))


# ---- the member months (党员评价) ---------------------------------------------------------------------------------


def _appraisal_rows(period, today: datetime.date) -> list:
    """Members who have not self-evaluated by 自评截止; branch secretaries whose members are not determined by
    评定截止. Two queries at most."""
    from dangjian.appraisal.models import AState

    rows = []
    month = f"{period.month:%Y-%m}"
    stage = stage_of(period.self_due, today)
    if stage:
        members = period.evaluations.filter(state=AState.NOT_STARTED, exempt=False, member__user__isnull=False,
                                            member__user__is_active=True).values_list("member__user_id", "org_path")
        url = reverse("appraisal:my_month")
        title = _("{month}党员评价：自评{when}").format(month=month, when=_when(stage, period.self_due, today))
        body = _("您{month}的党员月度评价尚未提交自评，请登录平台填写并提交。").format(month=month)
        for uid, path in members:
            rows.append(make(uid, "appraisal.self_due", title, body, url, path,
                             key=f"appraisal:{period.pk}:self_due:{stage}"))
    stage = stage_of(period.determine_due, today)
    if stage:
        behind = (period.evaluations.filter(state__in=[AState.NOT_STARTED, AState.SELF_EVALUATED], exempt=False)
                  .values_list("org_id", "org_name").annotate(n=Count("id")).order_by("org_id"))
        behind = {org_id: (name, n) for org_id, name, n in behind}
        if behind:
            grants = RoleGrant.objects.filter(role=Role.SECRETARY, org_id__in=list(behind), org__archived=False,
                                              user__is_active=True).values_list("user_id", "org_id")
            title = _("{month}党员评价：支部评定{when}").format(month=month, when=_when(stage, period.determine_due, today))
            for uid, org_id in grants:
                name, n = behind[org_id]
                body = _("{org}还有 {n} 名党员的月度评价尚未评定，请登录平台完成评定。").format(org=name, n=n)
                url = reverse("appraisal:branch_month", args=[period.pk, org_id])
                rows.append(make(uid, "appraisal.determine_due", title, body, url, "",
                                 key=f"appraisal:{period.pk}:{org_id}:determine_due:{stage}"))
    return rows


def _appraisal_periods(today: datetime.date):
    from django.db.models import Q

    from dangjian.appraisal.models import AppraisalPeriod
    from dangjian.appraisal.models import PeriodStatus as APeriodStatus

    dates = _reminder_dates(today)
    return (AppraisalPeriod.objects.filter(status=APeriodStatus.OPEN)
            .filter(Q(self_due__in=dates) | Q(determine_due__in=dates)).select_related("owner").order_by("pk"))


# ---- event notices: called by assessments.services after the transaction commits -------------------------------


def notice_published(evaluation_ids: list[int]) -> list:
    """考评结果已公示: to the secretaries of each organization, with the end of the publicity window. Three queries
    for any number of organizations (publishing a whole month at once)."""
    from django.db.models import Max

    from dangjian.assessments.models import Evaluation, Transition

    with translation.override(settings.LANGUAGE_CODE):
        evs = {ev.pk: ev for ev in Evaluation.objects.filter(pk__in=evaluation_ids).select_related("period__owner")}
        at = dict(Transition.objects.filter(evaluation_id__in=list(evs), to_state=State.PUBLISHED)
                  .values_list("evaluation_id").annotate(at=Max("at")).values_list("evaluation_id", "at"))
        by_org: dict[int, list] = {}
        for ev in evs.values():
            by_org.setdefault(ev.org_id, []).append(ev)
        rows = []
        for uid, org_id in RoleGrant.objects.filter(role=Role.SECRETARY, org_id__in=list(by_org), org__archived=False,
                                                    user__is_active=True).values_list("user_id", "org_id"):
            for ev in by_org[org_id]:
                month = f"{ev.period.month:%Y-%m}"
                published = timezone.localdate(at[ev.pk]) if ev.pk in at else timezone.localdate()
                until = published + datetime.timedelta(days=ev.period.objection_days)
                if ev.period.objection_days:
                    body = _("{org}{month}的考评结果已公示，公示期至 {date}；如有异议，请在公示期内在平台上提出。").format(
                        org=ev.org_name, month=month, date=until.isoformat())
                else:
                    body = _("{org}{month}的考评结果已公示。").format(org=ev.org_name, month=month)
                rows.append(make(uid, "eval.published", _("{month}考评结果已公示").format(month=month), body,
                                 reverse("assessments:evaluation_detail", args=[ev.pk]), ev.org_path,
                                 key=f"eval.published:{ev.pk}"))
        return deliver(rows)


def notice_objection(objection_id: int) -> list:
    """异议: to the staff of the month's committee."""
    from dangjian.assessments.models import Objection

    with translation.override(settings.LANGUAGE_CODE):
        o = Objection.objects.select_related("evaluation__period__owner").get(pk=objection_id)
        ev = o.evaluation
        title = _("{org}对{month}考评结果提出异议").format(org=ev.org_name, month=f"{ev.period.month:%Y-%m}")
        rows = [make(uid, "eval.objection", title, o.text[:1000],
                     reverse("assessments:evaluation_detail", args=[ev.pk]), ev.org_path,
                     key=f"eval.objection:{o.pk}") for uid in _staff_of(ev.period.owner.path)]
        return deliver(rows)


def notice_answered(objection_id: int) -> list:
    """异议已答复: to the user who raised it."""
    from dangjian.assessments.models import Objection

    with translation.override(settings.LANGUAGE_CODE):
        o = Objection.objects.select_related("evaluation__period", "raised_by").get(pk=objection_id)
        if o.raised_by is None or not o.raised_by.is_active:
            return []
        ev = o.evaluation
        verdict = _("异议成立") if o.upheld else _("异议不成立")
        title = _("您对{month}考评结果的异议已答复：{verdict}").format(month=f"{ev.period.month:%Y-%m}", verdict=verdict)
        return deliver([make(o.raised_by, "eval.objection_answered", title, o.answer[:1000],
                             reverse("assessments:evaluation_detail", args=[ev.pk]), ev.org_path,
                             key=f"eval.objection_answered:{o.pk}")])


def send_reminders(today: datetime.date | None = None) -> dict[str, int]:
    """Write (and mail) today's reminders; returns counts: ``periods`` and ``member_periods`` looked at,
    ``messages`` new, ``emails`` queued. Safe to run any number of times a day."""
    today = today or timezone.localdate()
    counts = {"periods": 0, "member_periods": 0, "messages": 0, "emails": 0}
    with translation.override(settings.LANGUAGE_CODE):
        for period in _eval_periods(today):
            counts["periods"] += 1
            _count(counts, period, deliver(_period_rows(period, today)), today)
        for period in _appraisal_periods(today):
            counts["member_periods"] += 1
            _count(counts, period, deliver(_appraisal_rows(period, today)), today)
    return counts


def _count(counts: dict, period, created: list, today: datetime.date) -> None:
    if not created:
        return
    emails = sum(1 for n in created if n.user.is_active and n.user.email)
    counts["messages"] += len(created)
    counts["emails"] += emails
    # One audit event per month and run that sent anything: what was reminded, to how many people.
    log_action(None, "period.reminded", period, org_path=period.owner.path, date=today.isoformat(),
               kinds=sorted({n.kind for n in created}), messages=len(created), emails=emails)


__all__ = ["send_reminders", "stage_of", "notice_published", "notice_objection", "notice_answered"]
