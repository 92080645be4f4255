"""Security in a real browser: the Content-Security-Policy blocks nothing the pages need (no violation reported
on the main pages, with HTMX, Bootstrap's dropdowns and the tree), and an administrator who must use a second
factor enrols by scanning the server-drawn QR code (here: reading the key shown) and then logs in with codes."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def csp_violations(page):
    found = []
    page.on("console", lambda m: "Content Security Policy" in m.text and found.append(m.text))
    return found


def test_the_pages_run_under_the_csp_without_violations(browser_company, new_page):
    page = new_page()
    violations = csp_violations(page)
    login(page, "staff")
    page.locator("[data-testid=user-menu]").click()  # Bootstrap's dropdown (script from 'self')
    expect(page.get_by_text("双因素认证")).to_be_visible()
    page.goto("/orgs/")
    page.locator("[data-testid=org-tree] [data-tree-toggle]").first.click()  # HTMX request
    expect(page.get_by_role("link", name="运维检修党总支")).to_be_visible()
    for url in ("/orgs/members/", "/orgs/list/", "/audit/", "/account/2fa/", "/password/"):
        page.goto(url)
        expect(page.locator("main")).to_be_visible()
    assert violations == []


def test_an_administrator_enrols_a_second_factor_and_logs_in_with_it(browser_company, new_page, settings):
    settings.TOTP_REQUIRED_FOR_ADMINS = True
    page = new_page()
    violations = csp_violations(page)
    login(page, "admin")
    assert "/account/2fa/" in page.url  # sent to enrol before anything else
    expect(page.locator("[data-testid=totp-required]")).to_be_visible()
    qr = page.locator("[data-testid=totp-qr] svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # drawn at a scannable size
    shot(page, "totp-enrol")
    secret = re.sub(r"\s", "", page.locator("[data-testid=totp-secret]").inner_text())
    totp = pyotp.TOTP(secret)
    page.fill("input[name=code]", totp.now())
    with page.expect_navigation():
        page.get_by_role("button", name="启用").click()
    expect(page.get_by_text("已启用双因素认证")).to_be_visible()

    page.locator("[data-testid=user-menu]").click()
    with page.expect_navigation():
        page.locator("[data-testid=logout]").click()
    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url.endswith("/login/verify/")
    shot(page, "totp-verify")
    page.fill("#id_code", totp.at(time.time() + 30))  # the next step's code: the enrolment used this one
    with page.expect_navigation():
        page.click("form button[type=submit]")
    expect(page.locator("nav.navbar .nav-link", has_text="审计日志")).to_be_visible()
    assert violations == []
