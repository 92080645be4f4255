"""Activity record services: meetings with attendance, study records, dues and service hours — permissions,
validations with Chinese messages that change nothing, the lock of a published month, and the audit trail.
Personas: tests/conftest.py."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import (
    AppraisalPeriod,
    Attendance,
    DuesPayment,
    Meeting,
    MemberEvaluation,
    MemberResult,
    ServiceRecord,
    StudyRecord,
)
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import CommitteeSeat
from dangjian.standards.models import MemberStandardSet
from tests.factories import make_member

D = datetime.date
OCT = D(2026, 10, 1)


def publish(member, month):
    """The branch's member evaluation of ``month`` published for ``member`` (a MemberResult row)."""
    org = member.org
    std, _ = MemberStandardSet.objects.get_or_create(owner=org, year=month.year, version=1,
                                                     defaults={"name": "党员评价标准"})
    period, _ = AppraisalPeriod.objects.get_or_create(
        owner=org, month=month, defaults={"standard_set": std, "self_due": month, "determine_due": month})
    ev = MemberEvaluation.objects.create(period=period, member=member, org=org, org_path=org.path,
                                         org_name=org.name, member_name=member.name, state="published")
    z = Decimal("0")
    return MemberResult.objects.create(
        period=period, evaluation=ev, member=member, org=org, org_path=org.path, org_name=org.name,
        member_name=member.name, month=month, base=z, bonus=z, deduction=z, self_total=z, branch_total=z, total=z,
        rank=1, branch_size=2, published_at=timezone.now())


def meeting_of(c, user=None, **kw):
    data = {"kind": "general", "title": "学习贯彻全会精神", "date": D(2026, 10, 9)} | kw
    return act.record_meeting(user or c.secretary_a, c.branch_a, **data)


# ---- meetings ------------------------------------------------------------------------------------------


def test_a_meeting_lists_every_member_on_the_rolls_present_by_default(company):
    c = company
    make_member(c.branch_a, "退休党员", active=False)
    m = meeting_of(c, place="三楼党员活动室", host="李建国")
    rows = {a.member_id: a.status for a in m.attendance.all()}
    assert rows == {c.member_a.pk: "present", c.secretary_member_a.pk: "present"}
    assert m.created_by == c.secretary_a
    ev = AuditEvent.objects.get(action="activity.meeting_recorded")
    assert ev.org_path == c.branch_a.path and ev.data["attendance"] == {"present": 2}


def test_leave_and_absence_are_marked_with_a_note(company):
    c = company
    m = meeting_of(c, attendance={c.member_a.pk: ("leave", "抢修值班")})
    a = m.attendance.get(member=c.member_a)
    assert (a.status, a.note) == ("leave", "抢修值班")


def test_a_committee_meeting_lists_only_the_committee_by_default(company):
    c = company
    CommitteeSeat.objects.create(org=c.branch_a, member=c.secretary_member_a, duty="secretary", since="2024-01-01")
    m = meeting_of(c, kind="committee", title="研究发展党员工作")
    assert list(m.attendance.values_list("member_id", flat=True)) == [c.secretary_member_a.pk]


def test_a_member_of_another_branch_cannot_be_on_the_list(company):
    c = company
    with pytest.raises(act.BatchError) as exc:
        meeting_of(c, attendance={c.member_b.pk: ("present", "")})
    assert "不是本支部的在册党员" in exc.value.errors[c.member_b.pk]
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("title", " ", "请填写主题"),
    ("kind", "party", "请选择会议类型"),
    ("date", D(2099, 1, 1), "不能晚于今天"),
    ("date", D(1980, 1, 1), "过早"),
    ("place", "地" * 101, "不能超过100个字"),
])
def test_bad_meeting_input_is_refused_in_chinese_and_saves_nothing(company, field, value, message):
    with pytest.raises(DomainError) as exc:
        meeting_of(company, **{field: value})
    assert message in exc.value.message and exc.value.field == field
    assert not Meeting.objects.exists() and not Attendance.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="activity.").exists()


