import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from dangjian.core.audit import current_request


class RequestContextMiddleware:
    """Makes the current request (user, IP) known to audit logging inside services."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class SessionTouchMiddleware:
    """Slides the idle timeout (SESSION_COOKIE_AGE, 30 minutes) without writing the session on every request.

    Django's SESSION_SAVE_EVERY_REQUEST costs one UPDATE per page view. Here a signed-in session is saved — its
    expiry and cookie moved to a full SESSION_COOKIE_AGE again — when it was last saved SESSION_TOUCH_SECONDS (60)
    or more ago, so a user is signed out after 29–30 idle minutes and a busy page pays no write. Sessions that do
    not exist yet (no cookie) are never created here. Sits just inside SessionMiddleware, which saves on the way
    out."""

    KEY = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response
        self.every = getattr(settings, "SESSION_TOUCH_SECONDS", 60)

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # keys() loads the session; a cookie naming an expired or deleted session leaves no key and no data.
        if session is not None and session.session_key and session.keys() and session.session_key:
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= self.every:
                session[self.KEY] = now
        return response


class SecondFactorMiddleware:
    """Holds a logged-in session to the second factor (core.views_security explains the login).

    The session says how its login went (``dj_2fa``, set by the user_logged_in receiver): "ok" passes; "pending"
    (a user with a TOTP device logged in some other way than our code step) is logged out and sent to the login
    page; otherwise, when TOTP_REQUIRED_FOR_ADMINS makes a second factor compulsory for the user's roles, every
    page but enrolment, logout and language redirects to enrolment. The JSON API authenticates by bearer token
    and checks the code when the token is issued, so it is not held here."""

    EXEMPT = frozenset({"login", "login_verify", "logout", "totp_setup", "set_language"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from dangjian.core import totp
        from dangjian.core.views_security import SESSION_STATE

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return None
        state = request.session.get(SESSION_STATE)
        if state == "ok":
            return None
        if state == "pending":
            logout(request)
            return redirect_to_login(request.get_full_path())
        match = request.resolver_match
        if match is not None and match.view_name in self.EXEMPT:
            return None
        if totp.required_for(user):
            return redirect(reverse("totp_setup") + "?" + urlencode({"next": request.get_full_path()}))
        return None
