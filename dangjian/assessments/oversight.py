"""The committee oversight dashboard of a month (随时掌握, 对标): progress, score distribution, ranking per peer
group, trend, the weakest items, inflated self-scores and lenient or strict assessors — over the subtree of one
organization, for the holders of ``eval.oversee`` (the committee's staff and administrators).

``parse_params`` reads the filters (a period or organization outside the user's scope raises AccessDenied: 404;
malformed values raise DomainError); ``figures`` computes every figure with a fixed number of set-based queries
whatever the size of the subtree (6). The page, its JSON, its Excel workbook and the API all call
``figures``, so they always show the same numbers.

Score rates are percentages to 0.1: ``Result.score_rate`` for a finalized month (it follows later adjustments),
otherwise ``assessor_total / max_total`` of the evaluations that have been assessed.
"""

import datetime
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.assessments.models import EvalItem, Evaluation, Period, PeriodStatus, State
from dangjian.assessments.services import WAITING_DUE
from dangjian.core.access import AccessDenied, allowed_paths, require, scope
from dangjian.core.dates import month_start
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization
from dangjian.standards.models import ancestor_or_self_paths

ACTION = "eval.oversee"
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")
DEFAULT_GAP = Decimal("5")  # inflation threshold: percent of the full score
DEFAULT_LENIENCE = Decimal("5")  # assessor threshold: percentage points
MIN_ITEMS = 10  # an assessor is flagged only with at least this many scored items
BIN = 5  # width of a histogram bin, in percent
RANK_SHOWN = 3
WEAK_ITEMS = 15
WEAK_ORGS = 20
TREND_MONTHS = 12
INFLATION_ROWS = 50
PERIOD_CHOICES = 36

# Cumulative progress: an evaluation in a later state has passed every earlier step.
PASSED = {
    "submitted": {State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED, State.PUBLISHED, State.OBJECTED,
                  State.FINALIZED},
    "self_assessed": {State.SELF_ASSESSED, State.ASSESSED, State.PUBLISHED, State.OBJECTED, State.FINALIZED},
    "assessed": {State.ASSESSED, State.PUBLISHED, State.OBJECTED, State.FINALIZED},
    "published": {State.PUBLISHED, State.OBJECTED, State.FINALIZED},
}
SEGMENT = 8  # one path segment: seven digits and a dot ("0000001.")


def dec(value, places: Decimal = TENTH) -> Decimal | None:
    """A figure from either database (float on SQLite, Decimal on PostgreSQL) as a Decimal to 0.1, half up."""
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(str(round(value, 6)))
    return Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def rate_of(score, full) -> Decimal | None:
    if score is None or not full:
        return None
    return dec(Decimal(score) * HUNDRED / Decimal(full))


def _float_rate(score: str, full: str):
    """score / full in percent, computed by the database as a float (the same on SQLite and PostgreSQL)."""
    return ExpressionWrapper(Cast(score, FloatField()) * Value(100.0) / Cast(full, FloatField()),
                             output_field=FloatField())


def _lost():
    return ExpressionWrapper(F("max_points") - F("assessor_score"),
                             output_field=DecimalField(max_digits=8, decimal_places=1))


def peer_label(level: str, type_name: str | None) -> str:
    lvl = str(Level(level).label) if level in Level.values else level
    return f"{lvl} · {_(type_name)}" if type_name else lvl


def person_name(first: str, last: str, username: str) -> str:
    return f"{last or ''}{first or ''}".strip() or username or _("（已删除的用户）")


# ---- filters ------------------------------------------------------------------------------------------------


