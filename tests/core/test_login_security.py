"""Login security (QUALITY.md S3): lockout after 5 failures for 30 minutes on username + IP, idle timeout of
30 minutes, TOTP second factor (enrolment with a server-drawn QR code, a code step after the password, required
for the administrator roles by setting), and the security administrator who unlocks and resets."""

import datetime

import pyotp
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.core import totp
from dangjian.core.models import AuditEvent, TOTPDevice
from dangjian.orgs.models import Role
from tests.factories import PASSWORD, make_user

T0 = 1_800_000_015.0  # a fixed moment, 15 s into a 30-second step


@pytest.fixture
def clock(monkeypatch):
    """The TOTP clock, frozen and movable: clock.now = ..."""

    class Clock:
        now = T0

    c = Clock()
    monkeypatch.setattr(totp, "_now", lambda: c.now)
    return c


def code(secret, at, steps=0):
    return pyotp.TOTP(secret).at(at + 30 * steps)


def post_login(client, username, password=PASSWORD, ip="10.0.0.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def is_logged_in(client):
    return client.get(reverse("home")).status_code == 200


# ---- lockout -------------------------------------------------------------------------------------------


def test_five_failures_lock_that_username_from_that_ip_for_30_minutes(client, company):
    for i in range(4):
        assert post_login(client, "staff", "wrong").status_code == 200, i
    resp = post_login(client, "staff", "wrong")
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.content.decode() and "30分钟" in resp.content.decode()
    # Even the right password is refused now, from that IP ...
    resp = post_login(client, "staff")
    assert resp.status_code == 429 and not is_logged_in(client)
    assert AuditEvent.objects.filter(action="auth.locked_out", username="staff").exists()
    # ... but not from another IP, and not for another user from the same IP.
    assert post_login(client, "staff", ip="10.0.0.8").status_code == 302
    client.logout()
    assert post_login(client, "assessor").status_code == 302
    client.logout()
    # 30 minutes later the lock is gone.
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert post_login(client, "staff").status_code == 302 and is_logged_in(client)


def test_a_successful_login_resets_the_count(client, company):
    for _ in range(4):
        post_login(client, "staff", "wrong")
    assert post_login(client, "staff").status_code == 302
    client.logout()
    for _ in range(4):
        assert post_login(client, "staff", "wrong").status_code == 200


def test_the_api_token_endpoint_is_locked_out_too(client, company):
    url = "/api/v1/auth/token"
    for _ in range(5):
        resp = client.post(url, {"username": "staff", "password": "wrong"}, content_type="application/json",
                           REMOTE_ADDR="10.0.0.9")
    assert resp.status_code == 429 and "登录失败次数过多" in resp.json()["detail"]


def test_the_security_administrator_lifts_a_lockout(client, company):
    for _ in range(5):
        post_login(client, "staff", "wrong")
    officer = make_user("security_officer", Role.SECURITY, company.committee)
    client.force_login(officer)
    page = client.get(reverse("security_home"))
    assert page.status_code == 200 and "staff" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="staff")
    assert client.post(reverse("security_unlock", args=[attempt.pk])).status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.get(action="security.unlocked").data["after"]["account"] == "staff"
    client.logout()
    assert post_login(client, "staff").status_code == 302


# ---- idle timeout --------------------------------------------------------------------------------------


def test_a_session_ends_after_30_idle_minutes_and_each_request_starts_them_again(client, company):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_TOUCH_SECONDS == 60
    client.force_login(company.staff)
    key = client.session.session_key
    session = client.session
    session["_touched"] -= 61  # the login wrote the session a minute ago
    session.save()
    # 25 minutes of idling: still in, and the request gives the full 30 minutes again.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get(reverse("home")).status_code == 200
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)
    # Within the minute the expiry is not written again (no UPDATE per page view) ...
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE \"django_session\"")]
    assert Session.objects.get(pk=key).expire_date - timezone.now() <= datetime.timedelta(minutes=5)
    # ... a minute after the last write it is: the full 30 minutes again.
    session = client.session
    session["_touched"] -= 61
    session.save()
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get(reverse("home")).status_code == 200
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)
    # 30 minutes of idling: out.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    resp = client.get(reverse("home"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("login"))


