"""月兑现结果 pages: the results of a finalized month in each persona's scope, the digest check, the adjustment form,
the publicity window (公示期) before finalizing, and constant query counts with 30+ organizations.

The month: tests/assessments/test_close.py's ``month`` fixture — seven organizations in three peer groups,
published through the real services with a tie and a veto (its publicity window dated back, so it may be
finalized at once)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.assessments import close, services
from dangjian.assessments.close import FinalizeRefused, adjust_result, finalize_period
from dangjian.assessments.models import Adjustment, Period, Result, State, Transition
from dangjian.core.models import AuditEvent
from tests.assessments.matrix_results import finalized_month
from tests.assessments.test_close import drive_to_published, month  # noqa: F401 (the fixture)
from tests.factories import make_org

D = Decimal


def url(name, *args):
    return reverse(f"assessments:{name}", args=args)


def html(resp):
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


def table(page):
    """The results table's HTML (fails when the page has none)."""
    start = page.index('id="results-table"')
    return page[start:page.index("</table>", start)]


def row(page, org_name):
    """The results table's row of one organization."""
    t = table(page)
    i = t.index(org_name)
    return t[t.rindex("<tr", 0, i):t.index("</tr>", i)]


@pytest.fixture
def finalized(company, month):  # noqa: F811 (pytest fixture by name)
    finalize_period(company.staff, month)
    month.refresh_from_db()
    return month


# ---- the results page --------------------------------------------------------------------------------------------


def test_staff_see_every_organization_with_ranks_grades_and_the_secretarys_rating(client, company, finalized):
    c = company
    client.force_login(c.staff)
    page = html(client.get(url("period_results", finalized.pk)))
    t = table(page)
    for org in (c.general, c.branch_a, c.branch_b, c.branch_c, c.branch_d, c.branch_e, c.branch_f):
        assert org.name in t
    a = row(page, "变电运维党支部")
    assert "91.5" in a and "2/4" in a and "4/7" in a and ">B<" in a and "1.00" in a and "李建国" in a
    d = row(page, "配电运检党支部")
    assert "1/4" in d and ">D<" in d and "否决" in d and "0.90" in d
    assert "1/2" in row(page, "财务共享党支部") and ">A<" in row(page, "财务共享党支部")
    assert "未配备书记" in row(page, "输电运检党支部")
    # Default order: peer group (general branch first, then branches by type), then rank within the group.
    order = [t.index(o.name) for o in (c.general, c.branch_d, c.branch_a, c.branch_e, c.branch_f, c.branch_c)]
    assert order == sorted(order)
    # The peer group figures, the grade cards, the links.
    peers = page[page.index('data-testid="peer-groups"'):]
    assert "90.50" in peers and "91.50" in peers and "82.75" in peers and "97.00" in peers
    assert 'data-grade="A"' in page and 'data-testid="print"' in page
    assert page.count('data-testid="adjust"') == 7
    assert url("result_adjust", Result.objects.get(period=finalized, org=c.branch_a).pk) in page


def test_a_secretary_and_a_member_see_their_own_organization_only(client, company, finalized):
    c = company
    for user in (c.secretary_a, c.member_user_a):
        client.force_login(user)
        page = html(client.get(url("period_results", finalized.pk)))
        t = table(page)
        assert "变电运维党支部" in t and "2/4" in t
        for other in (c.branch_b, c.branch_c, c.general, c.branch_d):
            assert other.name not in t
        # Their peer group's figures only; no adjusting.
        peers = page[page.index('data-testid="peer-groups"'):page.index('id="results-table"')]
        assert "90.50" in peers and "82.75" not in peers and "97.00" not in peers
        assert 'data-testid="adjust"' not in page
    client.force_login(c.secretary_b)
    t = table(html(client.get(url("period_results", finalized.pk))))
    assert "输电运检党支部" in t and "变电运维党支部" not in t
    client.force_login(c.outsider)
    assert client.get(url("period_results", finalized.pk)).status_code == 404
    client.logout()
    assert client.get(url("period_results", finalized.pk)).status_code == 302


