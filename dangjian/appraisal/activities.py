"""Activity records that feed the member evaluation: 组织生活 with attendance, 学习记录, 党费, 志愿服务时长.

Every operation is a plain function taking the acting user: it checks permission (``activity.manage`` on the
branch; a member on their own study records), checks the input and the month's state, runs in one transaction
with the rows it changes locked, saves, and writes the audit event. A user error raises ``DomainError`` with a
Chinese sentence and changes nothing. Views, the API and the Excel import (``imports_activities``) call these.

A month whose member evaluation the branch has published (``MemberResult`` rows exist) is locked for the
records that fed it: meetings, study and service records of that month can no longer be added, changed or
deleted, nor dues rows changed or deleted. A late dues payment may still be recorded (it is late: not on time).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    MemberResult,
    ServiceRecord,
    StudyForm,
    StudyRecord,
)
from dangjian.appraisal.prefill import month_bounds
from dangjian.core.access import AccessDenied, can, require, scope
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.orgs.models import CommitteeSeat, Level, Member, Organization

ZERO = Decimal("0")
TENTH = Decimal("0.1")
CENT = Decimal("0.01")
MAX_HOURS_A_DAY = Decimal("24")
MAX_AMOUNT = Decimal("999999.99")
EARLIEST = datetime.date(1990, 1, 1)

MEETING_FIELDS = ["kind", "title", "date", "place", "host", "lecturer", "content"]
STUDY_FIELDS = ["member", "date", "title", "form", "hours", "notes"]
DUES_FIELDS = ["member", "month", "amount", "paid_on", "on_time"]
SERVICE_FIELDS = ["member", "date", "activity", "hours", "people_served", "source"]


class BatchError(DomainError):
    """Several rows of one form or request are wrong: ``errors`` maps each row's key to its sentence. Nothing
    was saved."""

    def __init__(self, errors: dict, message: str | None = None):
        super().__init__(message or _("有 {n} 行填写有误，请按提示修改后重新提交；本次未保存任何数据。").format(
            n=len(errors)))
        self.errors = errors


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


def today() -> datetime.date:
    return timezone.localdate()


def month_start(value) -> datetime.date:
    """The first day of a month given as a date or as "YYYY-MM"."""
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = str(value or "").strip()
    try:
        year, month = (int(x) for x in text[:7].split("-"))
        return datetime.date(year, month, 1)
    except ValueError as exc:
        raise DomainError(_("月份格式应为 YYYY-MM，例如 2026-10。"), "month") from exc


def month_text(month: datetime.date) -> str:
    return _("{year}年{month}月").format(year=month.year, month=month.month)


# ---- checks ---------------------------------------------------------------------------------------------


def _text(value, field: str, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("请填写{label}。").format(label=label), field)
    if len(text) > max_length:
        raise DomainError(_("{label}不能超过{n}个字（现有{m}个字）。").format(label=label, n=max_length, m=len(text)),
                          field)
    return text


def check_date(value, field: str = "date", label: str | None = None) -> datetime.date:
    """A date of something that happened: not in the future, not before 1990."""
    label = label or _("日期")
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise DomainError(_("{label}格式不正确，请填写如 2026-10-09 的日期。").format(label=label), field) from exc
    if not isinstance(value, datetime.date):
        raise DomainError(_("请填写{label}。").format(label=label), field)
    if value > today():
        raise DomainError(_("{label}不能晚于今天（{today}）。").format(label=label, today=today().isoformat()), field)
    if value < EARLIEST:
        raise DomainError(_("{label}过早，请核对年份。").format(label=label), field)
    return value


def parse_decimal(value, field: str, label: str, places: Decimal) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("{label}应为数字，例如 1.5。").format(label=label), field) from exc
    if not number.is_finite():
        raise DomainError(_("{label}应为数字，例如 1.5。").format(label=label), field)
    if number != number.quantize(places):
        if places == TENTH:
            raise DomainError(_("{label}最多保留一位小数。").format(label=label), field)
        raise DomainError(_("{label}最多保留两位小数。").format(label=label), field)
    return number.quantize(places)


def check_hours(value, field: str = "hours", label: str | None = None) -> Decimal:
    label = label or _("学时")
    hours = parse_decimal(value, field, label, TENTH)
    if hours <= 0:
        raise DomainError(_("{label}应大于0。").format(label=label), field)
    if hours > MAX_HOURS_A_DAY:
        raise DomainError(_("{label}不能超过24小时。").format(label=label), field)
    return hours


def check_amount(value, field: str = "amount") -> Decimal:
    amount = parse_decimal(value, field, _("金额"), CENT)
    if amount <= 0:
        raise DomainError(_("党费金额应大于0。"), field)
    if amount > MAX_AMOUNT:
        raise DomainError(_("党费金额过大，请核对。"), field)
    return amount


def check_dues_month(value, field: str = "month") -> datetime.date:
    month = month_start(value)
    if month > today().replace(day=1):
        raise DomainError(_("所属月份不能晚于本月。"), field)
    if month < EARLIEST:
        raise DomainError(_("所属月份过早，请核对年份。"), field)
    return month


def on_time(month: datetime.date, paid_on: datetime.date) -> bool:
    """Paid on or before the month's last day."""
    return paid_on <= month_bounds(month)[1]


