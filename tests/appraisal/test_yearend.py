"""Year end (民主评议党员): annual figures, every rule of the suggested grades, votes and final grades, the lock, the
six-month warning, the pages, the HR export, constant queries and the API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.appraisal import yearend
from dangjian.appraisal.models import (
    Attendance,
    DuesPayment,
    Grade,
    Meeting,
    YearAppraisal,
    YearReview,
)
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import ApiToken, AuditEvent
from tests.appraisal.conftest import make_member_set
from tests.appraisal.test_handbook import publish, year_of
from tests.factories import make_member, make_org

D = Decimal
YEAR = 2025
E, Q, B, U = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED


def full_year(member, total, **months):
    """Twelve months at ``total``; ``months`` overrides single months, e.g. m3={"total": "40", "vetoed": True}."""
    values = {m: {"total": total} for m in range(1, 13)}
    for key, value in months.items():
        values[int(key[1:])] = value if isinstance(value, dict) else {"total": value}
    return year_of(member, values)


@pytest.fixture
def ms(company):
    return make_member_set(company.committee, year=YEAR)


def branch_of(company, n, name="评议党支部"):
    org = make_org(name, parent=company.general)
    return org, [make_member(org, f"{name[:2]}{i:02d}") for i in range(n)]


def grades(review):
    return {a.member_name: a.suggested_grade for a in review.appraisals.all()}


def appraisal(review, member):
    return review.appraisals.get(member=member)


# ---- annual figures ---------------------------------------------------------------------------------------------


def test_compute_year_sums_the_published_months_and_ranks_with_ties(company, ms):
    org, (m1, m2, m3) = branch_of(company, 3)
    publish(ms, company.committee, full_year(m1, "90") + full_year(m2, "90")
            + year_of(m3, {1: "80", 2: {"total": "50", "qualified": False}, 3: "85.5"}))
    review = yearend.compute_year(company.staff, org, YEAR)
    a1, a2, a3 = (appraisal(review, m) for m in (m1, m2, m3))
    assert (a1.months, a1.annual_total, a1.average, a1.rank) == (12, D("1080.0"), D("90.0"), 1)
    assert a2.rank == 1
    assert (a3.months, a3.annual_total, a3.average, a3.unqualified_months, a3.rank) == (3, D("215.5"), D("71.8"), 1, 3)
    event = AuditEvent.objects.filter(action="yearend.computed").latest("id")
    assert event.data["after"]["members"] == 3 and event.org_path == org.path


def test_veto_under_year_zero_sets_the_annual_total_to_zero(company):
    zero = make_member_set(company.committee, year=YEAR, veto_effect="year_zero")
    org, (m1, m2) = branch_of(company, 2)
    publish(zero, company.committee, full_year(m1, "95", m4={"total": "0", "vetoed": True, "qualified": False})
            + full_year(m2, "80"))
    review = yearend.compute_year(company.staff, org, YEAR)
    a1 = appraisal(review, m1)
    assert (a1.annual_total, a1.average, a1.veto_months, a1.rank) == (D("0.0"), D("0.0"), 1, 2)
    assert a1.suggested_grade == U  # a zeroed year averages 0, below the 不合格 line


def test_veto_under_month_effect_keeps_the_other_months(company, ms):
    org, (m1,) = branch_of(company, 1)
    publish(ms, company.committee, full_year(m1, "95", m4={"total": "0", "vetoed": True, "qualified": False}))
    a1 = appraisal(yearend.compute_year(company.staff, org, YEAR), m1)
    assert a1.annual_total == D("1045.0") and a1.veto_months == 1 and a1.suggested_grade == B


def test_compute_year_without_published_months_says_so_and_creates_nothing(company, ms):
    org, _members = branch_of(company, 2)
    with pytest.raises(DomainError) as exc:
        yearend.compute_year(company.staff, org, YEAR)
    assert "还没有已公示" in exc.value.message
    assert not YearReview.objects.filter(org=org).exists()


def test_compute_year_is_for_a_branch_and_a_past_or_current_year(company, ms):
    with pytest.raises(DomainError):
        yearend.compute_year(company.staff, company.general, YEAR)
    with pytest.raises(DomainError):
        yearend.compute_year(company.staff, company.branch_a, datetime.date.today().year + 1)


@pytest.mark.parametrize("persona", ["secretary_b", "member_user_a", "assessor", "outsider"])
def test_only_the_branch_and_its_committee_compute(company, ms, persona):
    publish(ms, company.committee, full_year(company.member_a, "90"))
    with pytest.raises(AccessDenied):
        yearend.compute_year(getattr(company, persona), company.branch_a, YEAR)
    assert yearend.compute_year(company.secretary_a, company.branch_a, YEAR).appraisals.count() == 1


def test_recomputing_keeps_votes_and_removes_members_who_left(company, ms):
    org, (m1, m2) = branch_of(company, 2)
    publish(ms, company.committee, full_year(m1, "90") + full_year(m2, "80"))
    review = yearend.compute_year(company.staff, org, YEAR)
    yearend.record_votes(company.staff, appraisal(review, m1), votes_qualified=5, final_grade=Q, reason="")
    m2.active = False
    m2.save()
    review = yearend.compute_year(company.staff, org, YEAR)
    assert list(review.appraisals.values_list("member_id", flat=True)) == [m1.pk]
    a1 = appraisal(review, m1)
    assert a1.votes_qualified == 5 and a1.final_grade == Q


def test_compute_year_runs_a_fixed_number_of_queries(company, ms):
    counts = []
    for n, name in ((3, "小党支部"), (12, "大党支部")):
        org, members = branch_of(company, n, name)
        publish(ms, company.committee, [r for m in members for r in full_year(m, "88")])
        yearend.compute_year(company.staff, org, YEAR)  # the user's grants are read once and kept
        with CaptureQueriesContext(connection) as ctx:
            yearend.compute_year(company.staff, org, YEAR)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# ---- the rule ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "share", "cap"), [(3, "33.3", 1), (30, "33.3", 10), (10, "33.3", 3), (6, "33.3", 2),
                                                 (1, "33.3", 0), (0, "33.3", 0), (7, "0", 0), (7, "100", 7),
                                                 (9, "20", 1)])
def test_excellent_cap_is_the_share_rounded_down(n, share, cap):
    assert yearend.excellent_cap(n, D(share)) == cap


def test_excellent_goes_to_the_top_of_the_ranking_within_the_share(company, ms):
    org, members = branch_of(company, 6)
    totals = ["98", "96", "95", "93", "91", "85"]
    publish(ms, company.committee, [r for m, t in zip(members, totals, strict=True) for r in full_year(m, t)])
    review = yearend.compute_year(company.staff, org, YEAR)
    assert [grades(review)[m.name] for m in members] == [E, E, Q, Q, Q, Q]


def test_a_tie_that_does_not_fit_in_the_share_takes_none_of_the_places(company, ms):
    org, members = branch_of(company, 6)
    totals = ["98", "96", "96", "93", "91", "85"]  # cap 2: the first fits, the tie for second does not
    publish(ms, company.committee, [r for m, t in zip(members, totals, strict=True) for r in full_year(m, t)])
    review = yearend.compute_year(company.staff, org, YEAR)
    assert [grades(review)[m.name] for m in members] == [E, Q, Q, Q, Q, Q]
    assert [appraisal(review, m).rank for m in members] == [1, 2, 2, 4, 5, 6]


def test_a_tie_that_fits_takes_its_places_together(company, ms):
    org, members = branch_of(company, 6)
    publish(ms, company.committee, [r for m, t in zip(members, ["97", "97", "96", "93", "91", "85"], strict=True)
                                    for r in full_year(m, t)])
    assert [grades(yearend.compute_year(company.staff, org, YEAR))[m.name] for m in members] == [E, E, Q, Q, Q, Q]


def test_excellent_needs_the_minimum_average_and_no_veto(company, ms):
    org, members = branch_of(company, 6)
    rows = full_year(members[0], "99", m5={"total": "99", "vetoed": True})  # vetoed: never 优秀, at most 基本合格
    rows += full_year(members[1], "89")  # top of the rest but below the 90 average
    for m in members[2:]:
        rows += full_year(m, "80")
    publish(ms, company.committee, rows)
    g = grades(yearend.compute_year(company.staff, org, YEAR))
    assert g[members[0].name] == B and g[members[1].name] == Q
    assert all(g[m.name] == Q for m in members[2:])


def test_bar_top_veto_bars_excellent_even_where_the_rule_lets_vetoes_through(company):
    bar = make_member_set(company.committee, year=YEAR, veto_effect="bar_top")
    org, members = branch_of(company, 3)
    publish(bar, company.committee, full_year(members[0], "99", m2={"total": "99", "vetoed": True})
            + full_year(members[1], "80") + full_year(members[2], "80"))
    review = yearend.compute_year(company.staff, org, YEAR)
    yearend.save_rule(company.staff, review, {**review.rule, "veto_max_grade": "qualified"})
    assert grades(review)[members[0].name] == Q
    with pytest.raises(DomainError) as exc:
        yearend.record_votes(company.staff, appraisal(review, members[0]), final_grade=E, reason="表现突出")
    assert "不得评为优秀" in exc.value.message
    assert appraisal(review, members[0]).final_grade == ""


def test_unqualified_month_caps_at_qualified_and_averages_set_basic_and_unqualified(company, ms):
    org, members = branch_of(company, 4)
    publish(ms, company.committee,
            full_year(members[0], "99", m6={"total": "55", "qualified": False})  # top, but an unqualified month
            + full_year(members[1], "65")  # average 65 < 70 → 基本合格
            + full_year(members[2], "55")  # average 55 < 60 → 不合格
            + full_year(members[3], "75"))
    g = grades(yearend.compute_year(company.staff, org, YEAR))
    assert [g[m.name] for m in members] == [Q, B, U, Q]


def test_the_rule_can_let_an_unqualified_month_keep_excellent(company, ms):
    org, members = branch_of(company, 3)
    publish(ms, company.committee, full_year(members[0], "99", m6={"total": "55", "qualified": False})
            + full_year(members[1], "80") + full_year(members[2], "80"))
    review = yearend.compute_year(company.staff, org, YEAR)
    yearend.save_rule(company.staff, review, {**review.rule, "unqualified_month_max_grade": "excellent"})
    assert grades(review)[members[0].name] == E
    event = AuditEvent.objects.filter(action="yearend.rule_saved").latest("id")
    assert event.data["after"]["unqualified_month_max_grade"] == "excellent"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"excellent_share": "120"}, "excellent_share", "不能超过 100"),
    ({"excellent_share": "abc"}, "excellent_share", "应为数字"),
    ({"excellent_min_avg": "-1"}, "excellent_min_avg", "不小于 0"),
    ({"basic_below_avg": "70.25"}, "basic_below_avg", "最多一位小数"),
    ({"basic_below_avg": "95"}, "basic_below_avg", "不合格线 ≤ 基本合格线 ≤ 优秀最低月均分"),
    ({"veto_max_grade": "excellent"}, "veto_max_grade", "应为以下之一"),
    ({"unqualified_month_max_grade": "best"}, "unqualified_month_max_grade", "应为以下之一"),
])
def test_a_bad_rule_is_refused_in_chinese_and_changes_nothing(company, ms, change, field, words):
    publish(ms, company.committee, full_year(company.member_a, "90"))
    review = yearend.compute_year(company.staff, company.branch_a, YEAR)
    before = dict(review.rule)
    with pytest.raises(DomainError) as exc:
        yearend.save_rule(company.staff, review, {**before, **change})
    assert exc.value.field == field and words in exc.value.message
    review.refresh_from_db()
    assert review.rule == before


def test_a_new_review_starts_from_the_branchs_last_rule(company, ms):
    publish(ms, company.committee, full_year(company.member_a, "90"))
    old = yearend.compute_year(company.staff, company.branch_a, YEAR)
    yearend.save_rule(company.staff, old, {**old.rule, "excellent_share": "20"})
    ms26 = make_member_set(company.committee, year=2026)
    publish(ms26, company.committee, year_of(company.member_a, {1: "90"}))
    new = yearend.compute_year(company.staff, company.branch_a, 2026)
    assert new.rule["excellent_share"] == "20.0"


# ---- votes and final grades -------------------------------------------------------------------------------------


@pytest.fixture
def review6(company, ms):
    """Six members, cap 2: 98 and 96 suggested 优秀, the rest 合格; 10 voters."""
    org, members = branch_of(company, 6)
    publish(ms, company.committee, [r for m, t in zip(members, ["98", "96", "95", "93", "91", "85"], strict=True)
                                    for r in full_year(m, t)])
    review = yearend.compute_year(company.staff, org, YEAR)
    review.voters = 10
    review.save()
    review.members = members
    return review


def test_votes_and_the_suggested_grade_are_recorded_and_audited(company, review6):
    a = appraisal(review6, review6.members[0])
    a = yearend.record_votes(company.staff, a, votes_excellent=8, votes_qualified=2, final_grade=E, candidate=True)
    assert (a.votes_excellent, a.votes_qualified, a.final_grade, a.candidate) == (8, 2, E, True)
    event = AuditEvent.objects.filter(action="yearend.votes_recorded").latest("id")
    assert event.data["after"][a.member_name]["final_grade"] == "excellent"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"votes_excellent": -1}, "优秀票应为不小于 0 的整数"),
    ({"votes_basic": "x"}, "基本合格票应为不小于 0 的整数"),
    ({"votes_excellent": 6, "votes_qualified": 5}, "合计 11 超过参加测评人数 10"),
    ({"final_grade": "basic"}, "请填写理由"),
    ({"final_grade": "great"}, "请选择有效的评定等次"),
    ({"final_grade": "qualified", "candidate": True}, "只有评定为优秀"),
    ({"final_grade": "excellent", "reason": "x" * 501}, "不能超过 500 字"),
    ({"votes_qualified": 10**12}, "合格票不能超过 100000"),
])
def test_bad_votes_are_refused_in_chinese_and_change_nothing(company, review6, kwargs, words):
    a = appraisal(review6, review6.members[0])
    with pytest.raises(DomainError) as exc:
        yearend.record_votes(company.staff, a, **kwargs)
    assert words in exc.value.message
    a.refresh_from_db()
    assert (a.votes_excellent, a.votes_basic, a.final_grade, a.candidate) == (0, 0, "", False)


def test_a_grade_other_than_the_suggestion_is_kept_with_its_reason(company, review6):
    a = appraisal(review6, review6.members[2])  # suggested 合格
    a = yearend.record_votes(company.staff, a, final_grade=B, reason="全年三次无故缺席组织生活，群众意见较大")
    assert a.final_grade == B and a.reason.startswith("全年三次")


def test_excellent_final_grades_keep_within_the_share(company, review6):
    first, second, third = (appraisal(review6, m) for m in review6.members[:3])
    yearend.record_votes(company.staff, first, final_grade=E)
    yearend.record_votes(company.staff, second, final_grade=E)
    with pytest.raises(DomainError) as exc:
        yearend.record_votes(company.staff, third, final_grade=E, reason="抢修保电表现突出")
    assert "不得超过参评人数的 33.3%" in exc.value.message and "最多 2 名" in exc.value.message
    third.refresh_from_db()
    assert third.final_grade == ""


def test_the_review_form_saves_all_rows_or_none(company, review6):
    a0, a1, a2 = (appraisal(review6, m) for m in review6.members[:3])
    rows = {a0.pk: {"votes_excellent": "7", "final_grade": "excellent"},
            a1.pk: {"votes_excellent": "-2", "final_grade": "excellent"},
            a2.pk: {"final_grade": "basic"}}
    with pytest.raises(yearend.RowErrors) as exc:
        yearend.record_review(company.staff, review6, rows, voters=12)
    assert set(exc.value.rows) == {a1.pk, a2.pk}
    assert "优秀票" in exc.value.rows[a1.pk] and "请填写理由" in exc.value.rows[a2.pk]
    a0.refresh_from_db()
    review6.refresh_from_db()
    assert a0.final_grade == "" and a0.votes_excellent == 0 and review6.voters == 10


@pytest.mark.parametrize("voters", ["-3", "many", 10**9])
def test_the_review_form_checks_the_number_of_voters(company, review6, voters):
    with pytest.raises(DomainError) as exc:
        yearend.record_review(company.staff, review6, {}, voters=voters)
    assert exc.value.field == "voters" and "参加测评人数" in exc.value.message
    review6.refresh_from_db()
    assert review6.voters == 10


def test_secretary_of_another_branch_cannot_record_votes(company, review6):
    with pytest.raises(AccessDenied):
        yearend.record_votes(company.secretary_b, appraisal(review6, review6.members[0]), final_grade=E)


# ---- the lock ---------------------------------------------------------------------------------------------------


def _grade_all(user, review):
    for a in review.appraisals.all():
        yearend.record_votes(user, a, final_grade=a.suggested_grade, candidate=a.suggested_grade == E)


def test_lock_needs_every_final_grade(company, review6):
    with pytest.raises(DomainError) as exc:
        yearend.lock_review(company.staff, review6)
    assert "还有 6 名党员没有评定等次" in exc.value.message
    review6.refresh_from_db()
    assert review6.locked_at is None


def test_lock_refuses_a_grade_whose_reason_was_lost_to_a_rule_change(company, review6):
    _grade_all(company.staff, review6)
    yearend.save_rule(company.staff, review6, {**review6.rule, "excellent_share": "10"})  # cap 0: suggestions move
    with pytest.raises(DomainError) as exc:
        yearend.lock_review(company.staff, review6)
    assert "请先填写理由" in exc.value.message


def test_a_locked_review_refuses_every_change(company, review6):
    _grade_all(company.staff, review6)
    yearend.lock_review(company.staff, review6)
    review6.refresh_from_db()
    assert review6.locked_at is not None
    assert AuditEvent.objects.filter(action="yearend.locked", object_id=str(review6.pk)).exists()
    a = appraisal(review6, review6.members[3])
    for call in (lambda: yearend.compute_year(company.staff, review6.org, YEAR),
                 lambda: yearend.record_votes(company.staff, a, final_grade=B, reason="改"),
                 lambda: yearend.save_rule(company.staff, review6, review6.rule),
                 lambda: yearend.lock_review(company.staff, review6)):
        with pytest.raises(DomainError) as exc:
            call()
        assert "已确认" in exc.value.message
    a.refresh_from_db()
    assert a.final_grade == Q


# ---- six months without organization life or dues ---------------------------------------------------------------


def test_six_months_without_attendance_or_dues_are_listed(company):
    m_ok, m_absent = company.member_a, company.secretary_member_a
    for month in range(1, 13):
        meeting = Meeting.objects.create(org=company.branch_a, kind="theme_day", title=f"{month}月主题党日",
                                         date=datetime.date(YEAR, month, 10))
        Attendance.objects.create(meeting=meeting, member=m_ok, status="present")
        Attendance.objects.create(meeting=meeting, member=m_absent, status="present" if month <= 3 else "absent")
        DuesPayment.objects.create(member=m_ok, month=datetime.date(YEAR, month, 1), amount=D("50"),
                                   paid_on=datetime.date(YEAR, month, 20))
        if month <= 5 or month >= 12:
            DuesPayment.objects.create(member=m_absent, month=datetime.date(YEAR, month, 1), amount=D("50"),
                                       paid_on=datetime.date(YEAR, month, 20))
    for month in range(8, 13):  # last year: both paid and attended, so runs start in the year
        for m in (m_ok, m_absent):
            DuesPayment.objects.create(member=m, month=datetime.date(YEAR - 1, month, 1), amount=D("50"),
                                       paid_on=datetime.date(YEAR - 1, month, 20))
        meeting = Meeting.objects.create(org=company.branch_a, kind="general", title="党员大会",
                                         date=datetime.date(YEAR - 1, month, 5))
        for m in (m_ok, m_absent):
            Attendance.objects.create(meeting=meeting, member=m, status="present")
    w = yearend.absence_warnings(company.branch_a, YEAR)
    rows = {(r.name, r.kind): r for r in w["rows"]}
    assert set(rows) == {(m_absent.name, "meeting"), (m_absent.name, "dues")}
    meeting = rows[(m_absent.name, "meeting")]
    assert (meeting.start, meeting.end, meeting.months) == (datetime.date(YEAR, 4, 1), datetime.date(YEAR, 12, 1), 9)
    dues = rows[(m_absent.name, "dues")]
    assert (dues.start, dues.months) == (datetime.date(YEAR, 6, 1), 6) and "连续 6 个月未交纳党费" == dues.label
    assert w["unrecorded"] == []


def test_a_branch_without_any_records_is_not_flagged_member_by_member(company):
    w = yearend.absence_warnings(company.branch_a, YEAR)
    assert w["rows"] == [] and len(w["unrecorded"]) == 2


def test_months_before_joining_are_not_counted(company):
    newcomer = make_member(company.branch_a, "新同志", joined_on=datetime.date(YEAR, 9, 1))
    DuesPayment.objects.create(member=company.member_a, month=datetime.date(YEAR, 1, 1), amount=D("50"),
                               paid_on=datetime.date(YEAR, 1, 5))
    w = yearend.absence_warnings(company.branch_a, YEAR)
    assert newcomer.name not in {r.name for r in w["rows"] if r.kind == "dues"}
    assert company.member_a.name in {r.name for r in w["rows"] if r.kind == "dues"}


# ---- the pages --------------------------------------------------------------------------------------------------


def page_url(name, *args):
    return reverse(f"appraisal:{name}", args=args)


@pytest.fixture
def branch_review(company, ms):
    publish(ms, company.committee, full_year(company.member_a, "95") + full_year(company.secretary_member_a, "85"))
    review = yearend.compute_year(company.staff, company.branch_a, YEAR)
    review = yearend.save_rule(company.staff, review, {**review.rule, "excellent_share": "50"})  # one 优秀 of two
    review.voters = 2
    review.save()
    return review


@pytest.mark.parametrize(("persona", "status"), [("secretary_a", 200), ("staff", 200), ("admin", 200),
                                                 ("secretary_b", 404), ("member_user_a", 404), ("assessor", 404),
                                                 ("outsider", 404)])
def test_branch_year_page_access(client, company, branch_review, persona, status):
    client.force_login(getattr(company, persona))
    assert client.get(page_url("yearend_branch", company.branch_a.pk, YEAR)).status_code == status


def test_branch_year_page_shows_figures_rule_and_inputs(client, company, branch_review):
    client.force_login(company.secretary_a)
    body = client.get(page_url("yearend_branch", company.branch_a.pk, YEAR)).content.decode()
    assert "1140.0" in body and "1020.0" in body and 'data-testid="votes-form"' in body
    assert f'name="r{appraisal(branch_review, company.member_a).pk}-final_grade"' in body
    assert "建议等次规则" in body and "连续六个月" in body


def test_branch_year_page_saves_every_row_in_one_post(client, company, branch_review):
    client.force_login(company.secretary_a)
    a, s = appraisal(branch_review, company.member_a), appraisal(branch_review, company.secretary_member_a)
    data = {"meeting_date": "2026-01-15", "voters": "2",
            f"r{a.pk}-votes_excellent": "2", f"r{a.pk}-final_grade": "excellent", f"r{a.pk}-candidate": "on",
            f"r{s.pk}-votes_qualified": "1", f"r{s.pk}-votes_basic": "1", f"r{s.pk}-final_grade": "basic",
            f"r{s.pk}-reason": "全年学习记录较少"}
    resp = client.post(page_url("yearend_branch", company.branch_a.pk, YEAR), data)
    assert resp.status_code == 302
    a.refresh_from_db()
    s.refresh_from_db()
    branch_review.refresh_from_db()
    assert (a.final_grade, a.votes_excellent, a.candidate) == (E, 2, True)
    assert (s.final_grade, s.votes_basic, s.reason) == (B, 1, "全年学习记录较少")
    assert branch_review.meeting_date == datetime.date(2026, 1, 15)


def test_branch_year_page_shows_each_rows_error_and_saves_nothing(client, company, branch_review):
    client.force_login(company.secretary_a)
    a, s = appraisal(branch_review, company.member_a), appraisal(branch_review, company.secretary_member_a)
    data = {"voters": "2", f"r{a.pk}-votes_excellent": "2", f"r{a.pk}-final_grade": "excellent",
            f"r{s.pk}-votes_qualified": "3", f"r{s.pk}-final_grade": "qualified", f"r{s.pk}-candidate": "on"}
    resp = client.post(page_url("yearend_branch", company.branch_a.pk, YEAR), data)
    body = resp.content.decode()
    assert resp.status_code == 200
    assert f'data-testid="row-error-{company.secretary_member_a.pk}"' in body
    assert "超过参加测评人数 2" in body and "只有评定为优秀" in body and "全部未保存" in body
    assert f'data-testid="row-error-{company.member_a.pk}"' not in body
    a.refresh_from_db()
    assert a.final_grade == "" and a.votes_excellent == 0
    assert f'name="r{a.pk}-votes_excellent" value="2"' in body  # what was typed is shown again


def test_readers_cannot_post_the_year_page(client, company, branch_review):
    client.force_login(company.secretary_b)
    a = appraisal(branch_review, company.member_a)
    resp = client.post(page_url("yearend_branch", company.branch_a.pk, YEAR), {f"r{a.pk}-final_grade": "qualified"})
    assert resp.status_code == 404
    a.refresh_from_db()
    assert a.final_grade == ""


def test_branch_year_page_queries_do_not_grow(client, company, ms):
    counts = []
    client.force_login(company.staff)
    for n, name in ((4, "小党支部"), (30, "大党支部")):
        org, members = branch_of(company, n, name)
        publish(ms, company.committee, [r for m in members for r in full_year(m, "88")])
        yearend.compute_year(company.staff, org, YEAR)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page_url("yearend_branch", org.pk, YEAR)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 15


def test_compute_rule_and_lock_pages(client, company, ms):
    publish(ms, company.committee, full_year(company.member_a, "95"))
    client.force_login(company.secretary_a)
    resp = client.post(page_url("yearend_compute", company.branch_a.pk, YEAR))
    assert resp.status_code == 302
    review = YearReview.objects.get(org=company.branch_a, year=YEAR)
    bad = client.post(page_url("yearend_rule", review.pk), {**review.rule, "excellent_share": "150"})
    assert bad.status_code == 200 and "不能超过 100" in bad.content.decode()
    review.refresh_from_db()
    assert review.rule["excellent_share"] == "33.3"
    ok = client.post(page_url("yearend_rule", review.pk), {**review.rule, "basic_below_avg": "75"})
    assert ok.status_code == 302
    review.refresh_from_db()
    assert review.rule["basic_below_avg"] == "75.0"
    refused = client.post(page_url("yearend_lock", review.pk), follow=True)
    assert "没有评定等次" in refused.content.decode()
    a = review.appraisals.get()
    yearend.record_votes(company.secretary_a, a, final_grade=a.suggested_grade)
    client.post(page_url("yearend_lock", review.pk))
    review.refresh_from_db()
    assert review.locked_at is not None


@pytest.mark.parametrize("persona", ["secretary_b", "member_user_a", "outsider"])
def test_others_cannot_compute_edit_rules_or_lock(client, company, branch_review, persona):
    client.force_login(getattr(company, persona))
    assert client.post(page_url("yearend_compute", company.branch_a.pk, YEAR)).status_code == 404
    assert client.get(page_url("yearend_rule", branch_review.pk)).status_code == 404
    assert client.post(page_url("yearend_lock", branch_review.pk)).status_code == 404


def _sheet(resp):
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_hr_export_lists_each_member_with_figures_and_grades(client, company, branch_review):
    a = appraisal(branch_review, company.member_a)
    yearend.record_votes(company.staff, a, votes_excellent=2, final_grade=E, candidate=True)
    client.force_login(company.secretary_a)
    resp = client.get(page_url("yearend_branch", company.branch_a.pk, YEAR) + "?format=xlsx")
    rows = _sheet(resp)
    assert rows[0][:3] == ["姓名", "党支部", "岗位"] and "评定等次" in rows[0] and "理由" in rows[0]
    row = next(r for r in rows if r[0] == "张三")
    assert row[1] == "变电运维党支部" and row[2] == "运维检修班班长" and float(row[5]) == 1140.0
    assert "优秀" in row and "是" in row
    assert AuditEvent.objects.filter(action="export", data__what="年度民主评议结果").exists()


def test_committee_list_shows_status_and_distribution_and_exports(client, company, branch_review):
    _grade_all(company.staff, branch_review)
    client.force_login(company.staff)
    body = client.get(page_url("yearend_list") + f"?year={YEAR}").content.decode()
    assert "变电运维党支部" in body and "输电运检党支部" in body and "评议中" in body and "未开始" in body
    locked_only = client.get(page_url("yearend_list") + f"?year={YEAR}&status=locked").content.decode()
    assert "变电运维党支部" not in locked_only
    rows = _sheet(client.get(page_url("yearend_list") + f"?year={YEAR}&format=xlsx"))
    a_row = next(r for r in rows if r[0] == "变电运维党支部")
    assert a_row[3] == "评议中" and a_row[4] == 2 and a_row[5] == 1 and a_row[6] == 1


def test_committee_list_is_scoped(client, company, branch_review):
    client.force_login(company.secretary_b)
    body = client.get(page_url("yearend_list") + f"?year={YEAR}").content.decode()
    assert "输电运检党支部" in body and "变电运维党支部" not in body
    client.force_login(company.outsider)
    assert client.get(page_url("yearend_list")).status_code == 404


def test_committee_list_queries_do_not_grow(client, company, ms):
    client.force_login(company.staff)
    with CaptureQueriesContext(connection) as ctx:
        client.get(page_url("yearend_list") + f"?year={YEAR}")
    first = len(ctx.captured_queries)
    for i in range(5):
        org, members = branch_of(company, 2, f"新{i}党支部")
        publish(ms, company.committee, [r for m in members for r in full_year(m, "90")])
        yearend.compute_year(company.staff, org, YEAR)
    with CaptureQueriesContext(connection) as ctx:
        client.get(page_url("yearend_list") + f"?year={YEAR}")
    assert len(ctx.captured_queries) == first


# ---- the API ----------------------------------------------------------------------------------------------------


def api(client, user, method, path, body=None):
    import json

    headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"}
    return getattr(client, method)(path, data=json.dumps(body) if body is not None else None,
                                   content_type="application/json", headers=headers)


def test_api_lists_appraisals_in_scope_and_a_member_sees_only_their_own(client, company, branch_review):
    staff = api(client, company.staff, "get", f"/api/v1/appraisals?year={YEAR}&org_id={company.branch_a.pk}").json()
    assert staff["count"] == 2 and staff["items"][0]["member_name"] == "张三"
    assert staff["items"][0]["annual_total"] == "1140.0" and staff["items"][0]["rank"] == 1
    mine = api(client, company.member_user_a, "get", "/api/v1/appraisals").json()
    assert [i["member_name"] for i in mine["items"]] == ["张三"]
    assert api(client, company.secretary_b, "get", "/api/v1/appraisals").json()["count"] == 0
    paged = api(client, company.staff, "get", "/api/v1/appraisals?limit=1&offset=1").json()
    assert paged["count"] == 2 and len(paged["items"]) == 1


def test_api_detail_and_votes(client, company, branch_review):
    a = appraisal(branch_review, company.member_a)
    assert api(client, company.member_user_a, "get", f"/api/v1/appraisals/{a.pk}").status_code == 200
    assert api(client, company.secretary_b, "get", f"/api/v1/appraisals/{a.pk}").status_code == 404
    bad = api(client, company.secretary_a, "post", f"/api/v1/appraisals/{a.pk}/votes",
              {"votes_excellent": 3, "final_grade": "excellent"})
    assert bad.status_code == 400 and "超过参加测评人数" in bad.json()["detail"]
    refused = api(client, company.member_user_a, "post", f"/api/v1/appraisals/{a.pk}/votes", {"final_grade": "excellent"})
    assert refused.status_code == 404
    ok = api(client, company.secretary_a, "post", f"/api/v1/appraisals/{a.pk}/votes",
             {"votes_excellent": 2, "final_grade": "excellent", "candidate": True})
    assert ok.status_code == 200 and ok.json()["final_grade"] == "excellent" and ok.json()["candidate"] is True
    negative = api(client, company.secretary_a, "post", f"/api/v1/appraisals/{a.pk}/votes", {"votes_basic": -1})
    assert negative.status_code == 422
    assert YearAppraisal.objects.get(pk=a.pk).votes_basic == 0
