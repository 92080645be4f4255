"""Pages of the year end (民主评议党员): the committee's overview of its branches' reviews, a branch's year (annual
figures, suggested grades, the vote results and final grades of every member in one form, the six-month warning,
the HR export), the rule editor, computing and confirming.

Thin: fetch through core.access (an outsider gets 404), call yearend.py, render. "appraisal.view" reads,
"yearend.manage" writes.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.appraisal import yearend
from dangjian.appraisal.forms_yearend import (
    GRADE_CHOICES,
    ReviewHeaderForm,
    RuleForm,
    row_name,
    rows_from_post,
)
from dangjian.appraisal.models import Grade, YearAppraisal, YearReview
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Level, Organization

STATUS_CLASS = {"none": "secondary", "open": "primary", "locked": "success"}
GRADE_CLASS = {Grade.EXCELLENT: "danger", Grade.QUALIFIED: "success", Grade.BASIC: "warning",
               Grade.UNQUALIFIED: "dark"}


def default_year(today: datetime.date | None = None) -> int:
    """民主评议 is held early in the next year: until June the default is last year."""
    today = today or timezone.localdate()
    return today.year - 1 if today.month <= 6 else today.year


def _years() -> list[int]:
    this = timezone.localdate().year
    return list(range(this, this - 6, -1))


def _check_year(year: int) -> None:
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404(_("页面不存在，或您无权访问。"))


def _branch(request, org_id, action="appraisal.view") -> Organization:
    return get_scoped_or_404(request.user, action, Organization.objects.filter(level=Level.BRANCH)
                             .select_related("parent"), pk=org_id)


def _review(request, pk, action="yearend.manage") -> YearReview:
    return get_scoped_or_404(request.user, action, YearReview.objects.select_related("org"), pk=pk)


def _branch_url(review_or_org, year=None) -> str:
    if isinstance(review_or_org, YearReview):
        return reverse("appraisal:yearend_branch", args=[review_or_org.org_id, review_or_org.year])
    return reverse("appraisal:yearend_branch", args=[review_or_org.pk, year])


# ---- the committee's overview -----------------------------------------------------------------------------------


@login_required
def yearend_list(request):
    """Every branch in scope with its review's status and grade distribution for a year; filters, Excel."""
    user = request.user
    require_capability(user, "appraisal.view")
    f = {k: request.GET.get(k, "").strip() for k in ("year", "q", "status")}
    year = int(f["year"]) if f["year"].isdigit() and 2000 <= int(f["year"]) <= timezone.localdate().year \
        else default_year()
    f["year"] = str(year)
    branches = scope(user, "appraisal.view", Organization.objects.filter(level=Level.BRANCH, archived=False))
    if f["q"]:
        branches = branches.filter(name__contains=f["q"])
    reviews = YearReview.objects.filter(org=OuterRef("pk"), year=year)
    if f["status"] == "none":
        branches = branches.filter(~Exists(reviews))
    elif f["status"] == "open":
        branches = branches.filter(Exists(reviews.filter(locked_at__isnull=True)))
    elif f["status"] == "locked":
        branches = branches.filter(Exists(reviews.filter(locked_at__isnull=False)))
    branches = branches.select_related("parent").order_by("path")
    if wants_xlsx(request):
        summaries = yearend.review_summaries(branches.values("pk"), year)
        rows = (_overview_row(o, summaries.get(o.pk), year) for o in branches.iterator(chunk_size=2000))
        header = [_("党支部"), _("上级党组织"), _("年度"), _("状态"), _("参评人数"), _("优秀"), _("合格"),
                  _("基本合格"), _("不合格"), _("未评定"), _("优秀共产党员候选人"), _("确认时间")]
        return export_xlsx(request, gettext_noop("民主评议汇总"), header, rows, what=gettext_noop("民主评议汇总"))
    page, query = paginate(request, branches, 30)
    summaries = yearend.review_summaries([o.pk for o in page], year)
    for o in page:
        o.review = summaries.get(o.pk)
        o.status, o.status_label = yearend.review_status(o.review)
        o.badge = STATUS_CLASS[o.status]
    dist = dict(YearAppraisal.objects.filter(review__year=year, review__org__in=branches.values("pk")).order_by()
                .values_list("final_grade").annotate(n=Count("id")).values_list("final_grade", "n"))
    grades = [{"label": label, "n": dist.get(value, 0), "cls": GRADE_CLASS[value]} for value, label in Grade.choices]
    return render(request, "appraisal/yearend/list.html", {
        "page": page, "query": query, "f": f, "year": year, "years": _years(), "grades": grades,
        "pending": dist.get("", 0), "total": sum(dist.values()),
        "statuses": [("none", _("未开始")), ("open", _("评议中")), ("locked", _("已确认"))],
    })


