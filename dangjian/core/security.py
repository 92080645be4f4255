"""Operations of the second factor and the security administrator: enrol or give up a TOTP device, reset one,
unlock a locked-out login. Each checks permission, runs in one transaction and writes its audit event."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from dangjian.core import totp
from dangjian.core.access import AccessDenied, holds_at_top
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.models import TOTPDevice


def require_security_admin(user) -> None:
    # Lockouts and second factors belong to no organization: the role must be held on a top-level one.
    if not holds_at_top(user, "security.manage"):
        raise AccessDenied("security.manage")


@transaction.atomic
def enrol_totp(user, secret: str, code: str) -> TOTPDevice:
    """Confirm a new device: the code must come from the secret the page showed."""
    step = totp.matching_step(secret, code)
    if step is None:
        raise DomainError(_("验证码不正确，请核对手机时间后输入验证器上当前显示的6位数字。"), "code")
    if TOTPDevice.objects.select_for_update().filter(user_id=user.pk).exists():
        raise DomainError(_("您已启用双因素认证。"))
    device = TOTPDevice.objects.create(user=user, secret=secret, last_counter=step)
    log_action(user, "auth.totp_enrolled", user)
    return device


@transaction.atomic
def disable_totp(user, code: str) -> None:
    """Give up one's own device, proving possession with a current code; not for the roles that must have one."""
    device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None:
        raise DomainError(_("您尚未启用双因素认证。"))
    if totp.required_for(user):
        raise DomainError(_("管理员角色必须使用双因素认证，不能停用；更换手机请联系安全管理员重置。"))
    if not totp.verify(device, code):
        raise DomainError(_("验证码不正确或已使用过。"), "code")
    device.delete()
    log_action(user, "auth.totp_disabled", user)


@transaction.atomic
def reset_totp(user, account) -> None:
    """The security administrator removes a user's device (a lost phone): the user enrols again at next login."""
    require_security_admin(user)
    if account.is_superuser and not user.is_superuser:
        raise AccessDenied("security.manage")
    deleted, _rows = TOTPDevice.objects.filter(user_id=account.pk).delete()
    if not deleted:
        raise DomainError(_("该账号未启用双因素认证。"))
    log_action(user, "security.totp_reset", account, after={"account": account.get_username()})


@transaction.atomic
def unlock(user, attempt) -> int:
    """Lift a lockout of one username from one IP before its 30 minutes are over."""
    from axes.utils import reset

    require_security_admin(user)
    removed = reset(ip=attempt.ip_address, username=attempt.username)
    log_action(user, "security.unlocked", after={"account": attempt.username, "ip": attempt.ip_address,
                                                "failures": attempt.failures_since_start})
    return removed


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
