"""Logins, logouts, failed logins and lockouts go to the audit log; a login records how it passed the second
factor in the session (core.middleware.SecondFactorMiddleware reads it)."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from dangjian.core.audit import log_action
from dangjian.core.middleware import SessionTouchMiddleware


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    from dangjian.core.models import TOTPDevice
    from dangjian.core.views_security import SESSION_STATE

    verified = getattr(request, "_dj_2fa_verified", False)
    log_action(user, "auth.login", request=request, **({"second_factor": "totp"} if verified else {}))
    if request is not None and hasattr(request, "session"):
        if verified:
            state = "ok"
        else:
            state = "pending" if TOTPDevice.objects.filter(user_id=user.pk).exists() else "none"
        request.session[SESSION_STATE] = state
        # The login saves the session: the idle-timeout touch (SessionTouchMiddleware) starts from here.
        request.session[SessionTouchMiddleware.KEY] = int(time.time())


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_action(user, "auth.logout", request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    stage = {"stage": credentials["stage"]} if "stage" in credentials else {}
    log_action(None, "auth.login_failed", request=request, username=str(credentials.get("username", ""))[:150],
               **stage)


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    log_action(None, "auth.locked_out", request=request, username=str(username or "")[:150])
