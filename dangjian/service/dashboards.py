"""Decision-support figures of the service pillar (服务看板), computed set-based.

Every figure is one GROUP BY (or one conditional aggregate) over the rows of the user's subtree, whatever the
number of organizations: needs by category, area and month; tickets open / overdue / closed, time to close
(mean and median days) and recurrence by month, the closure rate by month; satisfaction by month and survey
kind; each improvement that came from a low index with the organization's index before and after it; the
service teams' hours and people served by month. The page, the Excel workbook and the API all call
``service_figures``, so they always show the same numbers.

Two things SQLite and PostgreSQL spell differently are hidden here: the month a date or timestamp falls in
(``month_of``, in the local time zone) and the days between two timestamps (``DaysBetween``).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import NullIf, RowNumber, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import AccessDenied, can, require, scope
from dangjian.core.dates import month_start, next_month
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Organization
from dangjian.service.models import (
    OPEN_STATES,
    Need,
    NeedCategory,
    NeedKind,
    SatisfactionIndex,
    ServiceActivity,
    ServiceArea,
    ServiceParticipation,
    SurveyKind,
    Ticket,
    TState,
)

ACTION = "service.dashboard"
TENTH = Decimal("0.1")
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
BEFORE_AFTER_ROWS = 50
AREA_ROWS = 20


# ---- what SQLite and PostgreSQL spell differently ----------------------------------------------------------


def month_of(field: str):
    """The first day of the month a date or timestamp column falls in, as a date. For timestamps the month is
    the local one (Asia/Shanghai): a ticket closed at 00:30 on 1 November counts in November on both databases."""
    return TruncMonth(field, output_field=DateField())


class DaysBetween(Func):
    """Days (with fractions) from one timestamp column to another."""

    arity = 2
    output_field = FloatField()

    def _parts(self, compiler):
        (a, pa), (b, pb) = (compiler.compile(e) for e in self.get_source_expressions())
        return a, pa, b, pb

    def as_sqlite(self, compiler, connection, **extra):
        a, pa, b, pb = self._parts(compiler)
        return f"(julianday({b}) - julianday({a}))", (*pb, *pa)

    def as_postgresql(self, compiler, connection, **extra):
        a, pa, b, pb = self._parts(compiler)
        return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 86400.0)", (*pb, *pa)

    def as_sql(self, compiler, connection, **extra):  # other backends: not supported by this product
        raise NotImplementedError(connection.vendor)


def local_start(month: datetime.date) -> datetime.datetime:
    """Midnight of the first day of ``month`` in the local time zone (an aware datetime)."""
    return timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))


def dec(value, places: Decimal = TENTH) -> Decimal | None:
    """A sum or mean from either database (float on SQLite, Decimal on PostgreSQL) as a Decimal to 0.1."""
    if value is None:
        return None
    return Decimal(str(round(float(value), 6)) if isinstance(value, float) else value).quantize(
        places, rounding=ROUND_HALF_UP)


def pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = next_month(m)
    return out


# ---- ticket closure rate: the one definition, shared by the dashboard and the loop (assessments.auto) ------


def closure_conditions(month: datetime.date) -> tuple[Q, Q]:
    """(counted, closed) conditions of the closure rate of ``month`` (docs/decisions.md): a ticket counts when it
    is not cancelled, was due in the month or earlier, and was open at some time in the month (opened before the
    month ended and not closed before it began); it is closed when it was closed by the end of the month."""
    start, end = local_start(month), local_start(next_month(month))
    counted = (~Q(state=TState.CANCELLED) & Q(due_date__lt=next_month(month)) & Q(created_at__lt=end)
               & (Q(closed_at__isnull=True) | Q(closed_at__gte=start)))
    return counted, counted & Q(closed_at__lt=end)


# ---- filters ------------------------------------------------------------------------------------------------


@dataclass
class Filters:
    org: Organization | None = None
    area: ServiceArea | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None  # first day of the last month shown

    @property
    def months(self) -> list[datetime.date]:
        return months_between(self.start, self.end)

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (for drill-down links and the export link)."""
        out = {"from": f"{self.start:%Y-%m}", "to": f"{self.end:%Y-%m}"}
        if self.org:
            out["org"] = str(self.org.pk)
        if self.area:
            out["area"] = str(self.area.pk)
        return out


