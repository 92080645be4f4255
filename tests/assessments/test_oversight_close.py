"""The oversight dashboard of a finalized month: rates from the results (following adjustments), the trend from
the results, the page still readable."""

import datetime
from decimal import Decimal

from django.db.models import Avg
from django.urls import reverse

from dangjian.assessments import oversight as ov
from dangjian.assessments.close import adjust_result, finalize_period
from dangjian.assessments.models import Result
from tests.assessments.test_close import month  # noqa: F401  (the fixture: seven organizations published)


def _fig(user, period):
    return ov.figures(user, ov.parse_params(user, {"period": period.pk}), today=datetime.date(2026, 11, 20))


def test_finalized_month_reads_the_results(company, month):  # noqa: F811
    period = finalize_period(company.staff, month)
    fig = _fig(company.staff, period)
    rates = {r.org_id: r.score_rate for r in Result.objects.filter(period=period)}
    shown = {r["org_id"]: r["rate"] for g in fig["ranking"] for r in g["top"] + g["bottom"]}
    assert shown and all(rates[org] == rate for org, rate in shown.items())
    assert fig["distribution"]["n"] == len(rates) == 7
    assert fig["progress"]["overdue"] == 0 and fig["period"]["finalized"]
    # The trend's last month is the results' average rate per peer group.
    expected = {(r["level"], r["org_type_id"]): r["a"] for r in Result.objects.filter(period=period)
                .values("level", "org_type_id").annotate(a=Avg("score_rate"))}
    for g in fig["trend"]["groups"]:
        assert g["values"][-1] == ov.dec(expected[(g["level"], g["org_type"])])
    # An adjustment after the close moves the figures with it.
    low = Result.objects.get(period=period, org=company.branch_c)
    adjust_result(company.staff, low, low.max_total, "复核后改正扣分")
    low.refresh_from_db()
    fig = _fig(company.staff, period)
    management = next(g for g in fig["ranking"] if g["org_type"] == company.branch_c.type_id)
    assert management["top"][0]["org_id"] == company.branch_c.pk
    assert management["top"][0]["rate"] == low.score_rate == Decimal("100.0")


def test_finalized_month_page(client, company, month):  # noqa: F811
    period = finalize_period(company.staff, month)
    client.force_login(company.staff)
    resp = client.get(reverse("assessments:oversight"), {"period": period.pk})
    assert resp.status_code == 200 and "已兑现" in resp.content.decode()
    assert client.get(reverse("assessments:oversight"), {"period": period.pk, "format": "xlsx"}).status_code == 200
