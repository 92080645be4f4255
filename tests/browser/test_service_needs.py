"""需求征集 in a real browser: a citizen opens the public form from the QR code on a 375 px phone, sends a need
and gets its number; staff find it masked in the ledger, reveal the contact on the detail page and accept it; the
channel page shows the QR code and the A4 poster. Screenshots go to /tmp/shots/needs-*.png."""

import pytest

from dangjian.service import needs as services
from dangjian.service.models import Need, Ticket
from tests.browser.conftest import login, no_horizontal_scroll, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}


def test_a_citizen_sends_a_need_from_a_phone_and_staff_accept_it(browser_company, new_page, settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 0
    c = browser_company
    services.create_area(c.staff, c.branch_a, name="城关网格", grid_manager="李卫东")
    services.create_area(c.staff, c.branch_a, name="东城网格")
    channel = services.enable_channel(c.staff, c.branch_a)

    phone = new_page(phone=True)
    phone.set_viewport_size(PHONE)
    phone.goto(f"/service/p/need/{channel.key}/")
    assert no_horizontal_scroll(phone)
    phone.click("label[for=id_category_1]")  # 投诉
    phone.select_option("#id_area", label="城关网格")
    phone.fill("#id_text", "最近一周晚上停电三次，家里老人用制氧机很不方便，请尽快查明原因。")
    phone.fill("#id_requester", "王女士")
    phone.fill("#id_contact", "13912345678")
    shot(phone, "needs-public-phone")
    with phone.expect_navigation():
        phone.click("[data-testid=public-need-submit]")
    need = Need.objects.get()
    assert phone.locator("[data-testid=public-need-number]").inner_text() == need.number
    assert no_horizontal_scroll(phone) and phone.static_failures == []
    shot(phone, "needs-thanks-phone")
    assert (need.category, need.area.name, need.channel) == ("complaint", "城关网格", "public")

    page = new_page()
    login(page, "secretary_a")
    page.goto("/service/needs/")
    assert "139****5678" in page.content() and "13912345678" not in page.content()
    shot(page, "needs-list-desktop")
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    shot(page, "needs-list-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/service/needs/{need.pk}/")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("[data-testid=reveal]")
    assert page.locator("[data-testid=need-contact]").inner_text() == "13912345678"
    shot(page, "needs-detail-desktop")
    with page.expect_navigation():
        page.click("[data-testid=accept]")
    assert Ticket.objects.get().need_id == need.pk
    assert page.locator("[data-testid=need-ticket]").count() == 1

    page.goto(f"/service/needs/channels/{channel.pk}/")
    assert page.locator("[data-testid=channel-qr] svg").count() == 1
    shot(page, "needs-channel-desktop")
    page.goto(f"/service/needs/channels/{channel.pk}/poster/")
    assert page.locator("[data-testid=poster] svg").count() == 1 and page.static_failures == []
    shot(page, "needs-poster-a4")
