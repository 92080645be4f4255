"""The loop (assessments.auto): organization items scored from the month's satisfaction index or ticket closure
rate, written as an assessor score with its source, shown on the evaluation page; no data, no score; people's
scores stand; the editor sets the rule; Excel keeps it."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.assessments import auto
from dangjian.assessments import services as ev_services
from dangjian.assessments.models import EvalItem, ScoreEntry, State
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import ApiToken, AuditEvent
from dangjian.standards import excel_io
from dangjian.standards import services as std_services
from dangjian.standards.models import AutoSource, Item
from dangjian.standards.services import load_default_set
from tests.factories import make_org
from tests.service import dashboard_data as data
from tests.service.dashboard_data import at

OCT = datetime.date(2026, 10, 1)


@pytest.fixture
def loop(company):
    return build_loop(company)


def build_loop(c):
    """The default standard with two items made auto-scored (customer satisfaction; ticket closure) and the
    month of October 2026 opened for the committee's subtree."""
    c.standard = load_default_set(c.staff, c.committee, 2026)
    category = c.standard.categories.order_by("-order").first()
    common = {"category": category, "methods": ["report", "onsite"], "applies_levels": [], "applies_types": []}
    c.sat_item = std_services.add_item(
        c.staff, c.standard, code="FW-01", text="客户满意度达到公司要求。", max_points=Decimal("5"),
        rule="按当月客户满意度指数计分。", auto_source=AutoSource.CUSTOMER, auto_full_at="95", auto_zero_at="60",
        auto_min_sample=5, **common)
    c.ticket_item = std_services.add_item(
        c.staff, c.standard, code="FW-02", text="整改工单按期销号。", max_points=Decimal("4"),
        rule="按当月整改工单销号率计分。", auto_source=AutoSource.TICKET_CLOSURE, auto_full_at="100",
        auto_zero_at="50", **common)
    std_services.publish_set(c.staff, c.standard)
    c.period = ev_services.open_period(c.staff, c.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
                                       self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    c.eval_a = c.period.evaluations.get(org=c.branch_a)
    c.eval_b = c.period.evaluations.get(org=c.branch_b)
    c.eval_general = c.period.evaluations.get(org=c.general)
    return c


def ei(evaluation, item):
    return EvalItem.objects.get(evaluation=evaluation, item=item)


def self_assess(c, ev, by):
    ev_services.save_summary(by, ev, "本月召开支委会1次、主题党日1次。")
    ev_services.move(by, ev, State.SUBMITTED)
    for row in ev.items.all():
        ev_services.score_item(by, row, "self", row.max_points)
    return ev_services.move(by, ev, State.SELF_ASSESSED)


# ---- the rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("figure", "points"), [("95", "5"), ("99.9", "5"), ("60", "0"), ("12", "0"),
                                                ("92.5", "4.6"), ("77.5", "2.5"), ("60.1", "0")])
def test_the_rule_is_linear_between_the_lines_to_a_tenth(figure, points):
    item = Item(auto_source=AutoSource.CUSTOMER, auto_full_at=Decimal("95"), auto_zero_at=Decimal("60"))
    assert item.auto_points(Decimal(figure), Decimal("5")) == Decimal(points)


# ---- scoring from a SatisfactionIndex row and from tickets -----------------------------------------------


def test_an_item_is_scored_from_the_satisfaction_index_with_its_source(loop):
    c = loop
    data.index(c.branch_a, OCT, 92.5, 37)
    data.index(c.branch_a, OCT, 50, 40, kind="government")  # another kind: not this item's source
    outcomes = auto.apply_auto_scores(c.staff, c.period)
    row = ei(c.eval_a, c.sat_item)
    expected = (c.sat_item.max_points * Decimal("32.5") / 35).quantize(Decimal("0.1"))
    assert row.assessor_score == expected and row.assessor_id is None
    assert row.assessor_reason.startswith("来自2026年10月客户满意度指数 92.5（样本 37）")
    entry = row.entries.get()
    assert (entry.kind, entry.by_id, entry.value) == (ScoreEntry.Kind.ASSESSOR, None, expected)
    assert "客户满意度指数 92.5" in entry.reason
    assert any(o.eval_item_id == row.pk and o.score == expected for o in outcomes)
    event = AuditEvent.objects.get(action="evaluation.auto_scored")
    assert event.user == c.staff and event.data["month"] == "2026-10"


