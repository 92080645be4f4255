"""Reading a finalized month (月兑现结果): the results in a user's scope, filtered and ordered by peer group, the
peer group figures, the adjustments, and the grade badges. Plain query functions shared by the pages
(views_results.py), the API (api_results.py) and the evaluation page's result card.

Everything is read through ``core.access.scope`` with ``eval.view`` on the result's ``org_path``: a secretary or a
member sees their own organization's row (and the peer group figures of its group), the committee's staff and
assessors their whole subtree. Every function is a fixed number of queries whatever the number of organizations.
"""

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from dangjian.assessments.close import parse_rule
from dangjian.assessments.models import Adjustment, PeerAggregate, Period, Result
from dangjian.core.access import can, scope
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level

# Bootstrap badge classes for grades, best first; a rule with more grades repeats the last one.
GRADE_CLASSES = ["success", "primary", "warning", "danger"]
FILTERS = ("level", "type", "grade", "q", "group", "sort")
SORTS = ("peer", "overall")  # by peer group then peer rank (default); by overall rank


def level_order(field: str = "level") -> Case:
    """Committee, general branch, branch: the order of Level, not the alphabet of its codes."""
    return Case(*[When(**{field: value}, then=Value(i)) for i, value in enumerate(Level.values)],
                default=Value(len(Level.values)), output_field=IntegerField())


def grade_badges(period: Period) -> dict[str, str]:
    """Grade → badge class, from the period's own rule (best grade green, the lowest red)."""
    try:
        grades = [g.name for g in parse_rule(period.grade_rule).grades]
    except DomainError:
        return {}
    last = len(grades) - 1
    out = {}
    for i, name in enumerate(grades):
        out[name] = GRADE_CLASSES[-1] if i == last and i else GRADE_CLASSES[min(i, len(GRADE_CLASSES) - 2)]
    return out


def grade_names(period: Period) -> list[str]:
    try:
        return [g.name for g in parse_rule(period.grade_rule).grades]
    except DomainError:
        return []


def visible_results(user, period: Period) -> QuerySet:
    """The month's results the user may see (``eval.view`` on each organization)."""
    return scope(user, "eval.view", Result.objects.filter(period_id=period.pk))


def read_filters(params) -> dict:
    return {k: (params.get(k) or "").strip() for k in FILTERS}


def filter_results(qs: QuerySet, f: dict) -> QuerySet:
    """Filters of the results list: level, type (org type id, or "none" for the untyped), grade, name."""
    if f.get("level") in Level.values:
        qs = qs.filter(level=f["level"])
    if f.get("type") == "none":
        qs = qs.filter(org_type__isnull=True)
    elif (f.get("type") or "").isdigit():
        qs = qs.filter(org_type_id=int(f["type"]))
    if f.get("grade"):
        qs = qs.filter(grade=f["grade"][:10])
    if f.get("q"):
        qs = qs.filter(org_name__contains=f["q"][:100])
    return qs


def ordered(qs: QuerySet, sort: str = "peer") -> QuerySet:
    """By peer group (level, then type), then rank within it; or by overall rank. Ties by path: stable pages."""
    if sort == "overall":
        return qs.order_by("overall_rank", "org_path", "pk")
    return qs.annotate(level_no=level_order()).order_by("level_no", "org_type__order", "org_type_id", "peer_rank",
                                                        "org_path", "pk")


def for_listing(qs: QuerySet, sort: str = "peer") -> QuerySet:
    """The columns a list shows, with the type and an "adjusted" flag, in one query."""
    return ordered(qs, sort).select_related("org_type").annotate(
        adjusted=Exists(Adjustment.objects.filter(result_id=OuterRef("pk"))))


def peer_groups(user, period: Period, results: QuerySet | None = None) -> list[PeerAggregate]:
    """The figures (count, average, median, min, max) of the peer groups the user's results belong to: all of them
    for the committee, the organization's own group for a secretary or member. One query."""
    results = visible_results(user, period) if results is None else results
    # A group is (level, type); the type may be empty (a general branch without a type): two exact matches.
    typed = results.filter(level=OuterRef("level"), org_type_id=OuterRef("org_type_id"))
    untyped = results.filter(level=OuterRef("level"), org_type__isnull=True)
    qs = (PeerAggregate.objects.filter(period_id=period.pk)
          .annotate(has=Exists(typed), has_untyped=Exists(untyped), level_no=level_order())
          .filter(Q(org_type__isnull=False, has=True) | Q(org_type__isnull=True, has_untyped=True))
          .select_related("org_type").order_by("level_no", "org_type__order", "org_type_id"))
    return list(qs)


def adjustments(user, period: Period, result: Result | None = None) -> QuerySet:
    """The month's adjustments in the user's scope (or one result's), newest first."""
    qs = scope(user, "eval.view", Adjustment.objects.filter(result__period_id=period.pk))
    if result is not None:
        qs = qs.filter(result_id=result.pk)
    return qs.select_related("result", "by").order_by("-at", "-pk")


def grade_counts(qs: QuerySet) -> dict[str, int]:
    return dict(qs.order_by().values_list("grade").annotate(n=Count("pk")).values_list("grade", "n"))


def can_adjust(user, period: Period) -> bool:
    return period.is_finalized and can(user, "eval.manage", period.owner.path)


def group_label(level_display, org_type) -> str:
    return f"{level_display} · {org_type.display_name}" if org_type is not None else str(level_display)


def user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


__all__ = ["visible_results", "filter_results", "for_listing", "peer_groups", "adjustments", "grade_badges",
           "grade_counts", "read_filters", "can_adjust", "group_label", "user_name", "level_order", "grade_names"]
