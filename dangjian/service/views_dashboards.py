"""The decision-support dashboard (服务看板) of the user's subtree: filters, charts with table fallbacks, links
from every count to the list it counts, and one Excel workbook with a sheet per figure.

Thin: parse the filters (an organization or area outside the scope is 404), call service.dashboards, shape the
chart data for service/dashboards.js (read from a json_script element: the CSP forbids inline scripts).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.assessments import auto
from dangjian.assessments.models import Period
from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.excel import wants_xlsx, workbook_bytes, xlsx_response
from dangjian.core.views import deny_as_404, require_capability
from dangjian.orgs.forms import org_choices
from dangjian.service import dashboards as dash
from dangjian.service.models import ServiceArea, SurveyKind

AREA_CHOICES_MAX = 300


def _url(name: str, **params) -> str | None:
    """The list a count drills down to, filtered like the count (None while that list does not exist)."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        return None
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(params)}" if params else base


def _links(f: dash.Filters, fig: dict) -> None:
    """Put a drill-down link on each row that counts needs or tickets."""
    org = f.org.pk if f.org else None
    area = f.area.pk if f.area else None
    # The lists filter one month (``month``); a longer range is passed as from/to for lists that read them.
    rng = {"month": f"{f.start:%Y-%m}"} if f.start == f.end else {"from": f"{f.start:%Y-%m}", "to": f"{f.end:%Y-%m}"}
    for r in fig["needs"]["by_category"]:
        r["url"] = _url("service:need_list", category=r["category"], org=org, area=area, **rng)
    for r in fig["needs"]["by_area"]:
        r["url"] = _url("service:need_list", area=r["area"] or area, org=org, **rng) if r["area"] or area else None
    for r in fig["needs"]["by_month"]:
        r["url"] = _url("service:need_list", month=r["month"], org=org, area=area)
    t = fig["tickets"]
    t["urls"] = {
        "open": _url("service:ticket_list", state="open", org=org, area=area),
        "overdue": _url("service:ticket_list", overdue="1", org=org, area=area),
        "closed": _url("service:ticket_list", state="closed", org=org, area=area, **rng),
        "all": _url("service:ticket_list", org=org, area=area, **rng),
    }
    for r in t["by_month"]:
        r["url"] = None  # counted by the month of closing, which the ticket list does not filter by
    for r in fig["before_after"]["rows"]:
        try:
            r["url"] = reverse("service:ticket_detail", args=[r["ticket"]])
        except NoReverseMatch:
            r["url"] = None


def _chart_data(fig: dict) -> dict:
    """Plain lists for the charts (numbers as floats or null)."""

    def num(v):
        return float(v) if v is not None else None

    needs, tickets, sat, teams = fig["needs"], fig["tickets"], fig["satisfaction"], fig["teams"]
    months = [r["month"] for r in needs["by_month"]]
    return {
        "months": months,
        "labels": {"need_government": _("政府统筹发展要求"), "need_people": _("客户/群众诉求"), "mean": _("平均办结天数"),
                   "median": _("办结天数中位数"), "rate": _("销号率（%）"), "hours": _("服务时长（小时）"),
                   "served": _("服务人次"), "before": _("整改前指数"), "after": _("整改后指数"),
                   **{k: str(lbl) for k, lbl in SurveyKind.choices}},
        "needs_month": {k: [r[k] for r in needs["by_month"]] for k in ("government", "people")},
        "needs_category": [{"name": r["label"], "value": r["count"]} for r in needs["by_category"]],
        "needs_area": [{"name": r["label"], "value": r["count"]} for r in needs["by_area"]],
        "tickets": {"mean": [num(r["mean_days"]) for r in tickets["by_month"]],
                    "median": [num(r["median_days"]) for r in tickets["by_month"]],
                    "rate": [num(r["closure_rate"]) for r in tickets["by_month"]]},
        "satisfaction": {k: [num(r[k]["mean"]) for r in sat["by_month"]] for k in SurveyKind.values},
        "before_after": [{"name": f"{r['org_name']} {r['before_month']}", "before": num(r["before"]),
                          "after": num(r["after"])} for r in fig["before_after"]["rows"][:12]],
        "teams": {"hours": [num(r["hours"]) for r in teams["by_month"]],
                  "served": [r["people_served"] for r in teams["by_month"]]},
    }


