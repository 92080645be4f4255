"""The monthly member evaluation: opening a month, self-evaluation, determination, publishing (the member close)
and the database lock — on SQLite and PostgreSQL."""

import datetime
import random
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from dangjian.appraisal import close, services
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    DuesPayment,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    MemberTransition,
)
from dangjian.appraisal.scoring import line_points, month_totals
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.standards.models import MemberItem, VetoEffect
from tests.appraisal.conftest import determine_all, line, make_member_set, open_month
from tests.factories import make_member

D = Decimal


def test_opening_a_month_gives_every_member_of_the_subtree_one_line_per_item(company, appraisal_period):
    evaluations = appraisal_period.evaluations.all()
    assert evaluations.count() == 4  # member_a, secretary_member_a, member_b, member_c
    assert MemberLine.objects.filter(evaluation__period=appraisal_period).count() == 4 * 8
    ev = evaluations.get(member=company.member_a)
    assert (ev.org_id, ev.org_name, ev.member_name) == (company.branch_a.pk, "变电运维党支部", "张三")


def test_opening_prefills_counts_from_activity_records(company, member_set):
    DuesPayment.objects.create(member=company.member_a, month=datetime.date(2026, 10, 1), amount=D("50"),
                               paid_on=datetime.date(2026, 10, 20), on_time=True)
    period = open_month(company)
    ev_a = period.evaluations.get(member=company.member_a)
    ev_b = period.evaluations.get(member=company.member_b)
    assert line(ev_a, "B2").prefill_count == 0 and line(ev_a, "B2").self_points == D("20")
    assert line(ev_b, "B2").prefill_count == 1 and line(ev_b, "B2").self_points == D("0")
    assert ev_a.self_total == D("80.0") and ev_b.self_total == D("60.0")


def test_a_month_cannot_be_opened_twice_or_over_a_covered_subtree(company, appraisal_period):
    with pytest.raises(DomainError, match="已开启"):
        open_month(company)
    with pytest.raises(DomainError, match="覆盖"):
        services.open_period(company.staff, company.general, "2026-10", self_due=datetime.date(2026, 10, 25),
                             determine_due=datetime.date(2026, 10, 28))


def test_only_the_committee_staff_open_a_month(company, member_set):
    with pytest.raises(AccessDenied):
        services.open_period(company.secretary_a, company.committee, "2026-10",
                             self_due=datetime.date(2026, 10, 25), determine_due=datetime.date(2026, 10, 28))
    assert not AppraisalPeriod.objects.exists()


def test_member_self_evaluates_a_bonus_claim_with_a_remark(company, eval_a):
    services.save_self_line(company.member_user_a, line(eval_a, "J1"), 2, claim="讲微党课两次")
    eval_a.refresh_from_db()
    assert line(eval_a, "J1").self_points == D("4.0")
    assert eval_a.self_total == D("64.0")  # 40 + 0 (no dues) + 20 + 4
    with pytest.raises(DomainError, match="写明事由"):
        services.save_self_line(company.member_user_a, line(eval_a, "K1"), 1)
        services.move(company.member_user_a, eval_a, AState.SELF_EVALUATED)
    eval_a.refresh_from_db()
    assert eval_a.state == AState.NOT_STARTED


def test_evidence_is_required_where_the_item_says_so(company, eval_a):
    services.save_self_line(company.member_user_a, line(eval_a, "J2"), 1, claim="参加台风抢修")
    with pytest.raises(DomainError, match="佐证材料"):
        services.move(company.member_user_a, eval_a, AState.SELF_EVALUATED)


def test_a_member_cannot_touch_another_members_month(company, appraisal_period):
    ev_b = appraisal_period.evaluations.get(member=company.member_b)
    with pytest.raises(AccessDenied):
        services.save_self_line(company.member_user_a, line(ev_b, "J1"), 1, claim="x")
    with pytest.raises(AccessDenied):
        services.move(company.member_user_a, ev_b, AState.SELF_EVALUATED)
    with pytest.raises(AccessDenied):
        services.determine_line(company.secretary_b, line(
            appraisal_period.evaluations.get(member=company.member_a), "J1"), 1, reason="x")


def test_a_member_cannot_determine_their_own_month(company, eval_a):
    with pytest.raises(AccessDenied):
        services.move(company.member_user_a, eval_a, AState.DETERMINED)


