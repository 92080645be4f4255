"""The whole loop of issue 5 in a real browser: a citizen's need from the QR form becomes a ticket that the branch
runs through Plan → Do (an action with a photo as evidence) → Check (a return first, then the call-back) → Act →
销号, each step on the ticket's page; the dashboard then counts it closed. A low survey month opens its ticket by
itself and the ticket list shows it. Screenshots go to /tmp/shots/pdca-*.png."""

import datetime
import io
from decimal import Decimal

import pytest
from PIL import Image

from dangjian.service import needs as need_services
from dangjian.service import survey_indices
from dangjian.service import surveys as survey_services
from dangjian.service.models import Need, Origin, QKind, SatisfactionIndex, SurveyResponse, Ticket, TState
from tests.browser.conftest import login, no_horizontal_scroll, shot

pytestmark = pytest.mark.browser


def _photo(tmp_path) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buf, "JPEG")
    path = tmp_path / "现场照片.jpg"
    path.write_bytes(buf.getvalue())
    return str(path)


def _move(page, to_state: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid=move-{to_state}]")


def _save(page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid={form}-save]")


def test_a_need_from_the_qr_form_runs_the_whole_pdca_in_the_browser(browser_company, new_page, settings, tmp_path):
    settings.PUBLIC_FORM_MIN_SECONDS = 0
    c = browser_company
    channel = need_services.enable_channel(c.staff, c.branch_a)

    phone = new_page(phone=True)
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(f"/service/p/need/{channel.key}/")
    phone.click("label[for=id_category_1]")  # 投诉
    phone.fill("#id_text", "小区路灯旁的电线下垂，雨天有安全隐患，请尽快处理。")
    phone.fill("#id_contact", "13912345678")
    with phone.expect_navigation():
        phone.click("[data-testid=public-need-submit]")
    need = Need.objects.get()

    page = new_page()
    login(page, "secretary_a")
    page.goto(f"/service/needs/{need.pk}/")
    with page.expect_navigation():
        page.click("[data-testid=accept]")
    ticket = Ticket.objects.get(need=need)
    page.goto(f"/service/tickets/{ticket.pk}/")

    # Plan: moving on without analysis and measures is refused with a sentence; then filled and moved.
    _move(page, "do")
    ticket.refresh_from_db()
    assert ticket.state == TState.PLAN and page.locator(".alert-danger, .alert-warning").count() >= 1
    plan = "[data-testid=plan-form]"
    page.fill(f"{plan} [name=analysis]", "导线老化，线夹松动。")
    page.fill(f"{plan} [name=measures]", "更换线夹，收紧导线，排查同片区线路。")
    page.fill(f"{plan} [name=due_date]", (datetime.date.today() + datetime.timedelta(days=5)).isoformat())
    _save(page, "plan")
    _move(page, "do")
    ticket.refresh_from_db()
    assert ticket.state == TState.DO and ticket.analysis.startswith("导线老化")

    # Do: an action with a photo as evidence, then to Check.
    action = "[data-testid=action-form]"
    page.fill(f"{action} [name=date]", datetime.date.today().isoformat())
    page.fill(f"{action} [name=text]", "抢修班更换线夹两处，导线已收紧。")
    page.set_input_files(f"{action} [name=files]", _photo(tmp_path))
    _save(page, "action")
    assert ticket.actions.count() == 1 and ticket.evidence.count() == 1
    _move(page, "check")

    # Check: the branch first returns it with a reason, then passes it after the call-back.
    page.click("[data-testid=move-do]")
    page.fill("[data-testid=reason-do]", "回访发现邻近杆塔也有松动，需一并处理。")
    with page.expect_navigation():
        page.click("[data-testid=confirm-do]")
    ticket.refresh_from_db()
    assert ticket.state == TState.DO
    _move(page, "check")
    check = "[data-testid=check-form]"
    page.fill(f"{check} [name=verification]", "现场核查隐患已消除。")
    page.select_option(f"{check} [name=satisfaction]", "satisfied")
    page.fill(f"{check} [name=callback_on]", datetime.date.today().isoformat())
    _save(page, "check")
    _move(page, "act")

    # Act: standardization and 举一反三 (a complaint needs both), then 销号.
    act = "[data-testid=act-form]"
    page.fill(f"{act} [name=standardization]", "将线夹检查纳入月度巡视卡。")
    page.fill(f"{act} [name=similar_cases]", "排查全所同型号线夹 36 处。")
    _save(page, "act")
    _move(page, "closed")
    ticket.refresh_from_db()
    assert ticket.state == TState.CLOSED and ticket.closed_at is not None
    assert ticket.satisfaction == "satisfied"
    steps = list(ticket.transitions.values_list("from_state", "to_state"))
    assert [s for s in steps if s[0] != s[1]] == [("plan", "do"), ("do", "check"), ("check", "do"), ("do", "check"),
                                                  ("check", "act"), ("act", "closed")]
    assert page.locator("[data-testid=history-row]").count() >= 6
    shot(page, "pdca-closed-desktop")
    page.set_viewport_size({"width": 375, "height": 812})
    assert no_horizontal_scroll(page)
    shot(page, "pdca-closed-phone")

    assert page.static_failures == []


def test_a_low_survey_month_opens_its_ticket_by_itself_and_the_list_shows_it(browser_company, new_page):
    c = browser_company
    survey = survey_services.create_survey(c.staff, c.committee, title="客户满意度调查", kind="customer",
                                           threshold=Decimal("80"), min_responses=3)
    survey_services.add_question(c.staff, survey, kind=QKind.SCALE, text="供电质量", topic="供电质量")
    survey_services.add_links(c.staff, survey, orgs=[c.branch_a])
    survey_services.open_survey(c.staff, survey)
    link = survey.links.get()
    month = datetime.date.today().replace(day=1)
    for _ in range(4):  # 不满意 four times: 0 points
        SurveyResponse.objects.create(survey=survey, link=link, org=c.branch_a, month=month, score=Decimal("0"))
    survey_indices.refresh(month)  # what the nightly compute_satisfaction runs
    index = SatisfactionIndex.objects.get(org=c.branch_a, month=month)
    ticket = Ticket.objects.get(index=index)
    assert ticket.origin == Origin.SURVEY and ticket.state == TState.PLAN

    page = new_page()
    login(page, "staff")
    page.goto("/service/tickets/?origin=survey")
    assert ticket.number in page.content()
    shot(page, "pdca-survey-ticket-list")