def _overview_row(org, review, year):
    _code, label = yearend.review_status(review)
    counts = ([review.n, review.n_excellent, review.n_qualified, review.n_basic, review.n_unqualified,
               review.n_pending, review.n_candidates] if review else [0] * 7)
    return [org.name, org.parent.name if org.parent else "", year, label, *counts,
            review.locked_at if review and review.locked_at else None]


# ---- a branch's year --------------------------------------------------------------------------------------------


def _hr_export(request, org, review, appraisals):
    yes = _("是")
    grade = yearend.grade_label
    rows = ([a.member_name, org.name, a.member.post, review.year, a.months, a.annual_total, a.average, a.rank,
             a.veto_months, a.unqualified_months, grade(a.suggested_grade), a.votes_excellent, a.votes_qualified,
             a.votes_basic, a.votes_unqualified, grade(a.final_grade), yes if a.candidate else "", a.reason]
            for a in appraisals)
    header = [_("姓名"), _("党支部"), _("岗位"), _("年度"), _("参评月数"), _("全年得分"), _("月均得分"),
              _("支部内排名"), _("否决月数"), _("不合格月数"), _("建议等次"), _("优秀票"), _("合格票"),
              _("基本合格票"), _("不合格票"), _("评定等次"), _("优秀共产党员候选人"), _("理由")]
    return export_xlsx(request, gettext_noop("年度民主评议结果"), header, rows, what=gettext_noop("年度民主评议结果"),
                       count=len(appraisals))


