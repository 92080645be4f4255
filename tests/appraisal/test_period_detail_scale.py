"""The member month's progress page (appraisal period_detail) at scale: bench/bench_pages.py measured it at 1.2 s
with a province's 2,500 branches (every branch rendered, the rights checked per branch). The figures still count
every branch; the table shows a page of 50, and the queries do not grow with the number of branches."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.appraisal import services
from dangjian.appraisal.models import AppraisalPeriod
from tests.appraisal.conftest import make_member_set
from tests.factories import make_member, make_org


def open_with_branches(company, n):
    for i in range(n):
        make_member(make_org(f"规模测试党支部{i:03d}", parent=company.general), f"党员{i:03d}")
    make_member_set(company.committee)
    return services.open_period(company.staff, company.committee, "2026-10",
                                self_due=datetime.date(2026, 10, 25), determine_due=datetime.date(2026, 10, 28))


def get(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params)
    assert resp.status_code == 200
    return resp.content.decode(), len(ctx.captured_queries)


def test_a_page_of_branches_with_every_branch_counted_in_constant_queries(client, company):
    c = company
    period = open_with_branches(c, 3)
    url = reverse("appraisal:period_detail", args=[period.pk])
    client.force_login(c.staff)
    client.get(reverse("home"))
    _html, few = get(client, url)
    for i in range(3, 70):
        make_member(make_org(f"规模测试党支部{i:03d}", parent=c.general), f"党员{i:03d}")
    AppraisalPeriod.objects.filter(pk=period.pk).delete()  # open again: every branch has its evaluations
    period = services.open_period(c.staff, c.committee, "2026-10", self_due=datetime.date(2026, 10, 25),
                                  determine_due=datetime.date(2026, 10, 28))
    url = reverse("appraisal:period_detail", args=[period.pk])
    html, many = get(client, url)
    assert many == few and many <= 15
    table = html[html.index('data-testid="branch-table"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr data-org=") == 50
    assert "规模测试党支部000" in table and "规模测试党支部069" not in table
    # The figures count every member of every branch (70 test branches and the company's own).
    total = period.evaluations.count()
    assert f">{total}<" in html and total > 70
    html, _n = get(client, url, page=2)
    table = html[html.index('data-testid="branch-table"'):]
    assert "规模测试党支部069" in table[:table.index("</table>")]
    # The export still has every branch.
    resp = client.get(url, {"format": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
