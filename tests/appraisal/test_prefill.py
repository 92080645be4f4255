"""prefill_counts: the activity records of a month turned into (member, source) counts for the month opening, with
a constant number of queries. Personas: tests/conftest.py."""

import datetime
from decimal import Decimal

import pytest

from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    ServiceRecord,
    StudyRecord,
)
from dangjian.appraisal.prefill import SOURCES, month_bounds, prefill_counts
from dangjian.standards.models import ActivitySource
from tests.factories import make_member

D = datetime.date
OCT = D(2026, 10, 1)
P, L, A = AttendanceStatus.PRESENT, AttendanceStatus.LEAVE, AttendanceStatus.ABSENT


def meeting(org, day, kind=MeetingKind.GENERAL, lecturer=None, marks=None):
    m = Meeting.objects.create(org=org, kind=kind, title=f"{kind} {day}", date=day, lecturer=lecturer)
    for member, status in (marks or {}).items():
        Attendance.objects.create(meeting=m, member=member, status=status)
    return m


def study(member, day, n=1):
    for i in range(n):
        StudyRecord.objects.create(member=member, date=day, title=f"学习{i}", hours=Decimal("1.5"))


def dues(member, month, paid_on, on_time=None):
    last = month_bounds(month)[1]
    DuesPayment.objects.create(member=member, month=month, amount=Decimal("20.00"), paid_on=paid_on,
                               on_time=paid_on <= last if on_time is None else on_time)


def service(member, day, hours):
    ServiceRecord.objects.create(member=member, date=day, activity="社区用电安全宣传", hours=Decimal(hours))


@pytest.fixture
def october(company):
    c = company
    a, s, b = c.member_a, c.secretary_member_a, c.member_b
    meeting(c.branch_a, D(2026, 10, 9), marks={a: P, s: P})
    meeting(c.branch_a, D(2026, 10, 16), MeetingKind.LECTURE, lecturer=s, marks={a: L, s: P})
    meeting(c.branch_a, D(2026, 10, 30), MeetingKind.THEME_DAY, marks={a: A, s: P})
    meeting(c.branch_a, D(2026, 9, 30), marks={a: A, s: P})  # the month before
    meeting(c.branch_a, D(2026, 11, 1), MeetingKind.LECTURE, lecturer=a, marks={a: P, s: P})  # the month after
    meeting(c.branch_b, D(2026, 10, 12), MeetingKind.LECTURE, lecturer=b, marks={b: P})
    study(a, D(2026, 10, 1), 2)
    study(a, D(2026, 10, 31))
    study(a, D(2026, 9, 30))
    study(s, D(2026, 11, 1))
    dues(a, OCT, D(2026, 10, 31))  # the last day: on time
    dues(s, OCT, D(2026, 11, 3))  # late
    dues(b, D(2026, 9, 1), D(2026, 9, 5))  # September only: October missing
    service(a, D(2026, 10, 3), "2.5")
    service(a, D(2026, 10, 20), "1.4")  # 3.9 hours: 3 whole hours
    service(s, D(2026, 10, 3), "0.5")  # less than an hour: 0
    service(b, D(2026, 9, 3), "8")
    return c


def test_every_source_but_manual_is_counted():
    assert set(SOURCES) == {s for s in ActivitySource.values if s}


def test_counts_of_the_month_per_member_and_source(october):
    c = october
    counts = prefill_counts(OCT, org_path=c.branch_a.path)
    a, s = c.member_a.pk, c.secretary_member_a.pk
    assert counts == {
        (a, "meeting_attended"): 1, (a, "meeting_absent"): 1, (a, "study"): 3, (a, "dues_missing"): 0,
        (a, "service_hours"): 3,
        (s, "meeting_attended"): 3, (s, "lecture_given"): 1, (s, "dues_missing"): 1,
    }


def test_leave_is_not_an_absence(october):
    counts = prefill_counts(OCT, member_ids=[october.member_a.pk])
    assert counts[(october.member_a.pk, "meeting_absent")] == 1  # the theme day, not the lecture on leave


