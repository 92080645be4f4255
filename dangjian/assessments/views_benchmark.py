"""Pages of 对标: an organization against its peer group (with its JSON for the charts and an Excel workbook), and
the annual view with 先进党支部 candidates (Excel, print).

Thin: the figures come from ``assessments.benchmark``, which reads everything through core.access (``eval.view``):
an organization or committee outside the user's scope is 404, the same for the page, the JSON and the export.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from dangjian.assessments import benchmark as bm
from dangjian.core.audit import log_action
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.core.excel import wants_xlsx, workbook_bytes, xlsx_response
from dangjian.core.views import deny_as_404
from dangjian.orgs.models import Level, OrgType

ANNUAL_PER_PAGE = 50


def _figures(request, org_pk):
    """The figures for the requested month; a malformed month parameter falls back to the default with a note."""
    error = None
    try:
        period_id = bm.parse_period_param(request.GET.get("period"))
    except DomainError as exc:
        error, period_id = exc.message, None
    return bm.org_benchmark(request.user, org_pk, period_id), error


def _export(request, filename: str, sheets, rows: int, suffix: str):
    content = workbook_bytes(sheets)
    log_action(request.user, "export", request=request, what=filename, filename=filename,
               query=request.GET.urlencode()[:500], rows=rows)
    return xlsx_response(content, f"{_(filename)}-{suffix}.xlsx")


@login_required
@require_GET
@deny_as_404
def org_benchmark(request, org_pk):
    """对标: the organization against its peer group in one month, item by item, and its trend."""
    fig, error = _figures(request, org_pk)
    if wants_xlsx(request):
        month = (fig["period"] or {}).get("month", "")
        return _export(request, gettext_noop("对标分析"), bm.benchmark_sheets(fig), len(fig["items"]),
                       f"{fig['org']['name']}-{month}")
    if error:
        messages.error(request, error)
    query = urlencode({"period": fig["period"]["id"]}) if fig["period"] else ""
    data_url = reverse("assessments:org_benchmark_data", args=[fig["org"]["id"]]) + (f"?{query}" if query else "")
    return render(request, "assessments/benchmark/org.html", {
        "fig": fig, "s": fig["summary"], "query": query, "data_url": data_url,
        "labels": {"gap_avg": _("与平均差距"), "gap_best": _("与最高差距"), "rate": _("本组织得分率"),
                   "avg": _("对标组平均得分率"), "best": _("对标组最高得分率")},
    })


@login_required
@require_GET
@deny_as_404
def org_benchmark_data(request, org_pk):
    """The same figures as JSON, for the page's charts (benchmark.js)."""
    fig, _error = _figures(request, org_pk)
    data = bm.to_json(fig)
    data["labels"] = {"gap_avg": _("与平均差距"), "gap_best": _("与最高差距"), "rate": _("本组织得分率"),
                      "avg": _("对标组平均得分率"), "best": _("对标组最高得分率")}
    return JsonResponse(data)


@login_required
@require_GET
@deny_as_404
def annual(request):
    """The year of a committee's organizations: grades and totals by month, averages, peer ranks, candidates."""
    f = bm.annual_filters(request.user, request.GET)
    with frozen_reads():  # finalized months only: they may be read on a read replica
        return _annual(request, f)


def _annual(request, f):
    rows = bm.AnnualRows(request.user, f)
    types = list(OrgType.objects.all())
    type_names = {t.pk: t.display_name for t in types}
    if wants_xlsx(request):
        title, header, lines = bm.annual_sheet(f, rows, type_names)
        owner = f.owner.name if f.owner else ""
        return _export(request, gettext_noop("年度考评"), [(title, header, lines)], rows.count(), f"{owner}-{f.year}")
    for message in f.errors:
        messages.error(request, message)
    page = Paginator(rows, ANNUAL_PER_PAGE).get_page(request.GET.get("page"))
    for r in page:
        r["type_name"] = type_names.get(r["type_id"], "")
    query = urlencode(f.query())
    months = {p["month"].month for p in f.periods}
    return render(request, "assessments/benchmark/annual.html", {
        "f": f, "page": page, "query": query, "counts": rows.counts(), "types": types, "levels": Level.choices,
        "rule_text": bm.rule_text(f), "month_heads": [{"m": m, "done": m in months} for m in range(1, 13)],
        "top_grade": f.grades[0] if f.grades else "", "lowest_grade": f.grades[-1] if len(f.grades) > 1 else "",
    })
