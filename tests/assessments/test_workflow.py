import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.assessments import services
from dangjian.assessments.models import EvalItem, ScoreEntry, State, Transition
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.standards.services import applicable

D = datetime.date


def _self_assess_all(user, evaluation, deduct_first=False):
    for n, ei in enumerate(evaluation.items.select_related("item")):
        value, reason = (ei.max_points - 1, "缺一次支委会") if deduct_first and n == 0 else (ei.max_points, "")
        services.score_item(user, ei, "self", value, reason=reason)


def _assess_all(user, evaluation, minus=Decimal("0")):
    for ei in evaluation.items.all():
        value = max(ei.max_points - minus, Decimal("0"))
        services.score_item(user, ei, "assessor", value, reason="现场抽查记录不全" if minus else "")


def test_opening_a_month_gives_each_org_exactly_its_items(company, standard, period):
    evaluations = {e.org_id: e for e in period.evaluations.all()}
    assert set(evaluations) == {company.general.pk, company.branch_a.pk, company.branch_b.pk, company.branch_c.pk}
    for org in (company.general, company.branch_a, company.branch_c):
        items, total = applicable(org, standard)
        e = evaluations[org.pk]
        assert sorted(e.items.values_list("item_id", flat=True)) == sorted(i.pk for i in items)
        assert e.max_total == total
        assert e.org_name == org.name and e.org_path == org.path and e.state == State.NOT_STARTED
    # 公用+差异: a production branch and a management branch share the common items but not all.
    a = set(evaluations[company.branch_a.pk].items.values_list("item_id", flat=True))
    c = set(evaluations[company.branch_c.pk].items.values_list("item_id", flat=True))
    assert a & c and a != c
    assert AuditEvent.objects.filter(action="period.opened").count() == 1


def test_a_month_cannot_be_opened_twice_or_by_a_secretary(company, standard, period):
    with pytest.raises(DomainError, match="已开启"):
        services.open_period(company.staff, company.committee, "2026-10", submit_due=D(2026, 10, 25),
                             self_due=D(2026, 10, 28), assess_due=D(2026, 11, 5))
    with pytest.raises(AccessDenied):
        services.open_period(company.secretary_a, company.committee, "2026-11", submit_due=D(2026, 11, 25),
                             self_due=D(2026, 11, 28), assess_due=D(2026, 12, 5))


def test_opening_needs_a_published_standard(company):
    with pytest.raises(DomainError, match="已发布的考评标准"):
        services.open_period(company.staff, company.committee, "2026-10", submit_due=D(2026, 10, 25),
                             self_due=D(2026, 10, 28), assess_due=D(2026, 11, 5))


def test_opening_runs_a_fixed_number_of_item_inserts_whatever_the_org_count(company, standard):
    from tests.factories import make_org

    def queries(month):
        with CaptureQueriesContext(connection) as ctx:
            services.open_period(company.staff, company.committee, month, submit_due=D(2026, month_n(month), 25),
                                 self_due=D(2026, month_n(month), 26), assess_due=D(2026, month_n(month), 27))
        return len(ctx.captured_queries)

    def month_n(m):
        return int(m[-2:])

    small = queries("2026-01")
    for i in range(15):
        make_org(f"新增党支部{i}", parent=company.general)
    assert queries("2026-02") == small


def test_the_whole_cycle_writes_history(company, period, eval_a):
    c = company
    with pytest.raises(DomainError, match="月小结"):
        services.move(c.secretary_a, eval_a, State.SUBMITTED)
    services.save_summary(c.secretary_a, eval_a, "本月召开支委会1次、党员大会1次，开展主题党日“迎峰度夏保供电”。")
    services.move(c.secretary_a, eval_a, State.SUBMITTED)
    with pytest.raises(DomainError, match="尚未自评"):
        services.move(c.secretary_a, eval_a, State.SELF_ASSESSED)
    _self_assess_all(c.secretary_a, eval_a, deduct_first=True)
    services.move(c.secretary_a, eval_a, State.SELF_ASSESSED)
    eval_a.refresh_from_db()
    assert eval_a.self_total == eval_a.max_total - 1
    with pytest.raises(AccessDenied):
        services.move(c.secretary_a, eval_a, State.ASSESSED)
    _assess_all(c.assessor, eval_a, minus=Decimal("0.5"))
    services.move(c.assessor, eval_a, State.ASSESSED)
    services.move(c.staff, eval_a, State.PUBLISHED)
    objection = services.raise_objection(c.secretary_a, eval_a, "第一项已按期召开，附会议记录。")
    eval_a.refresh_from_db()
    assert eval_a.state == State.OBJECTED
    services.answer_objection(c.staff, objection, "经核查，会议记录完整，维持原评分。", upheld=False)
    eval_a.refresh_from_db()
    assert eval_a.state == State.PUBLISHED
    states = list(Transition.objects.filter(evaluation=eval_a).values_list("to_state", flat=True))
    assert states == ["submitted", "self_assessed", "assessed", "published", "objected", "published"]