def test_filters_grouping_and_excel(client, company, finalized):
    c = company
    client.force_login(c.staff)
    t = table(html(client.get(url("period_results", finalized.pk), {"grade": "B"})))
    assert "变电运维党支部" in t and "输电运检党支部" in t and "财务共享党支部" not in t
    t = table(html(client.get(url("period_results", finalized.pk), {"type": c.branch_c.type_id})))
    assert "机关第一党支部" in t and "财务共享党支部" in t and "变电运维党支部" not in t
    t = table(html(client.get(url("period_results", finalized.pk), {"level": "general"})))
    assert "运维检修党总支" in t and "变电运维党支部" not in t
    t = table(html(client.get(url("period_results", finalized.pk), {"q": "财务"})))
    assert "财务共享党支部" in t and "机关第一党支部" not in t
    page = html(client.get(url("period_results", finalized.pk), {"group": "1"}))
    assert page.count('data-testid="group-row"') == 3 and "4 个组织" in page
    # By overall rank: 99, 97, 95.5, 91.5 …, across the peer groups.
    t = table(html(client.get(url("period_results", finalized.pk), {"sort": "overall"})))
    order = [t.index(o.name) for o in (c.branch_d, c.general, c.branch_f, c.branch_a, c.branch_e, c.branch_c)]
    assert order == sorted(order)
    resp = client.get(url("period_results", finalized.pk), {"format": "xlsx", "type": c.branch_a.type_id})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("对标组", "组织名称", "层级") and len(rows) == 5
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["变电运维党支部"][7:9] == (2, 4) and by_name["变电运维党支部"][12] == "B"
    assert by_name["变电运维党支部"][14] == "李建国"
    assert AuditEvent.objects.filter(action="export").exists()


def test_a_month_not_yet_finalized_says_so_and_shows_nothing_else(client, company, period):
    client.force_login(company.staff)
    page = html(client.get(url("period_results", period.pk)))
    assert 'data-testid="not-finalized"' in page and "尚未兑现" in page
    assert 'id="results-table"' not in page and 'data-testid="export"' not in page


def test_results_that_no_longer_match_the_digest_are_not_shown(client, company, finalized):
    # Someone with database access changes a result behind the application's back.
    engine = close.close(finalized)
    with transaction.atomic(), engine.adjusting():
        Result.objects.filter(period=finalized, org=company.branch_c).update(total=D("99.0"))
    client.force_login(company.staff)
    page = html(client.get(url("period_results", finalized.pk)))
    assert 'data-testid="digest-error"' in page and "校验值不符" in page
    assert 'id="results-table"' not in page
    resp = client.get(url("period_results", finalized.pk), {"format": "xlsx"})
    assert resp.status_code == 409 and "校验值不符" in resp.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_period_and_evaluation_pages_link_to_the_results(client, company, finalized):
    c = company
    client.force_login(c.secretary_a)
    page = html(client.get(url("period_detail", finalized.pk)))
    assert url("period_results", finalized.pk) in page
    ev = finalized.evaluations.get(org=c.branch_a)
    page = html(client.get(url("evaluation_detail", ev.pk)))
    card = page[page.index('data-testid="result-card"'):]
    assert "91.5" in card and "2/4" in card and "4/7" in card and ">B<" in card and "1.00" in card
    assert url("period_results", finalized.pk) in card and url("result_adjust", ev.result.pk) not in card


# ---- adjustments ---------------------------------------------------------------------------------------------------