def _lock_member(member: Member) -> Member:
    return Member.objects.select_for_update().select_related("org").get(pk=member.pk)


def _active(member: Member) -> None:
    if not member.active:
        raise DomainError(_("{name}已不在册，不能登记新的记录。").format(name=member.name), "member")


def _month_range(day: datetime.date) -> dict:
    first, last = month_bounds(day)
    return {"month__gte": first, "month__lte": last}


def org_month_published(org_id: int, day: datetime.date) -> bool:
    """Has the branch published its member evaluation of the month ``day`` falls in?"""
    return MemberResult.objects.filter(org_id=org_id, **_month_range(day)).exists()


def member_month_published(member_id: int, day: datetime.date) -> bool:
    return MemberResult.objects.filter(member_id=member_id, **_month_range(day)).exists()


def _check_org_open(org_id: int, day: datetime.date) -> None:
    if org_month_published(org_id, day):
        raise DomainError(_("{month}的党员评价已公示，该月的组织生活记录已锁定，不能再新增、修改或删除。").format(
            month=month_text(day)), "date")


def _check_member_open(member: Member, day: datetime.date, field: str = "date") -> None:
    if member_month_published(member.pk, day):
        raise DomainError(_("{name}{month}的党员评价已公示，该月的记录已锁定，不能再新增、修改或删除。").format(
            name=member.name, month=month_text(day)), field)


def may_manage(user, org_path: str) -> bool:
    return can(user, "activity.manage", org_path)


def may_write_study(user, member: Member) -> bool:
    """The branch (and above) on any of its members' study records; a member on their own (activity.own)."""
    if may_manage(user, member.org.path):
        return True
    return bool(getattr(user, "is_active", False) and member.user_id is not None and member.user_id == user.pk)


def _require_study(user, member: Member) -> None:
    if not may_write_study(user, member):
        raise AccessDenied("activity.own")


def _day_total(model, member: Member, day: datetime.date, hours: Decimal, label: str, exclude_pk=None) -> None:
    """The member's hours of that day (study or service), with this record, stay within 24."""
    qs = model.objects.filter(member=member, date=day)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    total = (qs.aggregate(t=Sum("hours"))["t"] or ZERO) + hours
    if total > MAX_HOURS_A_DAY:
        raise DomainError(_("{name}在{date}的{label}合计将达到{total}小时，超过一天24小时，请核对。").format(
            name=member.name, date=day.isoformat(), label=label, total=total), "hours")


# ---- reading ---------------------------------------------------------------------------------------------


def visible_meetings(user) -> QuerySet:
    return scope(user, "activity.view", Meeting.objects.all())


def visible_study(user) -> QuerySet:
    """The branch's records in scope, and a member's own (StudyRecord.own_q)."""
    return scope(user, "activity.view", StudyRecord.objects.all())


