"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's live server.

One chromium for the package, a fresh context (cookies, viewport) per page. The live server is transactional, so
the `company` personas are built through `browser_company`, which also asks for a serialized rollback: the
flush after each test would otherwise wipe the org types seeded by the migrations.
"""

import os
from pathlib import Path

import pytest

from tests.audit_db import allow_audit_deletes
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path("/tmp/shots")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 8000


@pytest.fixture(scope="package", autouse=True)
def browser_db(django_db_setup, django_db_blocker):
    """Make the test database fit for the live server's transactional tests, for this package only.

    The audit tables refuse DELETE/TRUNCATE (core migration 0003), but a transactional test flushes every table
    afterwards: switch deletes on here with the retention purge's own switch (tests/audit_db.py) and off at the
    end. Then the flush also took the rows the migrations seeded (org types), which the serialized rollback
    restores before each browser test; restore them once more at the end so tests running later in the same
    session find the database as they expect."""
    from django.db import connection

    with django_db_blocker.unblock():
        allow_audit_deletes(connection, True)
    yield
    with django_db_blocker.unblock():
        allow_audit_deletes(connection, False)
        seeded = getattr(connection, "_test_serialized_contents", None)
        if seeded:
            connection.creation.deserialize_db_from_string(seeded)


@pytest.fixture(scope="package")
def browser(browser_db):
    """One chromium for the browser tests. Package scope (this folder is the whole browser suite) so the
    asyncio loop Playwright leaves running in the main thread ends with it and can't leak into other tests."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    # Playwright's sync API runs an asyncio loop in this thread: Django then refuses ORM calls unless told not to,
    # and asgiref's thread-critical locals (django.db.connections) switch to per-context storage, which would
    # hand the tests a second connection without the serialized seed data. Pin the existing ones.
    old_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pinned = {alias: connections[alias] for alias in connections}
    with sync_playwright() as pw:
        for alias, conn in pinned.items():
            connections[alias] = conn
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
    if old_env is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old_env


@pytest.fixture
def browser_company(live_server, transactional_db, django_db_serialized_rollback, settings, request):
    """The personas of tests/conftest.py, committed, so the live server's thread sees them."""
    # DEBUG is off in tests, so the settings ask for Secure cookies; the live server speaks plain http.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Seven personas with the default PBKDF2 cost take seconds per test; the hasher isn't what's under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return request.getfixturevalue("company")


@pytest.fixture
def new_page(browser, live_server):
    """new_page(phone=False) -> a page in a fresh context, Chinese locale, relative URLs against the live server."""
    contexts = []

    def _new_page(phone=False):
        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  **(PHONE if phone else DESKTOP))
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.static_failures = []
        page.on("response", lambda r: r.status >= 400 and "/static/" in r.url and page.static_failures.append(r.url))
        return page

    yield _new_page
    for ctx in contexts:
        ctx.close()


def login(page, username, password=PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/login/" not in page.url, f"login as {username} failed"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