def parse_filters(user, params, today: datetime.date | None = None) -> Filters:
    """``org`` (an organization in the user's scope: its subtree), ``area`` (a service area in scope), ``from``
    and ``to`` (YYYY-MM) or ``months`` (the last N months). An organization or area outside the user's scope
    raises AccessDenied (404); malformed values raise DomainError and nothing is shown."""
    require(user, ACTION)
    today = today or timezone.localdate()
    f = Filters()
    org_id = str(params.get("org") or "").strip()
    if org_id:
        if not org_id.isdigit():
            raise DomainError(_("组织参数无效。"), "org")
        f.org = scope(user, ACTION, Organization.objects.filter(pk=int(org_id))).first()
        if f.org is None:
            raise AccessDenied(ACTION)
    area_id = str(params.get("area") or "").strip()
    if area_id:
        if not area_id.isdigit():
            raise DomainError(_("服务区域参数无效。"), "area")
        f.area = scope(user, ACTION, ServiceArea.objects.select_related("org").filter(pk=int(area_id))).first()
        if f.area is None:
            raise AccessDenied(ACTION)
    last = month_start(today)
    end = str(params.get("to") or "").strip()
    start = str(params.get("from") or "").strip()
    f.end = month_start(end) if end else last
    if start:
        f.start = month_start(start)
    else:
        n = str(params.get("months") or "").strip()
        if n and (not n.isdigit() or not 1 <= int(n) <= MAX_MONTHS):
            raise DomainError(_("月数应为 1 至 {n} 之间的整数。").format(n=MAX_MONTHS), "months")
        f.start = f.end
        for _i in range((int(n) if n else DEFAULT_MONTHS) - 1):
            f.start = month_start(f.start - datetime.timedelta(days=1))
    if f.start > f.end:
        raise DomainError(_("开始月份不能晚于结束月份。"), "from")
    if len(f.months) > MAX_MONTHS:
        raise DomainError(_("统计区间最长 {n} 个月，请缩短区间。").format(n=MAX_MONTHS), "from")
    return f


def _scoped(user, qs, f: Filters, org_field: str, area_field: str | None = None):
    qs = scope(user, ACTION, qs)
    if f.org is not None:
        qs = qs.filter(**{f"{org_field}__path__startswith": f.org.path})
    if f.area is not None and area_field:
        qs = qs.filter(**{area_field: f.area})
    return qs


# ---- the figures --------------------------------------------------------------------------------------------


def need_figures(user, f: Filters) -> dict:
    """Needs received in the range: by category, by area (the 20 largest) and by month and kind. 3 queries."""
    qs = _scoped(user, Need.objects.all(), f, "org", "area").filter(
        received_on__gte=f.start, received_on__lt=next_month(f.end))
    labels = dict(NeedCategory.choices)
    counts = dict(qs.order_by().values_list("category").annotate(n=Count("id")))
    by_category = [{"category": c, "label": str(labels[c]), "count": counts.get(c, 0)} for c in NeedCategory.values]
    by_area = [{"area": a, "label": name or _("未指定区域"), "count": n} for a, name, n in
               qs.order_by().values_list("area_id", "area__name").annotate(n=Count("id")).order_by("-n", "area__name")
               [:AREA_ROWS]]
    cells = {(m, k): n for m, k, n in qs.order_by().annotate(m=month_of("received_on"))
             .values_list("m", "kind").annotate(n=Count("id"))}
    by_month = [{"month": f"{m:%Y-%m}", **{k: cells.get((m, k), 0) for k in NeedKind.values},
                 "total": sum(cells.get((m, k), 0) for k in NeedKind.values)} for m in f.months]
    return {"total": sum(counts.values()), "by_category": by_category, "by_area": by_area, "by_month": by_month}