@dataclass
class Params:
    period: Period
    org: Organization
    gap: Decimal = DEFAULT_GAP
    lenience: Decimal = DEFAULT_LENIENCE

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (links, the export, the JSON URL)."""
        out = {"period": str(self.period.pk), "org": str(self.org.pk)}
        if self.gap != DEFAULT_GAP:
            out["gap"] = str(self.gap)
        if self.lenience != DEFAULT_LENIENCE:
            out["lenience"] = str(self.lenience)
        return out


def overseeable_periods(user):
    """Months the user may oversee: opened by a committee inside the user's ``eval.oversee`` subtree, or by an
    ancestor of it (a sub-committee's staff oversee their part of the committee's month). One query."""
    qs = Period.objects.select_related("owner")
    paths = allowed_paths(user, ACTION)
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    cond = Q()
    for p in paths:
        cond |= Q(owner__path__startswith=p) | Q(owner__path__in=ancestor_or_self_paths(p))
    return qs.filter(cond)


def _number(params, name: str, default: Decimal, label: str) -> Decimal:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal("0") <= value <= HUNDRED:
        raise DomainError(_("{label}应为 0 至 100 之间的数。").format(label=label), name)
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def _id(params, name: str, label: str) -> int | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise DomainError(_("{label}参数无效。").format(label=label), name)
    return int(raw)


def parse_params(user, params, periods=None) -> Params | None:
    """``period`` (default: the latest month the user may oversee), ``org`` (default: the period's committee, or
    the user's own organization under it), ``gap`` and ``lenience`` (thresholds, 0–100). A period or organization
    outside the scope raises AccessDenied; malformed values raise DomainError. None when there is no month yet.
    ``periods`` may pass the already fetched list of choices (saves a query)."""
    require(user, ACTION)
    period_id = _id(params, "period", _("考评月份"))
    org_id = _id(params, "org", _("组织"))
    gap = _number(params, "gap", DEFAULT_GAP, _("自评虚高阈值"))
    lenience = _number(params, "lenience", DEFAULT_LENIENCE, _("考评员宽严阈值"))
    qs = overseeable_periods(user)
    if period_id is None:
        period = next(iter(periods), None) if periods is not None else qs.order_by("-month", "owner__path").first()
        if period is None:
            if org_id is not None:
                raise AccessDenied(ACTION)
            return None
    else:
        period = next((p for p in periods or () if p.pk == period_id), None) or qs.filter(pk=period_id).first()
        if period is None:
            raise AccessDenied(ACTION)
    owner = period.owner
    if org_id is None or org_id == owner.pk:
        paths = allowed_paths(user, ACTION)
        if paths is None or any(owner.path.startswith(p) for p in paths):
            org = owner
        else:
            under = [p for p in paths if p.startswith(owner.path)]
            if org_id is not None or not under:
                raise AccessDenied(ACTION)
            org = Organization.objects.get(path=under[0])
    else:
        org = scope(user, ACTION, Organization.objects.filter(pk=org_id, path__startswith=owner.path)).first()
        if org is None:
            raise AccessDenied(ACTION)
    return Params(period=period, org=org, gap=gap, lenience=lenience)


# ---- the figures --------------------------------------------------------------------------------------------


def _evaluations(user, p: Params):
    return scope(user, ACTION, Evaluation.objects.filter(period=p.period, org_path__startswith=p.org.path))


def _rows(user, p: Params) -> list[dict]:
    """Every evaluation of the subtree with its totals, peer group and final result. 1 query."""
    return list(_evaluations(user, p).order_by("org_path").values(
        "pk", "org_id", "org_name", "org_path", "level", "org_type_id", "org_type__name", "state", "max_total",
        "self_total", "assessor_total", "result__total", "result__score_rate"))


def _score(r: dict, finalized: bool) -> tuple[Decimal | None, Decimal | None]:
    """(score, rate) of an evaluation row: the result when finalized, else the assessor total (None: not yet)."""
    if finalized and r["result__score_rate"] is not None:
        return dec(r["result__total"]), dec(r["result__score_rate"])
    if r["assessor_total"] is None or not r["max_total"]:
        return None, None
    return dec(r["assessor_total"]), rate_of(r["assessor_total"], r["max_total"])


def progress(p: Params, rows: list[dict], today: datetime.date) -> dict:
    """Counts per state, overdue, and per direct child of the organization (its subtree's rows). No query."""
    period = p.period
    is_open = period.status == PeriodStatus.OPEN

    def overdue(r):
        field = WAITING_DUE.get(r["state"])
        return is_open and field is not None and today > getattr(period, field)

    counts = {s: 0 for s in State.values}
    children: dict[str, dict] = {}
    width = len(p.org.path) + SEGMENT
    for r in rows:
        late = overdue(r)
        r["overdue"] = late
        counts[r["state"]] += 1
        key = r["org_path"][:width]
        c = children.setdefault(key, {"org_id": None, "name": "", "level": "", "total": 0, "overdue": 0,
                                      **{k: 0 for k in PASSED}})
        if r["org_path"] == key:
            c.update(org_id=r["org_id"], name=r["org_name"], level=r["level"], evaluation_id=r["pk"],
                     is_branch=r["level"] == Level.BRANCH, own=len(key) < width)
        c["total"] += 1
        c["overdue"] += late
        for k, states in PASSED.items():
            c[k] += r["state"] in states
    out = []
    for key in sorted(children):
        c = children[key]
        if c["org_id"] is None:  # the child itself is not evaluated this month (archived): name it by its rows
            c.update(name=_("（未参评的下级组织）"), level="", is_branch=False, own=False, evaluation_id=None)
        c["level_label"] = str(Level(c["level"]).label) if c["level"] in Level.values else ""
        c["done_pct"] = round(100 * c["assessed"] / c["total"]) if c["total"] else 0
        out.append(c)
    total = len(rows)
    return {
        "total": total, "overdue": sum(1 for r in rows if r["overdue"]),
        "counts": [{"state": s, "label": str(lbl), "n": counts[s]} for s, lbl in State.choices],
        "passed": {k: sum(counts[s] for s in states) for k, states in PASSED.items()},
        "children": out,
    }


def distribution(scored: list[dict]) -> dict:
    """Histogram of score rates in 5-point bins (100 % falls in the last), mean and median. No query."""
    rates = [r["rate"] for r in scored]
    bins = [{"low": lo, "high": lo + BIN, "label": f"{lo}–{lo + BIN}", "count": 0} for lo in range(0, 100, BIN)]
    for rate in rates:
        i = min(int(rate // BIN), len(bins) - 1)
        bins[max(i, 0)]["count"] += 1
    return {"n": len(rates), "bins": bins,
            "mean": dec(sum(rates) / len(rates)) if rates else None,
            "median": dec(statistics.median(rates)) if rates else None,
            "min": min(rates) if rates else None, "max": max(rates) if rates else None}


def ranking(scored: list[dict]) -> list[dict]:
    """Per peer group (same level and type) of the subtree: the top and bottom three by score rate, ranked with
    ties sharing a rank (1, 2, 2, 4). No query."""
    groups: dict[tuple, list[dict]] = {}
    for r in scored:
        groups.setdefault((r["level"], r["org_type_id"]), []).append(r)
    out = []
    for (level, type_id), members in groups.items():
        members.sort(key=lambda r: (-r["rate"], -r["score"], r["org_path"]))
        ranked, last, rank = [], None, 0
        for i, r in enumerate(members, 1):
            if r["rate"] != last:
                rank, last = i, r["rate"]
            ranked.append({"evaluation_id": r["pk"], "org_id": r["org_id"], "name": r["org_name"],
                           "score": r["score"], "max_total": dec(r["max_total"]), "rate": r["rate"], "rank": rank})
        top = ranked[:RANK_SHOWN]
        bottom = ranked[max(RANK_SHOWN, len(ranked) - RANK_SHOWN):]
        out.append({"level": level, "org_type": type_id, "label": peer_label(level, members[0]["org_type__name"]),
                    "size": len(ranked), "mean": dec(sum(m["rate"] for m in members) / len(members)),
                    "top": top, "bottom": bottom})
    order = {v: i for i, v in enumerate(Level.values)}
    out.sort(key=lambda g: (order.get(g["level"], 9), g["label"]))
    return out


def inflation(p: Params, rows: list[dict]) -> dict:
    """自评虚高: organizations whose self total runs above the assessor's, by the gap; flagged at ``gap`` % of the
    full score. No query."""
    out = []
    for r in rows:
        if r["self_total"] is None or r["assessor_total"] is None or not r["max_total"]:
            continue
        gap = dec(r["self_total"] - r["assessor_total"])
        if gap <= 0:
            continue
        gap_pp = rate_of(gap, r["max_total"])
        out.append({"evaluation_id": r["pk"], "org_id": r["org_id"], "name": r["org_name"],
                    "level_label": str(Level(r["level"]).label) if r["level"] in Level.values else "",
                    "self_total": dec(r["self_total"]), "assessor_total": dec(r["assessor_total"]),
                    "max_total": dec(r["max_total"]), "gap": gap, "gap_pp": gap_pp, "flagged": gap_pp >= p.gap})
    out.sort(key=lambda x: (-x["gap"], -x["gap_pp"], x["name"]))
    return {"threshold": p.gap, "compared": sum(1 for r in rows if r["self_total"] is not None
                                                and r["assessor_total"] is not None),
            "flagged": sum(1 for x in out if x["flagged"]), "rows": out}


def trend(user, p: Params) -> dict:
    """Average score rate per peer group over the 12 months up to the chosen one, months of the same committee:
    the results' rates in finalized months, the assessor totals' rates in open months. 1 query."""
    months = [month_start(p.period.month)]
    for _i in range(TREND_MONTHS - 1):
        months.insert(0, month_start(months[0] - datetime.timedelta(days=1)))
    final = Q(period__status=PeriodStatus.FINALIZED)
    rate = Case(When(final, then=Cast("result__score_rate", FloatField())),
                default=_float_rate("assessor_total", "max_total"), output_field=FloatField())
    qs = (scope(user, ACTION, Evaluation.objects.filter(
        period__owner=p.period.owner, period__month__gte=months[0], period__month__lte=months[-1],
        org_path__startswith=p.org.path))
        .filter((final & Q(result__isnull=False)) | (~final & Q(assessor_total__isnull=False, max_total__gt=0)))
        .order_by().values("period__month", "level", "org_type_id", "org_type__name")
        .annotate(a=Avg(rate), n=Count("id")))
    cells: dict[tuple, dict] = {}
    names: dict[tuple, str | None] = {}
    for r in qs:
        key = (r["level"], r["org_type_id"])
        names[key] = r["org_type__name"]
        cells.setdefault(key, {})[r["period__month"]] = (dec(r["a"]), r["n"])
    order = {v: i for i, v in enumerate(Level.values)}
    groups = []
    for key in sorted(cells, key=lambda k: (order.get(k[0], 9), names[k] or "")):
        groups.append({"level": key[0], "org_type": key[1], "label": peer_label(key[0], names[key]),
                       "values": [cells[key].get(m, (None, 0))[0] for m in months],
                       "counts": [cells[key].get(m, (None, 0))[1] for m in months]})
    return {"months": [f"{m:%Y-%m}" for m in months], "groups": groups}


def weakest(user, p: Params) -> dict:
    """The 15 items with the lowest average score rate in the subtree (where points were lost), the 20
    organizations that lose most on them, and their rate on each (the heat map). 2 queries."""
    items_qs = scope(user, ACTION, EvalItem.objects.filter(
        evaluation__period=p.period, evaluation__org_path__startswith=p.org.path, assessor_score__isnull=False,
        max_points__gt=0)).order_by()
    items = list(items_qs.values("item_id", "item__code", "item__text", "item__category__name")
                 .annotate(avg=Avg(_float_rate("assessor_score", "max_points")), scored=Count("id"),
                           losing=Count("id", filter=Q(assessor_score__lt=F("max_points"))), lost=Sum(_lost()))
                 .filter(losing__gt=0).order_by("avg", "-lost", "item__code")[:WEAK_ITEMS])
    ids = [r["item_id"] for r in items]
    orgs: dict[int, dict] = {}
    cells = []
    if ids:
        # The 20 organizations losing most on these items (a subquery), with their score on each of them.
        losers = (items_qs.filter(item_id__in=ids, assessor_score__lt=F("max_points")).values("evaluation_id")
                  .annotate(lost=Sum(_lost())).order_by("-lost", "evaluation__org_path")
                  .values("evaluation_id")[:WEAK_ORGS])
        rows = list(items_qs.filter(item_id__in=ids, evaluation_id__in=Subquery(losers)).values_list(
            "evaluation_id", "evaluation__org_id", "evaluation__org_name", "evaluation__org_path", "item_id",
            "assessor_score", "max_points"))
        for e, org_id, name, path, _it, score, full in rows:
            o = orgs.setdefault(e, {"evaluation_id": e, "org_id": org_id, "name": name, "path": path,
                                    "lost": Decimal("0")})
            o["lost"] += dec(full) - dec(score)
        ranked = sorted(orgs.values(), key=lambda o: (-o["lost"], o["path"]))
        x = {o["evaluation_id"]: i for i, o in enumerate(ranked)}
        y = {it: i for i, it in enumerate(ids)}
        cells = [[x[e], y[it], rate_of(score, full)] for e, _o, _n, _p, it, score, full in rows]
        orgs = {o["evaluation_id"]: o for o in ranked}
    for o in orgs.values():
        o.pop("path")
    return {
        "items": [{"item_id": r["item_id"], "code": r["item__code"], "text": r["item__text"],
                   "category": r["item__category__name"], "avg_rate": dec(r["avg"]), "scored": r["scored"],
                   "losing": r["losing"], "lost": dec(r["lost"])} for r in items],
        "orgs": list(orgs.values()),
        "cells": cells,
    }


def assessors(user, p: Params) -> dict:
    """Leniency or strictness per assessor, adjusted for the items: for every item an assessor scored in the
    subtree, the residual is the assessor's rate minus the average rate of that item over every organization of
    the month; the assessor's mean residual (percentage points) over their items. Flagged lenient or strict when
    |mean| ≥ ``lenience`` and at least 10 items. 2 queries: the item averages of the month, and per assessor and
    item the count and the sum of rates (mean residual = (Σ rates − Σ count × item average) / Σ count)."""
    scored = EvalItem.objects.filter(evaluation__period=p.period, assessor_score__isnull=False,
                                     max_points__gt=0).order_by()
    avg = dict(scored.values("item_id").annotate(a=Avg(_float_rate("assessor_score", "max_points")))
               .values_list("item_id", "a"))
    per = (scope(user, ACTION, scored.filter(evaluation__org_path__startswith=p.org.path, assessor__isnull=False))
           .values("assessor_id", "assessor__username", "assessor__first_name", "assessor__last_name", "item_id")
           .annotate(n=Count("id"), s=Sum(_float_rate("assessor_score", "max_points")),
                     orgs=Count("evaluation_id", distinct=True)))
    acc: dict[int, dict] = {}
    for r in per:
        a = acc.setdefault(r["assessor_id"], {
            "assessor_id": r["assessor_id"], "n": 0, "sum": 0.0, "expected": 0.0,
            "name": person_name(r["assessor__first_name"], r["assessor__last_name"], r["assessor__username"])})
        a["n"] += r["n"]
        a["sum"] += float(r["s"])
        a["expected"] += r["n"] * float(avg.get(r["item_id"]) or 0.0)
    rows = []
    for a in acc.values():
        mean = dec((a["sum"] - a["expected"]) / a["n"])
        rate = dec(a["sum"] / a["n"])
        if a["n"] < MIN_ITEMS:
            flag, label = "few", _("样本不足")
        elif mean >= p.lenience:
            flag, label = "lenient", _("偏宽")
        elif mean <= -p.lenience:
            flag, label = "strict", _("偏严")
        else:
            flag, label = "", _("无明显偏差")
        rows.append({"assessor_id": a["assessor_id"], "name": a["name"], "n": a["n"], "mean_rate": rate,
                     "residual": mean, "flag": flag, "flag_label": label})
    rows.sort(key=lambda r: (-abs(r["residual"]), r["name"]))
    return {"threshold": p.lenience, "min_items": MIN_ITEMS,
            "flagged": sum(1 for r in rows if r["flag"] in ("lenient", "strict")), "rows": rows}


def figures(user, p: Params, today: datetime.date | None = None) -> dict:
    """Every figure of the dashboard (6 queries, whatever the size of the subtree)."""
    require(user, ACTION, p.org.path)
    today = today or timezone.localdate()
    rows = _rows(user, p)
    finalized = p.period.status == PeriodStatus.FINALIZED
    scored = []
    for r in rows:
        r["score"], r["rate"] = _score(r, finalized)
        if r["rate"] is not None:
            scored.append(r)
    return {
        "period": {"id": p.period.pk, "label": p.period.label, "owner": p.period.owner.name,
                   "status": p.period.status, "finalized": finalized},
        "org": {"id": p.org.pk, "name": p.org.name},
        "progress": progress(p, rows, today),
        "distribution": distribution(scored),
        "ranking": ranking(scored),
        "trend": trend(user, p),
        "weakest": weakest(user, p),
        "inflation": inflation(p, rows),
        "assessors": assessors(user, p),
    }