def test_a_general_branch_is_scored_from_its_subtree_weighted_by_responses(loop):
    c = loop
    data.index(c.branch_a, OCT, 90, 30)
    data.index(c.branch_b, OCT, 70, 10)
    data.index(c.branch_c, OCT, 10, 100)  # not under the general branch
    auto.apply_auto_scores(c.staff, c.period)
    row = ei(c.eval_general, c.sat_item)
    assert "满意度指数 85.0（样本 40，含 2 个单位）" in row.assessor_reason
    assert row.assessor_score == (row.max_points * 25 / 35).quantize(Decimal("0.1"))


def test_an_item_is_scored_from_the_ticket_closure_rate(loop):
    c = loop
    due = datetime.date(2026, 10, 20)
    data.ticket(c.branch_a, at(2026, 10, 2), closed=at(2026, 10, 15), due=due)
    data.ticket(c.branch_a, at(2026, 10, 3), closed=at(2026, 10, 30), due=due)
    data.ticket(c.branch_a, at(2026, 10, 3), closed=at(2026, 10, 31, 23), due=due)
    data.ticket(c.branch_a, at(2026, 10, 4), due=due)  # still open
    data.ticket(c.branch_a, at(2026, 10, 4), due=due, state="cancelled")
    data.ticket(c.branch_a, at(2026, 10, 4), due=datetime.date(2026, 11, 30))  # due later
    auto.apply_auto_scores(c.staff, c.period)
    row = ei(c.eval_a, c.ticket_item)
    assert "整改工单销号率 75.0%（应销号 4 件，月末已销号 3 件）" in row.assessor_reason
    assert row.assessor_score == (row.max_points * 25 / 50).quantize(Decimal("0.1"))


def test_no_data_gives_no_score_and_says_so(loop):
    c = loop
    data.index(c.branch_b, OCT, 99, 3)  # below the item's minimum sample of 5
    outcomes = {o.eval_item_id: o for o in auto.apply_auto_scores(c.staff, c.period)}
    a, b = ei(c.eval_a, c.sat_item), ei(c.eval_b, c.sat_item)
    assert a.assessor_score is None and b.assessor_score is None
    assert not ScoreEntry.objects.filter(eval_item__in=[a, b]).exists()
    assert outcomes[a.pk].note == "2026年10月无客户满意度指数数据，由考评员评分"
    assert "样本 3 少于 5" in outcomes[b.pk].note
    assert outcomes[ei(c.eval_a, c.ticket_item).pk].note == "2026年10月无应销号的整改工单，由考评员评分"


def test_running_again_writes_only_what_changed_and_a_person_s_score_stands(loop):
    c = loop
    idx = data.index(c.branch_a, OCT, 80, 20)
    data.index(c.branch_b, OCT, 80, 20)
    auto.apply_auto_scores(c.staff, c.period)
    auto.apply_auto_scores(c.staff, c.period)
    row = ei(c.eval_a, c.sat_item)
    assert row.entries.count() == 1
    idx.mean_score = Decimal("95")
    idx.save()
    auto.apply_auto_scores(c.staff, c.period)
    row.refresh_from_db()
    assert row.assessor_score == row.max_points and row.entries.count() == 2
    # An assessor scores branch B's item by hand: the platform leaves it alone from then on.
    self_assess(c, c.eval_b, c.secretary_b)
    b = ei(c.eval_b, c.sat_item)
    ev_services.score_item(c.assessor, b, "assessor", Decimal("1"), reason="现场抽查发现服务记录不全")
    auto.apply_auto_scores(c.staff, c.period)
    b.refresh_from_db()
    assert b.assessor_score == Decimal("1") and b.assessor == c.assessor


def test_moving_into_assessment_scores_the_items_by_itself(loop):
    c = loop
    data.index(c.branch_a, OCT, 95, 20)
    assert ei(c.eval_a, c.sat_item).assessor_score is None
    self_assess(c, c.eval_a, c.secretary_a)
    row = ei(c.eval_a, c.sat_item)
    assert row.assessor_score == row.max_points and row.entries.get(kind="assessor").by is None
    assert AuditEvent.objects.filter(action="evaluation.auto_scored", data__by_platform=True).exists()


def test_published_and_finalized_months_are_not_touched(loop):
    c = loop
    c.period.status = "finalized"
    c.period.save(update_fields=["status"])
    with pytest.raises(DomainError):
        auto.apply_auto_scores(c.staff, c.period)


def test_only_the_committee_s_staff_may_run_it(loop):
    with pytest.raises(AccessDenied):
        auto.apply_auto_scores(loop.secretary_a, loop.period)
    with pytest.raises(AccessDenied):
        auto.apply_auto_scores(loop.assessor, loop.period)


