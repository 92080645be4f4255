"""Counts from the activity records that pre-fill a member's month (so nobody types the same fact twice).

``prefill_counts`` is what the month opening calls: one aggregate query per kind of record, whatever the number
of members, grouped by member in the database. The keys are the ``ActivitySource`` values of the member
standard items (standards.models): an item whose ``source`` names one of them gets the member's count as its
``prefill_count``.

- ``meeting_attended``: meetings of the month the member attended (出席);
- ``meeting_absent``: meetings of the month the member missed without leave (缺席; 请假 is not counted);
- ``lecture_given``: 党课 of the month the member gave (the meeting's 授课人);
- ``study``: study records dated in the month;
- ``dues_missing``: 1 when the month's dues are not recorded or were paid after the month's last day, else 0;
- ``service_hours``: whole hours of volunteer service in the month (the sum, rounded down).
"""

import calendar
import datetime
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    ServiceRecord,
    StudyRecord,
)
from dangjian.orgs.models import Member
from dangjian.standards.models import ActivitySource

# Member ids per IN (...): far below SQLite's (32 766) and PostgreSQL's (65 535) bound-parameter limits.
CHUNK = 10_000

SOURCES = tuple(v for v in ActivitySource.values if v)


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of the month ``month`` falls in."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _chunks(member_ids: list[int] | None) -> Iterator[list[int] | None]:
    if member_ids is None:
        yield None
        return
    ids = sorted(set(member_ids))
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _members(qs: QuerySet, prefix: str, ids: list[int] | None, org_path: str | None) -> QuerySet:
    """Rows of the members asked for: ``prefix`` leads from the row to its member ("member__", "lecturer__")."""
    if ids is not None:
        qs = qs.filter(**{f"{prefix}id__in": ids})
    if org_path:
        qs = qs.filter(**{f"{prefix}org__path__startswith": org_path})
    return qs


def prefill_counts(month: datetime.date, member_ids: list[int] | None = None,
                   org_path: str | None = None) -> dict[tuple[int, str], int]:
    """{(member_id, source): count} for the month of ``month`` (its first day).

    Members are those of ``member_ids`` (all of them, on the rolls or not) and/or, with ``org_path``, those whose
    organization lies in that subtree; with neither, every member. Counts of zero are left out, except
    ``dues_missing``: it is present for every member asked for (0 or 1) — for ``org_path`` or everyone, for the
    members on the rolls (``Member.active``). Five queries whatever the number of members; five per ``CHUNK``
    ids when ``member_ids`` holds more."""
    first, last = month_bounds(month)
    in_month = {"date__gte": first, "date__lte": last}
    out: dict[tuple[int, str], int] = {}
    if member_ids is not None and not member_ids:
        return out
    for ids in _chunks(member_ids):
        # Organization life: attended and absent in one grouped query.
        rows = (_members(Attendance.objects.filter(**{f"meeting__{k}": v for k, v in in_month.items()}),
                         "member__", ids, org_path)
                .filter(status__in=[AttendanceStatus.PRESENT, AttendanceStatus.ABSENT])
                .order_by().values("member_id")
                .annotate(attended=Count("id", filter=Q(status=AttendanceStatus.PRESENT)),
                          absent=Count("id", filter=Q(status=AttendanceStatus.ABSENT))))
        for r in rows:
            if r["attended"]:
                out[(r["member_id"], ActivitySource.MEETING_ATTENDED.value)] = r["attended"]
            if r["absent"]:
                out[(r["member_id"], ActivitySource.MEETING_ABSENT.value)] = r["absent"]
        # 党课 given.
        rows = (_members(Meeting.objects.filter(kind=MeetingKind.LECTURE, lecturer__isnull=False, **in_month),
                         "lecturer__", ids, org_path)
                .order_by().values("lecturer_id").annotate(n=Count("id")))
        for r in rows:
            out[(r["lecturer_id"], ActivitySource.LECTURE_GIVEN.value)] = r["n"]
        # Study records.
        rows = (_members(StudyRecord.objects.filter(**in_month), "member__", ids, org_path)
                .order_by().values("member_id").annotate(n=Count("id")))
        for r in rows:
            out[(r["member_id"], ActivitySource.STUDY.value)] = r["n"]
        # Volunteer service: whole hours of the month's sum.
        rows = (_members(ServiceRecord.objects.filter(**in_month), "member__", ids, org_path)
                .order_by().values("member_id").annotate(h=Sum("hours")))
        for r in rows:
            hours = int((r["h"] or Decimal(0)).to_integral_value(rounding=ROUND_FLOOR))
            if hours > 0:
                out[(r["member_id"], ActivitySource.SERVICE_HOURS.value)] = hours
        # Dues: every member asked for, paid on time or not.
        members = Member.objects.all()
        if ids is None:
            members = members.filter(active=True)
        members = _members(members, "", ids, org_path)
        on_time = DuesPayment.objects.filter(member=OuterRef("pk"), month=first, on_time=True, paid_on__lte=last)
        for member_id, paid in members.order_by().annotate(paid=Exists(on_time)).values_list("id", "paid"):
            out[(member_id, ActivitySource.DUES_MISSING.value)] = 0 if paid else 1
    return out


__all__ = ["SOURCES", "month_bounds", "prefill_counts"]
