"""Background work of the service app (Django's tasks API; the worker is dangjian.core.worker).

Arguments are strings (stored as JSON); both tasks are idempotent, so a second delivery — even at the same time —
has no further effect:

- ``remind_tickets_task``: the daily reminder of PDCA tickets due; a ticket is claimed (``reminded_at``, rows
  locked with SKIP LOCKED) before it is mailed, so it is reminded at most once a day.
- ``compute_satisfaction_task``: the monthly satisfaction indices (an UPSERT) and the tickets of low ones (the
  index row is locked and checked for a ticket before one is opened).
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from dangjian.core.audit import log_action
from dangjian.core.dates import month_start
from dangjian.service import surveys
from dangjian.service.tickets import remind_due


def satisfaction_months(month: str | None = None) -> list[datetime.date]:
    """``YYYY-MM`` as one month; none: this month and the previous one (late corrections of last month land)."""
    if month:
        return [month_start(month)]
    this = month_start(timezone.localdate())
    return [month_start(this.replace(day=1) - datetime.timedelta(days=1)), this]


def compute_satisfaction(months: list[datetime.date]) -> list[tuple[str, int, int]]:
    """Recompute the indices of each month and open the tickets of low ones: [(YYYY-MM, indices, tickets)]."""
    done = []
    for m in months:
        written, opened = surveys.refresh(m)
        with transaction.atomic():
            log_action(None, "survey.indices_computed", month=f"{m:%Y-%m}", indices=written, tickets=opened)
        done.append((f"{m:%Y-%m}", written, opened))
    return done


@task()
def compute_satisfaction_task(month: str | None = None) -> list:
    """``manage.py compute_satisfaction [--month YYYY-MM]`` as a task."""
    return [list(row) for row in compute_satisfaction(satisfaction_months(month))]


@task()
def remind_tickets_task(day: str | None = None) -> dict:
    """``manage.py remind_tickets [--date YYYY-MM-DD]`` as a task."""
    return remind_due(datetime.date.fromisoformat(day) if day else None)


__all__ = ["compute_satisfaction_task", "remind_tickets_task", "compute_satisfaction", "satisfaction_months"]
