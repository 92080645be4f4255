"""月兑现: the month close (assessments.close).

Every evaluation of the period is driven to 已公示 through the real services, then finalized. The engine's results
(SqliteClose or PostgresClose, whichever database the suite runs on) are compared row by row with a pure-Python
reference implementation on the same data, so running this file on both engines shows they agree. Also: the
database's own lock on a finalized month (triggers), idempotence, all-or-nothing, adjustments and the digest.
"""

import datetime
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from dangjian.assessments import close as close_module
from dangjian.assessments import services
from dangjian.assessments.close import (
    PostgresClose,
    SqliteClose,
    adjust_result,
    check_digest,
    finalize_period,
    parse_rule,
    verify_digest,
)
from dangjian.assessments.models import (
    Adjustment,
    EvalItem,
    Evaluation,
    PeerAggregate,
    Period,
    PeriodStatus,
    Result,
    State,
    Transition,
)
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import CommitteeSeat, Duty, Level
from dangjian.standards.models import Item
from tests.factories import make_member, make_org

D = Decimal
TENTH, HUNDREDTH = D("0.1"), D("0.01")
LOCKED = "已兑现并锁定"
RESULT_FIELDS = ["org_name", "org_path", "level", "org_type_id", "total", "max_total", "score_rate", "vetoed",
                 "peer_rank", "peer_size", "overall_rank", "overall_size", "percentile", "grade", "coefficient",
                 "secretary"]
SHARES_RULE = {
    "mode": "shares",
    "shares": [{"grade": "A", "share": "25", "coefficient": "1.10"},
               {"grade": "B", "share": "75", "coefficient": "1.00"},
               {"grade": "C", "share": "100", "coefficient": "0.90"}],
    "veto_grade": "C",
}


# ---- the reference: the close in plain Python, for tests only ---------------------------------------------------


