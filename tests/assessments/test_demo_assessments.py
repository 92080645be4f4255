"""The demo company's evaluation months (assessments.demo): six finalized months and an open one that tell a story.

The demo is built once for the module (tests/conftest.py ``built_demo``); each test runs in a savepoint of it."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dangjian.assessments import close, services
from dangjian.assessments.demo import (
    ASSESSORS,
    DEMO_OWNER,
    INFLATORS,
    OBJECTION_DAYS,
    SECRETARY_BRANCH,
    deduction_clauses,
    ensure_demo_assessments,
    remove_demo_assessments,
)
from dangjian.assessments.models import (
    AssessorAssignment,
    EvalItem,
    Evaluation,
    Objection,
    PeerAggregate,
    Period,
    PeriodStatus,
    Result,
    ScoreEntry,
    State,
    Transition,
)
from dangjian.orgs.models import Organization, Role, RoleGrant


@pytest.fixture
def demo(built_demo, db, demo_hasher):
    return Organization.objects.get(code=DEMO_OWNER)


def _months(today):
    months = [today.replace(day=1)]
    for _i in range(6):
        months.insert(0, (months[0] - datetime.timedelta(days=1)).replace(day=1))
    return months


def test_six_finalized_months_with_digests_that_verify(demo):
    periods = list(Period.objects.filter(owner=demo).order_by("month"))
    assert [p.month for p in periods] == _months(timezone.localdate())
    *past, current = periods
    assert current.status == PeriodStatus.OPEN
    orgs = Organization.objects.filter(path__startswith=demo.path, archived=False).exclude(pk=demo.pk).count()
    for period in past:
        assert period.status == PeriodStatus.FINALIZED and period.digest
        assert close.verify_digest(period), period.label
        assert Result.objects.filter(period=period).count() == orgs
        assert PeerAggregate.objects.filter(period=period).count() >= 5  # 3 branch types, 党总支, 党委
        assert set(period.evaluations.values_list("state", flat=True)) == {State.FINALIZED}
        assert period.standard_set.frozen_at is not None
        # Each step happened in order and in the past; the publicity window was over before the month was closed.
        first_publish = Transition.objects.filter(evaluation__period=period, to_state=State.PUBLISHED).order_by(
            "at").first().at
        finalized = Transition.objects.filter(evaluation__period=period, to_state=State.FINALIZED).first().at
        assert finalized - first_publish > datetime.timedelta(days=OBJECTION_DAYS)
        assert finalized < timezone.now()
        grades = set(Result.objects.filter(period=period).values_list("grade", flat=True))
        assert len(grades) >= 2  # a spread of grades, not everybody A
    for ev in Evaluation.objects.filter(period=past[-1]).prefetch_related("transitions"):
        times = [t.at for t in ev.transitions.all()]
        assert times == sorted(times), ev.org_name
        assert [t.to_state for t in ev.transitions.all()][:4] == [
            State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED, State.PUBLISHED]
    # The month close's lock is the real one: the database refuses to change a result.
    result = Result.objects.filter(period=past[0]).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("UPDATE assessments_result SET total = 100 WHERE id = %s", [result.pk])


def test_the_open_month_has_mixed_progress_and_work_for_the_demo_accounts(demo):
    period = Period.objects.get(owner=demo, status=PeriodStatus.OPEN)
    states = defaultdict(int)
    for state in period.evaluations.values_list("state", flat=True):
        states[state] += 1
    assert set(states) == {State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED}
    assert all(n >= 3 for n in states.values())
    today = timezone.localdate()
    overdue = period.evaluations.filter(services.overdue_q(today)).count()
    if today.day > 1:  # on the first of the month nothing can be overdue yet
        assert 1 <= overdue <= 4
    # The secretary's branch is half-way through its self-assessment.
    mine = period.evaluations.get(org__code=SECRETARY_BRANCH)
    assert mine.state == State.SUBMITTED and mine.summary
    scored = mine.items.filter(self_score__isnull=False).count()
    assert 0 < scored < mine.items.count()
    # The assessor account kaoping has organizations waiting for on-site scoring.
    kaoping = User.objects.get(username="kaoping")
    assert services.awaiting_assessment(kaoping).filter(period=period).exists()
    assert AssessorAssignment.objects.filter(evaluation__period=period).count() == period.evaluations.count()
    for ev in period.evaluations.filter(state=State.ASSESSED):
        assert ev.assessor_total == sum(i.assessor_score for i in ev.items.all())
        assert not ev.items.filter(assessor_score__isnull=True).exists()
    for ev in period.evaluations.filter(state=State.SELF_ASSESSED):
        assert ev.self_total == sum(i.self_score for i in ev.items.all())


def test_the_scores_tell_a_story(demo):
    finalized = Evaluation.objects.filter(period__owner=demo, state=State.FINALIZED).select_related("org")
    gaps = defaultdict(list)
    for ev in finalized:
        gaps[ev.org.code].append((ev.self_total - ev.assessor_total) / ev.max_total * 100)
        if ev.org.code in INFLATORS:
            assert ev.self_total >= ev.assessor_total, ev
    mean = {code: sum(g) / len(g) for code, g in gaps.items()}
    for code in INFLATORS:
        assert Decimal(5) <= mean[code] <= Decimal(15), (code, mean[code])
    honest = [m for code, m in mean.items() if code not in INFLATORS]
    assert max(honest) < min(mean[c] for c in INFLATORS)

    # Lenient and strict assessors: the item-by-item difference from the same item's average that month.
    rows = list(EvalItem.objects.filter(evaluation__period__owner=demo, assessor_score__isnull=False).values_list(
        "evaluation__period_id", "item_id", "assessor__username", "assessor_score", "max_points"))
    by_item = defaultdict(list)
    for period_id, item_id, _u, score, points in rows:
        by_item[(period_id, item_id)].append(score / points)
    residual = defaultdict(list)
    for period_id, item_id, username, score, points in rows:
        same = by_item[(period_id, item_id)]
        residual[username].append(score / points - sum(same) / len(same))
    lean = {u: sum(r) / len(r) * 100 for u, r in residual.items()}
    styles = {u: style for u, _n, style, _l in ASSESSORS}
    lenient = next(u for u, s in styles.items() if s == "lenient")
    strict = next(u for u, s in styles.items() if s == "strict")
    assert lean[lenient] >= 3 and lean[strict] <= -3
    assert all(abs(v) < 2 for u, v in lean.items() if not styles.get(u))

    # Trends mean something: one branch climbs, one slides.
    def totals(code):
        return [r.score_rate for r in Result.objects.filter(org__code=code).order_by("period__month")]

    climbing, sliding = totals("DEMO-B05"), totals("DEMO-B12")
    assert sum(climbing[3:]) > sum(climbing[:3]) and sum(sliding[3:]) < sum(sliding[:3])

    # Every deduction by an assessor has a reason quoting the item's scoring rule (items the platform scored from
    # the satisfaction index give the index as their reason instead).
    deducted = EvalItem.objects.filter(evaluation__period__owner=demo, assessor_score__isnull=False,
                                       assessor__isnull=False).select_related("item")
    n = 0
    for ei in deducted:
        if ei.assessor_score < ei.max_points:
            n += 1
            clauses = [c for c, _unit in deduction_clauses(ei.item.rule)]
            assert any(c in ei.assessor_reason for c in clauses), (ei.item.code, ei.assessor_reason)
        if ei.self_score is not None and ei.self_score < ei.max_points:
            assert ei.self_remark
    assert n > 100


def test_objections_were_raised_and_answered_one_upheld(demo):
    objections = list(Objection.objects.filter(evaluation__period__owner=demo).select_related("eval_item"))
    assert 3 <= len(objections) <= 4
    assert all(o.answer and o.answered_at and o.upheld is not None for o in objections)
    assert any(o.raised_by and o.raised_by.username == "shuji" for o in objections)
    upheld = [o for o in objections if o.upheld]
    assert len(upheld) == 1
    ei = upheld[0].eval_item
    assert ei.assessor_score == ei.max_points
    last = ScoreEntry.objects.filter(eval_item=ei, kind=ScoreEntry.Kind.ASSESSOR).order_by("-id").first()
    assert last.by.username == "dangjian" and "异议成立" in last.reason
    for o in objections:
        moves = list(o.evaluation.transitions.values_list("to_state", flat=True))
        assert State.OBJECTED in moves and moves[-1] == State.FINALIZED


def test_the_demo_assessors_have_their_grants(demo):
    for username, *_rest in ASSESSORS:
        user = User.objects.get(username=username)
        assert RoleGrant.objects.filter(user=user, role=Role.ASSESSOR, org=demo).exists()
        assert user.check_password("Demo#2026dangjian")


def test_running_it_again_adds_nothing(demo):
    models = (Period, Evaluation, EvalItem, ScoreEntry, Transition, Objection, AssessorAssignment, Result, User)
    before = {m.__name__: m.objects.count() for m in models}
    assert ensure_demo_assessments() is None
    assert {m.__name__: m.objects.count() for m in models} == before


def _lock_triggers():
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'assessments_%%'")
        else:
            cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'assessments_%'")
        return cur.fetchone()[0]


def test_the_reset_removes_the_months_and_keeps_the_lock(demo):
    triggers = _lock_triggers()
    assert triggers >= 16
    with transaction.atomic():
        assert remove_demo_assessments(demo) > 0
    assert not Period.objects.filter(owner=demo).exists()
    assert not Result.objects.filter(org_path__startswith=demo.path).exists()
    assert _lock_triggers() == triggers