@login_required
@deny_as_404
def yearend_branch(request, org_id, year):
    """A branch's year: every member's annual figures, suggested grade, vote inputs, final grade, reason and
    candidate box in one form (one POST: all rows saved, or none with each row's error); the rule, the lock, the
    six-month warning and the HR export."""
    org = _branch(request, org_id)
    _check_year(year)
    user = request.user
    can_manage = can(user, "yearend.manage", org.path)
    review = YearReview.objects.filter(org=org, year=year).first()
    appraisals = (list(YearAppraisal.objects.filter(review=review).select_related("member")
                       .order_by("rank", "member_name", "id")) if review else [])
    if wants_xlsx(request):
        if review is None:
            raise Http404(_("该年度尚未开始民主评议。"))
        return _hr_export(request, org, review, appraisals)
    editable = can_manage and review is not None and review.locked_at is None
    header = ReviewHeaderForm(initial={"meeting_date": review.meeting_date, "voters": review.voters}
                              if review else None)
    typed, errors, general = None, {}, []
    if request.method == "POST":
        if not can_manage:
            raise Http404(_("页面不存在，或您无权访问。"))
        if not editable:
            messages.error(request, _("该年度民主评议尚未开始或已确认，不能修改。"))
            return redirect(_branch_url(org, year))
        header = ReviewHeaderForm(request.POST)
        typed = rows_from_post(request.POST, [a.pk for a in appraisals])
        if header.is_valid():
            d = header.cleaned_data
            try:
                n = yearend.record_review(user, review, typed, meeting_date=d["meeting_date"], voters=d["voters"])
            except yearend.RowErrors as exc:
                errors, general = exc.rows, exc.general
            except DomainError as exc:
                form_error(header, exc)
            else:
                messages.success(request, _("已保存，{n} 名党员的评议结果有变化。").format(n=n))
                return redirect(_branch_url(org, year))
        if errors or general or header.errors:
            general = general or [_("有 {n} 行填写有误，全部未保存，请按提示修改后重新提交。").format(n=len(errors))]
    rows = []
    for a in appraisals:
        values = typed[a.pk] if typed else {
            **{f: getattr(a, f) for f in yearend.VOTE_FIELDS}, "final_grade": a.final_grade, "reason": a.reason,
            "candidate": a.candidate}
        rows.append({"a": a, "v": values, "error": errors.get(a.pk), "prefix": row_name(a.pk, ""),
                     "suggested": yearend.grade_label(a.suggested_grade),
                     "suggested_cls": GRADE_CLASS.get(a.suggested_grade, "secondary"),
                     "final": yearend.grade_label(a.final_grade),
                     "final_cls": GRADE_CLASS.get(a.final_grade, "secondary")})
    rule = cap = None
    suggested = final = {}
    if review:
        rule = yearend.parse_rule(review.rule)
        cap = yearend.excellent_cap(len(appraisals), rule.excellent_share)
        suggested = {g: sum(1 for a in appraisals if a.suggested_grade == g) for g in Grade.values}
        final = {g: sum(1 for a in appraisals if a.final_grade == g) for g in Grade.values}
    status, status_label = yearend.review_status(review)
    return render(request, "appraisal/yearend/branch.html", {
        "org": org, "year": year, "review": review, "rows": rows, "header": header, "general": general,
        "can_manage": can_manage, "editable": editable, "status": status, "status_label": status_label,
        "badge": STATUS_CLASS[status], "rule": rule, "rule_rows": _rule_rows(rule), "cap": cap,
        "dist": [{"label": label, "suggested": suggested.get(value, 0), "final": final.get(value, 0),
                  "cls": GRADE_CLASS[value]} for value, label in Grade.choices],
        "warnings": yearend.absence_warnings(org, year), "grade_choices": GRADE_CHOICES, "years": _years(),
        "can_compute": can_manage and status != "locked",
        "candidates": sum(1 for a in appraisals if a.candidate),
    })


def _rule_rows(rule):
    if rule is None:
        return []
    out = []
    for name, label, kind in yearend.RULE_FIELDS:
        value = getattr(rule, name)
        out.append((_(label), yearend.grade_label(value) if kind == "grade" else value))
    return out


@login_required
@require_POST
@deny_as_404
def yearend_compute(request, org_id, year):
    """Compute (or refresh) the branch's annual figures and suggestions from the published months."""
    org = _branch(request, org_id, "yearend.manage")
    _check_year(year)
    try:
        review = yearend.compute_year(request.user, org, year)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已根据已公示的月度结果计算 {n} 名党员的年度得分和建议等次。").format(
            n=review.appraisals.count()))
    return redirect(_branch_url(org, year))


@login_required
@deny_as_404
def yearend_rule(request, pk):
    """The review's rule for suggested grades; saving it suggests again."""
    review = _review(request, pk)
    if review.locked_at is not None:
        messages.error(request, _("该年度民主评议已确认，不能修改规则。"))
        return redirect(_branch_url(review))
    initial = yearend.parse_rule(review.rule).as_json()
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            yearend.save_rule(request.user, review, form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("规则已保存，建议等次已按新规则重新计算。"))
            return redirect(_branch_url(review))
    return render(request, "appraisal/yearend/rule.html", {
        "form": form, "review": review, "back": _branch_url(review),
        "title": _("{org} {year}年度建议等次规则").format(org=review.org.name, year=review.year),
    })


@login_required
@require_POST
@deny_as_404
def yearend_lock(request, pk):
    review = _review(request, pk)
    try:
        yearend.lock_review(request.user, review)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("{year}年度民主评议结果已确认，不能再修改。").format(year=review.year))
    return redirect(_branch_url(review))


__all__ = ["yearend_list", "yearend_branch", "yearend_compute", "yearend_rule", "yearend_lock"]
