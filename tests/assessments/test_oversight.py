"""The committee oversight dashboard (assessments.oversight): figures on a month of 34 organizations, scoping,
query counts, the Excel workbook, the JSON and the API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.assessments import oversight as ov
from dangjian.assessments import services
from dangjian.assessments.models import EvalItem, Evaluation, State
from dangjian.core.models import ApiToken
from dangjian.orgs.models import Role
from tests.factories import make_org, make_user

URL = "assessments:oversight"
DATA = "assessments:oversight_data"
API = "/api/v1/dashboards/org-evaluations"
EXTRA = 30  # branches added under the general branch: 34 evaluations in the month


def _totals(qs):
    """Set the evaluations' totals from their items, as the services do when they move them."""
    def total(field):
        s = (EvalItem.objects.filter(evaluation=OuterRef("pk")).order_by().values("evaluation")
             .annotate(t=Sum(field)).values("t"))
        return Coalesce(Subquery(s, output_field=DecimalField(max_digits=6, decimal_places=1)), Value(Decimal("0")))

    qs.update(self_total=total("self_score"), assessor_total=total("assessor_score"))


def _score_month(period, company, lenient, *, weak_code):
    """Every organization assessed: the committee's assessor gives 80 % on every item, the lenient assessor (on
    every other organization) full marks; item ``weak_code`` gets 0 everywhere; self scores equal the assessor's."""
    items = EvalItem.objects.filter(evaluation__period=period)
    items.update(assessor_score=F("max_points") * Decimal("0.8"), assessor=company.assessor)
    evals = list(period.evaluations.order_by("org_path").values_list("pk", flat=True))
    items.filter(evaluation_id__in=evals[::2]).update(assessor_score=F("max_points"), assessor=lenient)
    items.filter(item__code=weak_code).update(assessor_score=Decimal("0"))
    items.update(self_score=F("assessor_score"))
    _totals(period.evaluations.all())
    period.evaluations.update(state=State.ASSESSED)


@pytest.fixture
def month(company, standard):
    for i in range(EXTRA):
        make_org(f"第{i + 1}党支部", parent=company.general, code=f"X{i:03d}")
    company.sub_staff = make_user("sub_staff", Role.STAFF, company.general)
    company.lenient = make_user("lenient", Role.ASSESSOR, company.committee, first_name="宽松")
    period = services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    weak = EvalItem.objects.filter(evaluation__period=period, evaluation__org=company.branch_a).order_by("id")[3]
    _score_month(period, company, company.lenient, weak_code=weak.item.code)
    # Branch B self-scores 20 points above the assessor.
    inflated = period.evaluations.get(org=company.branch_b)
    Evaluation.objects.filter(pk=inflated.pk).update(self_total=F("assessor_total") + Decimal("20"))
    company.period, company.weak_code, company.inflated = period, weak.item.code, inflated
    return company


def _figures(user, params):
    p = ov.parse_params(user, params)
    return p, ov.figures(user, p, today=datetime.date(2026, 10, 20))


# ---- the figures ----------------------------------------------------------------------------------------------