def ticket_figures(user, f: Filters, today: datetime.date | None = None) -> dict:
    """Tickets of the subtree: now open and now overdue (whatever their age), opened, cancelled, closed and
    recurring in the range, and the share of those opened in the range now closed; then by month of closing the
    number closed, mean and median days to close and recurrences, and the closure rate of each month. 2 queries."""
    today = today or timezone.localdate()
    base = _scoped(user, Ticket.objects.all(), f, "org", "area").order_by()
    start, end = local_start(f.start), local_start(next_month(f.end))
    open_q = Q(state__in=OPEN_STATES)
    opened_q = Q(created_at__gte=start, created_at__lt=end)
    closed_q = Q(state=TState.CLOSED, closed_at__gte=start, closed_at__lt=end)
    # One conditional aggregate: the counts of the range and, per month, the tickets due and closed by its end.
    agg = {
        "total": Count("id", filter=opened_q), "open": Count("id", filter=open_q),
        "overdue": Count("id", filter=open_q & Q(due_date__lt=today)), "closed": Count("id", filter=closed_q),
        "cancelled": Count("id", filter=opened_q & Q(state=TState.CANCELLED)),
        "recurrence": Count("id", filter=closed_q & Q(recurrence=True)),
        "opened_closed": Count("id", filter=opened_q & Q(state=TState.CLOSED)),
    }
    for i, m in enumerate(f.months):
        counted, done = closure_conditions(m)
        agg[f"c{i}"] = Count("id", filter=counted)
        agg[f"d{i}"] = Count("id", filter=done)
    rates = base.aggregate(**agg)
    counts = {k: rates[k] for k in ("total", "open", "overdue", "closed", "cancelled", "recurrence")}
    counts["closed_share"] = pct(rates["opened_closed"], counts["total"] - counts["cancelled"])
    # By month of closing, one windowed query: each month's count, mean days and recurrences ride on its middle
    # row(s) — number the month's tickets by their days and keep the middle one (odd count) or two (even).
    closed = base.filter(closed_at__gte=start, closed_at__lt=end).annotate(
        m=month_of("closed_at"), d=DaysBetween("created_at", "closed_at"))
    month = {"partition_by": [F("m")]}
    ranked = closed.annotate(
        rn=Window(RowNumber(), order_by=[F("d").asc(), F("id").asc()], **month),
        cnt=Window(Count("id"), **month), mean=Window(Avg("d"), **month),
        rec=Window(Sum(Case(When(recurrence=True, then=Value(1)), default=Value(0))), **month))
    per: dict[datetime.date, tuple] = {}
    middle: dict[datetime.date, list[float]] = {}
    for m, d, n, mean, rec in ranked.filter(Q(rn=(F("cnt") + 1) / 2) | Q(rn=(F("cnt") + 2) / 2)).values_list(
            "m", "d", "cnt", "mean", "rec"):
        middle.setdefault(m, []).append(float(d))
        per[m] = (n, mean, rec)
    by_month = []
    for i, m in enumerate(f.months):
        n, mean, rec = per.get(m, (0, None, 0))
        mid = middle.get(m)
        by_month.append({
            "month": f"{m:%Y-%m}", "closed": n, "mean_days": dec(mean),
            "median_days": dec(sum(mid) / len(mid)) if mid else None, "recurrence": rec,
            "recurrence_share": pct(rec, n), "due": rates[f"c{i}"], "closed_by_month_end": rates[f"d{i}"],
            "closure_rate": pct(rates[f"d{i}"], rates[f"c{i}"]),
        })
    return {"counts": counts, "by_month": by_month}


def satisfaction_figures(user, f: Filters) -> dict:
    """The month's indices of the subtree by survey kind: responses, and the mean score and share satisfied
    weighted by each organization's responses. 1 query. (Indices have no area: the area filter does not apply.)"""
    qs = _scoped(user, SatisfactionIndex.objects.all(), f, "org").filter(month__gte=f.start, month__lte=f.end)
    rows = {(m, k): r for m, k, *r in weighted_index(qs.order_by().values("month", "kind"))
            .values_list("month", "kind", "responses_sum", "mean", "share", "orgs")}
    by_month = []
    for m in f.months:
        row = {"month": f"{m:%Y-%m}"}
        for k in SurveyKind.values:
            n, mean, share, orgs = rows.get((m, k), (0, None, None, 0))
            row[k] = {"responses": n or 0, "mean": dec(mean), "share_satisfied": dec(share), "orgs": orgs}
        by_month.append(row)
    return {"kinds": [{"kind": k, "label": str(lbl)} for k, lbl in SurveyKind.choices], "by_month": by_month}


def weighted_index(values_qs):
    """Annotate a ``.values(...)`` queryset of SatisfactionIndex with the response-weighted mean score and share
    satisfied of each group (rows without a score weigh nothing), the responses and the number of organizations.
    Also used by the loop (assessments.auto)."""
    money = DecimalField(max_digits=16, decimal_places=2)
    has_mean, has_share = Q(mean_score__isnull=False), Q(share_satisfied__isnull=False)
    return values_qs.annotate(
        responses_sum=Sum("responses"),
        mean_w=Sum(ExpressionWrapper(F("mean_score") * F("responses"), output_field=money), filter=has_mean),
        mean_n=Sum("responses", filter=has_mean),
        share_w=Sum(ExpressionWrapper(F("share_satisfied") * F("responses"), output_field=money), filter=has_share),
        share_n=Sum("responses", filter=has_share),
        orgs=Count("org", distinct=True),
    ).annotate(
        mean=ExpressionWrapper(F("mean_w") / NullIf(F("mean_n"), 0), output_field=money),
        share=ExpressionWrapper(F("share_w") / NullIf(F("share_n"), 0), output_field=money),
    )