def test_a_stale_session_cookie_creates_no_session(client, company):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    before = Session.objects.count()
    assert client.get(reverse("login")).status_code == 200
    assert client.get("/").status_code == 302
    assert Session.objects.count() == before


# ---- TOTP ----------------------------------------------------------------------------------------------


def enrol(client, clock, steps=-1):
    page = client.get(reverse("totp_setup"))
    secret = client.session["dj_2fa_setup"]
    resp = client.post(reverse("totp_setup"), {"code": code(secret, clock.now, steps)})
    assert resp.status_code == 302, resp.content.decode()
    return page, secret


def test_enrolment_shows_the_secret_and_a_qr_code_drawn_on_the_server(client, company, clock):
    client.force_login(company.staff)
    page = client.get(reverse("totp_setup"))
    html = page.content.decode()
    secret = client.session["dj_2fa_setup"]
    assert totp.grouped(secret) in html
    assert "otpauth://totp/" in html and f"secret={secret}" in html
    svg = html[html.index('<svg class="totp-qr"'):html.index("</svg>") + 6]
    assert "<path" in svg and "script" not in svg and "style" not in svg and "href" not in svg
    # A wrong code enrols nothing and says why.
    resp = client.post(reverse("totp_setup"), {"code": "000000"})
    assert "验证码不正确" in resp.content.decode() and not TOTPDevice.objects.exists()
    resp = client.post(reverse("totp_setup"), {"code": code(secret, clock.now)})
    assert resp.status_code == 302
    device = TOTPDevice.objects.get(user=company.staff)
    assert device.secret == secret
    assert AuditEvent.objects.filter(action="auth.totp_enrolled", user=company.staff).exists()
    assert "双因素认证已启用" in client.get(reverse("totp_setup")).content.decode()


def test_login_with_a_second_factor(client, company, clock):
    client.force_login(company.staff)
    _, secret = enrol(client, clock)
    client.logout()
    resp = post_login(client, "staff")
    assert resp.status_code == 302 and resp.url == reverse("login_verify")
    assert not is_logged_in(client)  # the password alone does not log in
    page = client.get(reverse("login_verify"))
    assert "验证码" in page.content.decode()
    resp = client.post(reverse("login_verify"), {"code": code(secret, clock.now)}, REMOTE_ADDR="10.0.0.7")
    assert resp.status_code == 302 and is_logged_in(client)
    login = AuditEvent.objects.filter(action="auth.login", user=company.staff).latest("id")
    assert login.data == {"second_factor": "totp"}


def test_a_code_is_accepted_only_once(client, company, clock):
    client.force_login(company.staff)
    _, secret = enrol(client, clock)
    client.logout()
    post_login(client, "staff")
    client.post(reverse("login_verify"), {"code": code(secret, clock.now)})
    assert is_logged_in(client)
    client.logout()
    post_login(client, "staff")
    resp = client.post(reverse("login_verify"), {"code": code(secret, clock.now)})
    assert resp.status_code == 200 and "已使用过" in resp.content.decode() and not is_logged_in(client)
    clock.now += 30
    client.post(reverse("login_verify"), {"code": code(secret, clock.now)})
    assert is_logged_in(client)


