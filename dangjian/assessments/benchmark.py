"""对标: one organization against its peer group, and the annual view with 先进党支部 candidates.

``org_benchmark(user, org_pk, period)`` builds every figure of the organization page, its JSON endpoint, its Excel
workbook and its API route, so they always agree:

* the header: the organization's total, score rate, peer rank, overall rank and grade beside its peer group's
  average, median and best (``PeerAggregate`` of a finalized month);
* item by item: its score beside the peer group's average, median and best of the same item, computed set-based
  over the ``EvalItem`` rows of the same month whose evaluation has the same level and type (one statement with
  ROW_NUMBER() for the median), the gap (差距) to the average and to the best, category subtotals;
* the trend: its score rate in the last 12 finalized months beside its peer group's average and best rate.

A month that is still open is shown from the scores entered so far (the assessor's score where present, else the
self score, as the close would) and marked provisional (暂定): ranks, grade and peer figures are computed the way
the close computes them, in integer tenths, from the month's evaluation items.

``annual_rows(user, filters)`` is the year of a committee's organizations: one row per organization in the user's
``eval.view`` scope with its grade and total in each finalized month, the months evaluated, the average score rate,
its count of top grades, its worst grade, its rank by average rate within its peer group (same level and type,
ranked over every organization of the committee's months, whatever the user sees) and whether it is a 先进党支部
candidate under the rule in ``CandidateRule`` (parameters in the query string, defaults stated on the page). One
SQL statement for the rows and one for the counts, whatever the number of organizations and months.

Access: ``eval.view`` on the organization (core.access); an organization outside the scope is 404.
"""

import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dangjian.assessments.close import Rule, close, parse_rule
from dangjian.assessments.models import EvalItem, Evaluation, PeerAggregate, PeriodStatus, Result
from dangjian.assessments.services import visible_periods
from dangjian.core.access import allowed_paths, get_scoped_or_404, require, scope
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization, OrgType

ACTION = "eval.view"
D = Decimal
TENTH, HUNDREDTH = D("0.1"), D("0.01")
TREND_MONTHS = 12
GAP_BARS = 10


def _tenths(value: int | None) -> Decimal | None:
    return None if value is None else (D(int(value)) / 10).quantize(TENTH)


