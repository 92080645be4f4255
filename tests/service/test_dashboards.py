"""The decision-support figures (service.dashboards): each figure on known rows, scope, filters, the month and
day helpers on SQLite and PostgreSQL alike, and query counts that do not grow with the data."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.service import dashboards as d
from dangjian.service.models import Ticket, TState
from tests.factories import make_org
from tests.service import dashboard_data as data
from tests.service.dashboard_data import at

OCT, NOV, DEC = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)
TODAY = datetime.date(2026, 12, 15)


def filters(user, **params):
    params.setdefault("from", "2026-10")
    params.setdefault("to", "2026-12")
    return d.parse_filters(user, params, today=TODAY)


# ---- the helpers that hide SQLite / PostgreSQL differences -----------------------------------------------


def test_month_of_buckets_timestamps_in_local_time(company):
    # 2026-10-31 16:30 UTC is 2026-11-01 00:30 in Shanghai: November.
    t1 = data.ticket(company.branch_a, at(2026, 11, 1, 0))
    t2 = data.ticket(company.branch_a, at(2026, 10, 31, 23))
    got = dict(Ticket.objects.filter(pk__in=[t1.pk, t2.pk]).annotate(m=d.month_of("created_at"))
               .values_list("pk", "m"))
    assert got == {t1.pk: NOV, t2.pk: OCT}


def test_month_of_buckets_dates(company):
    n = data.need(company.branch_a, datetime.date(2026, 12, 31))
    from dangjian.service.models import Need

    assert Need.objects.annotate(m=d.month_of("received_on")).get(pk=n.pk).m == DEC


def test_days_between_counts_fractions_of_days(company):
    t = data.ticket(company.branch_a, at(2026, 10, 1, 8), closed=at(2026, 10, 3, 20))
    days = Ticket.objects.annotate(x=d.DaysBetween("created_at", "closed_at")).get(pk=t.pk).x
    assert float(days) == pytest.approx(2.5)


# ---- filters and scope --------------------------------------------------------------------------------


def test_filters_default_to_the_last_twelve_months(company):
    f = d.parse_filters(company.staff, {}, today=TODAY)
    assert (f.start, f.end, len(f.months)) == (datetime.date(2026, 1, 1), DEC, 12)
    assert d.parse_filters(company.staff, {"months": "3"}, today=TODAY).start == OCT


@pytest.mark.parametrize("params", [{"from": "2026-13"}, {"from": "2026-12", "to": "2026-10"},
                                    {"from": "2020-01", "to": "2026-12"}, {"months": "0"}, {"months": "x"},
                                    {"org": "abc"}, {"area": "1;drop"}])
def test_bad_filters_are_refused_in_chinese(company, params):
    with pytest.raises(DomainError) as exc:
        d.parse_filters(company.staff, params, today=TODAY)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_an_organization_outside_the_scope_is_not_found(company):
    with pytest.raises(AccessDenied):
        d.parse_filters(company.secretary_a, {"org": company.branch_b.pk}, today=TODAY)
    with pytest.raises(AccessDenied):
        d.parse_filters(company.member_user_a, {}, today=TODAY)
    other_area = data.area(company.branch_b)
    with pytest.raises(AccessDenied):
        d.parse_filters(company.secretary_a, {"area": other_area.pk}, today=TODAY)


def test_a_secretary_sees_only_the_branch(company):
    data.need(company.branch_a, datetime.date(2026, 10, 5))
    data.need(company.branch_b, datetime.date(2026, 10, 6))
    data.need(company.branch_b, datetime.date(2026, 10, 7))
    assert d.need_figures(company.secretary_a, filters(company.secretary_a))["total"] == 1
    assert d.need_figures(company.staff, filters(company.staff))["total"] == 3
    assert d.need_figures(company.staff, filters(company.staff, org=company.branch_b.pk))["total"] == 2
    assert d.need_figures(company.staff, filters(company.staff, org=company.general.pk))["total"] == 3


# ---- needs ----------------------------------------------------------------------------------------------


def test_needs_by_category_area_and_month(company):
    grid = data.area(company.branch_a, "东关网格")
    data.need(company.branch_a, datetime.date(2026, 10, 5), category="complaint", area=grid)
    data.need(company.branch_a, datetime.date(2026, 10, 31), category="complaint", kind="government")
    data.need(company.branch_a, datetime.date(2026, 11, 1), category="praise", area=grid)
    data.need(company.branch_a, datetime.date(2026, 9, 30), category="praise")  # before the range
    fig = d.need_figures(company.staff, filters(company.staff))
    cats = {r["category"]: r["count"] for r in fig["by_category"]}
    assert cats == {"complaint": 2, "opinion": 0, "need": 0, "suggestion": 0, "praise": 1}
    assert [(r["label"], r["count"]) for r in fig["by_area"]] == [("东关网格", 2), ("未指定区域", 1)]
    assert fig["by_month"] == [
        {"month": "2026-10", "government": 1, "people": 1, "total": 2},
        {"month": "2026-11", "government": 0, "people": 1, "total": 1},
        {"month": "2026-12", "government": 0, "people": 0, "total": 0},
    ]
    only_grid = d.need_figures(company.staff, filters(company.staff, area=grid.pk))
    assert only_grid["total"] == 2


# ---- tickets --------------------------------------------------------------------------------------------


def test_ticket_counts_time_to_close_and_recurrence(company):
    a = company.branch_a
    data.ticket(a, at(2026, 10, 1), closed=at(2026, 10, 3), recurrence=True)      # 2 days
    data.ticket(a, at(2026, 10, 1), closed=at(2026, 10, 5))                        # 4 days
    data.ticket(a, at(2026, 10, 1), closed=at(2026, 10, 11))                       # 10 days
    data.ticket(a, at(2026, 11, 1), closed=at(2026, 11, 2))                        # 1 day
    data.ticket(a, at(2026, 11, 1), closed=at(2026, 11, 4))                        # 3 days
    data.ticket(a, at(2026, 11, 2), due=datetime.date(2026, 12, 1))                # open, overdue on 12-15
    data.ticket(a, at(2026, 11, 2), due=datetime.date(2026, 12, 31))               # open, not overdue
    data.ticket(a, at(2026, 11, 3), state=TState.CANCELLED)
    data.ticket(a, at(2026, 8, 3), due=datetime.date(2026, 9, 1))  # opened before the range: open and overdue now
    data.ticket(a, at(2026, 8, 3), closed=at(2026, 9, 3))  # closed before the range
    fig = d.ticket_figures(company.staff, filters(company.staff), today=TODAY)
    c = fig["counts"]
    assert (c["total"], c["open"], c["overdue"], c["closed"], c["cancelled"], c["recurrence"]) == (8, 3, 2, 5, 1, 1)
    assert c["closed_share"] == Decimal("71.4")  # 5 of 7 not cancelled
    oct_, nov, dec_ = fig["by_month"]
    assert (oct_["closed"], oct_["mean_days"], oct_["median_days"]) == (3, Decimal("5.3"), Decimal("4.0"))
    assert (nov["closed"], nov["mean_days"], nov["median_days"]) == (2, Decimal("2.0"), Decimal("2.0"))
    assert (oct_["recurrence"], oct_["recurrence_share"]) == (1, Decimal("33.3"))
    assert (dec_["closed"], dec_["mean_days"], dec_["median_days"]) == (0, None, None)


def test_closure_rate_follows_the_documented_definition(company):
    a = company.branch_a
    due_oct = datetime.date(2026, 10, 20)
    data.ticket(a, at(2026, 9, 20), closed=at(2026, 10, 10), due=due_oct)         # counted, closed in Oct
    data.ticket(a, at(2026, 10, 2), due=due_oct)                                   # counted, still open
    data.ticket(a, at(2026, 10, 2), closed=at(2026, 11, 3), due=due_oct)          # counted, closed only in Nov
    data.ticket(a, at(2026, 10, 2), due=datetime.date(2026, 11, 5))               # due later: not in Oct
    data.ticket(a, at(2026, 9, 1), closed=at(2026, 9, 30), due=datetime.date(2026, 9, 25))  # closed before Oct
    data.ticket(a, at(2026, 10, 2), due=due_oct, state=TState.CANCELLED)          # cancelled
    data.ticket(a, at(2026, 11, 2), due=datetime.date(2026, 9, 1))                # opened after Oct
    oct_, nov, _dec = d.ticket_figures(company.staff, filters(company.staff), today=TODAY)["by_month"]
    assert (oct_["due"], oct_["closed_by_month_end"], oct_["closure_rate"]) == (3, 1, Decimal("33.3"))
    # November: the open one due in Oct, the one closed on 11-03, the one due 11-05, the one opened 11-02.
    assert (nov["due"], nov["closed_by_month_end"], nov["closure_rate"]) == (4, 1, Decimal("25.0"))


# ---- satisfaction and before/after ----------------------------------------------------------------------


def test_satisfaction_by_month_is_weighted_by_responses(company):
    data.index(company.branch_a, OCT, 90, 30, share=80)
    data.index(company.branch_b, OCT, 70, 10, share=40)
    data.index(company.branch_b, OCT, 60, 5, kind="government")
    data.index(company.branch_a, NOV, None, 2)  # no scale answers: counts responses, not the mean
    rows = d.satisfaction_figures(company.staff, filters(company.staff))["by_month"]
    assert rows[0]["customer"] == {"responses": 40, "mean": Decimal("85.0"), "share_satisfied": Decimal("70.0"),
                                   "orgs": 2}
    assert rows[0]["government"]["mean"] == Decimal("60.0")
    assert rows[1]["customer"]["responses"] == 2 and rows[1]["customer"]["mean"] is None
    assert rows[2]["customer"] == {"responses": 0, "mean": None, "share_satisfied": None, "orgs": 0}
    mine = d.satisfaction_figures(company.secretary_a, filters(company.secretary_a))["by_month"]
    assert mine[0]["customer"]["mean"] == Decimal("90.0")


def test_before_and_after_an_improvement(company):
    low = data.index(company.branch_a, OCT, 72.5, 37)
    data.index(company.branch_a, NOV, 80, 20)   # the month of closing: not "after"
    data.index(company.branch_a, DEC, 88.5, 25)
    data.ticket(company.branch_a, at(2026, 10, 31), closed=at(2026, 11, 20), index=low)
    other = data.index(company.branch_b, OCT, 70, 10)
    data.ticket(company.branch_b, at(2026, 10, 31), closed=at(2026, 12, 5), index=other)  # nothing after yet
    data.ticket(company.branch_b, at(2026, 10, 31), closed=at(2026, 12, 5))  # not from an index
    fig = d.before_after(company.staff, filters(company.staff))
    by_org = {r["org"]: r for r in fig["rows"]}
    assert len(fig["rows"]) == 2
    a = by_org[company.branch_a.pk]
    assert (a["before_month"], a["before"], a["after_month"], a["after"], a["change"]) == (
        "2026-10", Decimal("72.5"), "2026-12", Decimal("88.5"), Decimal("16.0"))
    assert by_org[company.branch_b.pk]["after"] is None
    assert (fig["compared"], fig["improved"], fig["mean_change"]) == (1, 1, Decimal("16.0"))


def test_team_hours_and_people_served_by_month(company):
    data.activity(company.branch_a, datetime.date(2026, 10, 3), [(company.member_a, 2), (company.secretary_member_a, 1.5)],
                  served=30)
    data.activity(company.branch_a, datetime.date(2026, 10, 20), [(company.member_a, 3)], served=12)
    data.activity(company.branch_b, datetime.date(2026, 11, 3), [(company.member_b, 4)], served=5, team_name="公益队")
    fig = d.team_figures(company.staff, filters(company.staff))
    assert fig["by_month"][0] == {"month": "2026-10", "activities": 2, "people_served": 42, "hours": Decimal("6.5"),
                                  "members": 2}
    assert fig["by_month"][1]["hours"] == Decimal("4.0")
    assert (fig["hours"], fig["people_served"]) == (Decimal("10.5"), 47)
    mine = d.team_figures(company.secretary_a, filters(company.secretary_a))
    assert mine["people_served"] == 42


# ---- query counts ---------------------------------------------------------------------------------------


def _fill(company, orgs):
    for i, org in enumerate(orgs):
        grid = data.area(org, f"网格{i}")
        data.need(org, datetime.date(2026, 10, 5), area=grid)
        data.need(org, datetime.date(2026, 11, 5), category="praise")
        idx = data.index(org, OCT, 70 + i % 20, 10 + i)
        data.index(org, DEC, 85, 12)
        data.ticket(org, at(2026, 10, 6), closed=at(2026, 11, 9), index=idx, due=datetime.date(2026, 11, 1))
        data.ticket(org, at(2026, 11, 6), due=datetime.date(2026, 11, 30), area=grid)
        data.activity(org, datetime.date(2026, 10, 9), [(company.member_a, 2)], served=8)


def test_all_figures_take_a_constant_number_of_queries(company):
    _fill(company, [company.branch_a])
    f = filters(company.staff)
    with CaptureQueriesContext(connection) as small:
        d.service_figures(company.staff, f, today=TODAY)
    _fill(company, [make_org(parent=company.general) for _ in range(8)])
    with CaptureQueriesContext(connection) as large:
        fig = d.service_figures(company.staff, f, today=TODAY)
    assert len(large) == len(small) <= 12
    assert fig["needs"]["total"] == 18 and len(fig["before_after"]["rows"]) == 9


def test_an_index_without_responses_does_not_divide_by_zero(company):
    data.index(company.branch_a, OCT, 90, 0)
    rows = d.satisfaction_figures(company.staff, filters(company.staff))["by_month"]
    assert rows[0]["customer"] == {"responses": 0, "mean": None, "share_satisfied": None, "orgs": 1}