def test_a_member_without_a_payment_has_dues_missing(october):
    c = october
    counts = prefill_counts(OCT, member_ids=[c.member_b.pk, c.member_c.pk])
    assert counts[(c.member_b.pk, "dues_missing")] == 1
    assert counts[(c.member_c.pk, "dues_missing")] == 1
    assert counts[(c.member_b.pk, "lecture_given")] == 1
    assert (c.member_b.pk, "service_hours") not in counts  # September's service


def test_a_payment_marked_on_time_but_paid_after_the_month_is_missing(october):
    c = october
    DuesPayment.objects.filter(member=c.member_a, month=OCT).update(paid_on=D(2026, 11, 2))
    assert prefill_counts(OCT, member_ids=[c.member_a.pk])[(c.member_a.pk, "dues_missing")] == 1


def test_member_ids_and_org_path_narrow_together(october):
    c = october
    counts = prefill_counts(OCT, member_ids=[c.member_a.pk, c.member_b.pk], org_path=c.branch_a.path)
    assert {m for m, _ in counts} == {c.member_a.pk}
    assert prefill_counts(OCT, member_ids=[]) == {}


def test_a_subtree_covers_its_branches_and_only_members_on_the_rolls(october):
    c = october
    gone = make_member(c.branch_b, "钱进", active=False)
    counts = prefill_counts(OCT, org_path=c.general.path)
    members = {m for m, _ in counts}
    assert members == {c.member_a.pk, c.secretary_member_a.pk, c.member_b.pk}
    assert gone.pk not in members and c.member_c.pk not in members
    everyone = prefill_counts(OCT)
    assert {m for m, _ in everyone} == members | {c.member_c.pk}


def test_the_month_is_taken_from_any_day_given(october):
    assert prefill_counts(D(2026, 10, 17), org_path=october.branch_a.path) == prefill_counts(
        OCT, org_path=october.branch_a.path)


def test_december_ends_on_the_last_day_of_the_year(company):
    c = company
    dec = D(2025, 12, 1)
    meeting(c.branch_a, D(2025, 12, 31), marks={c.member_a: P})
    meeting(c.branch_a, D(2026, 1, 1), marks={c.member_a: P})
    dues(c.member_a, dec, D(2025, 12, 31))
    counts = prefill_counts(dec, member_ids=[c.member_a.pk])
    assert counts == {(c.member_a.pk, "meeting_attended"): 1, (c.member_a.pk, "dues_missing"): 0}


def _grow(c, n):
    """n more members in branch A, each with a meeting attendance, study, service and dues in October."""
    m = meeting(c.branch_a, D(2026, 10, 21), MeetingKind.LECTURE, lecturer=c.member_a)
    for i in range(n):
        member = make_member(c.branch_a, f"新党员{i}")
        Attendance.objects.create(meeting=m, member=member, status=[P, L, A][i % 3])
        study(member, D(2026, 10, 5), 2)
        service(member, D(2026, 10, 6), "1.5")
        if i % 2:
            dues(member, OCT, D(2026, 10, 10))


@pytest.mark.parametrize("size", [2, 30])
def test_the_number_of_queries_does_not_grow_with_the_members(october, django_assert_num_queries, size):
    c = october
    _grow(c, size)
    with django_assert_num_queries(5):
        counts = prefill_counts(OCT, org_path=c.branch_a.path)
    assert sum(1 for _, src in counts if src == "dues_missing") == size + 2
    ids = list(c.branch_a.members.values_list("pk", flat=True))
    with django_assert_num_queries(5):
        assert prefill_counts(OCT, member_ids=ids) == counts


def test_a_long_id_list_goes_in_chunks(october, monkeypatch, django_assert_num_queries):
    from dangjian.appraisal import prefill

    c = october
    monkeypatch.setattr(prefill, "CHUNK", 1)
    ids = [c.member_a.pk, c.secretary_member_a.pk]
    with django_assert_num_queries(10):
        counts = prefill_counts(OCT, member_ids=ids)
    monkeypatch.setattr(prefill, "CHUNK", 10_000)
    assert counts == prefill_counts(OCT, member_ids=ids)