def _q(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _rate(points: Decimal | None, max_total: Decimal | None) -> Decimal | None:
    """A total as a share of full marks, in percent to one decimal, half up."""
    if points is None or not max_total:
        return None
    return _q(D(points) * 100 / D(max_total), TENTH)


def _half_up_ratio(num: int, den: int) -> int:
    """num / den rounded half up, for non-negative integers (the close's integer arithmetic)."""
    return (2 * num + den) // (2 * den)


def group_label(level: str, type_name: str | None) -> str:
    label = str(Level(level).label) if level in Level.values else level
    return f"{label} · {type_name}" if type_name else label


def _grade(rule: Rule, r: int, peer_rank: int, peer_size: int, vetoed: bool) -> str:
    """The grade the close would give (close.BaseClose.ranking), for a provisional month."""
    if vetoed:
        return rule.veto_grade
    for g in rule.grades[:-1]:
        if rule.mode == "bands" and r >= g.threshold:
            return g.name
        if rule.mode == "shares" and (peer_rank - 1) * 1000 < g.threshold * peer_size:
            return g.name
    return rule.grades[-1].name


# ---- the organization against its peer group --------------------------------------------------------------------


def parse_period_param(value) -> int | None:
    """The ``period`` / ``period_id`` parameter: empty for the default month; anything but a number is refused."""
    value = (str(value).strip() if value is not None else "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise DomainError(_("考评月份参数无效，已显示默认月份。"), "period")
    return int(value)


def _org_dict(org: Organization) -> dict:
    type_name = org.type.display_name if org.type_id else None
    return {"id": org.pk, "name": org.name, "level": org.level, "level_label": str(org.get_level_display()),
            "type_id": org.type_id, "type_name": type_name}


def _summary_finalized(ev: Evaluation, result: Result | None, agg: PeerAggregate | None) -> dict:
    """The header of a finalized month: the stored result and its peer group's figures."""
    if result is None:
        return {}
    s = {f: getattr(result, f) for f in ("total", "max_total", "score_rate", "vetoed", "peer_rank", "peer_size",
                                         "overall_rank", "overall_size", "percentile", "grade", "coefficient")}
    s["peer"] = None
    if agg is not None:
        s["peer"] = {"count": agg.count, "avg": agg.avg, "median": agg.median, "best": agg.max, "min": agg.min}
    return s


def _summary_provisional(ev: Evaluation) -> dict:
    """The header of an open month from the scores entered so far: the close's totals query over the month (one
    query), then ranks, grade and peer figures in integer tenths exactly as the close computes them."""
    engine = close(ev.period)
    sql, params = engine.base_from_items()
    with connection.cursor() as cur:
        cur.execute(f"SELECT evaluation_id, level, org_type_id, t, m, v FROM ({sql}) b", params)
        rows = [(eid, level, type_id, int(t or 0), int(m or 0), bool(v)) for eid, level, type_id, t, m, v in cur]
    mine = next((r for r in rows if r[0] == ev.pk), None)
    if mine is None:
        return {}

    def rate(row):
        return _half_up_ratio(1000 * row[3], row[4]) if row[4] > 0 else 0

    r = rate(mine)
    peers = [row for row in rows if (row[1], row[2]) == (mine[1], mine[2])]
    peer_rates = [rate(p) for p in peers]
    all_rates = [rate(p) for p in rows]
    peer_rank = 1 + sum(x > r for x in peer_rates)
    below = sum(x < r for x in peer_rates)
    size = len(peers)
    percentile = _half_up_ratio(1000 * below, size - 1) if size > 1 else 0
    try:
        rule = parse_rule(ev.period.grade_rule)
    except DomainError:
        rule = None
    grade = _grade(rule, r, peer_rank, size, mine[5]) if rule else ""
    totals = [p[3] for p in peers]
    return {
        "total": _tenths(mine[3]), "max_total": _tenths(mine[4]), "score_rate": _tenths(r), "vetoed": mine[5],
        "peer_rank": peer_rank, "peer_size": size, "overall_rank": 1 + sum(x > r for x in all_rates),
        "overall_size": len(rows), "percentile": _tenths(percentile), "grade": grade,
        "coefficient": rule.coefficient_of(grade) if rule else None,
        "peer": {"count": size, "avg": (D(_half_up_ratio(10 * sum(totals), len(totals))) / 100).quantize(HUNDREDTH),
                 "median": _q(D(str(statistics.median(totals))) / 10, HUNDREDTH),
                 "best": _tenths(max(totals)), "min": _tenths(min(totals))},
    }


def _item_peer_stats(ev: Evaluation) -> dict[int, dict]:
    """Per standard item of the evaluation: the peer group's count, sum, best, lowest and median score (in
    tenths), over the month's evaluations of the same level and type. One statement; the median from
    ROW_NUMBER() over each item's scores (the middle row, or the two middle rows averaged)."""
    qn = connection.ops.quote_name
    item_t, eval_t = qn(EvalItem._meta.db_table), qn(Evaluation._meta.db_table)
    type_cond = "e.org_type_id = %s" if ev.org_type_id else "e.org_type_id IS NULL"
    params = [ev.period_id, ev.level] + ([ev.org_type_id] if ev.org_type_id else []) + [ev.pk]
    sql = (
        f"WITH s AS (SELECT i.item_id, CAST(ROUND(COALESCE(i.assessor_score, i.self_score, 0) * 10) AS INTEGER) "
        f"AS v FROM {item_t} i JOIN {eval_t} e ON e.id = i.evaluation_id "
        f"WHERE e.period_id = %s AND e.level = %s AND {type_cond} "
        f"AND i.item_id IN (SELECT item_id FROM {item_t} WHERE evaluation_id = %s)), "
        f"o AS (SELECT item_id, v, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY v) AS rn, "
        f"COUNT(*) OVER (PARTITION BY item_id) AS n FROM s) "
        f"SELECT item_id, MAX(n), CAST(SUM(v) AS BIGINT), MAX(v), MIN(v), "
        f"CAST(SUM(CASE WHEN rn = (n + 1) / 2 OR rn = (n + 2) / 2 THEN v ELSE 0 END) AS BIGINT), "
        f"SUM(CASE WHEN rn = (n + 1) / 2 OR rn = (n + 2) / 2 THEN 1 ELSE 0 END) "
        f"FROM o GROUP BY item_id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {item_id: {"n": int(n), "sum": int(total), "best": int(best), "min": int(low), "mid": int(mid),
                          "mid_n": int(mid_n)}
                for item_id, n, total, best, low, mid, mid_n in cur}


def _items(ev: Evaluation) -> tuple[list[dict], list[dict]]:
    """The item-by-item table, sorted by the gap to the best (largest first), and the category subtotals."""
    stats = _item_peer_stats(ev)
    rows = []
    for ei in EvalItem.objects.filter(evaluation_id=ev.pk).select_related("item__category").order_by(
            "item__category__order", "item__order", "item__code", "id"):
        score = ei.assessor_score if ei.assessor_score is not None else ei.self_score
        score = D(score or 0).quantize(TENTH)
        st = stats.get(ei.item_id)
        avg = best = median = None
        if st:
            avg = (D(_half_up_ratio(10 * st["sum"], st["n"])) / 100).quantize(HUNDREDTH)
            best = _tenths(st["best"])
            median = _q(D(st["mid"]) / st["mid_n"] / 10, HUNDREDTH)
        cat = ei.item.category
        rows.append({
            "eval_item_id": ei.pk, "item_id": ei.item_id, "code": ei.item.code, "text": ei.item.text,
            "category": cat.name, "category_order": cat.order, "category_id": cat.pk,
            "max_points": ei.max_points, "score": score, "scored": ei.assessor_score is not None
            or ei.self_score is not None, "vetoed": ei.vetoed, "peer_count": st["n"] if st else 0,
            "peer_avg": avg, "peer_median": median, "peer_best": best,
            "gap_avg": (score - avg) if avg is not None else None,
            "gap_best": (score - best) if best is not None else None,
        })
    categories: dict[int, dict] = {}
    for r in rows:
        c = categories.setdefault(r["category_id"], {
            "category": r["category"], "order": r["category_order"], "items": 0, "max_points": D("0.0"),
            "score": D("0.0"), "peer_avg": D("0.00"), "peer_best": D("0.0")})
        c["items"] += 1
        c["max_points"] += r["max_points"]
        c["score"] += r["score"]
        c["peer_avg"] += r["peer_avg"] or 0
        c["peer_best"] += r["peer_best"] or 0
    subtotals = sorted(categories.values(), key=lambda c: (c["order"], c["category"]))
    for c in subtotals:
        c["gap_avg"] = c["score"] - c["peer_avg"]
        c["gap_best"] = c["score"] - c["peer_best"]
        del c["order"]
    rows.sort(key=lambda r: (r["gap_best"] if r["gap_best"] is not None else D(0),
                             r["gap_avg"] if r["gap_avg"] is not None else D(0), r["code"]))
    return rows, subtotals


def _finalized_rows(user, org: Organization, ev: Evaluation | None):
    """The organization's results of its last 12 finalized months and the peer group figures of those months and of
    the selected one: two queries, which also serve the header of a finalized month."""
    results = list(scope(user, ACTION, Result.objects.filter(org_id=org.pk)).select_related("period")
                   .order_by("-period__month", "period_id")[:TREND_MONTHS])
    ids = {r.period_id for r in results} | ({ev.period_id} if ev is not None else set())
    aggs = {(a.period_id, a.level, a.org_type_id): a for a in PeerAggregate.objects.filter(period_id__in=ids)}
    return results, aggs


def _trend(results: list[Result], aggs: dict, selected: int | None) -> list[dict]:
    """Its score rate month by month, with its peer group's average and best rate."""
    rows = []
    for r in reversed(results):
        a = aggs.get((r.period_id, r.level, r.org_type_id))
        rows.append({
            "period_id": r.period_id, "month": r.period.label, "total": r.total, "max_total": r.max_total,
            "score_rate": r.score_rate, "grade": r.grade, "peer_rank": r.peer_rank, "peer_size": r.peer_size,
            "peer_avg_rate": _rate(a.avg, r.max_total) if a else None,
            "peer_best_rate": _rate(a.max, r.max_total) if a else None,
            "selected": r.period_id == selected,
        })
    return rows


def org_benchmark(user, org_pk, period_id: int | None = None) -> dict:
    """Every figure of the organization page (see the module docstring). ``period_id`` None: the latest finalized
    month with a result for this organization, else its latest month. An organization outside the user's scope,
    or a month in which it was not evaluated, is 404."""
    org = get_scoped_or_404(user, ACTION, Organization.objects.select_related("type"), pk=org_pk)
    evaluations = list(scope(user, ACTION, Evaluation.objects.filter(org_id=org.pk))
                       .select_related("period__owner", "org_type").order_by("-period__month", "period__owner__path"))
    periods = [{"id": e.period_id, "month": e.period.label, "owner": e.period.owner.name,
                "finalized": e.period.is_finalized, "status_label": str(e.period.get_status_display())}
               for e in evaluations]
    if period_id is not None:
        ev = next((e for e in evaluations if e.period_id == period_id), None)
        if ev is None:
            raise Http404(_("该组织在所选月份没有考评，或您无权访问。"))
    else:
        ev = next((e for e in evaluations if e.period.is_finalized), evaluations[0] if evaluations else None)
    results, aggs = _finalized_rows(user, org, ev)
    fig = {"org": _org_dict(org), "periods": periods, "period": None, "provisional": False, "group": None,
           "summary": None, "items": [], "categories": [], "gaps": [], "trend": []}
    if ev is not None:
        provisional = not ev.period.is_finalized
        type_name = ev.org_type.display_name if ev.org_type_id else None
        if provisional:
            summary = _summary_provisional(ev)
        else:
            result = next((r for r in results if r.evaluation_id == ev.pk), None)
            if result is None:  # a month older than the last twelve
                result = Result.objects.filter(evaluation_id=ev.pk).first()
            summary = _summary_finalized(ev, result, aggs.get((ev.period_id, ev.level, ev.org_type_id)))
        peer = summary.get("peer") if summary else None
        if summary:
            summary["gap_avg"] = summary["total"] - peer["avg"] if peer else None
            summary["gap_median"] = summary["total"] - peer["median"] if peer else None
            summary["gap_best"] = summary["total"] - peer["best"] if peer else None
            if peer:
                for k in ("avg", "median", "best"):
                    peer[f"{k}_rate"] = _rate(peer[k], summary["max_total"])
        items, categories = _items(ev)
        fig.update({
            "period": {"id": ev.period_id, "month": ev.period.label, "owner": ev.period.owner.name,
                       "finalized": not provisional, "status_label": str(ev.period.get_status_display())},
            "evaluation_id": ev.pk, "provisional": provisional,
            "group": {"level": ev.level, "type_id": ev.org_type_id, "label": group_label(ev.level, type_name)},
            "summary": summary or None, "items": items, "categories": categories,
            "gaps": [r for r in items if r["gap_best"] is not None and r["gap_best"] < 0][:GAP_BARS],
        })
    fig["trend"] = _trend(results, aggs, ev.period_id if ev else None)
    return fig


def to_json(value):
    """The figures for the charts: decimals as numbers."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def benchmark_sheets(fig: dict) -> list[tuple[str, list[str], list]]:
    """The workbook of the organization page: summary, items, category subtotals, trend."""
    s, p = fig["summary"] or {}, (fig["summary"] or {}).get("peer") or {}
    period = fig["period"] or {}
    note = _("暂定（本月尚未兑现）") if fig["provisional"] else _("已兑现")
    summary = [
        [_("组织"), fig["org"]["name"]], [_("考评月份"), period.get("month", "")],
        [_("组织考评的党委"), period.get("owner", "")], [_("状态"), note],
        [_("对标组"), (fig["group"] or {}).get("label", "")],
        [_("得分"), s.get("total")], [_("满分"), s.get("max_total")], [_("得分率（%）"), s.get("score_rate")],
        [_("同类排名"), f"{s['peer_rank']}/{s['peer_size']}" if s else ""],
        [_("总排名"), f"{s['overall_rank']}/{s['overall_size']}" if s else ""],
        [_("等级"), s.get("grade", "")], [_("兑现系数"), s.get("coefficient")],
        [_("对标组组织数"), p.get("count")], [_("对标组平均分"), p.get("avg")], [_("对标组中位数"), p.get("median")],
        [_("对标组最高分"), p.get("best")], [_("与平均分差距"), s.get("gap_avg")], [_("与最高分差距"), s.get("gap_best")],
    ]
    items = [[r["category"], r["code"], r["text"], r["max_points"], r["score"], r["peer_avg"], r["peer_median"],
              r["peer_best"], r["gap_avg"], r["gap_best"]] for r in fig["items"]]
    cats = [[c["category"], c["items"], c["max_points"], c["score"], c["peer_avg"], c["peer_best"], c["gap_avg"],
             c["gap_best"]] for c in fig["categories"]]
    trend = [[t["month"], t["total"], t["score_rate"], t["grade"], f"{t['peer_rank']}/{t['peer_size']}",
              t["peer_avg_rate"], t["peer_best_rate"]] for t in fig["trend"]]
    return [
        (_("概况"), [_("项目"), _("数值")], summary),
        (_("逐项对标"), [_("类别"), _("细则编码"), _("考评内容"), _("分值"), _("得分"), _("对标组平均"), _("对标组中位数"),
                      _("对标组最高"), _("与平均差距"), _("与最高差距")], items),
        (_("分类小计"), [_("类别"), _("细则数"), _("分值"), _("得分"), _("对标组平均之和"), _("对标组最高之和"),
                      _("与平均差距"), _("与最高差距")], cats),
        (_("趋势"), [_("月份"), _("得分"), _("得分率（%）"), _("等级"), _("同类排名"), _("对标组平均得分率（%）"),
                   _("对标组最高得分率（%）")], trend),
    ]


# ---- the annual view ----------------------------------------------------------------------------------------


@dataclass
class CandidateRule:
    """先进党支部 candidates: an organization of ``level`` ("branch", or "all" for every level), evaluated in at
    least ``min_months`` finalized months of the year (or in every finalized month when the year has fewer), never
    graded in the lowest band, never vetoed, and whose average score rate is in the top ``top_share`` percent of
    its peer group ((rank − 1) / size < top_share %, equal averages sharing a rank)."""

    level: str = "branch"
    min_months: int = 10
    top_share: int = 20


@dataclass
class AnnualFilters:
    year: int | None = None
    owner: Organization | None = None
    level: str = ""
    type: str = ""
    q: str = ""
    candidates_only: bool = False
    rule: CandidateRule = field(default_factory=CandidateRule)
    periods: list[dict] = field(default_factory=list)  # the owner's finalized months of the year, in month order
    grades: list[str] = field(default_factory=list)  # best first
    owners: list[dict] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def effective_min_months(self) -> int:
        return min(self.rule.min_months, len(self.periods)) if self.periods else self.rule.min_months

    def query(self) -> dict:
        q = {"year": self.year or "", "owner": self.owner.pk if self.owner else "", "level": self.level,
             "type": self.type, "q": self.q, "candidates": "1" if self.candidates_only else "",
             "cand_level": self.rule.level, "min_months": self.rule.min_months, "top": self.rule.top_share}
        return {k: v for k, v in q.items() if v not in ("", None)}


def _int_param(params, name, default, low, high, errors, message):
    raw = str(params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        errors.append(message)
        return default
    return int(raw)


def _grade_order(periods: list[dict]) -> list[str]:
    """Grade names best first: the latest month's rule, then any other name used in the year's rules."""
    names: list[str] = []
    for p in reversed(periods):
        try:
            rule = parse_rule(p["grade_rule"])
        except DomainError:
            continue
        names += [g.name for g in rule.grades if g.name not in names]
    return names


def annual_filters(user, params) -> AnnualFilters:
    """Read the annual view's parameters. A committee the user sees no finalized month of is 404; other bad values
    are reported (``errors``) and replaced by their defaults. A user without ``eval.view`` anywhere is refused
    (AccessDenied, shown as 404). One query (the visible finalized months)."""
    require(user, ACTION)
    f = AnnualFilters()
    rows = list(visible_periods(user).filter(status=PeriodStatus.FINALIZED)
                .values_list("pk", "owner_id", "owner__name", "owner__path", "month", "grade_rule")
                .order_by("owner__path", "month"))
    owners: dict[int, dict] = {}
    for _pk, owner_id, name, path, month, _rule in rows:
        o = owners.setdefault(owner_id, {"id": owner_id, "name": name, "path": path, "years": set()})
        o["years"].add(month.year)
    f.owners = sorted(owners.values(), key=lambda o: (len(o["path"]), o["path"]))
    raw_owner = str(params.get("owner") or params.get("owner_id") or "").strip()
    owner_id = None
    if raw_owner:
        if not raw_owner.isdigit() or int(raw_owner) not in owners:
            raise Http404(_("没有找到该党委已兑现的考评，或您无权访问。"))
        owner_id = int(raw_owner)
    elif f.owners:
        owner_id = f.owners[0]["id"]
    if owner_id is not None:
        f.owner = Organization(pk=owner_id, name=owners[owner_id]["name"], path=owners[owner_id]["path"])
        f.years = sorted(owners[owner_id]["years"], reverse=True)
    default_year = f.years[0] if f.years else timezone.localdate().year
    f.year = _int_param(params, "year", default_year, 2000, 2100, f.errors, _("年度应为 2000 至 2100 之间的整数。"))
    f.periods = [{"id": pk, "month": month, "label": f"{month:%Y-%m}", "grade_rule": rule}
                 for pk, owner, _n, _p, month, rule in rows if owner == owner_id and month.year == f.year]
    f.grades = _grade_order(f.periods)
    level = str(params.get("level") or "").strip()
    f.level = level if level in Level.values else ""
    if level and not f.level:
        f.errors.append(_("层级参数无效，已显示全部层级。"))
    typ = str(params.get("type") or "").strip()
    f.type = typ if typ == "none" or (typ.isdigit() and len(typ) < 10) else ""
    if typ and not f.type:
        f.errors.append(_("类型参数无效，已显示全部类型。"))
    f.q = str(params.get("q") or "").strip()[:100]
    f.candidates_only = str(params.get("candidates") or params.get("candidates_only") or "").lower() in (
        "1", "true", "on", "yes")
    cand_level = str(params.get("cand_level") or "branch").strip()
    if cand_level not in ("branch", "all"):
        f.errors.append(_("候选层级参数无效，已按“只限党支部”处理。"))
        cand_level = "branch"
    f.rule = CandidateRule(
        level=cand_level,
        min_months=_int_param(params, "min_months", 10, 1, 12, f.errors, _("最少考评月数应为 1 至 12 之间的整数。")),
        top_share=_int_param(params, "top", 20, 1, 100, f.errors, _("排名前百分比应为 1 至 100 之间的整数。")),
    )
    return f


class AnnualRows:
    """The annual rows of the user's scope under the filters, as a lazy sequence for Django's Paginator: ``count()``
    runs one COUNT over the same statement, a slice runs the statement with LIMIT/OFFSET."""

    def __init__(self, user, f: AnnualFilters):
        self.f = f
        self.paths = allowed_paths(user, ACTION)
        self._counts = None

    # -- the statement --

    def _sql(self) -> tuple[str, list, str, list, str]:
        """(the WITH clause up to ``cand``, its parameters, the WHERE clause, its parameters, the type table)."""
        f = self.f
        qn = connection.ops.quote_name
        result_t, org_t, type_t = (qn(m._meta.db_table) for m in (Result, Organization, OrgType))
        grades = f.grades or [""]
        worst_whens = " ".join("WHEN %s THEN " + str(i) for i in range(len(grades)))
        params: list = [grades[0], *grades]
        months = []
        for i, p in enumerate(f.periods):
            months += [f"MAX(CASE WHEN r.period_id = %s THEN r.grade END) AS g{i}",
                       f"MAX(CASE WHEN r.period_id = %s THEN CAST(ROUND(r.total * 10) AS INTEGER) END) AS t{i}"]
            params += [p["id"], p["id"]]
        ids = [p["id"] for p in f.periods] or [0]
        params += ids
        columns = ["r.org_id", "COUNT(*) AS n",
                   "CAST(SUM(CAST(ROUND(r.score_rate * 10) AS INTEGER)) AS BIGINT) AS s",
                   "SUM(CASE WHEN r.grade = %s THEN 1 ELSE 0 END) AS top_n",
                   f"MAX(CASE r.grade {worst_whens} ELSE {len(grades)} END) AS worst",
                   "MAX(CASE WHEN r.vetoed THEN 1 ELSE 0 END) AS vetoed", *months]
        agg = (f"SELECT {', '.join(columns)} FROM {result_t} r "
               f"WHERE r.period_id IN ({', '.join(['%s'] * len(ids))}) GROUP BY r.org_id")
        avg = "(2 * a.s + a.n) / (2 * a.n)"
        ranked = (
            f"SELECT a.*, o.name AS name, o.path AS path, o.level AS level, o.type_id AS type_id, {avg} AS avg_r, "
            f"RANK() OVER (PARTITION BY o.level, o.type_id ORDER BY {avg} DESC) AS peer_rank, "
            f"COUNT(*) OVER (PARTITION BY o.level, o.type_id) AS peer_size "
            f"FROM agg a JOIN {org_t} o ON o.id = a.org_id"
        )
        rule = f.rule
        level_cond = "x.level = %s AND " if rule.level != "all" else ""
        cand = (
            f"SELECT x.*, CASE WHEN {level_cond}x.n >= %s AND x.worst < %s AND x.vetoed = 0 "
            f"AND (x.peer_rank - 1) * 100 < %s * x.peer_size THEN 1 ELSE 0 END AS cand FROM ranked x"
        )
        params += ([Level.BRANCH.value] if rule.level != "all" else []) + [
            f.effective_min_months, len(grades) - 1 if len(grades) > 1 else len(grades), rule.top_share]
        where, wparams = self._where()
        sql = f"WITH agg AS ({agg}), ranked AS ({ranked}), cand AS ({cand}) "
        return sql, params, where, wparams, type_t

    def _where(self) -> tuple[str, list]:
        f, conds, params = self.f, [], []
        if self.paths is not None:
            if not self.paths:
                conds.append("1 = 0")
            else:
                conds.append("(" + " OR ".join("SUBSTR(c.path, 1, %s) = %s" for _p in self.paths) + ")")
                for p in self.paths:
                    params += [len(p), p]
        if not f.periods:
            conds.append("1 = 0")
        if f.level:
            conds.append("c.level = %s")
            params.append(f.level)
        if f.type == "none":
            conds.append("c.type_id IS NULL")
        elif f.type:
            conds.append("c.type_id = %s")
            params.append(int(f.type))
        if f.q:
            escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append("c.name LIKE %s ESCAPE '\\'")
            params.append(f"%{escaped}%")
        if f.candidates_only:
            conds.append("c.cand = 1")
        return (" WHERE " + " AND ".join(conds)) if conds else "", params

    def counts(self) -> dict:
        if self._counts is None:
            head, params, where, wparams, _type_t = self._sql()
            with connection.cursor() as cur:
                cur.execute(f"{head}SELECT COUNT(*), COALESCE(SUM(c.cand), 0) FROM cand c{where}", params + wparams)
                n, cands = cur.fetchone()
            self._counts = {"rows": int(n), "candidates": int(cands or 0)}
        return self._counts

    def count(self) -> int:
        return self.counts()["rows"]

    def __len__(self):
        return self.count()

    def fetch(self, limit: int | None = None, offset: int = 0) -> list[dict]:
        head, params, where, wparams, type_t = self._sql()
        qn = connection.ops.quote_name
        level_no = "CASE c.level " + " ".join(f"WHEN %s THEN {i}" for i in range(len(Level.values))) + " ELSE 9 END"
        sql = (f"{head}SELECT c.*, t.{qn('order')} AS type_order FROM cand c LEFT JOIN {type_t} t ON t.id = c.type_id"
               f"{where} ORDER BY {level_no}, t.{qn('order')}, c.type_id, c.peer_rank, c.path")
        params = params + wparams + list(Level.values)
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            names = [col[0].lower() for col in cur.description]
            return [self._row(dict(zip(names, rec, strict=True))) for rec in cur.fetchall()]

    def __getitem__(self, key):
        if isinstance(key, slice):
            start = key.start or 0
            return self.fetch(None if key.stop is None else key.stop - start, start)
        rows = self.fetch(1, key)
        if not rows:
            raise IndexError(key)
        return rows[0]

    def __iter__(self):
        return iter(self.fetch())

    # -- one row --

    def _row(self, c: dict) -> dict:
        f = self.f
        grades = f.grades
        worst = int(c["worst"])
        months = {p["month"].month: i for i, p in enumerate(f.periods)}
        cells = []
        for m in range(1, 13):
            i = months.get(m)
            grade = c.get(f"g{i}") if i is not None else None
            total = c.get(f"t{i}") if i is not None else None
            cells.append({"month": m, "period_id": f.periods[i]["id"] if i is not None else None,
                          "grade": grade, "total": _tenths(total)})
        lowest = grades[-1] if len(grades) > 1 else None
        reasons = []
        rule = f.rule
        if rule.level != "all" and c["level"] != Level.BRANCH:
            reasons.append(_("非党支部"))
        if int(c["n"]) < f.effective_min_months:
            reasons.append(_("考评月数不足{n}个").format(n=f.effective_min_months))
        if lowest and worst >= len(grades) - 1:
            reasons.append(_("有月份评为{grade}").format(grade=lowest))
        if int(c["vetoed"]):
            reasons.append(_("有月份触发一票否决"))
        if (int(c["peer_rank"]) - 1) * 100 >= rule.top_share * int(c["peer_size"]):
            reasons.append(_("平均得分率未进入同类前{top}%").format(top=rule.top_share))
        level = c["level"]
        return {
            "org_id": c["org_id"], "name": c["name"], "path": c["path"], "level": level,
            "level_label": str(Level(level).label) if level in Level.values else level, "type_id": c["type_id"],
            "months": cells, "months_evaluated": int(c["n"]), "avg_rate": _tenths(int(c["avg_r"])),
            "top_grades": int(c["top_n"]), "worst_grade": grades[worst] if worst < len(grades) else None,
            "vetoed": bool(int(c["vetoed"])), "peer_rank": int(c["peer_rank"]), "peer_size": int(c["peer_size"]),
            "candidate": bool(int(c["cand"])), "not_candidate_because": reasons,
        }


def annual_sheet(f: AnnualFilters, rows, type_names: dict) -> tuple[str, list[str], object]:
    """The annual view as one sheet: identity, each month's grade and total, the year's figures, the candidate."""
    month_heads = []
    for m in range(1, 13):
        month_heads += [_("{m}月等级").format(m=m), _("{m}月得分").format(m=m)]
    header = [_("组织名称"), _("层级"), _("类型"), *month_heads, _("考评月数"), _("平均得分率（%）"),
              _("{grade}级次数").format(grade=f.grades[0] if f.grades else "A"), _("最低等级"), _("一票否决"),
              _("同类年度排名"), _("同类组织数"), _("先进党支部候选"), _("未列为候选的原因")]
    yes = _("是")

    def line(r):
        cells = []
        for c in r["months"]:
            cells += [c["grade"] or "", c["total"]]
        return [r["name"], r["level_label"], type_names.get(r["type_id"], ""), *cells, r["months_evaluated"],
                r["avg_rate"], r["top_grades"], r["worst_grade"] or "", yes if r["vetoed"] else "", r["peer_rank"],
                r["peer_size"], yes if r["candidate"] else "",
                pgettext("list separator", "；").join(r["not_candidate_because"])]

    return _("年度考评"), header, (line(r) for r in rows)


def rule_text(f: AnnualFilters) -> str:
    """The candidate rule in one sentence, with the values in force."""
    rule = f.rule
    lowest = f.grades[-1] if len(f.grades) > 1 else None
    parts = [_("只限党支部") if rule.level != "all" else _("各层级组织均可"),
             _("全年至少{n}个月参加考评（本年已兑现{m}个月，要求取两者较小值：{e}个月）").format(
                 n=rule.min_months, m=len(f.periods), e=f.effective_min_months)]
    if lowest:
        parts.append(_("没有月份评为最低等级{grade}").format(grade=lowest))
    parts += [_("没有月份触发一票否决"), _("全年平均得分率位于同类组织（同层级、同类型）前{top}%").format(top=rule.top_share)]
    return pgettext("list separator", "；").join(parts) + pgettext("end of sentence", "。")


__all__ = ["org_benchmark", "benchmark_sheets", "to_json", "annual_filters", "AnnualRows", "annual_sheet",
           "rule_text", "CandidateRule", "AnnualFilters", "parse_period_param", "group_label"]
