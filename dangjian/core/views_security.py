"""Login with a second factor, TOTP enrolment, the lockout page and the security administrator's page.

Login: the password step (Django's LoginView with django-axes in front) logs a user without a TOTP device in
at once. A user with a device is only remembered in the session as "password checked" and sent to the code
step; the login happens when the code is right. Wrong codes count as failed logins (audit log and axes
lockout, keyed on the same username + IP). SecondFactorMiddleware does the rest: a session that did not pass
the code step for a user with a device is logged out, and with TOTP_REQUIRED_FOR_ADMINS the administrator
roles are sent to enrol before anything else.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangjian.core import security, totp
from dangjian.core.access import AccessDenied, holds_at_top
from dangjian.core.errors import DomainError
from dangjian.core.models import TOTPDevice

SESSION_PENDING = "dj_2fa_pending"  # password checked, code not yet: {"user", "backend", "next", "since", "tries"}
SESSION_SETUP = "dj_2fa_setup"  # the secret shown on the enrolment page, until confirmed
SESSION_STATE = "dj_2fa"  # after login: "ok" (code checked), "none" (no device), "pending" (device, not checked)
PENDING_SECONDS = 300
MAX_CODE_TRIES = 5


def lockout_response(request, original_response=None, credentials=None):
    """django-axes calls this for a locked-out username + IP (settings.AXES_LOCKOUT_CALLABLE)."""
    minutes = security.lockout_minutes()
    message = _("登录失败次数过多，该账号在本机已被锁定{minutes}分钟，请稍后再试；如需提前解锁，请联系安全管理员。").format(
        minutes=minutes)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "registration/locked_out.html", {"message": message, "minutes": minutes},
                  status=status)


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if TOTPDevice.objects.filter(user_id=user.pk).exists():
            self.request.session[SESSION_PENDING] = {
                "user": user.pk, "backend": user.backend, "next": self.get_success_url(), "since": time.time(),
                "tries": 0,
            }
            return redirect("login_verify")
        return super().form_valid(form)


def login_verify(request):
    """The code step of a login."""
    pending = request.session.get(SESSION_PENDING)
    if not pending:
        return redirect("login")
    if time.time() - pending["since"] > PENDING_SECONDS:
        del request.session[SESSION_PENDING]
        messages.error(request, _("验证超时，请重新登录。"))
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    device = TOTPDevice.objects.filter(user_id=user.pk).first() if user else None
    if device is None:
        del request.session[SESSION_PENDING]
        return redirect("login")
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        del request.session[SESSION_PENDING]
        return lockout_response(request, None, credentials)
    error = None
    if request.method == "POST":
        if totp.verify(device, request.POST.get("code", "")):
            del request.session[SESSION_PENDING]
            request._dj_2fa_verified = True  # read by the user_logged_in receiver (core.signals)
            auth_login(request, user, backend=pending["backend"])
            return redirect(pending["next"])
        pending["tries"] += 1
        request.session[SESSION_PENDING] = pending
        user_login_failed.send(sender=__name__, credentials={**credentials, "stage": "totp"}, request=request)
        if getattr(request, "axes_locked_out", False):
            del request.session[SESSION_PENDING]
            return lockout_response(request, None, credentials)
        if pending["tries"] >= MAX_CODE_TRIES:
            del request.session[SESSION_PENDING]
            messages.error(request, _("验证码多次不正确，请重新登录。"))
            return redirect("login")
        error = _("验证码不正确或已使用过，请输入验证器上当前显示的6位数字。")
    return render(request, "registration/login_verify.html", {"error": error, "username": user.get_username()})


def _next_url(request, default="home"):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    from django.urls import reverse

    return reverse(default)


@login_required
def totp_setup(request):
    """Enrol a TOTP device (secret, otpauth:// URI and its QR code drawn here as SVG), or see and give up one."""
    user = request.user
    device = TOTPDevice.objects.filter(user_id=user.pk).first()
    required = totp.required_for(user)
    error = None
    if device is not None:
        if request.method == "POST":
            try:
                security.disable_totp(user, request.POST.get("code", ""))
            except DomainError as exc:
                error = exc.message
            else:
                request.session[SESSION_STATE] = "none"
                messages.success(request, _("已停用双因素认证。"))
                return redirect("totp_setup")
        return render(request, "core/totp_status.html", {"device": device, "required": required, "error": error})
    secret = request.session.get(SESSION_SETUP)
    if not secret:
        secret = request.session[SESSION_SETUP] = totp.new_secret()
    if request.method == "POST":
        try:
            security.enrol_totp(user, secret, request.POST.get("code", ""))
        except DomainError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_SETUP, None)
            request.session[SESSION_STATE] = "ok"
            messages.success(request, _("已启用双因素认证，今后登录时需输入验证器上的6位验证码。"))
            return redirect(_next_url(request))
    uri = totp.provisioning_uri(user, secret)
    return render(request, "core/totp_setup.html", {
        "secret": totp.grouped(secret), "uri": uri, "qr": totp.qr_svg(uri), "required": required, "error": error,
        "next": _next_url(request),
    })


def _require_security_admin(request):
    if not holds_at_top(request.user, "security.manage"):
        raise Http404(_("页面不存在，或您无权访问。"))


@login_required
def security_home(request):
    """Lockouts now in force, and who uses a second factor."""
    _require_security_admin(request)
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    lockouts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                                            attempt_time__gte=since).order_by("-attempt_time")[:200]
    devices = TOTPDevice.objects.select_related("user").order_by("user__username")[:500]
    from dangjian.orgs.services import personal_exporters

    return render(request, "core/security.html", {
        "lockouts": lockouts, "devices": devices, "minutes": security.lockout_minutes(),
        "limit": settings.AXES_FAILURE_LIMIT, "required": settings.TOTP_REQUIRED_FOR_ADMINS,
        "exporters": personal_exporters()[:500],
    })


@login_required
@require_POST
def security_personal_grant(request):
    """The explicit permission to export full ID and phone numbers (docs/security.md S6), given to a username."""
    from dangjian.orgs.services import grant_personal_export

    _require_security_admin(request)
    username = request.POST.get("username", "").strip()
    account = User.objects.filter(username=username).first() if username else None
    try:
        grant_personal_export(request.user, account)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已授予 {username} 导出完整身份证号和手机号的权限。").format(username=username))
    return redirect("security_home")


@login_required
@require_POST
def security_personal_revoke(request, pk):
    from dangjian.orgs.services import revoke_personal_export

    _require_security_admin(request)
    account = User.objects.filter(pk=pk).first()
    try:
        revoke_personal_export(request.user, account)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销 {username} 导出完整个人信息的权限。").format(username=account.username))
    return redirect("security_home")


@login_required
@require_POST
def security_unlock(request, pk):
    _require_security_admin(request)
    attempt = AccessAttempt.objects.filter(pk=pk).first()
    if attempt is None:
        raise Http404
    security.unlock(request.user, attempt)
    messages.success(request, _("已解除 {username} 的登录锁定。").format(username=attempt.username))
    return redirect("security_home")


@login_required
@require_POST
def security_totp_reset(request, pk):
    _require_security_admin(request)
    account = User.objects.filter(pk=pk).first()
    if account is None:
        raise Http404
    try:
        security.reset_totp(request.user, account)
    except AccessDenied as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重置 {username} 的双因素认证，其下次登录时需重新绑定验证器。").format(
            username=account.username))
    return redirect("security_home")