def _half_up(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def reference_results(period: Period) -> dict[int, dict]:
    """What the month close must produce, computed row by row in Python from the evaluation items (and, after
    adjustments, the latest adjusted total of each organization). Keyed by organization id."""
    rule = period.grade_rule
    adjusted = {}
    for adj in Adjustment.objects.filter(result__period=period).order_by("id").select_related("result"):
        adjusted[adj.result.evaluation_id] = adj.new_total
    secretaries = dict(CommitteeSeat.objects.filter(duty=Duty.SECRETARY, until__isnull=True)
                       .values_list("org_id", "member__name"))
    rows = []
    for ev in Evaluation.objects.filter(period=period).prefetch_related("items"):
        items = list(ev.items.all())
        total = sum((i.final_score or D(0) for i in items), D(0))
        total = adjusted.get(ev.pk, total)
        max_total = sum((i.max_points for i in items), D(0))
        rate = _half_up(total * 100 / max_total, TENTH) if max_total else D("0.0")
        rows.append({"org_id": ev.org_id, "org_name": ev.org_name, "org_path": ev.org_path, "level": ev.level,
                     "org_type_id": ev.org_type_id, "total": total, "max_total": max_total, "score_rate": rate,
                     "vetoed": any(i.vetoed for i in items), "secretary": secretaries.get(ev.org_id, "")})
    groups = defaultdict(list)
    for r in rows:
        groups[(r["level"], r["org_type_id"])].append(r)
    for r in rows:
        peers = groups[(r["level"], r["org_type_id"])]
        r["peer_rank"] = 1 + sum(p["score_rate"] > r["score_rate"] for p in peers)
        r["peer_size"] = len(peers)
        below = sum(p["score_rate"] < r["score_rate"] for p in peers)
        r["percentile"] = _half_up(D(below * 100) / (len(peers) - 1), TENTH) if len(peers) > 1 else D("0.0")
        r["overall_rank"] = 1 + sum(p["score_rate"] > r["score_rate"] for p in rows)
        r["overall_size"] = len(rows)
        if rule["mode"] == "bands":
            bands = sorted(rule["bands"], key=lambda b: -D(b["min"]))
            band = next((b for b in bands if r["score_rate"] >= D(b["min"])), bands[-1])
        else:
            bands = sorted(rule["shares"], key=lambda b: D(b["share"]))
            band = next((b for b in bands if (r["peer_rank"] - 1) * 100 < D(b["share"]) * r["peer_size"]), bands[-1])
        grade = (rule.get("veto_grade") or bands[-1]["grade"]) if r["vetoed"] else band["grade"]
        r["grade"] = grade
        r["coefficient"] = D(next(b["coefficient"] for b in bands if b["grade"] == grade))
    return {r["org_id"]: r for r in rows}


def reference_aggregates(period: Period) -> dict[tuple, dict]:
    groups = defaultdict(list)
    for r in reference_results(period).values():
        groups[(r["level"], r["org_type_id"])].append(r["total"])
    return {k: {"count": len(v), "avg": _half_up(sum(v) / len(v), HUNDREDTH), "min": min(v), "max": max(v),
                "median": _half_up(D(statistics.median(v)), HUNDREDTH)} for k, v in groups.items()}


def engine_results(period) -> dict[int, dict]:
    return {r["org_id"]: r for r in Result.objects.filter(period=period).values("org_id", *RESULT_FIELDS)}


def assert_matches_reference(period):
    want, got = reference_results(period), engine_results(period)
    assert set(got) == set(want)
    for org_id, row in got.items():
        expected = {f: want[org_id][f] for f in RESULT_FIELDS}
        assert row == {"org_id": org_id, **expected}, row["org_name"]
    aggregates = {(a.level, a.org_type_id): {"count": a.count, "avg": a.avg, "min": a.min, "max": a.max,
                                             "median": a.median}
                  for a in PeerAggregate.objects.filter(period=period)}
    assert aggregates == reference_aggregates(period)


# ---- driving a month through the real services -------------------------------------------------------------------


def drive_to_published(company, period, plan=None, *, window_over=True):
    """Every evaluation of the period to 已公示 through the services: summary, self-assessment at full marks,
    assessor scores minus ``plan[org_id] = (deduction, veto)`` taken from the first items, publish. With
    ``window_over`` the publications are moved back past the publicity window (公示期), so the month may be
    finalized at once."""
    plan = plan or {}
    c = company
    for ev in period.evaluations.order_by("org_path"):
        deduction, veto = plan.get(ev.org_id, (D(0), False))
        services.save_summary(c.staff, ev, "本月按计划召开支委会、党员大会，开展主题党日。")
        services.move(c.staff, ev, State.SUBMITTED)
        items = list(ev.items.select_related("item").order_by("id"))
        for ei in items:
            if "self" in ei.item.methods:
                services.score_item(c.staff, ei, "self", ei.max_points)
        services.move(c.staff, ev, State.SELF_ASSESSED)
        left, vetoed = D(deduction), False
        for ei in items:
            cut = min(left, ei.max_points)
            left -= cut
            use_veto = veto and not vetoed and ei.item.is_veto
            vetoed = vetoed or use_veto
            services.score_item(c.assessor, ei, "assessor", ei.max_points - cut,
                                reason="现场检查发现问题" if cut or use_veto else "", veto=use_veto)
        assert left == 0 and vetoed == veto
        services.move(c.assessor, ev, State.ASSESSED)
        services.move(c.staff, ev, State.PUBLISHED)
    if window_over:
        end_publicity(period)


def end_publicity(period):
    """The publicity window over: every move to 已公示 of the month dated back past ``objection_days``."""
    Transition.objects.filter(evaluation__period=period, to_state=State.PUBLISHED).update(
        at=F("at") - datetime.timedelta(days=period.objection_days + 1))


@pytest.fixture
def month(company, standard, request):
    """Seven organizations in three peer groups, published with varied scores, a tie and a veto:

        general   党总支 (no type)   97.0
        branch_d  production         99.0  vetoed
        branch_a  production         91.5  (tie)
        branch_b  production         91.5  (tie)
        branch_e  production         80.0
        branch_f  management         95.5
        branch_c  management         70.0
    """
    c = company
    c.branch_d = make_org("配电运检党支部", parent=c.general, code="B004")
    c.branch_e = make_org("带电作业党支部", parent=c.general, code="B005")
    c.branch_f = make_org("财务共享党支部", parent=c.committee, type_code="management", code="B006")
    CommitteeSeat.objects.create(org=c.branch_a, member=c.secretary_member_a, duty=Duty.SECRETARY,
                                 since=datetime.date(2024, 1, 1))
    CommitteeSeat.objects.create(org=c.branch_b, member=c.member_b, duty=Duty.SECRETARY,
                                 since=datetime.date(2020, 1, 1), until=datetime.date(2023, 1, 1))
    make_member(c.branch_d, "周卫东")
    period = request.getfixturevalue("period")
    drive_to_published(c, period, {
        c.general.pk: (D(3), False), c.branch_d.pk: (D(1), True), c.branch_a.pk: (D("8.5"), False),
        c.branch_b.pk: (D("8.5"), False), c.branch_e.pk: (D(20), False), c.branch_f.pk: (D("4.5"), False),
        c.branch_c.pk: (D(30), False),
    })
    return period


def result_of(period, org):
    return Result.objects.get(period=period, org=org)


# ---- finalize ----------------------------------------------------------------------------------------------------


def test_the_engine_is_chosen_by_the_database(period):
    engine = close_module.close(period)
    assert isinstance(engine, PostgresClose if connection.vendor == "postgresql" else SqliteClose)
    assert engine.vendor == connection.vendor


def test_finalize_writes_ranks_grades_and_coefficients_per_peer_group(company, month):
    c = company
    finalize_period(c.staff, month)
    r = {org.pk: result_of(month, org) for org in (c.general, c.branch_a, c.branch_b, c.branch_c, c.branch_d,
                                                    c.branch_e, c.branch_f)}
    by = lambda org: r[org.pk]  # noqa: E731
    # Production branches: the vetoed one ranks first by score but gets D; the tie shares rank 2; then rank 4.
    assert [(by(o).total, by(o).peer_rank, by(o).peer_size) for o in (c.branch_d, c.branch_a, c.branch_b, c.branch_e)] \
        == [(D("99.0"), 1, 4), (D("91.5"), 2, 4), (D("91.5"), 2, 4), (D("80.0"), 4, 4)]
    assert by(c.branch_d).vetoed and (by(c.branch_d).grade, by(c.branch_d).coefficient) == ("D", D("0.90"))
    assert (by(c.branch_a).grade, by(c.branch_a).coefficient) == ("B", D("1.00"))
    assert (by(c.branch_e).grade, by(c.branch_e).coefficient) == ("C", D("0.95"))
    # Percentile: the share of the peer group with a lower rate.
    assert [by(o).percentile for o in (c.branch_d, c.branch_a, c.branch_e)] == [D("100.0"), D("33.3"), D("0.0")]
    # Management branches and the general branch are ranked among themselves.
    assert (by(c.branch_f).peer_rank, by(c.branch_f).grade, by(c.branch_f).coefficient) == (1, "A", D("1.10"))
    assert (by(c.branch_c).peer_rank, by(c.branch_c).grade) == (2, "D")
    assert (by(c.general).peer_rank, by(c.general).peer_size, by(c.general).grade) == (1, 1, "A")
    # Overall: 99, 97, 95.5, 91.5, 91.5, 80, 70.
    assert [by(o).overall_rank for o in (c.branch_d, c.general, c.branch_f, c.branch_a, c.branch_b, c.branch_e,
                                         c.branch_c)] == [1, 2, 3, 4, 4, 6, 7]
    assert {x.overall_size for x in r.values()} == {7}
    # The score rate ranks organizations with different item sets fairly; here every set is worth 100.
    assert by(c.branch_a).score_rate == D("91.5") and by(c.branch_a).max_total == D("100.0")
    # The org as it was that month, and the secretary in office at the close.
    assert by(c.branch_a).org_name == "变电运维党支部" and by(c.branch_a).level == Level.BRANCH
    assert by(c.branch_a).secretary == "李建国" and by(c.branch_b).secretary == ""
    assert_matches_reference(month)


def test_peer_group_figures(company, month):
    finalize_period(company.staff, month)
    production = PeerAggregate.objects.get(period=month, level=Level.BRANCH, org_type=company.branch_a.type)
    assert (production.count, production.avg, production.min, production.max, production.median) == \
        (4, D("90.50"), D("80.0"), D("99.0"), D("91.50"))
    management = PeerAggregate.objects.get(period=month, level=Level.BRANCH, org_type=company.branch_c.type)
    assert (management.count, management.avg, management.median) == (2, D("82.75"), D("82.75"))
    general = PeerAggregate.objects.get(period=month, level=Level.GENERAL_BRANCH, org_type=None)
    assert (general.count, general.avg, general.min, general.max, general.median) == \
        (1, D("97.00"), D("97.0"), D("97.0"), D("97.00"))
    assert PeerAggregate.objects.filter(period=month).count() == 3


def test_grades_by_rank_share(company, month):
    c = company
    Period.objects.filter(pk=month.pk).update(grade_rule=SHARES_RULE)
    month.refresh_from_db()
    finalize_period(c.staff, month)
    grades = {o: result_of(month, o).grade for o in (c.branch_d, c.branch_a, c.branch_b, c.branch_e, c.branch_f,
                                                      c.branch_c, c.general)}
    # Production (4): top 25 % is rank 1 — vetoed, so C; the tie at rank 2 shares B; rank 4 is past 75 %: C.
    assert [grades[o] for o in (c.branch_d, c.branch_a, c.branch_b, c.branch_e)] == ["C", "B", "B", "C"]
    # Management (2): rank 1 is A, rank 2 (50 % above it) is B; a group of one is its own top.
    assert (grades[c.branch_f], grades[c.branch_c], grades[c.general]) == ("A", "B", "A")
    assert result_of(month, c.branch_d).coefficient == D("0.90")
    assert_matches_reference(month)


def test_finalize_locks_everything_in_python_states_standard_and_digest(company, month):
    c = company
    period = finalize_period(c.staff, month)
    assert period.status == PeriodStatus.FINALIZED and month.status == PeriodStatus.FINALIZED
    month.refresh_from_db()
    assert month.is_finalized and month.finalized_at and len(month.digest) == 64
    assert set(month.evaluations.values_list("state", flat=True)) == {State.FINALIZED}
    assert Transition.objects.filter(evaluation__period=month, from_state=State.PUBLISHED,
                                     to_state=State.FINALIZED, by=c.staff).count() == 7
    month.standard_set.refresh_from_db()
    assert month.standard_set.is_frozen
    event = AuditEvent.objects.get(action="period.finalized")
    assert event.data["after"]["organizations"] == 7 and event.data["after"]["digest"] == month.digest
    assert event.data["after"]["grades"] == {"A": 2, "B": 2, "C": 1, "D": 2}
    assert verify_digest(month)
    # The services refuse changes to a finalized month.
    ei = EvalItem.objects.filter(evaluation__period=month).first()
    with pytest.raises(DomainError, match=LOCKED):
        services.score_item(c.staff, ei, "assessor", 0, reason="x")


def test_finalize_needs_every_evaluation_published(company, period, eval_a):
    with pytest.raises(DomainError) as exc:
        finalize_period(company.staff, period)
    assert "还有4个组织的考评未处于“已公示”状态（未开始4个）" in exc.value.message
    drive_to_published(company, period, window_over=False)
    ev = period.evaluations.get(org=company.branch_b)
    services.raise_objection(company.secretary_b, ev, "第3项会议记录已补齐，请复核。")
    with pytest.raises(DomainError, match="（有异议1个）.*答复全部异议"):
        finalize_period(company.staff, period)
    assert not Result.objects.exists()
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


def test_only_the_committee_staff_may_finalize(company, period):
    drive_to_published(company, period)
    for user in (company.secretary_a, company.assessor, company.outsider):
        with pytest.raises(AccessDenied):
            finalize_period(user, period)
    assert not Result.objects.exists()


def test_a_broken_grade_rule_is_refused_in_chinese(company, period):
    drive_to_published(company, period)
    for rule, message in [
        ({"mode": "stars"}, "按分数段"),
        ({"mode": "bands", "bands": []}, "至少设置一个等级"),
        ({"mode": "bands", "bands": [{"grade": "A", "min": "95.25", "coefficient": "1.1"}]}, "分数线"),
        ({"mode": "shares", "shares": [{"grade": "A", "share": "0", "coefficient": "1.1"}]}, "名次比例"),
        ({"mode": "bands", "bands": [{"grade": "A", "min": "0", "coefficient": "abc"}]}, "兑现系数"),
        ({"mode": "bands", "bands": [{"grade": "A", "min": "0", "coefficient": "1"}], "veto_grade": "E"}, "不在"),
    ]:
        Period.objects.filter(pk=period.pk).update(grade_rule=rule)
        with pytest.raises(DomainError, match=message):
            finalize_period(company.staff, period)
    assert not Result.objects.exists()
    assert parse_rule({"mode": "bands", "bands": [{"grade": "合格", "min": "0", "coefficient": "1"}]}).veto_grade \
        == "合格"


# ---- idempotence and all-or-nothing --------------------------------------------------------------------------------


def test_finalizing_twice_is_refused_and_changes_nothing(company, month):
    finalize_period(company.staff, month)
    month.refresh_from_db()
    digest, finalized_at = month.digest, month.finalized_at
    with pytest.raises(DomainError, match="不能重复兑现"):
        finalize_period(company.staff, month)
    month.refresh_from_db()
    assert (month.digest, month.finalized_at) == (digest, finalized_at)
    assert Result.objects.filter(period=month).count() == 7
    assert PeerAggregate.objects.filter(period=month).count() == 3
    assert Transition.objects.filter(to_state=State.FINALIZED).count() == 7
    assert AuditEvent.objects.filter(action="period.finalized").count() == 1


def test_a_retried_close_statement_cannot_insert_twice(company, month):
    finalize_period(company.staff, month)
    engine = close_module.close(month)
    rule = parse_rule(month.grade_rule)
    for step in (lambda: engine.insert_results(rule), engine.insert_aggregates):
        # Refused by the lock trigger (SQLite: BEFORE INSERT) or first by the unique constraints (PostgreSQL's
        # trigger runs AFTER the statement): either way nothing is inserted twice.
        with pytest.raises(IntegrityError, match=f"{LOCKED}|duplicate key|UNIQUE constraint"), transaction.atomic():
            step()
    assert Result.objects.filter(period=month).count() == 7


def test_a_failure_in_the_middle_leaves_nothing_and_a_rerun_completes(company, month, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("injected failure after the INSERTs")

    monkeypatch.setattr(close_module, "mark_frozen", boom)
    with pytest.raises(RuntimeError, match="injected"):
        finalize_period(company.staff, month)
    assert not Result.objects.filter(period=month).exists()
    assert not PeerAggregate.objects.filter(period=month).exists()
    assert not Transition.objects.filter(to_state=State.FINALIZED).exists()
    assert set(month.evaluations.values_list("state", flat=True)) == {State.PUBLISHED}
    month.refresh_from_db()
    assert (month.status, month.digest, month.finalized_at) == (PeriodStatus.OPEN, "", None)
    month.standard_set.refresh_from_db()
    assert not month.standard_set.is_frozen
    assert not AuditEvent.objects.filter(action="period.finalized").exists()
    monkeypatch.undo()
    finalize_period(company.staff, month)
    assert Result.objects.filter(period=month).count() == 7
    assert_matches_reference(month)


def test_the_close_runs_a_fixed_number_of_queries_whatever_the_org_count(company, standard):
    def finalize_queries(month, extra):
        for i in range(extra):
            make_org(f"新增党支部{month}-{i}", parent=company.general)
        day = lambda d: datetime.date(2026, month, d)  # noqa: E731
        period = services.open_period(company.staff, company.committee, f"2026-{month:02d}", submit_due=day(25),
                                      self_due=day(26), assess_due=day(27))
        fast_publish(period)
        with CaptureQueriesContext(connection) as ctx:
            finalize_period(company.staff, period)
        assert Result.objects.filter(period=period).count() == period.evaluations.count()
        return len(ctx.captured_queries)

    finalize_queries(1, 0)  # the first close of a standard set also freezes it: a few queries more
    small = finalize_queries(2, 0)  # the company's 4 organizations
    assert finalize_queries(3, 16) == small  # 20 organizations
    assert small <= 22  # PostgreSQL: SET LOCAL jit = off, and the objection window check


def fast_publish(period):
    """For the query count only: scores and states written directly, so 20 organizations stay quick."""
    items = EvalItem.objects.filter(evaluation__period=period)
    for n, ei in enumerate(items.order_by("id")):
        EvalItem.objects.filter(pk=ei.pk).update(self_score=ei.max_points,
                                                 assessor_score=max(ei.max_points - n % 3, D(0)))
    Evaluation.objects.filter(period=period).update(state=State.PUBLISHED)


# ---- the database refuses writes to a finalized month ------------------------------------------------------------


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def test_the_database_refuses_writes_to_a_finalized_month(company, month):
    ei = EvalItem.objects.filter(evaluation__period=month).order_by("id").first()
    # While the month is open, raw writes go through (the triggers only guard finalized months).
    assert raw("UPDATE assessments_evalitem SET self_remark = 'ok' WHERE id = %s", [ei.pk]) == 1
    finalize_period(company.staff, month)
    result = Result.objects.filter(period=month).first()
    other_item = Item.objects.filter(standard_set=month.standard_set).exclude(
        pk__in=EvalItem.objects.filter(evaluation_id=ei.evaluation_id).values("item_id")).first()
    for sql, params, message in [
        ("UPDATE assessments_evalitem SET assessor_score = 0 WHERE id = %s", [ei.pk], LOCKED),
        ("DELETE FROM assessments_evalitem WHERE id = %s", [ei.pk], LOCKED),
        ("INSERT INTO assessments_evalitem (evaluation_id, item_id, max_points, self_remark, assessor_reason, vetoed, "
         "version, updated_at) SELECT evaluation_id, %s, max_points, '', '', FALSE, 0, updated_at "
         "FROM assessments_evalitem WHERE id = %s", [other_item.pk, ei.pk], LOCKED),
        ("UPDATE assessments_evaluation SET state = 'published' WHERE id = %s", [ei.evaluation_id], LOCKED),
        ("UPDATE assessments_evaluation SET assessor_total = 100 WHERE id = %s", [ei.evaluation_id], LOCKED),
        ("UPDATE assessments_period SET status = 'open' WHERE id = %s", [month.pk], LOCKED),
        ("UPDATE assessments_period SET digest = 'x' WHERE id = %s", [month.pk], LOCKED),
        ("DELETE FROM assessments_period WHERE id = %s", [month.pk], LOCKED),
        ("UPDATE assessments_result SET grade = 'A' WHERE id = %s", [result.pk], "只能通过“调整”更正"),
        ("DELETE FROM assessments_result WHERE period_id = %s", [month.pk], "只能通过“调整”更正"),
        ("UPDATE assessments_peeraggregate SET count = 9 WHERE period_id = %s", [month.pk], "只能通过“调整”更正"),
    ]:
        with pytest.raises(DatabaseError, match=message):
            raw(sql, params)
    # What is not part of the result stays writable, e.g. a deadline of the month.
    assert raw("UPDATE assessments_period SET objection_days = 5 WHERE id = %s", [month.pk]) == 1
    ei.refresh_from_db()
    assert ei.assessor_score is not None and verify_digest(month)


def test_the_raw_update_error_names_the_lock(company, month):
    """The case from the issue: a raw UPDATE of an item's score in a finalized month fails with a clear text."""
    finalize_period(company.staff, month)
    ei = EvalItem.objects.filter(evaluation__period=month).first()
    with pytest.raises(DatabaseError) as exc:
        raw("UPDATE assessments_evalitem SET assessor_score = assessor_score WHERE id = %s", [ei.pk])
    assert "该月已兑现并锁定" in str(exc.value) and "period is finalized and locked" in str(exc.value)


# ---- the digest --------------------------------------------------------------------------------------------------


def test_the_digest_verifies_and_detects_a_changed_result(company, month):
    finalize_period(company.staff, month)
    assert verify_digest(month)
    check_digest(month)
    # Someone with database access changes a result behind the application's back.
    engine = close_module.close(month)
    with transaction.atomic(), engine.adjusting():
        Result.objects.filter(period=month, org=company.branch_c).update(total=D("71.0"))
    assert not verify_digest(month)
    with pytest.raises(DomainError, match="校验值不符"):
        check_digest(month)
    # The guard ended with the adjustment: the next raw change is refused again.
    with pytest.raises(DatabaseError, match="只能通过“调整”更正"):
        raw("UPDATE assessments_result SET total = 70 WHERE period_id = %s", [month.pk])


def test_the_digest_is_the_same_for_the_same_results(company, month):
    finalize_period(company.staff, month)
    month.refresh_from_db()
    assert close_module.close(month).digest() == month.digest
    open_period = Period(pk=month.pk + 1000, owner=month.owner, month=month.month)
    assert not verify_digest(open_period)


# ---- adjustments ---------------------------------------------------------------------------------------------------


def test_an_adjustment_recomputes_the_month_and_keeps_history(company, month):
    c = company
    finalize_period(c.staff, month)
    month.refresh_from_db()
    digest = month.digest
    e = result_of(month, c.branch_e)
    adjustment = adjust_result(c.staff, e, "93.0", "复核发现带电作业记录漏报，经党委会研究更正。")
    assert (adjustment.old_total, adjustment.new_total, adjustment.by) == (D("80.0"), D("93.0"), c.staff)
    e.refresh_from_db()
    assert (e.total, e.score_rate, e.peer_rank, e.grade, e.coefficient) == (D("93.0"), D("93.0"), 2, "B", D("1.00"))
    # The tie moved down one place; overall ranks follow.
    assert result_of(month, c.branch_a).peer_rank == 3 and result_of(month, c.branch_b).peer_rank == 3
    assert result_of(month, c.branch_c).overall_rank == 7 and e.overall_rank == 4
    assert_matches_reference(month)
    production = PeerAggregate.objects.get(period=month, level=Level.BRANCH, org_type=c.branch_a.type)
    assert (production.avg, production.min, production.median) == (D("93.75"), D("91.5"), D("92.25"))
    month.refresh_from_db()
    assert month.digest != digest and verify_digest(month)
    event = AuditEvent.objects.get(action="evaluation.adjusted")
    assert event.data["before"]["total"] == "80.0" and event.data["after"]["grade"] == "B"
    assert event.data["reason"].startswith("复核发现") and event.org_path == c.branch_e.path
    # Items and evaluations stay as they were finalized: the adjustment lives beside them.
    assert month.evaluations.get(org=c.branch_e).state == State.FINALIZED
    # Adjustment rows are history: the database refuses to change or remove them.
    with pytest.raises(DatabaseError, match="只能追加"):
        raw("UPDATE assessments_adjustment SET new_total = 1 WHERE id = %s", [adjustment.pk])
    with pytest.raises(DatabaseError, match="只能追加"):
        raw("DELETE FROM assessments_adjustment WHERE id = %s", [adjustment.pk])


def test_an_adjustment_can_regrade_other_organizations(company, month):
    c = company
    Period.objects.filter(pk=month.pk).update(grade_rule=SHARES_RULE)
    month.refresh_from_db()
    finalize_period(c.staff, month)
    assert (result_of(month, c.branch_f).grade, result_of(month, c.branch_c).grade) == ("A", "B")
    adjust_result(c.staff, result_of(month, c.branch_c), D("96.0"), "异议复核成立")
    assert (result_of(month, c.branch_c).grade, result_of(month, c.branch_f).grade) == ("A", "B")
    assert result_of(month, c.branch_f).coefficient == D("1.00")
    event = AuditEvent.objects.get(action="evaluation.adjusted")
    assert event.data["others_regraded"] == [{"org": "财务共享党支部", "before": "A", "after": "B"}]
    assert_matches_reference(month)
    # A second adjustment of the same organization: the latest counts, both are kept.
    adjust_result(c.staff, result_of(month, c.branch_c), D("90.0"), "再次复核")
    assert list(Adjustment.objects.filter(result__org=c.branch_c).values_list("old_total", "new_total")) == \
        [(D("70.0"), D("96.0")), (D("96.0"), D("90.0"))]
    assert_matches_reference(month)
    assert verify_digest(month)


def test_adjustments_are_refused_without_reason_before_finalize_or_out_of_range(company, month):
    c = company
    with pytest.raises(DomainError, match="尚未兑现"):
        adjust_result(c.staff, Result(period=month), D(90), "理由")
    finalize_period(c.staff, month)
    e = result_of(month, c.branch_e)
    with pytest.raises(DomainError, match="调整理由"):
        adjust_result(c.staff, e, D(90), "  ")
    with pytest.raises(DomainError, match="相同"):
        adjust_result(c.staff, e, "80", "理由")
    with pytest.raises(DomainError, match="之间"):
        adjust_result(c.staff, e, "100.5", "理由")
    with pytest.raises(DomainError, match="一位小数"):
        adjust_result(c.staff, e, "90.25", "理由")
    for user in (c.secretary_a, c.assessor):
        with pytest.raises(AccessDenied):
            adjust_result(user, e, D(90), "理由")
    assert not Adjustment.objects.exists()
    assert_matches_reference(month)
    assert verify_digest(month)