def test_figures_of_the_month(month):
    c = month
    p, fig = _figures(c.staff, {"period": c.period.pk})
    assert p.org == c.committee and p.period == c.period
    n = Evaluation.objects.filter(period=c.period).count()
    assert n == 34
    pr = fig["progress"]
    assert pr["total"] == n and pr["passed"]["assessed"] == n and pr["overdue"] == 0
    assert {r["state"]: r["n"] for r in pr["counts"]}[State.ASSESSED] == n
    # Direct children of the committee: the general branch (itself and its 32 branches) and branch C.
    children = {ch["name"]: ch for ch in pr["children"]}
    assert children["运维检修党总支"]["total"] == 33 and children["机关第一党支部"]["total"] == 1
    d = fig["distribution"]
    assert d["n"] == n and sum(b["count"] for b in d["bins"]) == n
    assert d["median"] is not None and Decimal("0") < d["mean"] < Decimal("100")
    # The weakest item is the one everybody scored 0 on, and every organization loses on it.
    weak = fig["weakest"]["items"][0]
    assert weak["code"] == c.weak_code and weak["avg_rate"] == Decimal("0.0")
    assert weak["losing"] == weak["scored"] >= n - 1
    assert len(fig["weakest"]["items"]) <= ov.WEAK_ITEMS and len(fig["weakest"]["orgs"]) == ov.WEAK_ORGS
    assert all(cell[2] is not None for cell in fig["weakest"]["cells"])
    # Branch B's self-score runs 20 points above: flagged first.
    inf = fig["inflation"]
    assert inf["flagged"] == 1 and inf["rows"][0]["org_id"] == c.branch_b.pk
    assert inf["rows"][0]["gap"] == Decimal("20.0") and inf["rows"][0]["flagged"]
    # The assessor who gives full marks everywhere is lenient; the one who gives 80 % is strict.
    flags = {r["assessor_id"]: r for r in fig["assessors"]["rows"]}
    assert flags[c.lenient.pk]["flag"] == "lenient" and flags[c.lenient.pk]["residual"] > 5
    assert flags[c.assessor.pk]["flag"] == "strict" and flags[c.assessor.pk]["residual"] < -5
    # Ranking per peer group: ranks start at 1, top and bottom do not overlap.
    for g in fig["ranking"]:
        assert g["top"][0]["rank"] == 1
        assert not {r["org_id"] for r in g["top"]} & {r["org_id"] for r in g["bottom"]}
        assert g["size"] >= len(g["top"]) + len(g["bottom"])
    # The open month's average rate per peer group is in the trend's last month.
    t = fig["trend"]
    assert t["months"][-1] == "2026-10" and len(t["months"]) == 12
    assert all(g["values"][-1] is not None for g in t["groups"])


def test_thresholds_change_the_flags(month):
    c = month
    _p, fig = _figures(c.staff, {"period": c.period.pk, "gap": "50", "lenience": "50"})
    assert fig["inflation"]["flagged"] == 0
    assert {r["flag"] for r in fig["assessors"]["rows"]} <= {"", "few"}


def test_small_samples_are_not_flagged(month):
    c = month
    few = EvalItem.objects.filter(evaluation__period=c.period, assessor=c.lenient).order_by("id")
    keep = list(few.values_list("pk", flat=True)[:ov.MIN_ITEMS - 1])
    few.exclude(pk__in=keep).update(assessor=c.assessor)
    _p, fig = _figures(c.staff, {"period": c.period.pk})
    row = next(r for r in fig["assessors"]["rows"] if r["assessor_id"] == c.lenient.pk)
    assert row["n"] == ov.MIN_ITEMS - 1 and row["flag"] == "few"


def test_trend_reads_earlier_months_of_the_same_committee(month):
    c = month
    earlier = services.open_period(c.staff, c.committee, "2026-09", submit_due=datetime.date(2026, 9, 25),
                                   self_due=datetime.date(2026, 9, 28), assess_due=datetime.date(2026, 10, 5))
    items = EvalItem.objects.filter(evaluation__period=earlier)
    items.update(assessor_score=F("max_points") * Decimal("0.5"), self_score=F("max_points") * Decimal("0.5"))
    _totals(earlier.evaluations.all())
    earlier.evaluations.update(state=State.ASSESSED)
    _p, fig = _figures(c.staff, {"period": c.period.pk})
    t = fig["trend"]
    i = t["months"].index("2026-09")
    for g in t["groups"]:
        assert g["values"][i] == Decimal("50.0")
        assert g["values"][-1] > g["values"][i]
    # The dashboard of September ends its trend in September.
    _p, fig = _figures(c.staff, {"period": earlier.pk})
    assert fig["trend"]["months"][-1] == "2026-09" and fig["distribution"]["mean"] == Decimal("50.0")


def test_overdue_and_progress_per_child(company, period):
    Evaluation.objects.filter(period=period, org=company.branch_a).update(state=State.SUBMITTED)
    p, fig = _figures(company.staff, {"period": period.pk})
    fig = ov.figures(company.staff, p, today=datetime.date(2026, 10, 30))
    pr = fig["progress"]
    # branch A waits for its self-assessment (due 10-28), the others for their submission (due 10-25).
    assert pr["overdue"] == pr["total"] == 4
    general = next(ch for ch in pr["children"] if ch["org_id"] == company.general.pk)
    assert general["total"] == 3 and general["submitted"] == 1 and general["assessed"] == 0
    assert fig["distribution"]["n"] == 0 and fig["weakest"]["items"] == [] and fig["assessors"]["rows"] == []


