"""Pages of a finalized month (月兑现结果): the results with peer ranks, grades and the secretaries' monthly rating
(filters, grouping by peer group, Excel, print), the month's adjustments, and the adjustment form.

Thin: fetch through core.access (an outsider gets 404), read with ``assessments.results``, write with
``close.adjust_result``. The stored digest is checked before results are shown or exported.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.assessments import close, results
from dangjian.assessments.forms_results import AdjustForm
from dangjian.assessments.models import Period, Result
from dangjian.assessments.views import _period
from dangjian.core import frozen_cache
from dangjian.core.access import can, get_scoped_or_404
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate
from dangjian.orgs.models import Level


def _refusal(period: Period) -> str | None:
    """Why the month's results cannot be shown: not finalized yet, or the digest does not match."""
    if not period.is_finalized:
        return None
    try:
        close.check_digest(period, fresh=True)  # read by _period in this request
    except DomainError as exc:
        return exc.message
    return None


def _type_name(r) -> str:
    return r.org_type.display_name if r.org_type_id and r.org_type else ""


def _rating(r) -> str:
    return _("{grade}（系数 {coefficient}）").format(grade=r.grade, coefficient=r.coefficient)


def _export(request, period: Period, qs):
    yes = _("是")
    rows = ((results.group_label(r.get_level_display(), r.org_type), r.org_name, str(r.get_level_display()),
             _type_name(r), r.total, r.max_total, r.score_rate, r.peer_rank, r.peer_size, r.overall_rank,
             r.overall_size, r.percentile, r.grade, r.coefficient, r.secretary, _rating(r),
             yes if r.vetoed else "", yes if r.adjusted else "")
            for r in qs.iterator(chunk_size=2000))
    header = [_("对标组"), _("组织名称"), _("层级"), _("类型"), _("得分"), _("满分"), _("得分率（%）"), _("同类排名"),
              _("同类组织数"), _("总排名"), _("参评组织数"), _("超过同类组织（%）"), _("等级"), _("兑现系数"),
              _("书记"), _("书记月度绩效"), _("一票否决"), _("已调整")]
    return export_xlsx(request, gettext_noop("兑现结果"), header, rows, what=gettext_noop("兑现结果"))