def test_a_deduction_needs_a_reason_and_scores_stay_in_range(company, eval_a):
    ei = eval_a.items.first()
    with pytest.raises(DomainError, match="理由"):
        services.score_item(company.secretary_a, ei, "self", ei.max_points - 1)
    with pytest.raises(DomainError, match="之间"):
        services.score_item(company.secretary_a, ei, "self", ei.max_points + 1, reason="x")
    with pytest.raises(DomainError, match="一位小数"):
        services.score_item(company.secretary_a, ei, "self", "1.25", reason="x")
    with pytest.raises(DomainError, match="数字"):
        services.score_item(company.secretary_a, ei, "self", "abc", reason="x")


def test_the_second_of_two_concurrent_edits_is_told_and_nothing_is_lost(company, period, eval_a):
    services.save_summary(company.secretary_a, eval_a, "月小结")
    services.move(company.secretary_a, eval_a, State.SUBMITTED)
    _self_assess_all(company.secretary_a, eval_a)
    services.move(company.secretary_a, eval_a, State.SELF_ASSESSED)
    ei = eval_a.items.first()
    seen = EvalItem.objects.get(pk=ei.pk).version  # both assessors load the page
    services.score_item(company.assessor, ei, "assessor", ei.max_points - 1, reason="记录缺页",
                        expected_version=seen)
    with pytest.raises(services.ConflictError, match="您的修改未保存"):
        services.score_item(company.staff, ei, "assessor", ei.max_points, expected_version=seen)
    ei.refresh_from_db()
    assert ei.assessor_score == ei.max_points - 1
    assert ei.entries.filter(kind=ScoreEntry.Kind.ASSESSOR).count() == 1


def test_secretary_of_another_branch_cannot_score(company, eval_a):
    with pytest.raises(AccessDenied):
        services.score_item(company.secretary_b, eval_a.items.first(), "self", 1, reason="x")


def test_assignments_limit_who_may_assess(company, eval_a):
    from dangjian.assessments.models import AssessorAssignment
    from dangjian.orgs.models import Role
    from tests.factories import make_user

    other = make_user("assessor2", Role.ASSESSOR, company.committee)
    AssessorAssignment.objects.create(evaluation=eval_a, assessor=other)
    services.save_summary(company.secretary_a, eval_a, "月小结")
    services.move(company.secretary_a, eval_a, State.SUBMITTED)
    _self_assess_all(company.secretary_a, eval_a)
    services.move(company.secretary_a, eval_a, State.SELF_ASSESSED)
    with pytest.raises(AccessDenied):
        services.score_item(company.assessor, eval_a.items.first(), "assessor", 1, reason="x")
    services.score_item(other, eval_a.items.first(), "assessor", 1, reason="x")


def test_available_transitions_follow_the_table(company, eval_a):
    assert [t for t, _ in services.available_transitions(company.secretary_a, eval_a)] == ["submitted"]
    assert services.available_transitions(company.assessor, eval_a) == []
    assert services.available_transitions(company.member_user_a, eval_a) == []


def test_a_review_correction_updates_the_assessor_total(company, eval_a):
    services.save_summary(company.secretary_a, eval_a, "月小结")
    services.move(company.secretary_a, eval_a, State.SUBMITTED)
    _self_assess_all(company.secretary_a, eval_a)
    services.move(company.secretary_a, eval_a, State.SELF_ASSESSED)
    _assess_all(company.assessor, eval_a)
    services.move(company.assessor, eval_a, State.ASSESSED)
    ei = eval_a.items.first()
    services.score_item(company.staff, ei, "assessor", ei.max_points - 2, reason="复核：记录缺失两次")
    eval_a.refresh_from_db()
    assert eval_a.assessor_total == eval_a.max_total - 2