# ---- scoping ----------------------------------------------------------------------------------------------------


def test_sub_committee_staff_sees_only_their_subtree(month):
    c = month
    p, fig = _figures(c.sub_staff, {})
    assert p.period == c.period and p.org == c.general
    assert fig["progress"]["total"] == 33
    names = {r["name"] for r in fig["inflation"]["rows"]} | {o["name"] for o in fig["weakest"]["orgs"]}
    assert "机关第一党支部" not in names
    for params in ({"org": c.committee.pk}, {"org": c.branch_c.pk}, {"period": c.period.pk, "org": c.branch_c.pk}):
        with pytest.raises(ov.AccessDenied):
            ov.parse_params(c.sub_staff, params)


def test_page_access(client, month):
    c = month
    url = reverse(URL)
    for user in (c.outsider, c.secretary_a, c.member_user_a, c.assessor):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(reverse(DATA)).status_code == 404
    client.force_login(c.sub_staff)
    assert client.get(url, {"org": c.branch_c.pk}).status_code == 404
    assert client.get(reverse(DATA), {"org": c.committee.pk}).status_code == 404
    assert client.get(url, {"org": c.branch_a.pk}).status_code == 200
    client.force_login(c.staff)
    assert client.get(url, {"period": 999999}).status_code == 404
    other = make_org("外单位党委", level="committee", type_code=None, code="Z001")
    assert client.get(url, {"org": other.pk}).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_bad_threshold_is_reported_and_changes_nothing(client, month):
    c = month
    client.force_login(c.staff)
    resp = client.get(reverse(URL), {"gap": "abc"})
    assert resp.status_code == 200 and "自评虚高阈值应为 0 至 100 之间的数" in resp.content.decode()
    assert resp.context["p"].gap == ov.DEFAULT_GAP
    resp = client.get(reverse(DATA), {"lenience": "101"})
    assert resp.status_code == 400 and resp.json()["field"] == "lenience"
    resp = client.get(reverse(URL), {"period": "x"})
    assert resp.status_code == 200 and "考评月份参数无效" in resp.content.decode()


# ---- the page, the JSON, the workbook, the API --------------------------------------------------------------


def test_page_and_json_in_a_constant_number_of_queries(client, month):
    c = month
    client.force_login(c.staff)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(reverse(URL), {"period": c.period.pk})
    assert resp.status_code == 200 and len(ctx) <= 14, "\n".join(q["sql"][:300] for q in ctx.captured_queries)
    html = resp.content.decode()
    for section in ("fig-progress", "fig-distribution", "fig-trend", "fig-ranking", "fig-weakest", "fig-inflation",
                    "fig-assessors"):
        assert f'data-testid="{section}"' in html
    assert 'data-url="/assessments/oversight/data/?period=' in html
    assert html.count('data-testid="weak-item"') == len(resp.context["fig"]["weakest"]["items"])
    assert 'data-testid="inflated"' in html and 'data-testid="assessor-lenient"' in html
    assert "<script>" not in html and "assessments/oversight.js" in html
    with CaptureQueriesContext(connection) as ctx:
        data = client.get(reverse(DATA), {"period": c.period.pk})
    assert data.status_code == 200 and len(ctx) <= 15, len(ctx)
    f = data.json()["figures"]
    assert f["weakest"]["items"][0]["code"] == c.weak_code
    assert f["progress"]["total"] == 34 and f["inflation"]["rows"][0]["gap"] == 20.0
    # The page's tables and the JSON come from the same figures.
    assert f["distribution"]["mean"] == float(resp.context["fig"]["distribution"]["mean"])