def visible_dues(user) -> QuerySet:
    return scope(user, "activity.view", DuesPayment.objects.all())


def visible_service(user) -> QuerySet:
    return scope(user, "activity.view", ServiceRecord.objects.all())


def managed_branches(user, action: str = "activity.manage") -> QuerySet:
    return scope(user, action, Organization.objects.filter(level=Level.BRANCH, archived=False)).order_by("path")


def entry_members(user) -> QuerySet:
    """Members on the rolls the user may record activities for."""
    return scope(user, "activity.manage", Member.objects.filter(active=True))


def attendance_counts(qs: QuerySet) -> QuerySet:
    """Meetings annotated with the number present, on leave and absent (one query)."""
    return qs.annotate(
        n_present=Count("attendance", filter=Q(attendance__status=AttendanceStatus.PRESENT)),
        n_leave=Count("attendance", filter=Q(attendance__status=AttendanceStatus.LEAVE)),
        n_absent=Count("attendance", filter=Q(attendance__status=AttendanceStatus.ABSENT)),
    )


def committee_member_ids(org: Organization, day: datetime.date | None = None) -> set[int]:
    """支委 of the branch on ``day`` (today when None): the default attendance list of a 支委会."""
    day = day or today()
    return set(CommitteeSeat.objects.filter(org=org, since__lte=day)
               .filter(Q(until__isnull=True) | Q(until__gte=day)).values_list("member_id", flat=True))


# ---- meetings (组织生活) ------------------------------------------------------------------------------


def _clean_meeting(org: Organization, data: Mapping, current: Meeting | None = None) -> dict:
    out = {}
    if "kind" in data or current is None:
        kind = data.get("kind") or ""
        if kind not in MeetingKind.values:
            raise DomainError(_("请选择会议类型。"), "kind")
        out["kind"] = kind
    if "title" in data or current is None:
        out["title"] = _text(data.get("title"), "title", _("主题"), 200, required=True)
    if "date" in data or current is None:
        out["date"] = check_date(data.get("date"), "date", _("会议日期"))
    if "place" in data:
        out["place"] = _text(data.get("place"), "place", _("地点"), 100)
    if "host" in data:
        out["host"] = _text(data.get("host"), "host", _("主持人"), 40)
    if "content" in data:
        out["content"] = _text(data.get("content"), "content", _("内容纪要"), 5000)
    if "lecturer" in data:
        lecturer = data.get("lecturer")
        if lecturer is not None:
            unchanged = current is not None and current.lecturer_id == lecturer.pk
            if not unchanged and (lecturer.org_id != org.pk or not lecturer.active):
                raise DomainError(_("授课人应为本支部在册党员；外请授课人请在内容纪要中注明。"), "lecturer")
        out["lecturer"] = lecturer
    return out


def _clean_marks(marks: Mapping | None, allowed: Mapping[int, str]) -> dict[int, tuple[str, str]]:
    """{member_id: (status, note)}: status 出席/请假/缺席, or "" to leave the member off the list."""
    out = {}
    errors = {}
    for member_id, mark in (marks or {}).items():
        status, note = (mark if isinstance(mark, tuple | list) else (mark, ""))
        status = status or ""
        note = str(note or "").strip()
        try:
            member_id = int(member_id)
        except (TypeError, ValueError):
            errors[member_id] = _("党员编号不正确。")
            continue
        if member_id not in allowed:
            errors[member_id] = _("编号为 {id} 的党员不是本支部的在册党员，不能列入出勤名单。").format(id=member_id)
        elif status and status not in AttendanceStatus.values:
            errors[member_id] = _("{name}的出勤情况应为出席、请假或缺席。").format(name=allowed[member_id])
        elif len(note) > 200:
            errors[member_id] = _("{name}的说明不能超过200个字。").format(name=allowed[member_id])
        else:
            out[member_id] = (status, note)
    if errors:
        raise BatchError(errors)
    return out


def _meeting_after(meeting: Meeting) -> dict:
    data = snapshot(meeting, MEETING_FIELDS)
    data["content"] = (data.get("content") or "")[:200]
    return data