def test_determining_a_different_count_needs_a_reason(company, eval_a):
    services.save_self_line(company.member_user_a, line(eval_a, "J1"), 3, claim="三次党课")
    services.move(company.member_user_a, eval_a, AState.SELF_EVALUATED)
    with pytest.raises(DomainError, match="理由"):
        services.determine_line(company.secretary_a, line(eval_a, "J1"), 1)
    services.determine_line(company.secretary_a, line(eval_a, "J1"), 1, reason="支部记录只有一次党课")
    services.move(company.secretary_a, eval_a, AState.DETERMINED)
    eval_a.refresh_from_db()
    assert eval_a.total == D("62.0") and eval_a.self_total == D("66.0")


def test_the_second_writer_is_told_and_nothing_is_lost(company, eval_a):
    ln = line(eval_a, "K1")
    services.determine_line(company.secretary_a, ln, 1, reason="10月8日未系安全带", expected_version=ln.version)
    with pytest.raises(services.ConflictError, match="已被"):
        services.determine_line(company.staff, ln, 2, reason="两次", expected_version=ln.version)
    assert line(eval_a, "K1").count == 1


def test_item_caps_month_and_year(company, member_set):
    j1 = member_set.items.get(code="J1")
    assert line_points(j1, 5) == D("6")  # month cap
    assert line_points(j1, 2, used_this_year=D("8")) == D("2")  # year cap 10 leaves 2
    assert line_points(j1, 2, used_this_year=D("10")) == D("0")
    b1 = member_set.items.get(code="B1")
    assert [line_points(b1, n) for n in (0, 1, 5)] == [D("40"), D("30"), D("0")]
    b2 = member_set.items.get(code="B2")
    assert line_points(b2, 1) == D("0")
    k1 = member_set.items.get(code="K1")
    assert line_points(k1, 3) == D("-6")


def test_publishing_writes_results_ranks_and_the_branch_figures(company, published_month):
    results = {r.member_name: r for r in MemberResult.objects.filter(period=published_month)}
    assert set(results) == {"张三", "李建国"}
    a, s = results["张三"], results["李建国"]
    assert (a.base, a.bonus, a.deduction, a.total, a.rank, a.branch_size) == (D("60"), D("2"), D("0"), D("62"), 1, 2)
    assert (s.total, s.rank, s.qualified) == (D("60"), 2, True)
    agg = BranchAggregate.objects.get(period=published_month, org=company.branch_a)
    assert (agg.count, agg.avg, agg.min, agg.max, agg.unqualified) == (2, D("61.00"), D("60"), D("62"), 0)
    assert set(published_month.evaluations.filter(org=company.branch_a).values_list("state", flat=True)) == {
        AState.PUBLISHED}
    assert MemberTransition.objects.filter(evaluation__org=company.branch_a, to_state=AState.PUBLISHED).count() == 2
    published_month.standard_set.refresh_from_db()
    assert published_month.standard_set.frozen_at is not None


def test_a_branch_publishes_only_when_every_member_is_determined(company, appraisal_period):
    with pytest.raises(DomainError, match="尚未评定"):
        close.publish_branch(company.secretary_a, appraisal_period, company.branch_a)
    assert not MemberResult.objects.exists()


def test_another_branchs_secretary_cannot_publish(company, appraisal_period):
    determine_all(company.secretary_a, appraisal_period, company.branch_a)
    with pytest.raises(AccessDenied):
        close.publish_branch(company.secretary_b, appraisal_period, company.branch_a)


def test_a_veto_makes_the_month_unqualified_whatever_the_other_parts_say(company, eval_a, appraisal_period):
    services.save_self_line(company.member_user_a, line(eval_a, "J1"), 3, claim="三次党课")
    services.determine_line(company.secretary_a, line(eval_a, "V1"), 1, reason="受到党内警告处分")
    determine_all(company.secretary_a, appraisal_period, company.branch_a)
    close.publish_branch(company.secretary_a, appraisal_period, company.branch_a)
    result = MemberResult.objects.get(member=company.member_a)
    assert result.vetoed and not result.qualified and result.total == D("0")


