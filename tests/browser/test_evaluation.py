"""The monthly evaluation in a real browser: the committee's coverage page on a desktop, and an assessor scoring
an item on a phone-sized screen (the save goes through HTMX and the card is replaced in place). Screenshots go
to /tmp/shots/eval-*.png."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dangjian.assessments import services
from dangjian.assessments.models import EvalItem, Period, State
from dangjian.standards.services import load_default_set
from tests.browser.conftest import login, no_horizontal_scroll, shot

pytestmark = pytest.mark.browser
D = datetime.date


@pytest.fixture
def month(browser_company):
    """A month in which branch A has self-assessed, branch B has reported, and the others are late."""
    c = browser_company
    load_default_set(c.staff, c.committee, 2026, publish=True)
    period = services.open_period(c.staff, c.committee, "2026-10", submit_due=D(2026, 10, 25),
                                  self_due=D(2026, 10, 28), assess_due=D(2099, 11, 5))
    ev_a = period.evaluations.get(org=c.branch_a)
    services.save_summary(c.secretary_a, ev_a, "本月召开支委会1次、党员大会1次，开展主题党日“迎峰度夏保供电”。")
    services.move(c.secretary_a, ev_a, State.SUBMITTED)
    for n, ei in enumerate(ev_a.items.all()):
        services.score_item(c.secretary_a, ei, "self", ei.max_points - (1 if n == 0 else 0),
                            reason="缺一次支委会记录" if n == 0 else "")
    services.move(c.secretary_a, ev_a, State.SELF_ASSESSED)
    ev_b = period.evaluations.get(org=c.branch_b)
    services.save_summary(c.staff, ev_b, "本月工作小结。")
    services.move(c.staff, ev_b, State.SUBMITTED)
    # The submission deadline has passed for the organizations that have not reported.
    Period.objects.filter(pk=period.pk).update(submit_due=D(2020, 1, 25), self_due=D(2099, 1, 1))
    c.period, c.ev_a = period, ev_a
    return c


def test_staff_see_the_coverage_of_the_month(month, new_page):
    page = new_page()
    login(page, "staff")
    page.goto("/assessments/")
    expect(page.locator("[data-testid=period-table]")).to_contain_text("2026-10")
    with page.expect_navigation():
        page.locator("[data-testid=period-table] a", has_text="2026-10").click()
    table = page.locator("[data-testid=coverage-table]")
    expect(table).to_contain_text("变电运维党支部")
    expect(table.locator("[data-testid=overdue]")).to_have_count(2)
    expect(page.locator("[data-testid=state-cards]")).to_contain_text("已自评")
    # The progress segments get their widths from eval.js (no inline styles under the CSP).
    width = page.evaluate("document.querySelector('.eval-stacked .progress').style.width")
    assert width.endswith("%"), width
    assert page.static_failures == []
    shot(page, "eval-coverage-desktop")
    # Drill down from the table to the organization's month.
    with page.expect_navigation():
        table.get_by_role("link", name="变电运维党支部").click()
    expect(page.locator("h1")).to_contain_text("变电运维党支部")
    expect(page.locator("[data-testid=transitions]")).to_contain_text("退回自评")
    page.locator("[data-testid=return-submitted]").click()
    expect(page.locator("#return-submitted textarea")).to_be_visible()
    shot(page, "eval-detail-desktop")


def test_an_assessor_scores_an_item_on_a_phone(month, new_page):
    c = month
    ei = c.ev_a.items.order_by("id").first()
    page = new_page(phone=True)
    login(page, "assessor")
    page.goto(f"/assessments/evaluations/{c.ev_a.pk}/")
    card = page.locator(f"#item-{ei.pk}")
    expect(card.locator("[data-testid=assess-form]")).to_be_visible()
    assert no_horizontal_scroll(page)
    # A card per item with big inputs: the score input spans most of the phone's width.
    box = card.locator("input[name=score]").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 200, box
    shot(page, "eval-assess-phone")
    card.locator("input[name=score]").fill(str(ei.max_points - Decimal("0.5")))
    card.locator("textarea[name=reason]").fill("主题党日记录缺照片")
    card.get_by_role("button", name="保存考评").click()
    saved = page.locator(f"#item-{ei.pk}")
    expect(saved.get_by_text("已保存")).to_be_visible()
    expect(saved.locator("[data-testid=assessor-score]")).to_have_text(str(ei.max_points - Decimal("0.5")))
    ei.refresh_from_db()
    assert ei.assessor_score == ei.max_points - Decimal("0.5") and ei.assessor_reason == "主题党日记录缺照片"
    # A deduction without a reason is refused on the card; the typed value stays.
    other = c.ev_a.items.order_by("id")[1]
    card = page.locator(f"#item-{other.pk}")
    card.locator("input[name=score]").fill("0")
    card.get_by_role("button", name="保存考评").click()
    expect(page.locator(f"#item-{other.pk} [data-testid=item-error]")).to_contain_text("扣分须说明理由")
    expect(page.locator(f"#item-{other.pk} input[name=score]")).to_have_value("0")
    assert EvalItem.objects.get(pk=other.pk).assessor_score is None
    shot(page, "eval-assess-phone-saved")