def _attendance_summary(meeting_id: int) -> dict:
    rows = Attendance.objects.filter(meeting_id=meeting_id).order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


@transaction.atomic
def record_meeting(user, org: Organization, *, kind: str, title: str, date, place: str = "", host: str = "",
                   lecturer: Member | None = None, content: str = "",
                   attendance: Mapping[int, tuple[str, str]] | None = None) -> Meeting:
    """Record an organization-life event of a branch with its attendance list.

    Every member on the branch's rolls is listed as 出席 unless ``attendance`` marks them 请假 / 缺席 (with a
    note) or "" (not on the list); for a 支委会 without marks only the branch's 支委 are listed."""
    require(user, "activity.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.level != Level.BRANCH:
        raise DomainError(_("组织生活记录应登记在党支部。"), "org")
    if org.archived:
        raise DomainError(_("该支部已撤销，不能登记组织生活。"), "org")
    data = _clean_meeting(org, {"kind": kind, "title": title, "date": date, "place": place, "host": host,
                                "lecturer": lecturer, "content": content})
    _check_org_open(org.pk, data["date"])
    roll = dict(Member.objects.filter(org=org, active=True).values_list("id", "name"))
    marks = _clean_marks(attendance, roll)
    committee = committee_member_ids(org, data["date"]) if data["kind"] == MeetingKind.COMMITTEE else set()
    meeting = Meeting.objects.create(org=org, created_by=_u(user), **data)
    rows = []
    for member_id in roll:
        default = AttendanceStatus.PRESENT if (not committee or member_id in committee) else ""
        status, note = marks.get(member_id, (default, ""))
        if status:
            rows.append(Attendance(meeting=meeting, member_id=member_id, status=status, note=note))
    if not rows:
        raise DomainError(_("出勤名单不能为空：请至少列入一名党员。"), "attendance")
    Attendance.objects.bulk_create(rows)
    log_action(user, "activity.meeting_recorded", meeting, after=_meeting_after(meeting),
               attendance=_attendance_summary(meeting.pk))
    return meeting


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("org").get(pk=meeting.pk)


@transaction.atomic
def update_meeting(user, meeting: Meeting, *, attendance: Mapping[int, tuple[str, str]] | None = None,
                   **fields) -> Meeting:
    """Change a meeting's facts and/or attendance marks. ``fields`` holds only what changes (any of kind, title,
    date, place, host, lecturer, content); ``attendance`` marks members as in ``record_meeting`` — members
    already listed (even if since moved away) or on the branch's rolls; "" takes a member off the list."""
    meeting = _lock_meeting(meeting)
    org = meeting.org
    require(user, "activity.manage", org.path)
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    _check_org_open(org.pk, meeting.date)
    data = _clean_meeting(org, fields, current=meeting)
    if "date" in data:
        _check_org_open(org.pk, data["date"])
    before = _meeting_after(meeting)
    before_att = _attendance_summary(meeting.pk)
    for k, v in data.items():
        setattr(meeting, k, v)
    meeting.save()
    if attendance:
        listed = {a.member_id: a for a in meeting.attendance.select_related("member")}
        allowed = dict(Member.objects.filter(org=org, active=True).values_list("id", "name"))
        allowed.update({mid: a.member.name for mid, a in listed.items()})
        marks = _clean_marks(attendance, allowed)
        new, changed, gone = [], [], []
        for member_id, (status, note) in marks.items():
            row = listed.get(member_id)
            if row is None:
                if status:
                    new.append(Attendance(meeting=meeting, member_id=member_id, status=status, note=note))
            elif not status:
                gone.append(row.pk)
            elif (row.status, row.note) != (status, note):
                row.status, row.note = status, note
                changed.append(row)
        Attendance.objects.bulk_create(new)
        Attendance.objects.bulk_update(changed, ["status", "note"])
        Attendance.objects.filter(pk__in=gone).delete()
        if not meeting.attendance.exists():
            raise DomainError(_("出勤名单不能为空：请至少列入一名党员。"), "attendance")
    after_att = _attendance_summary(meeting.pk)
    b, a = diff(before, _meeting_after(meeting))
    if before_att != after_att:
        b["attendance"], a["attendance"] = before_att, after_att
    log_action(user, "activity.meeting_updated", meeting, before=b, after=a)
    return meeting


@transaction.atomic
def delete_meeting(user, meeting: Meeting) -> None:
    meeting = _lock_meeting(meeting)
    require(user, "activity.manage", meeting.org.path)
    _check_org_open(meeting.org_id, meeting.date)
    before = _meeting_after(meeting)
    before["attendance"] = _attendance_summary(meeting.pk)
    log_action(user, "activity.meeting_deleted", meeting, before=before)
    meeting.delete()


# ---- study records (学习记录) -------------------------------------------------------------------------


def _clean_study(data: Mapping, creating: bool) -> dict:
    out = {}
    if "date" in data or creating:
        out["date"] = check_date(data.get("date"), "date", _("学习日期"))
    if "title" in data or creating:
        out["title"] = _text(data.get("title"), "title", _("学习内容"), 200, required=True)
    if "form" in data or creating:
        form = data.get("form") or StudyForm.SELF
        if form not in StudyForm.values:
            raise DomainError(_("学习形式应为个人自学、集中学习、网络学习或培训。"), "form")
        out["form"] = form
    if "hours" in data or creating:
        hours = data.get("hours")
        out["hours"] = check_hours(Decimal("1") if hours is None or hours == "" else hours, "hours", _("学时"))
    if "notes" in data:
        out["notes"] = _text(data.get("notes"), "notes", _("心得体会"), 2000)
    return out


@transaction.atomic
def add_study_record(user, member: Member, *, date, title: str, form: str = StudyForm.SELF, hours=Decimal("1"),
                     notes: str = "") -> StudyRecord:
    """A study record, entered by the member themself or by the branch for one of its members."""
    member = _lock_member(member)
    _require_study(user, member)
    _active(member)
    data = _clean_study({"date": date, "title": title, "form": form, "hours": hours, "notes": notes}, True)
    _check_member_open(member, data["date"])
    _day_total(StudyRecord, member, data["date"], data["hours"], _("学时"))
    record = StudyRecord.objects.create(member=member, created_by=_u(user), **data)
    log_action(user, "activity.study_added", record, after=snapshot(record, STUDY_FIELDS))
    return record


def _lock_study(record: StudyRecord) -> StudyRecord:
    return StudyRecord.objects.select_for_update().select_related("member__org").get(pk=record.pk)


@transaction.atomic
def update_study_record(user, record: StudyRecord, **fields) -> StudyRecord:
    record = _lock_study(record)
    member = _lock_member(record.member)
    _require_study(user, member)
    unknown = set(fields) - {"date", "title", "form", "hours", "notes"}
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    _check_member_open(member, record.date)
    data = _clean_study(fields, False)
    if "date" in data:
        _check_member_open(member, data["date"])
    before = snapshot(record, STUDY_FIELDS)
    for k, v in data.items():
        setattr(record, k, v)
    _day_total(StudyRecord, member, record.date, record.hours, _("学时"), exclude_pk=record.pk)
    record.save()
    b, a = diff(before, snapshot(record, STUDY_FIELDS))
    log_action(user, "activity.study_updated", record, before=b, after=a)
    return record


@transaction.atomic
def delete_study_record(user, record: StudyRecord) -> None:
    record = _lock_study(record)
    _require_study(user, record.member)
    _check_member_open(record.member, record.date)
    log_action(user, "activity.study_deleted", record, before=snapshot(record, STUDY_FIELDS))
    record.delete()


# ---- dues (党费) ----------------------------------------------------------------------------------------


def _dues_exists_error(member: Member, month: datetime.date) -> DomainError:
    return DomainError(_("{name}{month}的党费已登记，请修改原记录，不要重复登记。").format(
        name=member.name, month=month_text(month)), "month")


@transaction.atomic
def record_dues(user, member: Member, *, month, amount, paid_on) -> DuesPayment:
    """One member's dues for one month; ``on_time`` when paid on or before the month's last day."""
    member = _lock_member(member)
    require(user, "activity.manage", member.org.path)
    _active(member)
    month = check_dues_month(month)
    amount = check_amount(amount)
    paid_on = check_date(paid_on, "paid_on", _("交纳日期"))
    if DuesPayment.objects.filter(member=member, month=month).exists():
        raise _dues_exists_error(member, month)
    try:
        with transaction.atomic():
            payment = DuesPayment.objects.create(member=member, month=month, amount=amount, paid_on=paid_on,
                                                 on_time=on_time(month, paid_on), recorded_by=_u(user))
    except IntegrityError as exc:
        raise _dues_exists_error(member, month) from exc
    log_action(user, "activity.dues_recorded", payment, after=snapshot(payment, DUES_FIELDS))
    return payment


def _lock_dues(payment: DuesPayment) -> DuesPayment:
    return DuesPayment.objects.select_for_update().select_related("member__org").get(pk=payment.pk)


@transaction.atomic
def update_dues(user, payment: DuesPayment, *, amount=None, paid_on=None) -> DuesPayment:
    payment = _lock_dues(payment)
    require(user, "activity.manage", payment.member.org.path)
    _check_member_open(payment.member, payment.month, "paid_on")
    before = snapshot(payment, DUES_FIELDS)
    if amount is not None:
        payment.amount = check_amount(amount)
    if paid_on is not None:
        payment.paid_on = check_date(paid_on, "paid_on", _("交纳日期"))
    payment.on_time = on_time(payment.month, payment.paid_on)
    payment.save(update_fields=["amount", "paid_on", "on_time"])
    b, a = diff(before, snapshot(payment, DUES_FIELDS))
    log_action(user, "activity.dues_updated", payment, before=b, after=a)
    return payment


@transaction.atomic
def delete_dues(user, payment: DuesPayment) -> None:
    payment = _lock_dues(payment)
    require(user, "activity.manage", payment.member.org.path)
    _check_member_open(payment.member, payment.month, "paid_on")
    log_action(user, "activity.dues_deleted", payment, before=snapshot(payment, DUES_FIELDS))
    payment.delete()


@transaction.atomic
def record_branch_dues(user, org: Organization, month, rows: Iterable[Mapping]) -> dict:
    """A whole branch's month in one go: ``rows`` of {member_id, amount, paid_on}. A member without a row for
    the month gets one; an existing row whose amount or date differs is corrected; a row left blank (no amount
    and no date) is skipped. Every row is checked first; one bad row saves nothing (``BatchError`` keyed by
    member id). Returns {"created": n, "updated": n}."""
    require(user, "activity.manage", org.path)
    month = check_dues_month(month)
    last = month_bounds(month)[1]
    members = {m.pk: m for m in Member.objects.select_for_update().filter(org=org, active=True)}
    existing = {p.member_id: p for p in DuesPayment.objects.select_for_update().filter(member__org=org, month=month)}
    published = set(MemberResult.objects.filter(org_id=org.pk, **_month_range(month))
                    .values_list("member_id", flat=True))
    errors: dict = {}
    create, update = [], []
    seen = set()
    for row in rows:
        try:
            member_id = int(row.get("member_id"))
        except (TypeError, ValueError):
            member_id = row.get("member_id")
        amount, paid_on = row.get("amount"), row.get("paid_on")
        if amount in (None, "") and paid_on in (None, ""):
            continue
        member = members.get(member_id)
        if member is None:
            errors[member_id] = _("编号为 {id} 的党员不是本支部的在册党员。").format(id=member_id)
            continue
        if member_id in seen:
            errors[member_id] = _("{name}出现了两次，每名党员每月只登记一条党费记录。").format(name=member.name)
            continue
        seen.add(member_id)
        try:
            if amount in (None, ""):
                raise DomainError(_("请填写金额。"), "amount")
            if paid_on in (None, ""):
                raise DomainError(_("请填写交纳日期。"), "paid_on")
            amount = check_amount(amount)
            paid_on = check_date(paid_on, "paid_on", _("交纳日期"))
        except DomainError as exc:
            errors[member_id] = _("{name}：{message}").format(name=member.name, message=exc.message)
            continue
        old = existing.get(member_id)
        if old is None:
            create.append(DuesPayment(member=member, month=month, amount=amount, paid_on=paid_on,
                                      on_time=paid_on <= last, recorded_by=_u(user)))
        elif (old.amount, old.paid_on) != (amount, paid_on):
            if member_id in published:
                errors[member_id] = _("{name}{month}的党员评价已公示，已登记的党费记录不能再修改。").format(
                    name=member.name, month=month_text(month))
                continue
            old.amount, old.paid_on, old.on_time = amount, paid_on, paid_on <= last
            update.append(old)
    if errors:
        raise BatchError(errors)
    try:
        with transaction.atomic():
            DuesPayment.objects.bulk_create(create)
    except IntegrityError as exc:
        raise DomainError(_("其他人同时登记了本支部该月的党费，本次未保存，请刷新页面后重新提交。")) from exc
    DuesPayment.objects.bulk_update(update, ["amount", "paid_on", "on_time"])
    if create or update:
        log_action(user, "activity.dues_branch_recorded", org, org_path=org.path, month=f"{month:%Y-%m}",
                   created=len(create), updated=len(update),
                   members=[members[p.member_id].name for p in create + update][:100])
    return {"created": len(create), "updated": len(update)}


def dues_status_q(month: datetime.date) -> dict:
    """Annotations for a Member queryset: the month's payment date and whether it was on time."""
    pay = DuesPayment.objects.filter(member=OuterRef("pk"), month=month_start(month))
    return {"dues_paid": Exists(pay), "dues_on_time": Exists(pay.filter(on_time=True))}


# ---- service records (志愿服务时长) -------------------------------------------------------------------


def _clean_service(data: Mapping, creating: bool) -> dict:
    out = {}
    if "date" in data or creating:
        out["date"] = check_date(data.get("date"), "date", _("服务日期"))
    if "activity" in data or creating:
        out["activity"] = _text(data.get("activity"), "activity", _("服务内容"), 200, required=True)
    if "hours" in data or creating:
        out["hours"] = check_hours(data.get("hours"), "hours", _("服务时长"))
    if "people_served" in data:
        value = data.get("people_served")
        try:
            people = int(value or 0)
        except (TypeError, ValueError) as exc:
            raise DomainError(_("服务人次应为整数。"), "people_served") from exc
        if people < 0 or people > 1_000_000:
            raise DomainError(_("服务人次应在 0 至 1000000 之间。"), "people_served")
        out["people_served"] = people
    if "source" in data:
        out["source"] = _text(data.get("source"), "source", _("来源"), 40)
    return out


@transaction.atomic
def add_service_record(user, member: Member, *, date, activity: str, hours, people_served: int = 0,
                       source: str = "") -> ServiceRecord:
    member = _lock_member(member)
    require(user, "activity.manage", member.org.path)
    _active(member)
    data = _clean_service({"date": date, "activity": activity, "hours": hours, "people_served": people_served,
                           "source": source}, True)
    _check_member_open(member, data["date"])
    _day_total(ServiceRecord, member, data["date"], data["hours"], _("服务时长"))
    record = ServiceRecord.objects.create(member=member, created_by=_u(user), **data)
    log_action(user, "activity.service_added", record, after=snapshot(record, SERVICE_FIELDS))
    return record


def _lock_service(record: ServiceRecord) -> ServiceRecord:
    return ServiceRecord.objects.select_for_update().select_related("member__org").get(pk=record.pk)


@transaction.atomic
def update_service_record(user, record: ServiceRecord, **fields) -> ServiceRecord:
    record = _lock_service(record)
    member = _lock_member(record.member)
    require(user, "activity.manage", member.org.path)
    unknown = set(fields) - {"date", "activity", "hours", "people_served", "source"}
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    _check_member_open(member, record.date)
    data = _clean_service(fields, False)
    if "date" in data:
        _check_member_open(member, data["date"])
    before = snapshot(record, SERVICE_FIELDS)
    for k, v in data.items():
        setattr(record, k, v)
    _day_total(ServiceRecord, member, record.date, record.hours, _("服务时长"), exclude_pk=record.pk)
    record.save()
    b, a = diff(before, snapshot(record, SERVICE_FIELDS))
    log_action(user, "activity.service_updated", record, before=b, after=a)
    return record


@transaction.atomic
def delete_service_record(user, record: ServiceRecord) -> None:
    record = _lock_service(record)
    require(user, "activity.manage", record.member.org.path)
    _check_member_open(record.member, record.date)
    log_action(user, "activity.service_deleted", record, before=snapshot(record, SERVICE_FIELDS))
    record.delete()


# ---- a branch's month at a glance --------------------------------------------------------------------------


DUES_ON_TIME, DUES_LATE, DUES_MISSING = "on_time", "late", "missing"


def branch_month(org: Organization, month: datetime.date) -> dict:
    """What the activity home shows for one branch and month, in a constant number of queries (seven): the
    meetings with attendance counts, and for each member on the rolls the month's attendance, study, service
    and dues status (paid on time / late / missing)."""
    first, last = month_bounds(month)
    meetings = list(attendance_counts(Meeting.objects.filter(org=org, date__gte=first, date__lte=last))
                    .select_related("lecturer").order_by("date", "id"))
    members = list(Member.objects.filter(org=org, active=True).only("id", "name", "post", "user_id")
                   .order_by("name_pinyin", "id"))
    ids = [m.pk for m in members]
    attendance = defaultdict(dict)
    for member_id, status, n in (Attendance.objects.filter(member_id__in=ids, meeting__date__gte=first,
                                                           meeting__date__lte=last)
                                 .order_by().values_list("member_id", "status").annotate(n=Count("id"))):
        attendance[member_id][status] = n
    study = {m: (n, h) for m, n, h in StudyRecord.objects.filter(member_id__in=ids, date__gte=first, date__lte=last)
             .order_by().values_list("member_id").annotate(n=Count("id"), h=Sum("hours"))}
    service = dict(ServiceRecord.objects.filter(member_id__in=ids, date__gte=first, date__lte=last).order_by()
                   .values_list("member_id").annotate(h=Sum("hours")))
    dues = {p.member_id: p for p in DuesPayment.objects.filter(member_id__in=ids, month=first)}
    rows = []
    for m in members:
        att = attendance.get(m.pk, {})
        n_study, study_hours = study.get(m.pk, (0, ZERO))
        pay = dues.get(m.pk)
        status = DUES_MISSING if pay is None else DUES_ON_TIME if pay.on_time else DUES_LATE
        rows.append({"member": m, "present": att.get(AttendanceStatus.PRESENT, 0),
                     "leave": att.get(AttendanceStatus.LEAVE, 0), "absent": att.get(AttendanceStatus.ABSENT, 0),
                     "study": n_study, "study_hours": study_hours, "service_hours": service.get(m.pk) or ZERO,
                     "dues": pay, "dues_status": status})
    totals = {
        "meetings": len(meetings),
        "present": sum(r["present"] for r in rows), "leave": sum(r["leave"] for r in rows),
        "absent": sum(r["absent"] for r in rows),
        "study": sum(r["study"] for r in rows), "study_hours": sum((r["study_hours"] for r in rows), ZERO),
        "service_hours": sum((r["service_hours"] for r in rows), ZERO),
        DUES_ON_TIME: sum(1 for r in rows if r["dues_status"] == DUES_ON_TIME),
        DUES_LATE: sum(1 for r in rows if r["dues_status"] == DUES_LATE),
        DUES_MISSING: sum(1 for r in rows if r["dues_status"] == DUES_MISSING),
        "members": len(rows),
    }
    listed = totals["present"] + totals["leave"] + totals["absent"]
    totals["rate"] = round(100 * totals["present"] / listed) if listed else None
    return {"org": org, "month": first, "meetings": meetings, "rows": rows, "totals": totals,
            "published": org_month_published(org.pk, first)}
