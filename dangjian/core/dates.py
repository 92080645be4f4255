"""Months: every monthly period, index and report is keyed by the first day of its month."""

import datetime

from django.utils.translation import gettext as _

from dangjian.core.errors import DomainError


def month_start(value) -> datetime.date:
    """The first day of the month of a date, or of "YYYY-MM" (a Chinese error for anything else)."""
    if isinstance(value, str):
        try:
            year, month = (int(x) for x in value[:7].split("-"))
            return datetime.date(year, month, 1)
        except ValueError as exc:
            raise DomainError(_("月份格式应为 YYYY-MM，例如 2026-10。"), "month") from exc
    return value.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