def test_the_whole_month_takes_a_constant_number_of_queries(loop):
    c = loop
    data.index(c.branch_a, OCT, 92, 30)
    with CaptureQueriesContext(connection) as small:
        auto.apply_auto_scores(c.staff, c.period)
    for i in range(6):
        org = make_org(parent=c.general)
        data.index(org, OCT, 70 + i, 20)
        data.ticket(org, at(2026, 10, 2), closed=at(2026, 10, 5), due=datetime.date(2026, 10, 9))
    c.period.delete()
    period = ev_services.open_period(c.staff, c.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
                                     self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    with CaptureQueriesContext(connection) as large:
        outcomes = auto.apply_auto_scores(c.staff, period)
    assert len(large) <= len(small) + 1 and len(large) <= 14, [q["sql"][:80] for q in large]
    assert sum(1 for o in outcomes if o.score is not None) >= 12


# ---- pages and API ------------------------------------------------------------------------------------


def test_the_evaluation_page_shows_where_the_score_came_from(client, loop):
    c = loop
    data.index(c.branch_a, OCT, 92.5, 37)
    self_assess(c, c.eval_a, c.secretary_a)
    client.force_login(c.assessor)
    html = client.get(reverse("assessments:evaluation_detail", args=[c.eval_a.pk])).content.decode()
    assert 'data-testid="auto-source"' in html and "来自2026年10月客户满意度指数 92.5（样本 37）" in html
    assert "平台按服务数据" in html
    assert "2026年10月无应销号的整改工单，由考评员评分" in html  # the ticket item: left to the assessor


def test_the_month_button_scores_and_is_for_staff_only(client, loop):
    c = loop
    data.index(c.branch_a, OCT, 95, 20)
    url = reverse("service:dashboard_auto_score", args=[c.period.pk])
    client.force_login(c.secretary_a)
    assert client.post(url).status_code == 404
    assert ei(c.eval_a, c.sat_item).assessor_score is None
    client.force_login(c.staff)
    page = client.get(reverse("assessments:period_detail", args=[c.period.pk])).content.decode()
    assert 'data-testid="auto-score"' in page
    resp = client.post(url, follow=True)
    # branch A and its general branch (whose subtree holds branch A's index)
    assert resp.status_code == 200 and "已按服务数据计分 2 项" in resp.content.decode()
    assert ei(c.eval_a, c.sat_item).assessor_score == c.sat_item.max_points
    assert client.get(url).status_code == 405


def test_the_api_scores_the_month(client, loop):
    c = loop
    data.index(c.branch_a, OCT, 95, 20)
    path = f"/api/v1/periods/{c.period.pk}/auto-score"
    token = ApiToken.issue(c.secretary_a)
    assert client.post(path, headers={"Authorization": f"Bearer {token}"}).status_code == 404
    token = ApiToken.issue(c.staff)
    resp = client.post(path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["scored"] == 2 and body["left_to_assessor"] >= 1
    assert any(i["note"].startswith("来自2026年10月客户满意度指数") for i in body["items"])


# ---- the editor, the rules and Excel ----------------------------------------------------------------------


@pytest.fixture
def draft(company):
    return load_default_set(company.staff, company.committee, 2027)


def _item_post(item, **extra):
    base = {"category": item.category_id, "code": item.code, "text": item.text, "max_points": item.max_points,
            "rule": item.rule, "evidence": item.evidence, "methods": item.methods,
            "applies_levels": item.applies_levels}
    return {**base, **extra}


def test_the_editor_sets_the_auto_source(client, company, draft):
    item = draft.items.order_by("order", "id").first()
    client.force_login(company.staff)
    url = reverse("standards:item_edit", args=[item.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="item-auto"' in page and "整改工单销号率" in page
    resp = client.post(url, _item_post(item, auto_source="satisfaction_customer", auto_full_at="95",
                                       auto_zero_at="60", auto_min_sample="5"))
    assert resp.status_code == 302
    item.refresh_from_db()
    assert (item.auto_source, item.auto_full_at, item.auto_zero_at, item.auto_min_sample) == (
        "satisfaction_customer", Decimal("95.0"), Decimal("60.0"), 5)
    detail = client.get(reverse("standards:set_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="auto-badge"' in detail


@pytest.mark.parametrize(("extra", "message"), [
    ({"auto_source": "satisfaction_customer", "auto_full_at": "", "auto_zero_at": "60"}, "满分线"),
    ({"auto_source": "satisfaction_customer", "auto_full_at": "60", "auto_zero_at": "80"}, "零分线应低于满分线"),
    ({"auto_source": "ticket_closure", "auto_full_at": "95", "auto_zero_at": ""}, "零分线"),
])
def test_an_incomplete_rule_is_refused_and_nothing_changes(client, company, draft, extra, message):
    item = draft.items.order_by("order", "id").first()
    client.force_login(company.staff)
    resp = client.post(reverse("standards:item_edit", args=[item.pk]), _item_post(item, **extra))
    assert resp.status_code == 200 and message in resp.content.decode()
    item.refresh_from_db()
    assert item.auto_source == ""


def test_services_clear_the_lines_without_a_source_and_copy_the_rule(company, draft):
    item = draft.items.order_by("order", "id").first()
    std_services.update_item(company.staff, item, auto_source="ticket_closure", auto_full_at="100",
                             auto_zero_at="50")
    copy = std_services.copy_to_new_version(company.staff, draft)
    copied = copy.items.get(code=item.code)
    assert (copied.auto_source, copied.auto_full_at, copied.auto_zero_at) == ("ticket_closure", Decimal("100.0"),
                                                                              Decimal("50.0"))
    std_services.update_item(company.staff, item, auto_source="")
    item.refresh_from_db()
    assert (item.auto_source, item.auto_full_at, item.auto_zero_at) == ("", None, None)
    with pytest.raises(DomainError):
        std_services.update_item(company.staff, item, auto_source="weather")


def test_excel_export_and_import_keep_the_rule(company, draft):
    item = draft.items.order_by("order", "id").first()
    std_services.update_item(company.staff, item, auto_source="satisfaction_customer", auto_full_at="92.5",
                             auto_zero_at="60", auto_min_sample=5)
    content, _name = excel_io.export_set_to_excel(company.staff, draft)
    rows = list(load_workbook(io.BytesIO(content))["考评细则"].iter_rows(values_only=True))
    assert rows[0][-1] == "服务数据计分"
    assert ("客户满意度指数；92.5；60；5") in [r[-1] for r in rows]
    result = excel_io.import_set_from_excel(company.staff, SimpleUploadedFile("s.xlsx", content), owner=company.committee,
                                            year=2028, name="2028年度标准")
    again = result["set"].items.get(code=item.code)
    assert (again.auto_source, again.auto_full_at, again.auto_zero_at, again.auto_min_sample) == (
        "satisfaction_customer", Decimal("92.5"), Decimal("60.0"), 5)


def test_an_older_file_without_the_column_still_imports(company, draft):
    content, _name = excel_io.export_set_to_excel(company.staff, draft)
    wb = load_workbook(io.BytesIO(content))
    ws = wb["考评细则"]
    ws.delete_cols(ws.max_column)
    buf = io.BytesIO()
    wb.save(buf)
    result = excel_io.import_set_from_excel(company.staff, SimpleUploadedFile("old.xlsx", buf.getvalue()),
                                            owner=company.committee, year=2028, name="2028年度标准")
    assert result["count"] == draft.items.count()


def test_a_bad_auto_cell_is_a_row_error_and_nothing_is_imported(company, draft):
    content, _name = excel_io.export_set_to_excel(company.staff, draft)
    wb = load_workbook(io.BytesIO(content))
    ws = wb["考评细则"]
    ws.cell(row=2, column=ws.max_column, value="天气指数；95；60")
    ws.cell(row=3, column=ws.max_column, value="客户满意度指数；60；95")
    buf = io.BytesIO()
    wb.save(buf)
    before = Item.objects.count()
    result = excel_io.import_set_from_excel(company.staff, SimpleUploadedFile("bad.xlsx", buf.getvalue()),
                                            owner=company.committee, year=2028, name="2028年度标准")
    texts = [p.text for p in result["problems"]]
    assert len(texts) == 2 and "第2行" in texts[0] and "零分线应低于满分线" in texts[1]
    assert Item.objects.count() == before


def test_the_demo_scores_the_customer_satisfaction_item(company):
    from dangjian.orgs.models import Organization, OrgType
    from dangjian.service.demo_dashboards import ensure_demo_dashboards

    c = company
    load_default_set(c.staff, c.committee, 2026, publish=True)
    shop = make_org("营业厅党支部", parent=c.committee, type_code="business")
    assert OrgType.objects.filter(code="business").exists() and isinstance(shop, Organization)
    period = ev_services.open_period(c.staff, c.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
                                     self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    data.index(shop, OCT, 86.5, 40)
    result = ensure_demo_dashboards(c.committee, c.staff, None)
    row = EvalItem.objects.get(evaluation__period=period, evaluation__org=shop, item__code="ZY-33")
    assert result["items"] == 1 and result["scored"] == 1
    assert row.assessor_score == Decimal("3.5") and "客户满意度指数 86.5（样本 40）" in row.assessor_reason
    again = ensure_demo_dashboards(c.committee, c.staff, None)
    assert again["items"] == 0 and row.entries.count() == 1
