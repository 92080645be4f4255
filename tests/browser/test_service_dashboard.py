"""服务看板 in a real browser: the charts draw (ECharts from the json_script data, no CSP violation), every table
is there, the page fits a 375 px phone, and the evaluation page shows where an auto score came from.
Screenshots go to /tmp/shots/dash-*.png."""

import datetime

import pytest

from tests.browser.conftest import login, shot
from tests.service import dashboard_data as data
from tests.service.dashboard_data import at

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}


def test_dashboard_draws_its_charts_and_fits_a_phone(browser_company, new_page):
    c = browser_company
    grid = data.area(c.branch_a, "东关网格")
    for i, month in enumerate((9, 10, 11)):
        for cat in ("complaint", "need", "praise")[: i + 1]:
            data.need(c.branch_a, datetime.date(2026, month, 5), category=cat, area=grid)
            data.need(c.branch_b, datetime.date(2026, month, 6), category=cat, kind="government")
        data.index(c.branch_a, datetime.date(2026, month, 1), 78 + 5 * i, 30 + i)
        data.index(c.branch_b, datetime.date(2026, month, 1), 85 - i, 20, kind="government")
        data.ticket(c.branch_a, at(2026, month, 2), closed=at(2026, month, 9 + i), due=datetime.date(2026, month, 20))
        data.activity(c.branch_a, datetime.date(2026, month, 12), [(c.member_a, 2 + i)], served=20 + 10 * i)
    low = c.branch_a.satisfaction_indices.get(month=datetime.date(2026, 9, 1))
    data.ticket(c.branch_a, at(2026, 9, 30), closed=at(2026, 10, 10), index=low, due=datetime.date(2026, 10, 20))
    data.ticket(c.branch_b, at(2026, 11, 2), due=datetime.date(2026, 11, 10))
    page = new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text))
    login(page, "staff")
    page.goto("/service/?from=2026-08&to=2026-12")
    page.wait_for_selector("#chart-needs-month canvas")
    for chart in ("needs-month", "needs-category", "needs-area", "tickets", "satisfaction", "teams", "before-after"):
        assert page.locator(f"#chart-{chart} canvas").count() == 1, chart
    assert errors == [] and page.static_failures == []
    page.set_viewport_size(DESKTOP)
    shot(page, "dash-desktop")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth <= 376")
    shot(page, "dash-phone")


def test_the_evaluation_page_shows_the_source_of_an_auto_score(browser_company, new_page):
    from tests.service.test_dashboards_loop import OCT, build_loop, self_assess

    c = build_loop(browser_company)
    data.index(c.branch_a, OCT, 92.5, 37)
    self_assess(c, c.eval_a, c.secretary_a)
    page = new_page()
    login(page, "assessor")
    page.goto(f"/assessments/evaluations/{c.eval_a.pk}/")
    scores = page.locator('[data-testid="item-FW-01"] [data-testid="scores"]')
    assert "来自2026年10月客户满意度指数 92.5（样本 37）" in scores.inner_text()
    assert "2026年10月无应销号的整改工单，由考评员评分" in page.locator(
        '[data-testid="item-FW-02"] [data-testid="auto-note"]').inner_text()
    page.locator('[data-testid="item-FW-01"]').scroll_into_view_if_needed()
    page.set_viewport_size(PHONE)
    page.locator('[data-testid="item-FW-01"]').screenshot(path="/tmp/shots/dash-auto-item-phone.png")