def _paginate(request, qs, count=None, per_page=50):
    """core.views.paginate, with the row count given when the page already knows it (one query fewer)."""
    try:
        per_page = min(max(int(request.GET.get("per_page", per_page)), 10), 200)
    except ValueError:
        pass
    paginator = Paginator(qs, per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not queried
    query = request.GET.copy()
    query.pop("page", None)
    return paginator.get_page(request.GET.get("page")), query.urlencode()


def _types(groups) -> list:
    """The organization types of the month's peer groups in the user's scope, for the type filter."""
    seen, out = set(), []
    for g in groups:
        if g.org_type_id and g.org_type_id not in seen:
            seen.add(g.org_type_id)
            out.append(g.org_type)
    return out


@login_required
def period_results(request, pk):
    """The month's results in the user's scope, by peer group then rank; filters, grouping, Excel, print."""
    period = _period(request, pk)
    f = results.read_filters(request.GET)
    ctx = {"period": period, "f": f, "levels": Level.choices, "grades": results.grade_names(period)}
    if not period.is_finalized:
        ctx["publicity_until"] = close.publicity_open_until(period)
        return render(request, "assessments/results/results.html", ctx)
    refusal = _refusal(period)
    if refusal:
        ctx["refusal"] = refusal
        return render(request, "assessments/results/results.html", ctx, status=409 if wants_xlsx(request) else 200)
    with frozen_reads():  # a finalized month: its results may come from a read replica
        return _frozen_results(request, period, f, ctx)


def _frozen_results(request, period: Period, f: dict, ctx: dict):
    user = request.user
    base = results.visible_results(user, period)
    qs = results.for_listing(results.filter_results(base, f), f["sort"])
    if wants_xlsx(request):
        return _export(request, period, qs)
    counts = results.grade_counts(base)
    # Without filters the list is every visible result: its count is the sum of the grade counts.
    filtered = any(f[k] for k in ("level", "type", "grade", "q"))
    page, query = _paginate(request, qs, None if filtered else sum(counts.values()))
    badges = results.grade_badges(period)
    groups = results.peer_groups(user, period, base)
    recent = list(results.adjustments(user, period)[:11])
    can_adjust = results.can_adjust(user, period)
    ctx.update({
        "page": page, "query": query, "groups": groups, "total": sum(counts.values()),
        "grade_cards": [{"grade": g, "n": counts.get(g, 0), "badge": badges.get(g, "secondary")}
                        for g in ctx["grades"]],
        "types": _types(groups), "adjustments": recent[:10], "more_adjustments": len(recent) > 10,
        "can_adjust": can_adjust, "badges": badges,
        "table_html": _table_html(period, f, qs, page, groups, badges, recent, can_adjust),
    })
    return render(request, "assessments/results/results.html", ctx)


TABLE = "assessments/results/_table.html"


def _table_html(period: Period, f: dict, qs, page, groups, badges, recent, can_adjust: bool):
    """The page of the results table, rendered once per state of the finalized month (core.frozen_cache): keyed
    by the stored digest, the newest adjustment the user sees (an adjustment and its reversal leave the digest as
    it was, not the "adjusted" marks), the listing's SQL (the user's scope, the filters, the order), the page,
    and the peer groups' figures and type names (read for this page anyway). On a hit the page's rows are not
    read at all."""
    parts = (period.pk, period.digest, period.grade_rule, recent[0].pk if recent else None, str(qs.query),
             page.number, page.paginator.per_page, page.paginator.count, f["group"], can_adjust,
             tuple((g.pk, g.level, g.org_type_id, g.org_type.display_name if g.org_type else "", g.count, g.avg,
                    g.median) for g in groups))

    def render_table():
        by_group = {(g.level, g.org_type_id): g for g in groups}
        previous = None
        for r in page:
            r.badge = badges.get(r.grade, "secondary")
            key = (r.level, r.org_type_id)
            r.group_start = f["group"] == "1" and f["sort"] != "overall" and key != previous
            r.group = by_group.get(key)
            r.group_label = results.group_label(r.get_level_display(), r.org_type)
            previous = key
        return render_to_string(TABLE, {"page": page, "period": period, "can_adjust": can_adjust})

    return frozen_cache.fragment("results.table", TABLE, parts, render_table)


@login_required
def period_adjustments(request, pk):
    """Every adjustment of the month in the user's scope: old → new total, reason, who, when; Excel."""
    period = _period(request, pk)
    user = request.user
    f = {"q": (request.GET.get("q") or "").strip()}
    qs = results.adjustments(user, period)
    if f["q"]:
        qs = qs.filter(result__org_name__contains=f["q"][:100])
    if wants_xlsx(request):
        rows = ((a.result.org_name, a.old_total, a.new_total, a.new_total - a.old_total, a.reason,
                 results.user_name(a.by), timezone.localtime(a.at)) for a in qs.iterator(chunk_size=2000))
        header = [_("组织名称"), _("原得分"), _("调整后得分"), _("差值"), _("调整理由"), _("调整人"), _("调整时间")]
        return export_xlsx(request, gettext_noop("兑现后调整"), header, rows, what=gettext_noop("兑现后调整"))
    page, query = paginate(request, qs, 50)
    return render(request, "assessments/results/adjustments.html", {
        "period": period, "page": page, "query": query, "f": f})


@login_required
@deny_as_404
def result_adjust(request, pk):
    """兑现后调整 of one organization's result: the current figures, the new total, a reason, confirm."""
    user = request.user
    result = get_scoped_or_404(user, "eval.manage", Result.objects.select_related("period__owner", "org_type"),
                               pk=pk)
    period = result.period
    if not can(user, "eval.manage", period.owner.path):
        raise Http404(_("页面不存在，或您无权访问。"))
    form = AdjustForm(request.POST or None, initial={"new_total": result.total})
    form.fields["new_total"].help_text = _("0 至 {max} 之间，最多一位小数。").format(max=result.max_total)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            adjustment = close.adjust_result(user, result, d["new_total"], d["reason"])
        except DomainError as exc:
            form_error(form, exc, {"score": "new_total"})
        else:
            messages.success(request, _("已将{org}的得分由 {old} 调整为 {new}，本月排名和等级已重新计算。").format(
                org=result.org_name, old=adjustment.old_total, new=adjustment.new_total))
            return redirect(f"{reverse('assessments:period_results', args=[period.pk])}#result-{result.pk}")
    history = list(results.adjustments(user, period, result))
    return render(request, "assessments/results/adjust.html", {
        "result": result, "period": period, "form": form, "history": history,
        "badge": results.grade_badges(period).get(result.grade, "secondary"),
        "finalized": period.is_finalized,
    })


__all__ = ["period_results", "period_adjustments", "result_adjust"]