def test_links_from_the_tables(client, month):
    c = month
    client.force_login(c.staff)
    resp = client.get(reverse(URL))
    fig = resp.context["fig"]
    assert [o["pk"] for o in resp.context["orgs"]] == [c.committee.pk, c.general.pk]
    assert [o["pk"] for o in client.get(reverse(URL), {"org": c.general.pk}).context["orgs"]] == [
        c.committee.pk, c.general.pk]
    general = next(ch for ch in fig["progress"]["children"] if ch["org_id"] == c.general.pk)
    assert f"org={c.general.pk}" in general["url"]
    # Ranking and inflation rows open the organization's benchmark of the month.
    row = fig["inflation"]["rows"][0]
    assert row["url"] == f"{reverse('assessments:org_benchmark', args=[c.branch_b.pk])}?period={c.period.pk}"
    assert all(r["url"] for g in fig["ranking"] for r in g["top"] + g["bottom"])
    weak_org = fig["weakest"]["orgs"][0]
    assert weak_org["url"] == reverse("assessments:evaluation_detail", args=[weak_org["evaluation_id"]])
    branch_c = next(ch for ch in fig["progress"]["children"] if ch["org_id"] == c.branch_c.pk)
    assert branch_c["total_url"].endswith("?q=%E6%9C%BA%E5%85%B3%E7%AC%AC%E4%B8%80%E5%85%9A%E6%94%AF%E9%83%A8")
    assert client.get(general["url"]).status_code == 200


def test_excel_workbook_has_a_sheet_per_table(client, month):
    c = month
    client.force_login(c.staff)
    resp = client.get(reverse(URL), {"period": c.period.pk, "format": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    assert wb.sheetnames == ["考评进度", "下级组织进度", "得分率分布", "同类排名", "得分率趋势", "薄弱细则", "薄弱细则热力图",
                             "自评虚高", "考评员宽严"]
    rows = list(wb["自评虚高"].iter_rows(values_only=True))
    assert rows[1][0] == "输电运检党支部" and rows[1][5] == 20 and rows[1][7] == "是"
    weak = list(wb["薄弱细则"].iter_rows(values_only=True))
    assert weak[1][0] == c.weak_code
    assessors = {r[0]: r[4] for r in list(wb["考评员宽严"].iter_rows(values_only=True))[1:]}
    assert assessors["宽松"] == "偏宽"


def test_api_returns_the_same_figures(client, month):
    c = month
    headers = {"Authorization": f"Bearer {ApiToken.issue(c.staff)}"}
    resp = client.get(API, {"period_id": c.period.pk, "gap": "5"}, headers=headers)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["period"]["id"] == c.period.pk and body["org"]["id"] == c.committee.pk
    assert body["weakest"]["items"][0]["code"] == c.weak_code
    assert body["inflation"]["rows"][0]["org_id"] == c.branch_b.pk
    assert any(r["flag"] == "lenient" for r in body["assessors"]["rows"])
    sub = {"Authorization": f"Bearer {ApiToken.issue(c.sub_staff)}"}
    assert client.get(API, {"org_id": c.branch_c.pk}, headers=sub).status_code == 404
    assert client.get(API, headers=sub).json()["progress"]["total"] == 33
    assert client.get(API, {"gap": "-1"}, headers=headers).status_code in (400, 422)
    sec = {"Authorization": f"Bearer {ApiToken.issue(c.secretary_a)}"}
    assert client.get(API, headers=sec).status_code == 404
    assert client.get(API).status_code == 401


def test_empty_states(client, company, standard):
    client.force_login(company.staff)
    resp = client.get(reverse(URL))
    assert resp.status_code == 200 and "尚无可查看的考评月份" in resp.content.decode()
    services.open_period(company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
                         self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    html = client.get(reverse(URL)).content.decode()
    assert "本月尚无考评得分" in html and 'data-testid="weakest-empty"' in html
    assert 'data-testid="assessors-empty"' in html and 'data-testid="inflation-empty"' in html


def test_figures_take_the_same_queries_for_one_organization_and_for_34(month):
    c = month
    one = ov.parse_params(c.staff, {"period": c.period.pk, "org": c.branch_c.pk})
    every = ov.parse_params(c.staff, {"period": c.period.pk})
    with CaptureQueriesContext(connection) as small:
        fig_one = ov.figures(c.staff, one)
    with CaptureQueriesContext(connection) as large:
        fig_all = ov.figures(c.staff, every)
    assert fig_one["progress"]["total"] == 1 and fig_all["progress"]["total"] == 34
    assert len(small) == len(large) <= 7