def sheets(fig: dict) -> list[tuple[str, list[str], list]]:
    """One sheet per figure, headed in the user's language."""
    kinds = SurveyKind.values
    kind_labels = dict(SurveyKind.choices)
    n, t, s, b, tm = fig["needs"], fig["tickets"], fig["satisfaction"], fig["before_after"], fig["teams"]
    c = t["counts"]
    sat_head = [_("月份")]
    for k in kinds:
        lbl = str(kind_labels[k])
        sat_head += [_("{kind}指数").format(kind=lbl), _("{kind}满意率（%）").format(kind=lbl),
                     _("{kind}样本数").format(kind=lbl), _("{kind}单位数").format(kind=lbl)]
    return [
        (_("需求按月"), [_("月份"), _("政府统筹发展要求"), _("客户/群众诉求"), _("合计")],
         [[r["month"], r["government"], r["people"], r["total"]] for r in n["by_month"]]),
        (_("需求按类别"), [_("类别"), _("数量")], [[r["label"], r["count"]] for r in n["by_category"]]),
        (_("需求按区域"), [_("服务区域"), _("数量")], [[r["label"], r["count"]] for r in n["by_area"]]),
        (_("工单概况"), [_("统计项"), _("数量")],
         [[_("区间内新建工单"), c["total"]], [_("当前办理中"), c["open"]], [_("当前已超期"), c["overdue"]],
          [_("区间内销号"), c["closed"]], [_("区间内新建后撤销"), c["cancelled"]],
          [_("区间内销号且重复发生"), c["recurrence"]], [_("新建工单销号比例（%）"), c["closed_share"]]]),
        (_("工单按月"), [_("月份"), _("销号数"), _("平均办结天数"), _("办结天数中位数"), _("重复发生"), _("重复发生率（%）"),
                        _("应销号"), _("月末已销号"), _("销号率（%）")],
         [[r["month"], r["closed"], r["mean_days"], r["median_days"], r["recurrence"], r["recurrence_share"], r["due"],
           r["closed_by_month_end"], r["closure_rate"]] for r in t["by_month"]]),
        (_("满意度按月"), sat_head,
         [[r["month"], *[v for k in kinds for v in (r[k]["mean"], r[k]["share_satisfied"], r[k]["responses"],
                                                   r[k]["orgs"])]] for r in s["by_month"]]),
        (_("整改前后对比"), [_("工单编号"), _("标题"), _("单位"), _("类型"), _("整改前月份"), _("整改前指数"), _("样本数"),
                          _("销号日期"), _("整改后月份"), _("整改后指数"), _("变化")],
         [[r["number"], r["title"], r["org_name"], r["kind_label"], r["before_month"], r["before"], r["responses"],
           r["closed_on"], r["after_month"], r["after"], r["change"]] for r in b["rows"]]),
        (_("服务队按月"), [_("月份"), _("活动次数"), _("服务人次"), _("服务时长（小时）"), _("参与党员")],
         [[r["month"], r["activities"], r["people_served"], r["hours"], r["members"]] for r in tm["by_month"]]),
    ]


@login_required
@deny_as_404
def dashboard(request):
    user = request.user
    require_capability(user, dash.ACTION)
    error = None
    try:
        f = dash.parse_filters(user, request.GET)
    except DomainError as exc:
        error = exc.message
        f = dash.parse_filters(user, {})
    fig = dash.service_figures(user, f)
    if wants_xlsx(request) and error is None:
        content = workbook_bytes(sheets(fig))
        what, filename = gettext_noop("服务看板"), gettext_noop("服务看板")
        log_action(user, "export", request=request, what=what, filename=filename,
                   query=request.GET.urlencode()[:500], rows=len(f.months))
        return xlsx_response(content, f"{_(filename)}-{f.start:%Y%m}-{f.end:%Y%m}.xlsx")
    if error:
        messages.error(request, error)
    _links(f, fig)
    query = urlencode(f.query())
    areas = scope(user, dash.ACTION, ServiceArea.objects.filter(archived=False).select_related("org"))
    if f.org is not None:
        areas = areas.filter(org__path__startswith=f.org.path)
    latest = {k: next((r[k] for r in reversed(fig["satisfaction"]["by_month"]) if r[k]["mean"] is not None), None)
              for k in SurveyKind.values}
    return render(request, "service/dashboards/dashboard.html", {
        "f": f, "fig": fig, "chart": _chart_data(fig), "query": query,
        "orgs": org_choices(user, dash.ACTION).order_by("path")[:500],
        "areas": areas.order_by("org__path", "name")[:AREA_CHOICES_MAX],
        "kinds": SurveyKind.choices, "latest": latest, "today": timezone.localdate(),
    })


@login_required
@require_POST
@deny_as_404
def auto_score(request, period_id):
    """按服务数据计分: the month's auto-scored items of every organization not yet published (eval.manage)."""
    period = get_scoped_or_404(request.user, "eval.manage", Period.objects.select_related("owner"), pk=period_id)
    try:
        outcomes = auto.apply_auto_scores(request.user, period, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        scored = sum(1 for o in outcomes if o.score is not None)
        left = len(outcomes) - scored
        if not outcomes:
            messages.info(request, _("本月没有待计分的服务数据计分细则（细则未设置服务数据计分，或各组织已公示）。"))
        else:
            messages.success(request, _("已按服务数据计分 {n} 项；{m} 项没有足够数据，留给考评员评分。").format(
                n=scored, m=left))
    return redirect("assessments:period_detail", period.pk)
