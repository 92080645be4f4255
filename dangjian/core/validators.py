"""Validators for Chinese personal data. Messages say what is wrong and how to fix it."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_birth_date(value: str) -> datetime.date | None:
    try:
        return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def validate_id_number(value: str) -> None:
    """18-digit 居民身份证号码 (GB 11643): format, birth date and ISO 7064 MOD 11-2 check character."""
    value = normalize_id_number(value)
    if not _ID_RE.match(value):
        raise ValidationError(_("身份证号应为18位，前17位为数字，最后一位为数字或X。"), code="id_format")
    born = id_birth_date(value)
    if born is None or born > datetime.date.today() or born.year < 1900:
        raise ValidationError(_("身份证号中的出生日期无效，请核对第7至14位。"), code="id_birth")
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对后重新输入。"), code="id_checksum")


def validate_phone(value: str) -> None:
    if value and not _PHONE_RE.match(value.strip()):
        raise ValidationError(_("手机号应为以1开头的11位数字。"), code="phone")


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:]