def test_wrong_codes_count_as_failed_logins_and_lock_out(client, company, clock):
    client.force_login(company.staff)
    enrol(client, clock)
    client.logout()
    post_login(client, "staff")
    for _ in range(4):
        resp = client.post(reverse("login_verify"), {"code": "123456"}, REMOTE_ADDR="10.0.0.7")
        assert resp.status_code == 200
    resp = client.post(reverse("login_verify"), {"code": "123456"}, REMOTE_ADDR="10.0.0.7")
    assert resp.status_code == 429
    failed = AuditEvent.objects.filter(action="auth.login_failed", username="staff")
    assert failed.count() == 5 and all(e.data["stage"] == "totp" for e in failed)
    assert post_login(client, "staff").status_code == 429  # the password step is locked as well


def test_a_session_that_skipped_the_code_step_is_logged_out(client, company, clock):
    client.force_login(company.staff)
    enrol(client, clock)
    client.logout()
    client.force_login(company.staff)  # like a login through any other door than our code step
    resp = client.get(reverse("home"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("login"))
    assert not is_logged_in(client)


def test_administrators_must_enrol_first_when_the_setting_says_so(client, company, clock, settings):
    settings.TOTP_REQUIRED_FOR_ADMINS = True
    client.force_login(company.staff)  # 党建管理员 is not an administrator role
    assert client.get(reverse("home")).status_code == 200
    for user in (company.admin, make_user("security_officer", Role.SECURITY, company.committee),
                 make_user("auditor", Role.AUDITOR, company.committee)):
        client.force_login(user)
        resp = client.get(reverse("audit_list"))
        assert resp.status_code == 302 and resp.url.startswith(reverse("totp_setup")), user
        page = client.get(resp.url)
        assert "须先启用双因素认证" in page.content.decode()
        secret = client.session["dj_2fa_setup"]
        resp = client.post(resp.url, {"code": code(secret, clock.now), "next": reverse("audit_list")})
        assert resp.status_code == 302 and resp.url == reverse("audit_list")
        assert client.get(reverse("home")).status_code == 200
        # ... and cannot give it up.
        clock.now += 30
        resp = client.post(reverse("totp_setup"), {"code": code(secret, clock.now)})
        assert TOTPDevice.objects.filter(user=user).exists()
        client.logout()


def test_others_may_give_up_their_second_factor(client, company, clock):
    client.force_login(company.staff)
    _, secret = enrol(client, clock)
    clock.now += 30
    resp = client.post(reverse("totp_setup"), {"code": code(secret, clock.now)})
    assert resp.status_code == 302 and not TOTPDevice.objects.exists()
    assert AuditEvent.objects.filter(action="auth.totp_disabled").exists()


def test_the_api_asks_for_the_code_of_an_account_with_a_second_factor(client, company, clock, settings):
    client.force_login(company.staff)
    _, secret = enrol(client, clock)
    client.logout()
    url = "/api/v1/auth/token"
    body = {"username": "staff", "password": PASSWORD}
    resp = client.post(url, body, content_type="application/json")
    assert resp.status_code == 401 and "otp" in resp.json()["detail"]
    resp = client.post(url, body | {"otp": code(secret, clock.now)}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["token"]
    settings.TOTP_REQUIRED_FOR_ADMINS = True
    resp = client.post(url, {"username": "admin", "password": PASSWORD}, content_type="application/json")
    assert resp.status_code == 401 and "双因素认证" in resp.json()["detail"]


def test_the_security_administrator_resets_a_lost_second_factor(client, company, clock):
    client.force_login(company.staff)
    enrol(client, clock)
    officer = make_user("security_officer", Role.SECURITY, company.committee)
    client.force_login(officer)
    assert "staff" in client.get(reverse("security_home")).content.decode()
    assert client.post(reverse("security_totp_reset", args=[company.staff.pk])).status_code == 302
    assert not TOTPDevice.objects.exists()
    event = AuditEvent.objects.get(action="security.totp_reset")
    assert event.user_id == officer.pk and event.data["after"]["account"] == "staff"
    # A security administrator of one branch only is no security administrator.
    client.force_login(make_user("branch_officer", Role.SECURITY, company.branch_a))
    assert client.get(reverse("security_home")).status_code == 404
