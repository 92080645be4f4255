"""The TOTP second factor (RFC 6238: 30-second steps, 6 digits, SHA-1 — what every authenticator app reads).

pyotp makes and checks the codes; qrcode draws the otpauth:// URI as an SVG path on the server, so the enrolment
page needs no script and no outside service. A code is accepted for the current step or one step either side
(clock drift), and each step only once per device (``TOTPDevice.last_counter``), so a code seen over a shoulder
cannot be used again.
"""

import hmac
import time

import pyotp
from django.conf import settings
from django.utils import timezone

from dangjian.core import public
from dangjian.core.access import roles_of
from dangjian.core.models import TOTPDevice
from dangjian.orgs.models import Role

INTERVAL = 30
DIGITS = 6
# 等保 三员: the roles that must use the second factor when TOTP_REQUIRED_FOR_ADMINS is set.
ADMIN_ROLES = frozenset({Role.ADMIN, Role.SECURITY, Role.AUDITOR})


def _now() -> float:
    return time.time()


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, the size RFC 4226 recommends


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.get_username(), issuer_name=settings.TOTP_ISSUER)


def qr_svg(text: str) -> str:
    return public.qr_svg(text, "totp-qr", border=4)


def code_from(text: str) -> str:
    return "".join(ch for ch in (text or "") if not ch.isspace())


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step the code belongs to (current, previous or next), or None."""
    code = code_from(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    step = int((_now() if now is None else now) // INTERVAL)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def verify(device: TOTPDevice, code: str, now: float | None = None) -> bool:
    """Check a code against a device and use it up: the same step is refused afterwards, also concurrently."""
    step = matching_step(device.secret, code, now)
    if step is None:
        return False
    used = TOTPDevice.objects.filter(pk=device.pk, last_counter__lt=step).update(
        last_counter=step, last_used_at=timezone.now())
    return used == 1


def device_of(user) -> TOTPDevice | None:
    if not getattr(user, "is_authenticated", False) and not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user_id=user.pk).first()


def required_for(user) -> bool:
    """Must this user enrol before using anything? Only when the setting is on, for the administrator roles."""
    if not settings.TOTP_REQUIRED_FOR_ADMINS:
        return False
    return bool(user.is_superuser or roles_of(user) & ADMIN_ROLES)