def before_after(user, f: Filters) -> dict:
    """Improvements that came from a low index (Ticket.index) and were closed in the range: the organization's
    index of that month (before) and its first index of the same kind after the month of closing (after).
    1 query, the latest 50 tickets; the summary counts those with an index after."""
    later = SatisfactionIndex.objects.filter(
        org=OuterRef("index__org"), kind=OuterRef("index__kind"), month__gt=OuterRef("closed_on"),
        mean_score__isnull=False).order_by("month")
    qs = (_scoped(user, Ticket.objects.filter(index__isnull=False, state=TState.CLOSED), f, "org", "area")
          .filter(closed_at__gte=local_start(f.start), closed_at__lt=local_start(next_month(f.end)))
          .annotate(closed_on=TruncDate("closed_at"), after_month=Subquery(later.values("month")[:1]),
                    after_mean=Subquery(later.values("mean_score")[:1]))
          .order_by("-closed_at", "-id")
          .values("pk", "number", "title", "org_id", "org__name", "index__month", "index__kind", "index__mean_score",
                  "index__responses", "closed_at", "after_month", "after_mean"))
    kinds = dict(SurveyKind.choices)
    rows, improved, compared, delta_sum = [], 0, 0, Decimal("0")
    for r in qs[:BEFORE_AFTER_ROWS]:
        before, after = dec(r["index__mean_score"]), dec(r["after_mean"])
        change = (after - before) if before is not None and after is not None else None
        if change is not None:
            compared += 1
            delta_sum += change
            improved += change > 0
        rows.append({
            "ticket": r["pk"], "number": r["number"], "title": r["title"], "org": r["org_id"],
            "org_name": r["org__name"], "kind": r["index__kind"], "kind_label": str(kinds.get(r["index__kind"], "")),
            "before_month": f"{r['index__month']:%Y-%m}", "before": before, "responses": r["index__responses"],
            "closed_on": timezone.localtime(r["closed_at"]).date().isoformat(),
            "after_month": f"{r['after_month']:%Y-%m}" if r["after_month"] else None, "after": after,
            "change": change,
        })
    return {"rows": rows, "compared": compared, "improved": improved,
            "mean_change": dec(delta_sum / compared) if compared else None}


def team_figures(user, f: Filters) -> dict:
    """Service teams by month: activities and people served (from the activities), hours and distinct members
    (from the participations). 2 queries. (Teams have no area: the area filter does not apply.)"""
    acts = (_scoped(user, ServiceActivity.objects.all(), f, "team__org")
            .filter(date__gte=f.start, date__lt=next_month(f.end)).order_by())
    a = {m: (n, s) for m, n, s in acts.annotate(m=month_of("date")).values_list("m")
         .annotate(n=Count("id"), s=Sum("people_served")).values_list("m", "n", "s")}
    parts = (_scoped(user, ServiceParticipation.objects.all(), f, "activity__team__org")
             .filter(activity__date__gte=f.start, activity__date__lt=next_month(f.end)).order_by())
    p = {m: (h, n) for m, h, n in parts.annotate(m=month_of("activity__date")).values_list("m")
         .annotate(h=Sum("hours"), n=Count("member", distinct=True)).values_list("m", "h", "n")}
    rows = []
    for m in f.months:
        n, served = a.get(m, (0, 0))
        hours, people = p.get(m, (None, 0))
        rows.append({"month": f"{m:%Y-%m}", "activities": n, "people_served": served or 0,
                     "hours": dec(hours) or Decimal("0.0"), "members": people})
    return {"by_month": rows, "hours": sum((r["hours"] for r in rows), Decimal("0.0")),
            "people_served": sum(r["people_served"] for r in rows)}


def service_figures(user, f: Filters, today: datetime.date | None = None) -> dict:
    """Every figure of the dashboard for the filters (9 queries, whatever the size of the subtree)."""
    require(user, ACTION)
    return {"needs": need_figures(user, f), "tickets": ticket_figures(user, f, today),
            "satisfaction": satisfaction_figures(user, f), "before_after": before_after(user, f),
            "teams": team_figures(user, f)}


def may_view(user) -> bool:
    return can(user, ACTION)