def test_the_lecturer_is_a_member_of_the_branch(company):
    c = company
    with pytest.raises(DomainError, match="授课人应为本支部在册党员"):
        meeting_of(c, kind="lecture", lecturer=c.member_b)
    m = meeting_of(c, kind="lecture", lecturer=c.secretary_member_a)
    assert m.lecturer == c.secretary_member_a


def test_meetings_are_recorded_in_branches_only(company):
    c = company
    with pytest.raises(DomainError, match="应登记在党支部"):
        act.record_meeting(c.staff, c.general, kind="general", title="党员大会", date=D(2026, 10, 9))


def test_secretary_cannot_record_for_another_branch_nor_a_member(company):
    c = company
    for user in (c.secretary_b, c.member_user_a, c.outsider, c.assessor):
        with pytest.raises(AccessDenied):
            meeting_of(c, user=user)
    assert meeting_of(c, user=c.staff).org == c.branch_a


def test_editing_a_meeting_changes_facts_and_marks(company):
    c = company
    m = meeting_of(c)
    newcomer = make_member(c.branch_a, "周新")
    act.update_meeting(c.secretary_a, m, title="专题学习", attendance={
        c.member_a.pk: ("absent", "未请假"), c.secretary_member_a.pk: ("", ""), newcomer.pk: ("present", "")})
    m.refresh_from_db()
    assert m.title == "专题学习"
    assert dict(m.attendance.values_list("member_id", "status")) == {c.member_a.pk: "absent", newcomer.pk: "present"}
    ev = AuditEvent.objects.get(action="activity.meeting_updated")
    assert ev.data["before"]["title"] == "学习贯彻全会精神" and ev.data["after"]["attendance"] == {
        "absent": 1, "present": 1}


def test_an_empty_attendance_list_is_refused_and_nothing_changes(company):
    c = company
    m = meeting_of(c)
    with pytest.raises(DomainError, match="出勤名单不能为空"):
        act.update_meeting(c.secretary_a, m, title="改了", attendance={
            c.member_a.pk: ("", ""), c.secretary_member_a.pk: ("", "")})
    m.refresh_from_db()
    assert m.title == "学习贯彻全会精神" and m.attendance.count() == 2


def test_a_published_month_locks_its_meetings(company):
    c = company
    m = meeting_of(c)
    publish(c.member_a, OCT)
    for call in (lambda: act.update_meeting(c.secretary_a, m, title="改"),
                 lambda: act.delete_meeting(c.secretary_a, m),
                 lambda: meeting_of(c, date=D(2026, 10, 20))):
        with pytest.raises(DomainError, match="已公示"):
            call()
    # Moving another month's meeting into the published month is refused too.
    sep = meeting_of(c, date=D(2026, 9, 20))
    with pytest.raises(DomainError, match="已公示"):
        act.update_meeting(c.secretary_a, sep, date=D(2026, 10, 2))
    assert Meeting.objects.count() == 2


def test_a_meeting_is_deleted_with_its_attendance_while_the_month_is_open(company):
    c = company
    m = meeting_of(c)
    publish(c.member_b, OCT)  # another branch's month does not lock branch A
    act.delete_meeting(c.secretary_a, m)
    assert not Meeting.objects.exists() and not Attendance.objects.exists()
    assert AuditEvent.objects.get(action="activity.meeting_deleted").data["before"]["title"] == "学习贯彻全会精神"


# ---- study records ------------------------------------------------------------------------------------


def test_a_member_adds_their_own_study_record_but_not_another(company):
    c = company
    r = act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="《习近平谈治国理政》第四卷",
                             hours="1.5", form="self", notes="学以致用")
    assert (r.member, r.hours, r.created_by) == (c.member_a, Decimal("1.5"), c.member_user_a)
    with pytest.raises(AccessDenied):
        act.add_study_record(c.member_user_a, c.secretary_member_a, date=D(2026, 10, 9), title="学习")
    act.update_study_record(c.member_user_a, r, hours="2")
    act.delete_study_record(c.member_user_a, r)
    assert not StudyRecord.objects.exists()


