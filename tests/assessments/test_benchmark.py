"""对标: an organization against its peer group (page, JSON, Excel, API) and the annual view with 先进党支部
candidates. Three months are built and finalized through close.finalize_period; the expected figures are worked out
by hand in the fixture's docstring."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.assessments import benchmark as bm
from dangjian.assessments import services
from dangjian.assessments.close import finalize_period
from dangjian.assessments.models import EvalItem, Evaluation, PeerAggregate, Result, State
from dangjian.core.dates import month_start
from dangjian.core.models import ApiToken, AuditEvent
from dangjian.orgs.models import Level
from tests.factories import make_org

D = Decimal


def build_month(c, month, cuts, *, veto=(), finalize=True, owner=None):
    """Open ``month`` for the committee without a publicity window, put every item at full marks (self and
    assessor), take ``cuts[org] = {item code: points}`` off the assessor scores (or a number of points off the
    first items in order), flag the veto item of the orgs in ``veto``, publish and finalize."""
    first = month_start(month)
    period = services.open_period(c.staff, owner or c.committee, month, submit_due=first + datetime.timedelta(days=24),
                                  self_due=first + datetime.timedelta(days=27),
                                  assess_due=first + datetime.timedelta(days=35), objection_days=0)
    items = EvalItem.objects.filter(evaluation__period=period)
    items.update(self_score=F("max_points"), assessor_score=F("max_points"))
    for org, cut in cuts.items():
        mine = items.filter(evaluation__org=org)
        if isinstance(cut, dict):
            for code, points in cut.items():
                assert mine.filter(item__code=code).update(assessor_score=F("max_points") - D(points)) == 1
        else:
            left = D(cut)
            for ei in mine.order_by("id"):
                take = min(left, ei.max_points)
                EvalItem.objects.filter(pk=ei.pk).update(assessor_score=ei.max_points - take)
                left -= take
            assert left == 0
    for org in veto:
        assert items.filter(evaluation__org=org, item__is_veto=True, item__code="ZZ-01").update(vetoed=True) == 1
    if finalize:
        Evaluation.objects.filter(period=period).update(state=State.PUBLISHED)
        finalize_period(c.staff, period)
    return period


@pytest.fixture
def year(company, standard):
    """Three finalized months of 2026 (bands A ≥ 95, B ≥ 85, C ≥ 75, D) and an open April.

        production branches (a, b, d, e; g from February)   management (c, f)   general (alone)
        Jan  a 95 A  b 100 A  d 100 D (veto)  e 91 B          c 70 D  f 98 A     97 A
        Feb  a 95 A  b 100 A  d 100 A         e 91 B  g 100 A c 70 D  f 98 A     97 A
        Mar  a 95 A  b 100 A  d 99 A          e 91 B  g 100 A c 80 C  f 98 A     97 A

    March item by item (production): SH-01 (4) a 2, d 3, others 4; ZY-11 (8) a 5, e 0, others 8; JC-01 (2) e 1,
    others 2. Annual averages (production): b 100.0, g 100.0, d 99.7, a 95.0, e 91.0.
    """
    c = company
    c.branch_d = make_org("配电运检党支部", parent=c.general, code="B004")
    c.branch_e = make_org("带电作业党支部", parent=c.general, code="B005")
    c.branch_f = make_org("财务共享党支部", parent=c.committee, type_code="management", code="B006")
    a_cuts = {"SH-01": 2, "ZY-11": 3}
    e_cuts = {"ZY-11": 8, "JC-01": 1}
    c.jan = build_month(c, "2026-01", {c.branch_a: a_cuts, c.branch_e: e_cuts, c.branch_c: 30, c.branch_f: 2,
                                       c.general: 3}, veto=[c.branch_d])
    c.branch_g = make_org("电缆运检党支部", parent=c.general, code="B007")
    c.feb = build_month(c, "2026-02", {c.branch_a: a_cuts, c.branch_e: e_cuts, c.branch_c: 30, c.branch_f: 2,
                                       c.general: 3})
    c.mar = build_month(c, "2026-03", {c.branch_a: a_cuts, c.branch_d: {"SH-01": 1}, c.branch_e: e_cuts,
                                       c.branch_c: 20, c.branch_f: 2, c.general: 3})
    return c


def url(org, **params):
    base = reverse("assessments:org_benchmark", args=[org.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


# ---- the organization against its peer group ---------------------------------------------------------------------


def test_default_month_is_the_latest_finalized_and_header_matches_the_close(year):
    c = year
    fig = bm.org_benchmark(c.staff, c.branch_a.pk)
    assert fig["period"]["id"] == c.mar.pk and not fig["provisional"]
    s = fig["summary"]
    result = Result.objects.get(period=c.mar, org=c.branch_a)
    assert (s["total"], s["score_rate"], s["peer_rank"], s["peer_size"], s["overall_rank"], s["overall_size"],
            s["grade"]) == (D("95.0"), D("95.0"), 4, 5, 6, 8, "A")
    assert (result.peer_rank, result.overall_rank) == (4, 6)
    agg = PeerAggregate.objects.get(period=c.mar, level=Level.BRANCH, org_type=c.branch_a.type)
    # Peer totals 95, 100, 99, 91, 100: average 97.00, median 99.00, best 100.0.
    assert (s["peer"]["avg"], s["peer"]["median"], s["peer"]["best"], s["peer"]["count"]) == \
        (agg.avg, agg.median, agg.max, agg.count) == (D("97.00"), D("99.00"), D("100.0"), 5)
    assert (s["gap_avg"], s["gap_median"], s["gap_best"]) == (D("-2.00"), D("-4.00"), D("-5.0"))
    assert fig["group"]["label"].startswith("党支部")


def test_gap_per_item_equals_hand_computed_values_sorted_by_gap_to_best(year):
    c = year
    fig = bm.org_benchmark(c.staff, c.branch_a.pk, c.mar.pk)
    by_code = {r["code"]: r for r in fig["items"]}
    # ZY-11: a 5; peers 8, 8, 0, 8 → avg 29/5 = 5.80, median 8, best 8.
    zy = by_code["ZY-11"]
    assert (zy["score"], zy["peer_avg"], zy["peer_median"], zy["peer_best"], zy["gap_avg"], zy["gap_best"]) == \
        (D("5.0"), D("5.80"), D("8.00"), D("8.0"), D("-0.80"), D("-3.0"))
    # SH-01: a 2; peers 4, 3, 4, 4 → avg 17/5 = 3.40, median 4, best 4.
    sh = by_code["SH-01"]
    assert (sh["peer_avg"], sh["peer_median"], sh["gap_avg"], sh["gap_best"]) == \
        (D("3.40"), D("4.00"), D("-1.40"), D("-2.0"))
    # JC-01: a 2 (full); e 1 → avg 1.80: above the average, level with the best.
    jc = by_code["JC-01"]
    assert (jc["gap_avg"], jc["gap_best"], jc["peer_count"]) == (D("0.20"), D("0.0"), 5)
    assert [r["code"] for r in fig["items"][:2]] == ["ZY-11", "SH-01"]
    assert [r["code"] for r in fig["gaps"]] == ["ZY-11", "SH-01"]
    assert len(fig["items"]) == EvalItem.objects.filter(evaluation__period=c.mar, evaluation__org=c.branch_a).count()
    # Category subtotals add up the items; the whole evaluation is 100 points.
    assert sum(cat["max_points"] for cat in fig["categories"]) == D("100.0")
    assert sum(cat["score"] for cat in fig["categories"]) == D("95.0")
    life = next(cat for cat in fig["categories"] if cat["category"] == "组织生活")
    assert life["gap_best"] == D("-2.0")


def test_an_even_peer_group_has_the_mean_of_the_two_middle_scores_as_median(year):
    c = year
    # January: production peers a, b, d, e (g not yet founded); ZY-11 scores 5, 8, 8, 0 → median (5 + 8) / 2.
    fig = bm.org_benchmark(c.staff, c.branch_a.pk, c.jan.pk)
    zy = next(r for r in fig["items"] if r["code"] == "ZY-11")
    assert (zy["peer_count"], zy["peer_median"], zy["peer_avg"]) == (4, D("6.50"), D("5.25"))
    agg = PeerAggregate.objects.get(period=c.jan, level=Level.BRANCH, org_type=c.branch_a.type)
    assert (fig["summary"]["peer"]["median"], agg.median) == (D("97.50"), D("97.50"))


def test_trend_has_the_rate_against_the_peer_average_and_best(year):
    c = year
    fig = bm.org_benchmark(c.staff, c.branch_e.pk)
    assert [t["month"] for t in fig["trend"]] == ["2026-01", "2026-02", "2026-03"]
    assert [t["score_rate"] for t in fig["trend"]] == [D("91.0")] * 3
    # January: production totals 95, 100, 100, 91 → average 96.50 → 96.5 %; best 100 %.
    assert (fig["trend"][0]["peer_avg_rate"], fig["trend"][0]["peer_best_rate"]) == (D("96.5"), D("100.0"))
    assert fig["trend"][2]["peer_avg_rate"] == D("97.0") and fig["trend"][2]["selected"]


def test_an_open_month_is_provisional_from_assessor_scores_where_present(year, client):
    c = year
    april = build_month(c, "2026-04", {}, finalize=False)
    items = EvalItem.objects.filter(evaluation__period=april)
    items.update(assessor_score=None)
    # a: the assessor has scored only SH-01 (1 of 4); everything else counts its self score (full marks).
    items.filter(evaluation__org=c.branch_a, item__code="SH-01").update(assessor_score=D(1))
    fig = bm.org_benchmark(c.staff, c.branch_a.pk, april.pk)
    s = fig["summary"]
    assert fig["provisional"]
    assert (s["total"], s["score_rate"], s["peer_rank"], s["peer_size"], s["grade"]) == \
        (D("97.0"), D("97.0"), 5, 5, "A")
    assert (s["peer"]["avg"], s["peer"]["median"], s["peer"]["best"]) == (D("99.40"), D("100.00"), D("100.0"))
    sh = next(r for r in fig["items"] if r["code"] == "SH-01")
    assert (sh["score"], sh["peer_avg"], sh["gap_best"]) == (D("1.0"), D("3.40"), D("-3.0"))
    # The default month stays the latest finalized one; the page says the open month is provisional.
    assert bm.org_benchmark(c.staff, c.branch_a.pk)["period"]["id"] == c.mar.pk
    client.force_login(c.secretary_a)
    resp = client.get(url(c.branch_a, period=april.pk))
    assert resp.status_code == 200 and "暂定" in resp.content.decode()
    assert 'data-testid="provisional"' in resp.content.decode()


def test_page_shows_figures_tables_and_a_data_url(year, client):
    c = year
    client.force_login(c.secretary_a)
    resp = client.get(url(c.branch_a))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="peer-avg">97.00<' in html and 'data-testid="gap-best">-5.0<' in html
    assert reverse("assessments:org_benchmark_data", args=[c.branch_a.pk]) + f"?period={c.mar.pk}" in html
    assert 'id="chart-gaps"' in html and 'id="chart-trend"' in html and 'data-testid="trend-table"' in html
    assert html.index('data-item="ZY-11"') < html.index('data-item="SH-01"') < html.index('data-item="JC-01"')
    assert "vendor/echarts/echarts.min.js" in html and "assessments/benchmark.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_json_feeds_the_charts_with_numbers(year, client):
    c = year
    client.force_login(c.member_user_a)
    resp = client.get(reverse("assessments:org_benchmark_data", args=[c.branch_a.pk]), {"period": c.feb.pk})
    assert resp.status_code == 200 and resp["Content-Type"] == "application/json"
    data = resp.json()
    assert data["period"]["month"] == "2026-02"
    assert data["summary"]["peer"]["avg"] == 97.2 and data["summary"]["total"] == 95.0  # 486 / 5
    assert [g["code"] for g in data["gaps"]] == ["ZY-11", "SH-01"] and data["gaps"][0]["gap_best"] == -3.0
    assert [t["score_rate"] for t in data["trend"]] == [95.0, 95.0, 95.0]
    assert set(data["labels"]) == {"gap_avg", "gap_best", "rate", "avg", "best"}


def test_scope_secretary_member_outsider(year, client):
    c = year
    for user, org, status in [(c.secretary_a, c.branch_a, 200), (c.secretary_a, c.branch_b, 404),
                              (c.member_user_a, c.branch_a, 200), (c.secretary_b, c.branch_a, 404),
                              (c.outsider, c.branch_a, 404), (c.staff, c.branch_f, 200)]:
        client.force_login(user)
        assert client.get(url(org)).status_code == status, (user.username, org.name)
        data_url = reverse("assessments:org_benchmark_data", args=[org.pk])
        assert client.get(data_url).status_code == status
        assert client.get(url(org, format="xlsx")).status_code == status
    client.logout()
    assert client.get(url(c.branch_a)).status_code == 302


def test_a_month_the_org_was_not_in_is_404_and_a_bad_parameter_falls_back(year, client):
    c = year
    client.force_login(c.staff)
    # branch_g was founded after January: no evaluation that month.
    assert client.get(url(c.branch_g, period=c.jan.pk)).status_code == 404
    resp = client.get(url(c.branch_a, period="abc"))
    assert resp.status_code == 200 and "考评月份参数无效" in resp.content.decode()


def test_an_org_never_evaluated_gets_an_explanation(company, client):
    client.force_login(company.staff)
    resp = client.get(url(company.branch_a))
    assert resp.status_code == 200 and 'data-testid="no-evaluation"' in resp.content.decode()


def test_excel_has_summary_items_categories_and_trend_and_is_audited(year, client):
    c = year
    client.force_login(c.secretary_a)
    resp = client.get(url(c.branch_a, format="xlsx"))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["概况", "逐项对标", "分类小计", "趋势"]
    summary = {row[0]: row[1] for row in wb["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["对标组平均分"] == 97 and summary["同类排名"] == "4/5" and summary["与最高分差距"] == -5
    items = list(wb["逐项对标"].iter_rows(min_row=2, values_only=True))
    assert items[0][1] == "ZY-11" and items[0][9] == -3
    assert len(list(wb["趋势"].iter_rows(min_row=2))) == 3
    assert AuditEvent.objects.filter(action="export", user=c.secretary_a).exists()


def _counts(client, org):
    out = []
    for params in ({}, {"format": "xlsx"}):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(org, **params)).status_code == 200
        out.append(len(ctx.captured_queries))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("assessments:org_benchmark_data", args=[org.pk])).status_code == 200
    return out + [len(ctx.captured_queries)]


def test_page_json_and_export_queries_do_not_grow_with_months_and_organizations(year, client):
    c = year
    client.force_login(c.secretary_a)
    small = _counts(client, c.branch_a)
    for n in range(6):
        make_org(f"新增党支部{n}", parent=c.general, code=f"BX{n}")
    build_month(c, "2026-05", {c.branch_a: {"SH-01": 1}})
    build_month(c, "2026-06", {})
    large = _counts(client, c.branch_a)
    assert large == small
    page, export, data = large
    assert page <= 15 and data <= 15  # the export adds the audit record of the download


# ---- the annual view -------------------------------------------------------------------------------------------


def annual(user, **params):
    f = bm.annual_filters(user, {k: str(v) for k, v in params.items()})
    return f, {r["name"]: r for r in bm.AnnualRows(user, f).fetch()}


def test_annual_rows_have_grades_by_month_averages_and_peer_ranks(year):
    c = year
    f, rows = annual(c.staff)
    assert (f.year, f.owner.pk, [p["label"] for p in f.periods]) == (2026, c.committee.pk,
                                                                     ["2026-01", "2026-02", "2026-03"])
    assert f.effective_min_months == 3  # fewer finalized months than the default 10
    a = rows["变电运维党支部"]
    assert [m["grade"] for m in a["months"][:4]] == ["A", "A", "A", None]
    assert [m["total"] for m in a["months"][:3]] == [D("95.0")] * 3
    assert (a["months_evaluated"], a["avg_rate"], a["top_grades"], a["worst_grade"]) == (3, D("95.0"), 3, "A")
    assert (a["peer_rank"], a["peer_size"]) == (4, 5)
    d = rows["配电运检党支部"]
    assert (d["avg_rate"], d["worst_grade"], d["vetoed"], d["peer_rank"]) == (D("99.7"), "D", True, 3)
    assert (rows["电缆运检党支部"]["months_evaluated"], rows["电缆运检党支部"]["peer_rank"]) == (2, 1)
    assert rows["机关第一党支部"]["worst_grade"] == "D" and rows["机关第一党支部"]["avg_rate"] == D("73.3")
    assert len(rows) == 8


def test_candidates_follow_the_rule_and_its_parameters(year):
    c = year
    f, rows = annual(c.staff)
    assert {n for n, r in rows.items() if r["candidate"]} == {"输电运检党支部", "财务共享党支部"}
    assert "考评月数不足3个" in rows["电缆运检党支部"]["not_candidate_because"][0]  # tied first, two months only
    assert "有月份触发一票否决" in rows["配电运检党支部"]["not_candidate_because"]
    assert "非党支部" in rows["运维检修党总支"]["not_candidate_because"]
    # Every level may be proposed: the general branch (alone in its group) joins.
    _f, rows = annual(c.staff, cand_level="all")
    assert {n for n, r in rows.items() if r["candidate"]} == {"输电运检党支部", "财务共享党支部", "运维检修党总支"}
    # The top 80 % of five production branches: ranks 1–4 (branch a is 4th).
    _f, rows = annual(c.staff, top=80)
    assert rows["变电运维党支部"]["candidate"] and not rows["带电作业党支部"]["candidate"]
    # Two months are enough: g (tied first) joins.
    _f, rows = annual(c.staff, min_months=2)
    assert rows["电缆运检党支部"]["candidate"]
    # Only candidates.
    f, rows = annual(c.staff, candidates="1")
    assert set(rows) == {"输电运检党支部", "财务共享党支部"}
    assert bm.AnnualRows(c.staff, f).counts() == {"rows": 2, "candidates": 2}


def test_annual_scope_secretary_sees_own_row_ranked_among_all_peers(year, client):
    c = year
    _f, rows = annual(c.secretary_a)
    assert set(rows) == {"变电运维党支部"} and rows["变电运维党支部"]["peer_rank"] == 4
    client.force_login(c.outsider)
    assert client.get(reverse("assessments:annual")).status_code == 404
    client.force_login(c.secretary_a)
    assert client.get(reverse("assessments:annual"), {"owner": c.branch_a.pk}).status_code == 404


def test_annual_filters_and_bad_input(year, client):
    c = year
    _f, rows = annual(c.staff, level="general")
    assert set(rows) == {"运维检修党总支"}
    _f, rows = annual(c.staff, type=c.branch_c.type_id)
    assert set(rows) == {"机关第一党支部", "财务共享党支部"}
    _f, rows = annual(c.staff, q="运检")
    assert set(rows) == {"输电运检党支部", "配电运检党支部", "电缆运检党支部"}
    _f, rows = annual(c.staff, q="100%_")
    assert rows == {}
    f, _rows = annual(c.staff, top="abc", min_months="99")
    assert (f.rule.top_share, f.rule.min_months) == (20, 10) and len(f.errors) == 2
    _f, rows = annual(c.staff, year=2025)
    assert rows == {}
    client.force_login(c.staff)
    resp = client.get(reverse("assessments:annual"), {"top": "abc"})
    assert resp.status_code == 200 and "排名前百分比应为" in resp.content.decode()


def test_annual_page_states_the_rule_flags_candidates_and_exports(year, client):
    c = year
    client.force_login(c.staff)
    resp = client.get(reverse("assessments:annual"), {"candidates": "1"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "先进党支部候选规则" in html and "只限党支部" in html and "前20%" in html
    assert html.count('data-testid="candidate"') == 2 and "只看候选" in html
    resp = client.get(reverse("assessments:annual"), {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(resp.content)).active
    head = [cell.value for cell in next(ws.iter_rows(max_row=1))]
    assert head[:5] == ["组织名称", "层级", "类型", "1月等级", "1月得分"] and "先进党支部候选" in head
    lines = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert len(lines) == 8 and lines["输电运检党支部"][head.index("先进党支部候选")] == "是"
    assert lines["变电运维党支部"][head.index("平均得分率（%）")] == 95


def test_annual_queries_stay_constant_with_thirty_orgs_and_twelve_months(company, standard, client,
                                                                         django_assert_max_num_queries):
    c = company
    for n in range(30):
        make_org(f"批量党支部{n:02d}", parent=c.general if n % 2 else c.committee,
                 type_code="production" if n % 3 else "management", code=f"BB{n:02d}")
    for m in range(1, 13):
        build_month(c, f"2026-{m:02d}", {c.branch_a: m % 4})
    client.force_login(c.staff)
    with django_assert_max_num_queries(15):
        resp = client.get(reverse("assessments:annual"), {"year": 2026})
    assert resp.status_code == 200 and resp.context["counts"]["rows"] == 34
    with django_assert_max_num_queries(20):  # the export adds the audit record of the download
        assert client.get(reverse("assessments:annual"), {"year": 2026, "format": "xlsx"}).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(url(c.branch_a)).status_code == 200
    a = next(r for r in bm.AnnualRows(c.staff, bm.annual_filters(c.staff, {"year": "2026"})).fetch()
             if r["org_id"] == c.branch_a.pk)
    # Deductions 1, 2, 3, 0 repeated: rates 99, 98, 97, 100 → average 98.5.
    assert (a["months_evaluated"], a["avg_rate"]) == (12, D("98.5"))


# ---- the API ---------------------------------------------------------------------------------------------------


def api_get(client, user, path, **params):
    return client.get("/api/v1" + path, params, headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


def test_api_benchmark_is_the_page_figures(year, client):
    c = year
    resp = api_get(client, c.secretary_a, f"/orgs/{c.branch_a.pk}/benchmark", period_id=c.mar.pk)
    assert resp.status_code == 200
    data = resp.json()
    assert data["summary"]["peer_rank"] == 4 and D(data["summary"]["peer"]["avg"]) == D("97.00")
    zy = data["items"][0]
    assert zy["code"] == "ZY-11" and D(zy["gap_best"]) == D("-3.0") and D(zy["peer_median"]) == D("8.00")
    assert len(data["trend"]) == 3 and len(data["periods"]) == 3
    assert api_get(client, c.secretary_a, f"/orgs/{c.branch_b.pk}/benchmark").status_code == 404
    assert api_get(client, c.staff, f"/orgs/{c.branch_g.pk}/benchmark", period_id=c.jan.pk).status_code == 404


def test_api_annual_is_paginated_and_filters_candidates(year, client):
    c = year
    resp = api_get(client, c.staff, "/annual", limit=3, offset=0)
    data = resp.json()
    assert resp.status_code == 200 and data["count"] == 8 and len(data["items"]) == 3
    assert data["months"] == ["2026-01", "2026-02", "2026-03"] and data["grades"] == ["A", "B", "C", "D"]
    rest = api_get(client, c.staff, "/annual", limit=10, offset=3).json()["items"]
    assert len({r["org_id"] for r in data["items"] + rest}) == 8
    data = api_get(client, c.staff, "/annual", candidates_only="true").json()
    assert {r["name"] for r in data["items"]} == {"输电运检党支部", "财务共享党支部"} and data["candidates"] == 2
    data = api_get(client, c.secretary_a, "/annual").json()
    assert [r["name"] for r in data["items"]] == ["变电运维党支部"]
    assert api_get(client, c.staff, "/annual", top=0).status_code == 422  # refused by the schema
    assert api_get(client, c.outsider, "/annual").status_code == 404
    assert api_get(client, c.secretary_a, "/annual", owner_id=c.branch_b.pk).status_code == 404


def test_a_month_older_than_the_trend_still_has_its_header(year, monkeypatch):
    c = year
    monkeypatch.setattr(bm, "TREND_MONTHS", 1)
    fig = bm.org_benchmark(c.staff, c.branch_a.pk, c.jan.pk)
    assert [t["month"] for t in fig["trend"]] == ["2026-03"]
    assert (fig["summary"]["total"], fig["summary"]["peer"]["avg"]) == (D("95.0"), D("96.50"))