def test_the_staff_adjust_a_result_and_everyone_sees_it(client, company, finalized):
    c = company
    e = Result.objects.get(period=finalized, org=c.branch_e)
    client.force_login(c.staff)
    page = html(client.get(url("result_adjust", e.pk)))
    figures = page[page.index('data-testid="current-figures"'):]
    assert "80.0" in figures and "4/4" in figures and "6/7" in figures
    resp = client.post(url("result_adjust", e.pk), {"new_total": "93.0", "reason": "复核发现带电作业记录漏报。",
                                                    "confirm": "on"})
    assert resp.status_code == 302 and resp.url.endswith(f"#result-{e.pk}")
    e.refresh_from_db()
    assert (e.total, e.peer_rank, e.grade) == (D("93.0"), 2, "B")
    adjustment = Adjustment.objects.get()
    assert (adjustment.old_total, adjustment.new_total, adjustment.by) == (D("80.0"), D("93.0"), c.staff)
    page = html(client.get(url("period_results", finalized.pk)))
    assert 'data-testid="adjusted"' in row(page, "带电作业党支部") and "2/4" in row(page, "带电作业党支部")
    assert "3/4" in row(page, "变电运维党支部")
    listed = page[page.index('data-testid="adjustments"'):]
    assert "80.0 → 93.0" in listed and "复核发现带电作业记录漏报。" in listed and "党建部" in listed
    page = html(client.get(url("period_adjustments", finalized.pk)))
    assert "复核发现带电作业记录漏报。" in page and "93.0" in page
    resp = client.get(url("period_adjustments", finalized.pk), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("带电作业党支部", 80, 93, 13) and rows[1][4] == "复核发现带电作业记录漏报。"
    # The organization's evaluation page lists it; a secretary of another branch does not see it.
    ev = finalized.evaluations.get(org=c.branch_e)
    card = html(client.get(url("evaluation_detail", ev.pk)))
    assert "80.0 → 93.0" in card[card.index('data-testid="result-card"'):]
    client.force_login(c.secretary_b)
    assert "复核发现" not in html(client.get(url("period_adjustments", finalized.pk)))
    assert "复核发现" not in html(client.get(url("period_results", finalized.pk)))


@pytest.mark.parametrize(("data", "message"), [
    ({"new_total": "90", "reason": "  ", "confirm": "on"}, "请填写调整理由。"),
    ({"new_total": "80.0", "reason": "复核", "confirm": "on"}, "调整后的得分与原得分相同"),
    ({"new_total": "100.5", "reason": "复核", "confirm": "on"}, "得分应在 0 至 100.0 之间"),
    ({"new_total": "abc", "reason": "复核", "confirm": "on"}, "得分应为数字"),
    ({"new_total": "90", "reason": "复核"}, "请勾选确认后再提交调整。"),
    ({"new_total": "90", "reason": "长" * 501, "confirm": "on"}, "500"),
])
def test_a_wrong_adjustment_is_refused_and_changes_nothing(client, company, finalized, data, message):
    e = Result.objects.get(period=finalized, org=company.branch_e)
    digest = finalized.digest
    client.force_login(company.staff)
    page = html(client.post(url("result_adjust", e.pk), data))
    assert message in page and 'data-testid="adjust-form"' in page
    assert not Adjustment.objects.exists()
    e.refresh_from_db()
    finalized.refresh_from_db()
    assert e.total == D("80.0") and finalized.digest == digest


def test_a_result_of_a_month_not_finalized_cannot_be_adjusted(client, company, period, eval_a):
    # A stray result row of an open month (the lock triggers only guard finalized months).
    result = Result.objects.create(period=period, evaluation=eval_a, org=eval_a.org, org_name=eval_a.org_name,
                                   org_path=eval_a.org_path, level=eval_a.level, org_type=eval_a.org_type,
                                   total=D("80.0"), max_total=D("100.0"), score_rate=D("80.0"), peer_rank=1,
                                   peer_size=1, overall_rank=1, overall_size=1, percentile=D("0.0"), grade="C",
                                   coefficient=D("0.95"))
    client.force_login(company.staff)
    page = html(client.post(url("result_adjust", result.pk), {"new_total": "90", "reason": "复核", "confirm": "on"}))
    assert "尚未兑现" in page and not Adjustment.objects.exists()


def test_only_the_committee_staff_may_adjust(client, company, finalized):
    e = Result.objects.get(period=finalized, org=company.branch_a)
    for user in (company.secretary_a, company.assessor, company.member_user_a, company.outsider):
        client.force_login(user)
        assert client.get(url("result_adjust", e.pk)).status_code == 404
        assert client.post(url("result_adjust", e.pk), {"new_total": "90", "reason": "x", "confirm": "on"}
                           ).status_code == 404
    assert not Adjustment.objects.exists()


# ---- the publicity window (公示期) ------------------------------------------------------------------------------


def _back(period, days, only_first=False):
    qs = Transition.objects.filter(evaluation__period=period, to_state=State.PUBLISHED)
    if only_first:
        firsts = [Transition.objects.filter(evaluation=ev, to_state=State.PUBLISHED).order_by("id").first().pk
                  for ev in period.evaluations.all()]
        qs = qs.filter(pk__in=firsts)
    qs.update(at=F("at") - datetime.timedelta(days=days))


def test_finalize_waits_for_the_publicity_window(client, company, period):
    c = company
    drive_to_published(c, period, window_over=False)
    until = timezone.localdate() + datetime.timedelta(days=3)
    with pytest.raises(FinalizeRefused) as exc:
        finalize_period(c.staff, period)
    assert f"公示期至{until:%Y-%m-%d}" in exc.value.message
    assert f"请于{until + datetime.timedelta(days=1):%Y-%m-%d}及以后再兑现" in exc.value.message
    assert not Result.objects.exists()
    # The month's page says until when, and the finalize button is disabled with the reason.
    client.force_login(c.staff)
    with CaptureQueriesContext(connection) as ctx:
        page = html(client.get(url("period_detail", period.pk)))
    assert len(ctx.captured_queries) <= 15
    assert f"公示期至 {until:%Y-%m-%d}" in page and 'data-testid="finalize-wait"' in page
    button = page[page.index('data-testid="finalize"'):]
    assert button[:button.index(">")].endswith("disabled") or " disabled " in button[:button.index(">")]
    resp = client.post(url("period_finalize", period.pk), follow=True)
    assert "仍在公示期内" in html(resp)
    period.refresh_from_db()
    assert not period.is_finalized
    # Published three days ago: today is the window's last day, still open.
    _back(period, 3)
    with pytest.raises(FinalizeRefused, match=f"公示期至{timezone.localdate():%Y-%m-%d}"):
        finalize_period(c.staff, period)
    # Four days ago: the window is over.
    _back(period, 1)
    page = html(client.get(url("period_detail", period.pk)))
    assert "公示期至" not in page and 'data-testid="finalize-wait"' not in page
    client.post(url("period_finalize", period.pk))
    period.refresh_from_db()
    assert period.is_finalized and Result.objects.filter(period=period).count() == 4


def test_the_window_runs_from_the_first_publication(company, period):
    c = company
    drive_to_published(c, period, window_over=False)
    ev = period.evaluations.get(org=c.branch_a)
    objection = services.raise_objection(c.secretary_a, ev, "第3项会议记录已补齐，请复核。")
    services.answer_objection(c.staff, objection, "经核查，维持原评分。", upheld=False)
    # Published again today after the answer; the first publications were four days ago.
    _back(period, 4, only_first=True)
    assert Transition.objects.filter(evaluation=ev, to_state=State.PUBLISHED).count() == 2
    assert close.publicity_open_until(period) is None
    finalize_period(c.staff, period)
    assert Result.objects.filter(period=period).count() == 4


def test_no_window_with_zero_days(client, company, standard):
    c = company
    client.force_login(c.staff)
    resp = client.post(url("period_create"), {
        "owner": c.committee.pk, "month": "2026-11", "submit_due": "2026-11-25", "self_due": "2026-11-28",
        "assess_due": "2026-12-05", "objection_days": 0, "standard_set": ""})
    assert resp.status_code == 302, resp.content.decode()[-2000:]
    period = Period.objects.get(month=datetime.date(2026, 11, 1))
    assert period.objection_days == 0
    drive_to_published(c, period, window_over=False)
    assert close.publicity_until(period) is None
    assert "不设公示期" in html(client.get(url("period_detail", period.pk)))
    finalize_period(c.staff, period)
    assert period.is_finalized


def test_the_window_date_is_a_calendar_day(company, period):
    at = timezone.make_aware(datetime.datetime(2026, 11, 3, 23, 30))
    assert close.window_end(at, 3) == datetime.date(2026, 11, 6)
    assert close.window_end(at, 0) is None and close.window_end(None, 3) is None


# ---- constant queries ------------------------------------------------------------------------------------------


def test_pages_run_a_constant_number_of_queries_with_30_organizations(client, company):
    c = company
    for i in range(30):
        make_org(f"新增党支部{i:02d}", parent=c.general if i % 2 else c.committee,
                 type_code="production" if i % 3 else "management", code=f"N{i:03d}")
    period = finalized_month(c)
    assert Result.objects.filter(period=period).count() == 34
    e = Result.objects.get(period=period, org=c.branch_a)
    adjust_result(c.staff, e, e.total - 1, "复核更正。")
    ev = period.evaluations.get(org=c.branch_a)
    client.force_login(c.staff)
    pages = [url("period_results", period.pk), url("period_results", period.pk) + "?group=1&page=1&per_page=10",
             url("period_results", period.pk) + "?format=xlsx", url("period_adjustments", period.pk),
             url("period_adjustments", period.pk) + "?format=xlsx", url("result_adjust", e.pk),
             url("evaluation_detail", ev.pk), url("period_detail", period.pk)]
    counts = {}
    for page in pages:
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(page)
        assert resp.status_code == 200, page
        counts[page] = len(ctx.captured_queries)
    assert max(counts.values()) <= 15, counts
    # Paginated: the second page of 10 has the 11th row on.
    page = html(client.get(url("period_results", period.pk), {"per_page": 10, "page": 2}))
    assert table(page).count('<tr id="result-') == 10