def test_the_branch_adds_study_records_for_its_members_only(company):
    c = company
    act.add_study_record(c.secretary_a, c.member_a, date=D(2026, 10, 9), title="党章学习")
    with pytest.raises(AccessDenied):
        act.add_study_record(c.secretary_a, c.member_b, date=D(2026, 10, 9), title="党章学习")
    with pytest.raises(AccessDenied):
        act.add_study_record(c.secretary_b, c.member_a, date=D(2026, 10, 9), title="党章学习")


@pytest.mark.parametrize(("hours", "message"), [
    ("0", "应大于0"), ("-1", "应大于0"), ("24.5", "不能超过24小时"), ("1.25", "一位小数"), ("abc", "应为数字")])
def test_study_hours_are_checked(company, hours, message):
    with pytest.raises(DomainError, match=message):
        act.add_study_record(company.member_user_a, company.member_a, date=D(2026, 10, 9), title="学习", hours=hours)
    assert not StudyRecord.objects.exists()


def test_a_day_holds_at_most_24_hours_of_study(company):
    c = company
    act.add_study_record(c.secretary_a, c.member_a, date=D(2026, 10, 9), title="培训", hours="20", form="training")
    with pytest.raises(DomainError, match="超过一天24小时"):
        act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="自学", hours="5")
    r = act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="自学", hours="4")
    with pytest.raises(DomainError, match="超过一天24小时"):
        act.update_study_record(c.member_user_a, r, hours="4.5")
    assert StudyRecord.objects.get(pk=r.pk).hours == Decimal("4.0")


def test_study_in_a_published_month_is_locked(company):
    c = company
    r = act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="学习")
    publish(c.member_a, OCT)
    with pytest.raises(DomainError, match="已公示"):
        act.delete_study_record(c.member_user_a, r)
    with pytest.raises(DomainError, match="已公示"):
        act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 10), title="学习")
    # The secretary's own month is still open.
    act.add_study_record(c.secretary_a, c.secretary_member_a, date=D(2026, 10, 10), title="学习")


# ---- dues ----------------------------------------------------------------------------------------------


def test_dues_paid_by_the_last_day_are_on_time(company):
    c = company
    on = act.record_dues(c.secretary_a, c.member_a, month="2026-10", amount="25.50", paid_on=D(2026, 10, 31))
    late = act.record_dues(c.secretary_a, c.secretary_member_a, month=OCT, amount=30, paid_on=D(2026, 11, 1))
    assert (on.on_time, late.on_time, on.amount) == (True, False, Decimal("25.50"))
    act.update_dues(c.secretary_a, late, paid_on=D(2026, 10, 30))
    late.refresh_from_db()
    assert late.on_time


def test_one_dues_row_per_member_and_month(company):
    c = company
    act.record_dues(c.secretary_a, c.member_a, month=OCT, amount=20, paid_on=D(2026, 10, 5))
    with pytest.raises(DomainError, match="党费已登记"):
        act.record_dues(c.secretary_a, c.member_a, month=D(2026, 10, 15), amount=20, paid_on=D(2026, 10, 6))
    assert DuesPayment.objects.count() == 1


@pytest.mark.parametrize(("kw", "message"), [
    ({"amount": "0"}, "应大于0"), ({"amount": "1.234"}, "两位小数"), ({"month": "2099-01"}, "不能晚于本月"),
    ({"month": "10月"}, "YYYY-MM"), ({"paid_on": D(2099, 1, 1)}, "不能晚于今天")])
def test_bad_dues_are_refused(company, kw, message):
    data = {"month": OCT, "amount": "20", "paid_on": D(2026, 10, 5)} | kw
    with pytest.raises(DomainError, match=message):
        act.record_dues(company.secretary_a, company.member_a, **data)
    assert not DuesPayment.objects.exists()


