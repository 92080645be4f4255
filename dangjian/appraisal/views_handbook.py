"""Pages of the handbook (《党员量化评价手册》): a page to choose the year and whose handbooks to print, and the PDFs
— one member's, or a whole branch's in one file — opened inline in the browser (preview without download), or
downloaded with ``?download=1``. Every PDF is audited as an export (handbook.py)."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.appraisal import handbook
from dangjian.appraisal.models import MemberResult, StudyRecord
from dangjian.core.access import can, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, paginate
from dangjian.orgs.models import Level, Member, Organization


def pdf_response(content: bytes, filename: str, *, download: bool) -> HttpResponse:
    """A PDF shown inline by the browser's viewer (or saved with ``download``). The page CSP does not apply: the
    document is our own ReportLab output, and a sandboxing policy would stop the built-in viewer."""
    resp = HttpResponse(content, content_type="application/pdf")
    kind = "attachment" if download else "inline"
    resp["Content-Disposition"] = f"{kind}; filename*=UTF-8''{quote(filename)}"
    resp["Cache-Control"] = "private, no-store"
    resp["X-Content-Type-Options"] = "nosniff"
    resp._csp_exempt = True  # django-csp: no page policy on a PDF
    return resp


def _year_or_back(request):
    try:
        return handbook.parse_year(request.GET.get("year")), None
    except DomainError as exc:
        messages.error(request, exc.message)
        return None, redirect("appraisal:handbook_index")


def _count(model, field, year, member_ref="pk"):
    qs = (model.objects.filter(member=OuterRef(member_ref), **{f"{field}__year": year}).order_by()
          .values("member").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(qs), 0)


@login_required
def handbook_index(request):
    """Choose the year; print one's own handbook; for those in charge, print a branch or any member in scope."""
    user = request.user
    me = Member.objects.filter(user_id=user.pk).select_related("org").first()
    manages = can(user, "appraisal.view")
    if me is None and not manages:
        raise Http404(_("页面不存在，或您无权访问。"))
    try:
        year = handbook.parse_year(request.GET.get("year"))
    except DomainError as exc:
        messages.error(request, exc.message)
        year = handbook.parse_year(None)
    f = {k: request.GET.get(k, "").strip() for k in ("q", "org")}
    this = handbook.parse_year(None)
    years = sorted({*range(this, this - 6, -1), year}, reverse=True)
    ctx = {"me": me, "year": year, "years": years, "f": f, "manages": manages}
    if manages:
        branches = scope(user, "appraisal.view", Organization.objects.filter(level=Level.BRANCH, archived=False))
        members = scope(user, "appraisal.view", Member.objects.filter(active=True)).select_related("org")
        if f["org"].isdigit():
            members = members.filter(org_id=int(f["org"]))
        if f["q"]:
            members = members.search(f["q"])
        members = members.annotate(
            n_months=_count(MemberResult, "month", year), n_study=_count(StudyRecord, "date", year),
        ).order_by("org__path", "name_pinyin", "id")
        if wants_xlsx(request):
            rows = ((m.name, m.org.name, m.post, m.n_months, m.n_study) for m in members.iterator(chunk_size=2000))
            header = [_("姓名"), _("党支部"), _("岗位"), _("已公示月数"), _("学习记录条数")]
            return export_xlsx(request, gettext_noop("党员量化评价手册"), header, rows,
                               what=gettext_noop("党员量化评价手册清单"))
        page, query = paginate(request, members, 30)
        ctx.update(page=page, query=query, branches=list(branches.order_by("path").only("id", "name")[:500]))
    return render(request, "appraisal/handbook/index.html", ctx)


@login_required
@deny_as_404
def handbook_member(request, member_id):
    """One member's handbook as a PDF: the member themself, the branch's secretary, the staff, admins."""
    member = handbook.get_member(request.user, member_id)
    year, back = _year_or_back(request)
    if back:
        return back
    try:
        content = handbook.member_handbook(request.user, member, year)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("appraisal:handbook_index") + f"?year={year}")
    return pdf_response(content, handbook.filename_for(member.name, year), download=bool(request.GET.get("download")))


@login_required
@deny_as_404
def handbook_branch(request, org_id):
    """Every member of a branch in one PDF, each starting on a new page."""
    org = handbook.get_branch(request.user, org_id)
    year, back = _year_or_back(request)
    if back:
        return back
    try:
        content = handbook.branch_handbooks(request.user, org, year)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("appraisal:handbook_index") + f"?year={year}&org={org.pk}")
    return pdf_response(content, handbook.filename_for(org.name, year), download=bool(request.GET.get("download")))


__all__ = ["handbook_index", "handbook_member", "handbook_branch", "pdf_response"]
