"""What every form the public reaches without login shares (the wall's feedback, needs, surveys).

- ``client_hash(request)``: HMAC-SHA256 under SECRET_KEY of the address and the user agent, so rate limits can
  count a client without storing its address.
- ``client_lock(client)``: serializes one client's submissions across app servers (PostgreSQL advisory lock inside
  the caller's transaction; SQLite serializes write transactions already).
- ``clean_text`` / ``clean_contact`` / ``mask_contact``: the checks and the masking with their Chinese sentences.
- ``PublicFormMixin``: a honeypot field and a signed, timed token bound to the page's key; a post sooner than
  ``min_seconds`` after the form was shown, a day later, or for another key is refused.
- ``qr_svg`` / ``public_url``: the QR code (server-drawn SVG paths, no script) of an absolute public address.
"""

import hashlib
import hmac
import re
import time

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.errors import DomainError

CONTACT_MAX = 40
MAX_PUBLIC_BODY = 16 * 1024  # bytes of a public form post; refused before parsing when larger

# Links in any spelling a spammer uses: a scheme, www., or a host name ending in a common top-level domain.
LINK_RE = re.compile(
    r"(?:[a-z][a-z0-9+.-]{1,15}://|www\s*[.。]|[a-z0-9-]+\s*[.。]\s*"
    r"(?:com|cn|net|org|gov|edu|info|biz|top|xyz|vip|club|site|online|shop|store|cc|tv|io|me|co|app|link|"
    r"ly|tk|ml|ga|cf|gq|ru|icu|wang|ink|fun|live|pro|work|tech|asia|hk|tw)\b)",
    re.IGNORECASE,
)
PHONE_RE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")


class RateLimited(DomainError):
    """Too many submissions from this client or to this page: nothing was stored."""


def client_hash(request) -> str:
    """HMAC-SHA256 (key: SECRET_KEY) of the client's address (REMOTE_ADDR) and user agent."""
    ip = request.META.get("REMOTE_ADDR", "") or ""
    agent = (request.META.get("HTTP_USER_AGENT", "") or "")[:512]
    return hmac.new(settings.SECRET_KEY.encode(), f"{ip}\n{agent}".encode(), hashlib.sha256).hexdigest()


def check_client(client: str) -> None:
    if not client or len(client) != 64:
        raise DomainError(_("无法识别提交来源，请刷新页面后重试。"))


def client_lock(client: str) -> None:
    """Serialize one client's submissions across app servers; call inside the transaction that counts."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [int(client[:15], 16)])


def clean_text(value: str | None, *, min_len: int, max_len: int, field: str = "text", links: bool = False) -> str:
    """Stripped text of ``min_len``..``max_len`` characters, without NUL and (unless ``links``) without links."""
    text = (value or "").strip()
    if "\x00" in text:
        raise DomainError(_("内容含有无效字符，请重新输入。"), field)
    if len(text) < min_len:
        raise DomainError(_("请至少填写{n}个字。").format(n=min_len), field)
    if len(text) > max_len:
        raise DomainError(_("内容不能超过{n}个字，当前{m}个字。").format(n=max_len, m=len(text)), field)
    if not links and LINK_RE.search(text):
        raise DomainError(_("内容中不能包含网址或链接，请删除后再提交。"), field)
    return text


def clean_contact(value: str | None, *, field: str = "contact") -> str:
    """Optional: a mobile or landline number, or an e-mail address."""
    contact = (value or "").strip().replace(" ", "")
    if not contact:
        return ""
    if len(contact) > CONTACT_MAX:
        raise DomainError(_("联系方式不能超过{n}个字符。").format(n=CONTACT_MAX), field)
    if PHONE_RE.match(contact):
        return contact
    if "@" in contact:
        try:
            EmailValidator()(contact)
        except ValidationError:
            pass
        else:
            return contact
    raise DomainError(_("联系方式请填写手机号、固定电话（如 010-12345678）或电子邮箱，也可以不填。"), field)


def mask_contact(value: str) -> str:
    """The contact as lists show it: 139****1234, 010****5678, z***@example.com."""
    if not value:
        return ""
    if "@" in value:
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 7:
        return value[:2] + "*" * (len(value) - 2)
    return value[:3] + "****" + value[-4:]


# ---- the form guards --------------------------------------------------------------------------------------------


TOKEN_MAX_AGE = 24 * 3600


def min_seconds() -> int:
    """How long a person takes at least to fill a public form (setting PUBLIC_FORM_MIN_SECONDS, default 3)."""
    return int(getattr(settings, "PUBLIC_FORM_MIN_SECONDS", getattr(settings, "WALL_FEEDBACK_MIN_SECONDS", 3)))


def form_token(salt: str, key: str) -> str:
    return signing.dumps({"k": key, "t": int(time.time())}, salt=salt, compress=True)


class PublicFormMixin(forms.Form):
    """Honeypot (``website``, hidden by CSS class ``public-hp``) and timed token (``ts``) for a public form.

    The subclass sets ``token_salt``; the view passes ``public_key`` (the page's key) to the constructor.
    """

    token_salt = "dangjian.public"

    website = forms.CharField(required=False, label=gettext_lazy("请勿填写此项"),
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))
    ts = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, public_key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.public_key = public_key
        if not self.is_bound:
            self.initial["ts"] = form_token(self.token_salt, public_key)

    def fresh_token(self) -> str:
        return form_token(self.token_salt, self.public_key)

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise forms.ValidationError(_("提交失败，请刷新页面后重试。"), code="honeypot")
        try:
            token = signing.loads(data.get("ts") or "", salt=self.token_salt, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature as exc:  # also SignatureExpired
            raise forms.ValidationError(_("页面已过期，请刷新页面后重新填写。"), code="token") from exc
        if not isinstance(token, dict) or token.get("k") != self.public_key:
            raise forms.ValidationError(_("页面已过期，请刷新页面后重新填写。"), code="token")
        if time.time() - float(token.get("t", 0)) < min_seconds():
            raise forms.ValidationError(_("提交过快，请确认内容后再提交。"), code="too_fast")
        return data

    @property
    def is_honeypot(self) -> bool:
        return any(e.code == "honeypot" for e in self.errors.as_data().get("__all__", []))


# ---- QR codes ---------------------------------------------------------------------------------------------------


def public_url(request, name: str, *args) -> str:
    """An absolute URL of a public page, for links and QR codes. PUBLIC_BASE_URL (optional setting; the older
    WALL_PUBLIC_BASE_URL is read too) names the address the public reaches the platform by, where it differs from
    the one staff use."""
    path = reverse(name, args=args)
    base = getattr(settings, "PUBLIC_BASE_URL", "") or getattr(settings, "WALL_PUBLIC_BASE_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def qr_svg(text: str, css_class: str, border: int = 2) -> str:
    """An inline <svg> of the QR code, drawn on the server from path data only (no script, no style attribute)."""
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=border)
    svg = img.to_string(encoding="unicode")
    svg = svg[svg.index("<svg"):]  # drop an XML declaration if the library adds one
    # Safe: the SVG holds path data computed here; no text of the URL appears in it. css_class is a constant.
    return mark_safe(svg.replace("<svg ", f'<svg class="{css_class}" role="img" ', 1))  # nosec B308, B703