def test_a_late_payment_can_be_recorded_after_publishing_but_rows_are_then_locked(company):
    c = company
    publish(c.member_a, OCT)
    p = act.record_dues(c.secretary_a, c.member_a, month=OCT, amount=20, paid_on=D(2026, 11, 10))
    assert not p.on_time
    with pytest.raises(DomainError, match="已公示"):
        act.update_dues(c.secretary_a, p, amount=30)
    with pytest.raises(DomainError, match="已公示"):
        act.delete_dues(c.secretary_a, p)


def test_a_whole_branch_month_in_one_go(company):
    c = company
    act.record_dues(c.secretary_a, c.member_a, month=OCT, amount=20, paid_on=D(2026, 10, 5))
    result = act.record_branch_dues(c.secretary_a, c.branch_a, "2026-10", [
        {"member_id": c.member_a.pk, "amount": "22", "paid_on": D(2026, 10, 5)},
        {"member_id": c.secretary_member_a.pk, "amount": "35.5", "paid_on": D(2026, 11, 2)},
    ])
    assert result == {"created": 1, "updated": 1}
    assert DuesPayment.objects.get(member=c.member_a).amount == Decimal("22.00")
    assert not DuesPayment.objects.get(member=c.secretary_member_a).on_time
    ev = AuditEvent.objects.get(action="activity.dues_branch_recorded")
    assert ev.data["created"] == 1 and ev.data["updated"] == 1


def test_one_bad_row_of_the_branch_month_saves_nothing(company):
    c = company
    with pytest.raises(act.BatchError) as exc:
        act.record_branch_dues(c.secretary_a, c.branch_a, OCT, [
            {"member_id": c.member_a.pk, "amount": "20", "paid_on": D(2026, 10, 5)},
            {"member_id": c.secretary_member_a.pk, "amount": "-3", "paid_on": D(2026, 10, 5)},
            {"member_id": c.member_b.pk, "amount": "20", "paid_on": D(2026, 10, 5)},
        ])
    assert set(exc.value.errors) == {c.secretary_member_a.pk, c.member_b.pk}
    assert "李建国" in exc.value.errors[c.secretary_member_a.pk]
    assert not DuesPayment.objects.exists()


def test_the_other_branch_cannot_record_dues(company):
    c = company
    with pytest.raises(AccessDenied):
        act.record_dues(c.secretary_b, c.member_a, month=OCT, amount=20, paid_on=D(2026, 10, 5))
    with pytest.raises(AccessDenied):
        act.record_branch_dues(c.secretary_b, c.branch_a, OCT, [])


# ---- service records -------------------------------------------------------------------------------------


def test_service_hours_are_recorded_by_the_branch(company):
    c = company
    r = act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 3), activity="社区用电安全宣传",
                               hours="3.5", people_served=40, source="服务队")
    assert (r.hours, r.people_served) == (Decimal("3.5"), 40)
    with pytest.raises(AccessDenied):
        act.add_service_record(c.member_user_a, c.member_a, date=D(2026, 10, 3), activity="宣传", hours=1)
    with pytest.raises(DomainError, match="超过一天24小时"):
        act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 3), activity="抢修", hours=21)
    with pytest.raises(DomainError, match="服务人次"):
        act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 4), activity="抢修", hours=2,
                               people_served=-1)
    act.update_service_record(c.secretary_a, r, hours="4", activity="入户走访")
    r.refresh_from_db()
    assert (r.hours, r.activity) == (Decimal("4.0"), "入户走访")
    act.delete_service_record(c.staff, r)
    assert not ServiceRecord.objects.exists()


def test_records_are_not_added_for_members_off_the_rolls(company):
    c = company
    gone = make_member(c.branch_a, "钱进", active=False)
    with pytest.raises(DomainError, match="不在册"):
        act.add_service_record(c.secretary_a, gone, date=D(2026, 10, 3), activity="宣传", hours=1)
    with pytest.raises(DomainError, match="不在册"):
        act.record_dues(c.secretary_a, gone, month=OCT, amount=20, paid_on=D(2026, 10, 5))
