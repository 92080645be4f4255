"""API foundation: bearer tokens, the token endpoint, and shared schemas."""

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from dangjian.core.audit import log_action
from dangjian.core.models import ApiToken

# Swagger UI from the files bundled with django-ninja (served by our static files; no CDN).
docs = Swagger(settings={"persistAuthorization": True})


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None  # the 6-digit TOTP code, for accounts with a second factor


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in: int


class ErrorOut(Schema):
    detail: str


router = Router(tags=["认证"])


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut}, summary="用户名和密码换取访问令牌")
def issue_token(request, body: TokenIn):
    from django.conf import settings
    from django.contrib.auth.signals import user_login_failed

    from dangjian.core import totp

    user = authenticate(request, username=body.username, password=body.password)
    if user is None or not user.is_active:
        raise HttpError(401, _("用户名或密码错误。"))
    device = totp.device_of(user)
    if device is None and totp.required_for(user):
        raise HttpError(401, _("该账号须先在网页上启用双因素认证，才能申请访问令牌。"))
    if device is not None and not totp.verify(device, body.otp or ""):
        # A wrong code is a failed login: audited, and counted by the lockout like a wrong password.
        user_login_failed.send(sender=__name__, credentials={"username": body.username, "stage": "totp"},
                               request=request)
        raise HttpError(401, _("该账号已启用双因素认证：请在 otp 字段填写验证器上当前的6位验证码。"))

    with transaction.atomic():
        key = ApiToken.issue(user)
        log_action(user, "auth.token_issued", request=request)
    return {"token": key, "token_type": "Bearer", "expires_in": settings.API_TOKEN_HOURS * 3600}
