"""The committee oversight dashboard (随时掌握, 对标): the page with its tables, the JSON its charts are drawn
from, and one Excel workbook with a sheet per table.

Thin: parse the filters (a period or organization outside the user's ``eval.oversee`` scope is 404), call
``assessments.oversight.figures`` (the page, the JSON, the workbook and the API share it), add the links.
"""

from contextlib import nullcontext
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.assessments import oversight as ov
from dangjian.core.access import can
from dangjian.core.audit import log_action
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.core.excel import wants_xlsx, workbook_bytes, xlsx_response
from dangjian.core.views import deny_as_404, require_capability


class FloatEncoder(DjangoJSONEncoder):
    """Decimals as numbers, for the charts."""

    def default(self, o):
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def _org_link(period_id: int, org_id: int, evaluation_id: int | None) -> str | None:
    """An organization's benchmark page of the month where it exists, else its evaluation of the month."""
    try:
        return f"{reverse('assessments:org_benchmark', args=[org_id])}?period={period_id}"
    except NoReverseMatch:
        pass
    return reverse("assessments:evaluation_detail", args=[evaluation_id]) if evaluation_id else None


def _links(p: ov.Params, fig: dict) -> None:
    period_id = p.period.pk
    detail = reverse("assessments:period_detail", args=[period_id])
    here = reverse("assessments:oversight")
    sub = {} if p.org.pk == p.period.owner_id else {"org": p.org.pk}  # the chosen subtree, in the month's list
    for c in fig["progress"]["counts"]:
        c["url"] = f"{detail}?{urlencode({**sub, 'state': c['state']})}"
    fig["progress"]["overdue_url"] = f"{detail}?{urlencode({**sub, 'overdue': '1'})}"
    for c in fig["progress"]["children"]:
        c["url"] = c["total_url"] = c["overdue_url"] = None
        if c["org_id"] is None:
            continue
        if c["is_branch"] or c["own"]:
            # One organization: its month, and the month's list filtered to it.
            c["url"] = reverse("assessments:evaluation_detail", args=[c["evaluation_id"]])
            c["total_url"] = f"{detail}?{urlencode({'q': c['name']})}"
            c["overdue_url"] = f"{detail}?{urlencode({'q': c['name'], 'overdue': '1'})}"
        else:
            c["url"] = f"{here}?{urlencode({**p.query(), 'org': c['org_id']})}"
            c["total_url"] = f"{detail}?{urlencode({'org': c['org_id']})}"
            c["overdue_url"] = f"{detail}?{urlencode({'org': c['org_id'], 'overdue': '1'})}"
    for g in fig["ranking"]:
        for r in g["top"] + g["bottom"]:
            r["url"] = _org_link(period_id, r["org_id"], r["evaluation_id"])
    for r in fig["inflation"]["rows"]:
        r["url"] = _org_link(period_id, r["org_id"], r["evaluation_id"])
    for r in fig["weakest"]["orgs"]:
        r["url"] = reverse("assessments:evaluation_detail", args=[r["evaluation_id"]])


def labels() -> dict:
    """Chart labels in the user's language (the JS has no translations of its own)."""
    return {"count": _("组织数"), "rate": _("得分率（%）"), "mean": _("平均得分率"), "residual": _("平均偏差（百分点）"),
            "gap": _("自评高出（占满分百分点）"), "threshold": _("阈值"), "progress": _("已考评"),
            "total": _("参评组织"), "overdue": _("逾期"), "lenient": _("偏宽"), "strict": _("偏严"),
            "submitted": _("已报送及以后"), "self_assessed": _("已自评及以后"), "assessed": _("已考评及以后"),
            "published": _("已公示及以后")}


