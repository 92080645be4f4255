"""The month close against other writers at the same moment, with real concurrent connections (PostgreSQL only:
SQLite runs one writer at a time by design). Two closes of one month finalize it once; an objection that lands
while the close runs is never swallowed by it; a correction in flight is either refused with the close or counted
by it, never lost.

Two guards make this so: every move and score locks its evaluation's period row (the services' SELECT … FOR
UPDATE joins the period), so the close — which locks that row first — waits for a move in flight and then sees
its state; and the close's own UPDATE to 已兑现 only touches rows still 已公示 and refuses if any was missed."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from dangjian.assessments import services
from dangjian.assessments.close import finalize_period
from dangjian.assessments.models import Objection, Period, PeriodStatus, Result, State, Transition
from dangjian.core.errors import ConflictError, DomainError
from dangjian.core.models import AuditEvent
from tests.assessments.test_close import drive_to_published

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


@pytest.fixture
def pg():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")


@pytest.fixture
def published(pg, company, period):
    drive_to_published(company, period)
    return period


def _threads(*targets):
    """Run each target in its own thread (its own connection); return what each raised (None if nothing)."""
    outcome = [None] * len(targets)

    def run(i, target):
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def _finalized_once(period):
    n = period.evaluations.count()
    assert Result.objects.filter(period=period).count() == n
    assert Transition.objects.filter(evaluation__period=period, to_state=State.FINALIZED).count() == n
    assert AuditEvent.objects.filter(action="period.finalized", object_id=str(period.pk)).count() == 1


def test_two_closes_of_the_same_month_at_once_finalize_it_once(published, company):
    start = threading.Barrier(4)

    def close():
        start.wait()
        finalize_period(company.staff, Period.objects.get(pk=published.pk))

    outcome = _threads(close, close, close, close)
    assert sum(o is None for o in outcome) == 1, outcome
    assert all(isinstance(o, DomainError) and "不能重复兑现" in o.message for o in outcome if o is not None)
    assert Period.objects.get(pk=published.pk).status == PeriodStatus.FINALIZED
    _finalized_once(published)


def test_an_objection_landing_during_the_close_is_not_swallowed(published, company):
    """The objection's transaction has moved the evaluation to 有异议 but not committed when the close starts: the
    close waits, sees 有异议 and is refused — the month stays open with the objection to answer. (The publicity
    window makes this a race at its very end: here the move is made directly, as the objection service would a
    moment before the window closed.)"""
    ev = published.evaluations.get(org=company.branch_a)
    moved, closing = threading.Event(), threading.Event()

    def object_():
        with transaction.atomic():
            services.move(company.secretary_a, ev, State.OBJECTED, note="第3项已按期召开，有会议记录为证。")
            moved.set()
            closing.wait(10)
            time.sleep(0.5)  # the close has started and waits for this transaction

    def close():
        moved.wait(10)
        closing.set()
        finalize_period(company.staff, Period.objects.get(pk=published.pk))

    raised_by_objection, raised_by_close = _threads(object_, close)
    assert raised_by_objection is None
    assert isinstance(raised_by_close, DomainError) and "有异议1个" in raised_by_close.message, raised_by_close
    published.refresh_from_db()
    assert published.status == PeriodStatus.OPEN
    assert not Result.objects.filter(period=published).exists()
    assert not Transition.objects.filter(evaluation__period=published, to_state=State.FINALIZED).exists()
    ev.refresh_from_db()
    assert ev.state == State.OBJECTED
    assert set(published.evaluations.exclude(pk=ev.pk).values_list("state", flat=True)) == {State.PUBLISHED}


def test_a_correction_in_flight_is_counted_by_the_close_never_lost(published, company):
    ev = published.evaluations.get(org=company.branch_a)
    services.move(company.secretary_a, ev, State.OBJECTED, note="第一项扣分有误。")
    objection = Objection.objects.create(evaluation=ev, text="第一项扣分有误。", raised_by=company.secretary_a)
    item = ev.items.order_by("id").first()
    services.score_item(company.staff, item, "assessor", item.max_points - Decimal("1"), reason="核实后仍扣1分")
    corrected, closing = threading.Event(), threading.Event()

    def correct():
        with transaction.atomic():
            services.score_item(company.staff, item, "assessor", item.max_points, reason="")
            services.answer_objection(company.staff, objection, "经核实，该项不扣分。", upheld=True)
            corrected.set()
            closing.wait(10)
            time.sleep(0.3)

    def close():
        corrected.wait(10)
        closing.set()
        finalize_period(company.staff, Period.objects.get(pk=published.pk))

    raised_by_correction, raised_by_close = _threads(correct, close)
    assert raised_by_correction is None
    if raised_by_close is not None:  # refused: it saw the objection before the correction committed
        assert isinstance(raised_by_close, DomainError), raised_by_close
        assert Period.objects.get(pk=published.pk).status == PeriodStatus.OPEN
        finalize_period(company.staff, Period.objects.get(pk=published.pk))
    ev.refresh_from_db()
    result = Result.objects.get(period=published, org=company.branch_a)
    items_total = sum((i.assessor_score if i.assessor_score is not None else i.self_score) for i in ev.items.all())
    assert result.total == items_total == ev.assessor_total
    _finalized_once(published)


def test_the_close_refuses_when_a_row_left_已公示_after_it_counted(company, period, monkeypatch):
    """The second guard alone, on either engine: a state changed between the close's count and its UPDATE (as
    it could if a service ever locked only its own row) makes the close refuse and leave nothing."""
    from dangjian.assessments import close as close_module

    drive_to_published(company, period)
    original = close_module.BaseClose.finalize_evaluations
    ev = period.evaluations.get(org=company.branch_a)

    def meanwhile(self, *args, **kwargs):
        type(ev).objects.filter(pk=ev.pk).update(state=State.OBJECTED)  # another writer, between count and UPDATE
        return original(self, *args, **kwargs)

    monkeypatch.setattr(close_module.BaseClose, "finalize_evaluations", meanwhile)
    with pytest.raises(ConflictError, match="状态发生了变化"):
        finalize_period(company.staff, period)
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    assert not Result.objects.filter(period=period).exists()
    assert set(period.evaluations.values_list("state", flat=True)) == {State.PUBLISHED}
