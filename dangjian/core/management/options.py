"""Options shared by the daily commands (cron)."""

import datetime

from django.core.management.base import CommandError


def day_option(value: str | None) -> datetime.date | None:
    """``--date YYYY-MM-DD`` taken as "today" (to catch up or test); None when not given."""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError("日期格式应为 YYYY-MM-DD，例如 2026-05-01。") from exc
