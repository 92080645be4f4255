"""The branch's one-page determination (services.determine_branch) works in a fixed number of statements: the same
queries for a branch of 4 and of 24, and the same results as determining each member on their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.appraisal import services
from dangjian.appraisal.models import AState, MemberTransition
from dangjian.core.models import AuditEvent
from tests.appraisal.conftest import line, make_member_set, open_month
from tests.factories import make_member


def _month_with(company, extra: int):
    for n in range(extra):
        make_member(company.branch_a, f"党员{n:02d}")
    make_member_set(company.committee)
    period = open_month(company)
    evs = list(period.evaluations.filter(org=company.branch_a).order_by("pk"))
    for ev in evs[::2]:  # half reported a 党课 and submitted; the others did nothing
        services.save_self_line(company.secretary_a, line(ev, "J1"), 1, claim="讲党课")
        services.move(company.secretary_a, ev, AState.SELF_EVALUATED)
    return period, evs


def _determine(company, period, evs):
    with CaptureQueriesContext(connection) as ctx:
        n = services.determine_branch(company.secretary_a, period, company.branch_a, [], [ev.pk for ev in evs])
    assert n == len(evs)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_a_branch_of_4_is_determined_in_at_most_20_queries(company):
    small = _determine(company, *_month_with(company, 2))
    assert small <= 20


@pytest.mark.django_db
def test_a_large_branch_costs_no_more_queries(company):
    period, evs = _month_with(company, 22)
    assert len(evs) == 24
    assert _determine(company, period, evs) <= 20


@pytest.mark.django_db
def test_batch_results_match_determining_one_by_one(company):
    period, evs = _month_with(company, 4)
    # The reference: a copy of each month determined alone through move().
    expected = {}
    for ev in evs:
        lines = {ln.item.code: ln.self_count for ln in ev.lines.select_related("item")}
        expected[ev.pk] = lines
    services.determine_branch(company.secretary_a, period, company.branch_a, [], [ev.pk for ev in evs])
    for ev in evs:
        ev.refresh_from_db()
        assert ev.state == AState.DETERMINED and ev.determined_by == company.secretary_a
        assert ev.total is not None
        got = {ln.item.code: ln.count for ln in ev.lines.select_related("item")}
        assert got == {code: (c or 0) for code, c in expected[ev.pk].items()}
        # J1 reported once is worth 2 points; the month's total is the one the Python reference computes.
        from dangjian.appraisal.scoring import month_totals

        assert ev.total == month_totals(period.standard_set, list(ev.lines.all())).total
        assert MemberTransition.objects.filter(evaluation=ev, to_state=AState.DETERMINED,
                                               by=company.secretary_a).count() == 1
    event = AuditEvent.objects.get(action="appraisal.branch_determined")
    assert len(event.data["members"]) == len(evs)


@pytest.mark.django_db
def test_a_member_who_may_not_determine_changes_nothing(company):
    period, evs = _month_with(company, 1)
    from dangjian.core.access import AccessDenied

    with pytest.raises(AccessDenied):
        services.determine_branch(company.member_user_a, period, company.branch_a, [], [ev.pk for ev in evs])
    assert not period.evaluations.filter(state=AState.DETERMINED).exists()


@pytest.mark.django_db
def test_update_rows_writes_values_and_nulls_in_chunks(company):
    """services.update_rows: executemany on SQLite, UPDATE … FROM (VALUES …) in chunks on PostgreSQL — the same
    rows either way, NULLs included (a column of only NULLs must not be taken for text)."""
    from decimal import Decimal

    from dangjian.appraisal.models import MemberLine

    period, evs = _month_with(company, 3)
    lines = list(MemberLine.objects.filter(evaluation__in=evs).order_by("pk"))
    for n, ln in enumerate(lines):
        ln.count, ln.points, ln.reason = (None, None, "") if n % 2 else (n, Decimal(n) / 10, f"理由{n}")
    assert services.update_rows(MemberLine, ["count", "points", "reason"], lines, chunk=7) == len(lines)
    got = {ln.pk: (ln.count, ln.points, ln.reason) for ln in MemberLine.objects.filter(pk__in=[x.pk for x in lines])}
    for n, ln in enumerate(lines):
        assert got[ln.pk] == ((None, None, "") if n % 2 else (n, Decimal(n) / 10, f"理由{n}"))
    # Only NULLs in a chunk.
    for ln in lines:
        ln.count, ln.points = None, None
    services.update_rows(MemberLine, ["count", "points"], lines[:3])
    assert set(MemberLine.objects.filter(pk__in=[x.pk for x in lines[:3]]).values_list("count", "points")) == {
        (None, None)}