def sheets(fig: dict) -> list[tuple[str, list[str], list]]:
    """One sheet per table, headed in the user's language."""
    pr, d, w, inf, a, t = (fig["progress"], fig["distribution"], fig["weakest"], fig["inflation"],
                           fig["assessors"], fig["trend"])
    yes = _("是")
    rank_rows = []
    for g in fig["ranking"]:
        for where, rows in ((_("前三"), g["top"]), (_("后三"), g["bottom"])):
            for r in rows:
                rank_rows.append([g["label"], g["size"], where, r["rank"], r["name"], r["score"], r["max_total"],
                                  r["rate"]])
    heat_head = [_("细则")] + [o["name"] for o in w["orgs"]]
    grid = [[None] * len(w["orgs"]) for _i in w["items"]]
    for x, y, v in w["cells"]:
        grid[y][x] = v
    return [
        (_("考评进度"), [_("状态"), _("组织数")],
         [[c["label"], c["n"]] for c in pr["counts"]] + [[_("合计"), pr["total"]], [_("逾期"), pr["overdue"]]]),
        (_("下级组织进度"), [_("组织"), _("层级"), _("参评组织"), _("已报送及以后"), _("已自评及以后"), _("已考评及以后"),
                       _("已公示及以后"), _("逾期")],
         [[c["name"], c["level_label"], c["total"], c["submitted"], c["self_assessed"], c["assessed"], c["published"],
           c["overdue"]] for c in pr["children"]]),
        (_("得分率分布"), [_("得分率区间（%）"), _("组织数")],
         [[b["label"], b["count"]] for b in d["bins"]] + [[_("平均"), d["mean"]], [_("中位数"), d["median"]]]),
        (_("同类排名"), [_("对标组"), _("同类组织数"), _("位置"), _("排名"), _("组织"), _("得分"), _("满分"), _("得分率（%）")],
         rank_rows),
        (_("得分率趋势"), [_("对标组")] + t["months"], [[g["label"], *g["values"]] for g in t["groups"]]),
        (_("薄弱细则"), [_("细则编码"), _("考评内容"), _("类别"), _("平均得分率（%）"), _("失分组织数"), _("失分合计"),
                     _("已考评组织数")],
         [[r["code"], r["text"], r["category"], r["avg_rate"], r["losing"], r["lost"], r["scored"]]
          for r in w["items"]]),
        (_("薄弱细则热力图"), heat_head, [[f"{it['code']}", *grid[i]] for i, it in enumerate(w["items"])]),
        (_("自评虚高"), [_("组织"), _("层级"), _("自评得分"), _("考评得分"), _("满分"), _("高出分数"), _("高出（占满分%）"),
                     _("超过阈值")],
         [[r["name"], r["level_label"], r["self_total"], r["assessor_total"], r["max_total"], r["gap"], r["gap_pp"],
           yes if r["flagged"] else ""] for r in inf["rows"]]),
        (_("考评员宽严"), [_("考评员"), _("考评细则数"), _("平均得分率（%）"), _("平均偏差（百分点）"), _("判断")],
         [[r["name"], r["n"], r["mean_rate"], r["residual"], r["flag_label"]] for r in a["rows"]]),
    ]


def org_choices(user, p: ov.Params, fig: dict) -> list[dict]:
    """The organizations the filter offers, without a query: the month's committee (when in the user's scope),
    the chosen organization, and its direct children that have children of their own (党总支, 下级党委)."""
    out = []
    owner = p.period.owner
    if owner.pk != p.org.pk and can(user, ov.ACTION, owner.path):
        out.append({"pk": owner.pk, "name": owner.name})
    out.append({"pk": p.org.pk, "name": p.org.name})
    for c in fig["progress"]["children"]:
        if c["org_id"] and not c["is_branch"] and not c["own"]:
            out.append({"pk": c["org_id"], "name": f"└ {c['name']}"})
    return out


def _parse(request, periods=None):
    """The filters, or (filters from the period and organization only, the error) when a threshold is bad."""
    try:
        return ov.parse_params(request.user, request.GET, periods), None
    except DomainError as exc:
        keep = {k: request.GET.get(k, "") for k in ("period", "org")}
        if exc.field in keep:
            raise
        return ov.parse_params(request.user, keep, periods), exc.message


def _figures(user, p: ov.Params) -> dict:
    """The dashboard's figures; those of a finalized month may be read on a read replica."""
    with frozen_reads() if p.period.is_finalized else nullcontext():
        return ov.figures(user, p)


@login_required
@deny_as_404
def oversight(request):
    user = request.user
    require_capability(user, ov.ACTION)
    periods = list(ov.overseeable_periods(user).order_by("-month", "owner__path")[:ov.PERIOD_CHOICES])
    try:
        p, error = _parse(request, periods)
    except DomainError as exc:
        messages.error(request, exc.message)
        p, error = ov.parse_params(user, {}, periods), None
    if p is None:
        return render(request, "assessments/oversight/dashboard.html", {"p": None, "periods": periods})
    fig = _figures(user, p)
    if wants_xlsx(request) and error is None:
        content = workbook_bytes(sheets(fig))
        what = filename = gettext_noop("考评监督看板")
        log_action(user, "export", request=request, what=what, filename=filename,
                   query=request.GET.urlencode()[:500], rows=fig["progress"]["total"])
        return xlsx_response(content, f"{_(filename)}-{p.period.month:%Y%m}-{p.org.name}.xlsx")
    if error:
        messages.error(request, error)
    _links(p, fig)
    query = urlencode(p.query())
    orgs = org_choices(user, p, fig)
    return render(request, "assessments/oversight/dashboard.html", {
        "p": p, "fig": fig, "periods": periods, "orgs": orgs, "query": query,
        "data_url": f"{reverse('assessments:oversight_data')}?{query}", "labels": labels(),
        "inflation_shown": fig["inflation"]["rows"][:ov.INFLATION_ROWS],
        "trend_rows": [(m, [g["values"][i] for g in fig["trend"]["groups"]])
                       for i, m in enumerate(fig["trend"]["months"])],
    })


@login_required
@deny_as_404
def oversight_data(request):
    """The figures of the page as JSON, for its charts (same filters, same access check)."""
    user = request.user
    require_capability(user, ov.ACTION)
    try:
        p = ov.parse_params(user, request.GET)
    except DomainError as exc:
        return JsonResponse({"detail": exc.message, "field": exc.field}, status=400)
    if p is None:
        return JsonResponse({"figures": None, "labels": labels()})
    fig = _figures(user, p)
    return JsonResponse({"figures": fig, "labels": labels()}, encoder=FloatEncoder)