def test_published_month_is_locked_in_the_database(company, published_month):
    ln = MemberLine.objects.filter(evaluation__member=company.member_a).first()
    for sql, params in [
        (f"UPDATE {MemberLine._meta.db_table} SET count = 9 WHERE id = %s", [ln.pk]),
        (f"UPDATE {MemberEvaluation._meta.db_table} SET total = 99 WHERE id = %s", [ln.evaluation_id]),
        (f"UPDATE {MemberResult._meta.db_table} SET total = 99 WHERE member_id = %s", [company.member_a.pk]),
        (f"DELETE FROM {MemberResult._meta.db_table} WHERE member_id = %s", [company.member_a.pk]),
        (f"DELETE FROM {MemberLine._meta.db_table} WHERE id = %s", [ln.pk]),
    ]:
        with pytest.raises(IntegrityError if connection.vendor == "postgresql" else Exception):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, params)
    with pytest.raises(DomainError, match="锁定"):
        services.determine_line(company.secretary_a, ln, 0, reason="x")


def test_close_period_refuses_while_members_are_undetermined_then_publishes_everything(company, appraisal_period):
    with pytest.raises(DomainError, match="尚未评定"):
        close.close_period(company.staff, appraisal_period)
    for org in (company.branch_a, company.branch_b, company.branch_c):
        determine_all(company.staff, appraisal_period, org)
    close.close_period(company.staff, appraisal_period)
    appraisal_period.refresh_from_db()
    assert appraisal_period.is_closed
    assert MemberResult.objects.filter(period=appraisal_period).count() == 4
    assert BranchAggregate.objects.filter(period=appraisal_period).count() == 3


def test_exempt_members_get_no_result_and_do_not_block_publishing(company, appraisal_period):
    ev = appraisal_period.evaluations.get(member=company.secretary_member_a)
    with pytest.raises(DomainError, match="原因"):
        services.set_exempt(company.secretary_a, ev, True)
    services.set_exempt(company.secretary_a, ev, True, "长期外出务工的流动党员")
    determine_all(company.secretary_a, appraisal_period, company.branch_a)
    close.publish_branch(company.secretary_a, appraisal_period, company.branch_a)
    assert list(MemberResult.objects.values_list("member_name", flat=True)) == ["张三"]


@pytest.mark.parametrize("settings", [
    {},
    {"weight_self": D("30"), "weight_branch": D("70")},
    {"veto_effect": VetoEffect.BAR_TOP, "floor": None, "deduction_cap": D("4"), "bonus_cap": None,
     "dimension_caps": {}},
])
def test_the_sql_close_matches_the_python_reference(company, settings):
    """Random months for 25 members: the set-based close gives what scoring.month_totals gives, member by
    member, on this database engine."""
    ms = make_member_set(company.committee, **settings)
    for i in range(21):
        make_member(company.branch_b, f"党员{i:02d}")
    period = open_month(company)
    rng = random.Random(7)
    items = {i.code: i for i in MemberItem.objects.filter(standard_set=ms)}
    for ev in period.evaluations.filter(org=company.branch_b):
        for ln in ev.lines.select_related("item"):
            n = rng.choice([0, 0, 1, 2, 3]) if ln.part != "veto" else rng.choice([0] * 9 + [1])
            MemberLine.objects.filter(pk=ln.pk).update(
                count=n, points=line_points(items[ln.item.code], n),
                self_count=n, self_points=line_points(items[ln.item.code], max(0, n - 1)))
        services.move(company.staff, ev, AState.DETERMINED)
    close.publish_branch(company.staff, period, company.branch_b)
    results = {r.evaluation_id: r for r in MemberResult.objects.filter(period=period)}
    assert len(results) == 22
    for ev in period.evaluations.filter(org=company.branch_b):
        ref = month_totals(ms, list(ev.lines.all()))
        r = results[ev.pk]
        assert (r.base, r.bonus, r.deduction, r.branch_total, r.self_total, r.total, r.vetoed, r.qualified) == (
            ref.base, ref.bonus, ref.deduction, ref.branch_total, ref.self_total, ref.total, ref.vetoed,
            ref.qualified), ev.member_name
    totals = sorted((r.total for r in results.values()), reverse=True)
    for r in results.values():
        assert r.rank == 1 + sum(1 for t in totals if t > r.total)


def test_publish_ready_publishes_every_complete_branch_in_a_fixed_number_of_queries(
        company, appraisal_period, django_assert_max_num_queries):
    for org in (company.branch_a, company.branch_c):
        determine_all(company.staff, appraisal_period, org)
    with django_assert_max_num_queries(15):
        count = close.publish_ready(company.staff, appraisal_period)
    assert count == 3
    assert set(BranchAggregate.objects.values_list("org_id", flat=True)) == {company.branch_a.pk,
                                                                            company.branch_c.pk}
