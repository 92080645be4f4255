"""Pages of the monthly member evaluation (党员自评、支部评定、公示): the months, one branch's month on one page,
one member's month (the phone-first self-evaluation page), the member's own history with its trend.

Thin: parse, fetch through core.access (an outsider gets 404), call a service, render. Every rule is in
appraisal.services and appraisal.close.
"""

import itertools
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.appraisal import close, services
from dangjian.appraisal import forms_evaluations as forms
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberEvidence,
    MemberLine,
    MemberResult,
    PeriodStatus,
)
from dangjian.assessments.views import file_response
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Organization
from dangjian.standards.models import MemberPart

STATE_CLASS = {AState.NOT_STARTED: "secondary", AState.SELF_EVALUATED: "primary", AState.DETERMINED: "warning",
               AState.PUBLISHED: "success"}
PARTS = [MemberPart.BASE, MemberPart.BONUS, MemberPart.DEDUCTION, MemberPart.VETO]


def _period(request, pk) -> AppraisalPeriod:
    try:
        return services.visible_periods(request.user).get(pk=pk)
    except (AppraisalPeriod.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("页面不存在，或您无权访问。")) from exc


def _managed_period(request, pk) -> AppraisalPeriod:
    return get_scoped_or_404(request.user, "appraisal.manage",
                             AppraisalPeriod.objects.select_related("owner", "standard_set"), pk=pk)


def _evaluation(request, pk, action="appraisal.view") -> MemberEvaluation:
    qs = MemberEvaluation.objects.select_related("period__owner", "period__standard_set", "member")
    return get_scoped_or_404(request.user, action, qs, pk=pk)


def _branch(request, period: AppraisalPeriod, org_pk) -> Organization:
    """A branch of the period that the user may determine (the secretary, the committee's staff); else 404."""
    org = Organization.objects.filter(pk=org_pk).first()
    if (org is None or not org.path.startswith(period.owner.path)
            or not can(request.user, "appraisal.determine", org.path)):
        raise Http404(_("页面不存在，或您无权访问。"))
    return org


def _state_label(value) -> str:
    return str(AState(value).label)


def _own_evaluations(user):
    return MemberEvaluation.objects.filter(member__user_id=user.pk)


# ---- months ------------------------------------------------------------------------------------------------------


@login_required
def period_list(request):
    user = request.user
    if not can(user, "appraisal.view") and _own_evaluations(user).exists():
        return redirect("appraisal:my_month")  # a member without a role: their own month
    require_capability(user, "appraisal.view")
    qs = services.visible_periods(user)
    f = {k: request.GET.get(k, "").strip() for k in ("year", "status", "q")}
    if f["year"].isdigit():
        qs = qs.filter(month__year=int(f["year"]))
    if f["status"] in PeriodStatus.values:
        qs = qs.filter(status=f["status"])
    if f["q"]:
        qs = qs.filter(owner__name__contains=f["q"])
    qs = qs.order_by("-month", "owner__path")
    if wants_xlsx(request):
        rows = ((p.label, p.owner.name, p.standard_set.name, str(p.get_status_display()), p.self_due,
                 p.determine_due) for p in qs.iterator(chunk_size=2000))
        header = [_("评价月份"), _("组织评价的单位"), _("评价标准"), _("状态"), _("自评截止"), _("评定截止")]
        return export_xlsx(request, gettext_noop("党员评价月份"), header, rows, what=gettext_noop("党员评价月份"))
    page, query = paginate(request, qs)
    counts = {}
    evs = scope(user, "appraisal.view", MemberEvaluation.objects.filter(period__in=[p.pk for p in page]))
    for row in evs.order_by().values("period_id", "state").annotate(n=Count("id")):
        c = counts.setdefault(row["period_id"], {"total": 0, "done": 0})
        c["total"] += row["n"]
        if row["state"] in (AState.DETERMINED, AState.PUBLISHED):
            c["done"] += row["n"]
    for p in page:
        c = counts.get(p.pk, {"total": 0, "done": 0})
        p.n_total, p.n_done = c["total"], c["done"]
        p.pct = round(100 * p.n_done / p.n_total) if p.n_total else 0
    years = services.visible_periods(user).order_by().dates("month", "year", order="DESC")
    return render(request, "appraisal/evaluation/period_list.html", {
        "page": page, "query": query, "f": f, "statuses": PeriodStatus.choices, "years": [d.year for d in years],
        "can_open": can(user, "appraisal.manage"),
    })


@login_required
@deny_as_404
def period_create(request):
    user = request.user
    require_capability(user, "appraisal.manage")
    form = forms.PeriodForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            period = services.open_period(user, d["owner"], d["month"], self_due=d["self_due"],
                                          determine_due=d["determine_due"], standard_set=d["standard_set"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已开启{owner} {month} 的党员评价，{n} 名党员参加。").format(
                owner=period.owner.name, month=period.label, n=period.evaluations.count()))
            return redirect("appraisal:period_detail", period.pk)
    return render(request, "appraisal/evaluation/form.html", {
        "form": form, "title": _("开启党员月度评价"), "back": reverse("appraisal:period_list"),
        "note": _("开启后，该单位下属各支部的每名在册党员（正式、预备）都会生成本月评价，"
                  "组织生活、党费、志愿服务等次数从活动记录带入。"),
    })


@login_required
def period_detail(request, pk):
    """Per branch progress of a month: counts per state, published or not, links to each branch's page; the
    staff's publish and close buttons; Excel export. A member without a role sees only their own month."""
    period = _period(request, pk)
    user = request.user
    has_role = can(user, "appraisal.view", period.owner.path) or can(user, "appraisal.determine")
    mine = _own_evaluations(user).filter(period=period).first()
    branches = []
    if has_role:
        evs = scope(user, "appraisal.view", MemberEvaluation.objects.filter(period=period))
        rows = {}
        for r in evs.order_by().values("org_id", "org_name", "org_path", "state", "exempt").annotate(n=Count("id")):
            b = rows.setdefault(r["org_id"], {"org_id": r["org_id"], "name": r["org_name"], "path": r["org_path"],
                                              "total": 0, "exempt": 0, **{s: 0 for s in AState.values}})
            b["total"] += r["n"]
            if r["exempt"]:
                b["exempt"] += r["n"]
            else:
                b[r["state"]] += r["n"]
        branches = sorted(rows.values(), key=lambda x: x["path"])
    q = request.GET.get("q", "").strip()
    if q:
        branches = [b for b in branches if q in b["name"]]
    # A province has thousands of branches: the figures count them all, the table shows a page of them, and only
    # that page's branches are looked up (published figures, rights) — the Excel export has every one.
    xlsx = wants_xlsx(request) and has_role
    page, query = paginate(request, branches, 50)
    shown = branches if xlsx else page.object_list
    published = {a.org_id: a for a in BranchAggregate.objects.filter(period=period,
                                                                      org_id__in=[b["org_id"] for b in shown])}
    for b in shown:
        b["aggregate"] = published.get(b["org_id"])
        waiting = b[AState.NOT_STARTED] + b[AState.SELF_EVALUATED]
        b["ready"] = waiting == 0 and b["aggregate"] is None and b[AState.DETERMINED] > 0
        b["can_determine"] = can(user, "appraisal.determine", b["path"])
    if xlsx:
        yes = _("是")
        rows = ((b["name"], b["total"], b[AState.NOT_STARTED], b[AState.SELF_EVALUATED], b[AState.DETERMINED],
                 b[AState.PUBLISHED], b["exempt"], yes if b["aggregate"] else "",
                 b["aggregate"].avg if b["aggregate"] else None) for b in branches)
        header = [_("支部"), _("在册党员"), _("待自评"), _("已自评"), _("已评定"), _("已公示"), _("免于评价"),
                  _("已公示"), _("平均分")]
        return export_xlsx(request, gettext_noop("党员评价进度"), header, rows, what=gettext_noop("党员评价进度"))
    totals = {s: sum(b[s] for b in branches) for s in AState.values}
    total = sum(b["total"] for b in branches)
    cards = [{"value": v, "label": str(lbl), "n": totals.get(v, 0), "cls": STATE_CLASS[v]}
             for v, lbl in AState.choices]
    manage = can(user, "appraisal.manage", period.owner.path) and period.status == PeriodStatus.OPEN
    return render(request, "appraisal/evaluation/period_detail.html", {
        "period": period, "branches": page.object_list, "page": page, "query": query, "cards": cards,
        "total": total, "has_role": has_role, "mine": mine, "can_manage": manage, "q": q,
        "exempt_n": sum(b["exempt"] for b in branches),
    })


@login_required
@require_POST
@deny_as_404
def period_publish_ready(request, pk):
    period = _managed_period(request, pk)
    try:
        n = close.publish_ready(request.user, period)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if n:
            messages.success(request, _("已公示 {n} 名党员的本月评价结果。").format(n=n))
        else:
            messages.info(request, _("没有可公示的支部：只有全部党员已评定的支部可以公示。"))
    return redirect("appraisal:period_detail", period.pk)


@login_required
@require_POST
@deny_as_404
def period_close(request, pk):
    period = _managed_period(request, pk)
    try:
        close.close_period(request.user, period)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("{month} 的党员评价已结束，结果已锁定。").format(month=period.label))
    return redirect("appraisal:period_detail", period.pk)


# ---- one branch's month on one page ------------------------------------------------------------------------------


def _reported_q():
    """Lines where the member reported something other than the default (a claimed bonus, a deduction, a base
    miss, a veto) or the branch determined a count."""
    return Q(self_count__gt=0) | Q(count__gt=0)


def _branch_context(request, period, org, *, typed=None, error=None, checked=None) -> dict:
    evaluations = list(MemberEvaluation.objects.filter(period=period, org=org).order_by("member_name", "id"))
    lines = (MemberLine.objects.filter(evaluation__period=period, evaluation__org=org).filter(_reported_q())
             .select_related("item").order_by("evaluation_id", "item__order", "item_id"))
    by_eval = {k: list(g) for k, g in itertools.groupby(lines, key=lambda ln: ln.evaluation_id)}
    typed = typed or {}
    open_ = period.status == PeriodStatus.OPEN
    for ev in evaluations:
        ev.badge = STATE_CLASS[ev.state]
        ev.reported = by_eval.get(ev.pk, [])
        ev.editable = open_ and not ev.exempt and ev.state in (AState.NOT_STARTED, AState.SELF_EVALUATED)
        if checked is not None:
            ev.checked = ev.pk in checked
        else:
            ev.checked = ev.editable and ev.state == AState.SELF_EVALUATED
        for ln in ev.reported:
            t = typed.get(ln.pk)
            ln.value = t["count"] if t else (ln.count if ln.count is not None else (ln.self_count or 0))
            ln.text_value = t["text"] if t else ln.reason
    aggregate = BranchAggregate.objects.filter(period=period, org=org).first()
    results = []
    if aggregate is not None:
        results = list(MemberResult.objects.filter(period=period, org=org).order_by("rank", "member_name"))
    waiting = [ev for ev in evaluations if not ev.exempt and ev.state in (AState.NOT_STARTED,
                                                                            AState.SELF_EVALUATED)]
    counts = {v: sum(1 for ev in evaluations if ev.state == v and not ev.exempt) for v in AState.values}
    return {
        "period": period, "org": org, "evaluations": evaluations, "aggregate": aggregate, "results": results,
        "error": error, "open": open_, "can_publish": open_ and aggregate is None and not waiting
        and counts[AState.DETERMINED] > 0, "waiting_n": len(waiting),
        "counts": [(str(lbl), counts[v], STATE_CLASS[v]) for v, lbl in AState.choices],
        "exempt_n": sum(1 for ev in evaluations if ev.exempt),
        "any_editable": any(ev.editable for ev in evaluations),
    }


@login_required
@deny_as_404
def branch_month(request, pk, org_pk):
    """The secretary determines the branch's month on one page: every member, the lines they reported, the
    determined count and reason; one POST determines the checked members (all or nothing); then 公示."""
    period = _period(request, pk)
    org = _branch(request, period, org_pk)
    if request.method == "POST":
        typed = forms.line_inputs(request.POST)
        checked = [int(x) for x in request.POST.getlist("ev") if x.isdigit()]
        current = {ln.pk: ln for ln in MemberLine.objects.filter(
            pk__in=list(typed), evaluation__period=period, evaluation__org=org)}
        changes = []
        for line_id, t in typed.items():
            ln = current.get(line_id)
            if ln is None:
                continue
            now = ln.count if ln.count is not None else (ln.self_count or 0)
            if t["count"] != str(now) or t["text"] != ln.reason:
                changes.append({"line": line_id, "count": t["count"], "reason": t["text"], "version": t["version"]})
        try:
            n = services.determine_branch(request.user, period, org, changes, checked)
        except DomainError as exc:
            ctx = _branch_context(request, period, org, typed=typed, error=exc.message, checked=set(checked))
            return render(request, "appraisal/evaluation/branch_month.html", ctx, status=200)
        messages.success(request, _("已保存 {c} 处评定，评定 {n} 名党员。").format(c=len(changes), n=n))
        return redirect("appraisal:branch_month", period.pk, org.pk)
    return render(request, "appraisal/evaluation/branch_month.html", _branch_context(request, period, org))


@login_required
@require_POST
@deny_as_404
def branch_publish(request, pk, org_pk):
    period = _period(request, pk)
    org = _branch(request, period, org_pk)
    try:
        aggregate = close.publish_branch(request.user, period, org)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已公示{org} {month} 的党员评价结果：{n} 人，平均 {avg} 分。").format(
            org=org.name, month=period.label, n=aggregate.count, avg=aggregate.avg))
    return redirect("appraisal:branch_month", period.pk, org.pk)


# ---- the member's month ------------------------------------------------------------------------------------------


@login_required
def my_month(request):
    """The signed-in member's evaluation of the latest open month, else their history."""
    ev = (_own_evaluations(request.user).filter(period__status=PeriodStatus.OPEN)
          .order_by("-period__month", "-id").first())
    if ev is None:
        return redirect("appraisal:my_history")
    return redirect("appraisal:evaluation_detail", ev.pk)


def _js_number(value) -> str:
    return "" if value is None else str(value)


def _detail_context(request, ev: MemberEvaluation, *, typed=None, errors=None, note=None, error=None) -> dict:
    user = request.user
    period = ev.period
    ms = period.standard_set
    lines = services.lines_of(ev)
    totals = services.totals_of(ev, lines)
    can_det = services.can_determine(user, ev)
    # The secretary's page determines; the member's page (or the branch's before determining) self-evaluates.
    can_self = services.can_self_edit(user, ev) and not can_det
    files = list(MemberEvidence.objects.filter(evaluation=ev, withdrawn_at__isnull=True).order_by("id"))
    by_line: dict = {}
    for f in files:
        by_line.setdefault(f.line_id, []).append(f)
    usage = services.year_usage(period, [ev.member_id]) if (can_self or can_det) else {}
    typed = typed or {}
    errors = errors or {}
    show_determined = ev.state in (AState.DETERMINED, AState.PUBLISHED) or can_det
    for ln in lines:
        t = typed.get(ln.pk)
        ln.files = by_line.get(ln.pk, [])
        ln.error = errors.get(ln.pk)
        ln.self_value = t["count"] if (t and can_self) else (ln.self_count or 0)
        ln.claim_value = t["text"] if (t and can_self) else ln.claim
        ln.det_value = t["count"] if (t and can_det) else (ln.count if ln.count is not None else (ln.self_count or 0))
        ln.reason_value = t["text"] if (t and can_det) else ln.reason
        used = usage.get((ev.member_id, ln.item.code), Decimal("0"))
        ln.year_left = (max(Decimal("0"), ln.item.year_cap - abs(used)) if ln.item.year_cap is not None else None)
        ln.js_year_left = _js_number(ln.year_left)
        ln.needs_file = ln.part == MemberPart.BONUS and ln.item.evidence_required
        ln.differs = ln.count is not None and ln.count != (ln.self_count or 0)
    parts = []
    for value in PARTS:
        group = [ln for ln in lines if ln.part == value]
        if group:
            parts.append({"value": value, "label": str(MemberPart(value).label), "lines": group})
    transitions = list(ev.transitions.select_related("by").order_by("at", "id"))
    for t in transitions:
        t.from_label, t.to_label = _state_label(t.from_state), _state_label(t.to_state)
    # The page's own form submits the self-evaluation and the determination; the other moves are buttons.
    moves = [{"to": to, "label": _(label)} for to, label in services.available_transitions(user, ev)
             if not (to == AState.DETERMINED and can_det) and not (to == AState.SELF_EVALUATED and can_self)]
    result = MemberResult.objects.filter(evaluation=ev).first() if ev.state == AState.PUBLISHED else None
    return {
        "ev": ev, "period": period, "ms": ms, "parts": parts, "totals": totals, "can_self": can_self,
        "can_det": can_det, "show_determined": show_determined, "general_files": by_line.get(None, []),
        "transitions": transitions, "moves": moves, "result": result, "error": error,
        "note_value": ev.self_note if note is None else note, "badge": STATE_CLASS[ev.state],
        "is_own": services.is_own(user, ev), "evidence_form": forms.EvidenceForm(),
        "can_exempt": period.status == PeriodStatus.OPEN and ev.state != AState.PUBLISHED
        and can(user, "appraisal.determine", ev.org_path),
        "caps": {"bonus": _js_number(ms.bonus_cap), "ded": _js_number(ms.deduction_cap),
                 "floor": _js_number(ms.floor),
                 "dims": ";".join(f"{k}:{v}" for k, v in (ms.dimension_caps or {}).items() if v not in (None, ""))},
        "can_branch": can(user, "appraisal.determine", ev.org_path),
    }


@login_required
def evaluation_detail(request, pk):
    ev = _evaluation(request, pk)
    return render(request, "appraisal/evaluation/evaluation_detail.html", _detail_context(request, ev))


def _back(ev, anchor=""):
    url = reverse("appraisal:evaluation_detail", args=[ev.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
@deny_as_404
def evaluation_save(request, pk):
    """One POST for the whole page: the member's (or the branch's, on their behalf) changed lines through
    ``save_self_line`` and the remark, then "提交自评" if asked; or the secretary's determination of the changed
    lines, then "评定" if asked. All or nothing: on an error nothing is saved and the page keeps what was typed."""
    ev = _evaluation(request, pk)
    user = request.user
    typed = forms.line_inputs(request.POST)
    mode = request.POST.get("mode", "self")
    note = request.POST.get("self_note")
    lines = {ln.pk: ln for ln in MemberLine.objects.filter(evaluation=ev, pk__in=list(typed))
             .select_related("item", "evaluation")}
    errors: dict = {}
    saved = 0
    try:
        with transaction.atomic():
            if mode == "determine":
                changes = []
                for line_id, t in typed.items():
                    ln = lines.get(line_id)
                    if ln is None:
                        continue
                    now = ln.count if ln.count is not None else (ln.self_count or 0)
                    if t["count"] != str(now) or t["text"] != ln.reason:
                        changes.append({"line": line_id, "count": t["count"], "reason": t["text"],
                                        "version": t["version"]})
                ids = [ev.pk] if request.POST.get("determine") else []
                services.determine_branch(user, ev.period, ev.org, changes, ids)
                saved = len(changes)
            else:
                for line_id, t in typed.items():
                    ln = lines.get(line_id)
                    if ln is None:
                        continue
                    if t["count"] == str(ln.self_count or 0) and t["text"] == ln.claim:
                        continue
                    try:
                        services.save_self_line(user, ln, t["count"], claim=t["text"], expected_version=t["version"])
                    except DomainError as exc:
                        errors[line_id] = exc.message
                        raise
                    saved += 1
                if note is not None and note.strip() != ev.self_note:
                    services.save_self_note(user, ev, note)
                if request.POST.get("submit"):
                    services.move(user, ev, AState.SELF_EVALUATED)
    except DomainError as exc:
        ev = _evaluation(request, pk)
        ctx = _detail_context(request, ev, typed=typed, errors=errors, note=note, error=exc.message)
        return render(request, "appraisal/evaluation/evaluation_detail.html", ctx)
    if mode == "determine":
        if request.POST.get("determine"):
            messages.success(request, _("已评定{name}的本月评价。").format(name=ev.member_name))
        else:
            messages.success(request, _("已保存 {n} 项评定。").format(n=saved))
    elif request.POST.get("submit"):
        messages.success(request, _("自评已提交，等待支部评定。"))
    else:
        messages.success(request, _("已保存 {n} 项自评。").format(n=saved))
    return _back(ev)


@login_required
@require_POST
@deny_as_404
def evaluation_move(request, pk):
    """提交自评 / 撤回自评 / 评定 / 撤回评定, from the buttons ``available_transitions`` offers."""
    ev = _evaluation(request, pk)
    to = request.POST.get("to_state", "")
    try:
        ev = services.move(request.user, ev, to, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("操作成功，当前状态：{state}。").format(state=_state_label(ev.state)))
    return _back(ev)


@login_required
@require_POST
@deny_as_404
def evaluation_exempt(request, pk):
    ev = _evaluation(request, pk)
    exempt = request.POST.get("exempt") == "1"
    try:
        services.set_exempt(request.user, ev, exempt, request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已设为免于评价。") if exempt else _("已取消免于评价。"))
    return _back(ev)


@login_required
@require_POST
@deny_as_404
def evidence_upload(request, pk):
    ev = _evaluation(request, pk)
    line = None
    raw = request.POST.get("line", "")
    if raw:
        line = MemberLine.objects.filter(evaluation=ev, pk=int(raw) if raw.isdigit() else 0).select_related(
            "item").first()
        if line is None:
            raise Http404
    try:
        evidence = services.upload_evidence(request.user, ev, request.FILES.get("file"), line=line)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传“{name}”。").format(name=evidence.name))
    return _back(ev, f"line-{line.pk}" if line else "")


@login_required
@require_POST
@deny_as_404
def evidence_withdraw(request, pk):
    evidence = get_scoped_or_404(request.user, "appraisal.view",
                                 MemberEvidence.objects.filter(withdrawn_at__isnull=True).select_related("evaluation"),
                                 pk=pk)
    try:
        services.withdraw_evidence(request.user, evidence)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回“{name}”。").format(name=evidence.name))
    return _back(evidence.evaluation, f"line-{evidence.line_id}" if evidence.line_id else "")


@login_required
def evidence_download(request, pk):
    evidence = get_scoped_or_404(request.user, "appraisal.view",
                                 MemberEvidence.objects.filter(withdrawn_at__isnull=True), pk=pk)
    return file_response(evidence)


# ---- the member's history ----------------------------------------------------------------------------------------


@login_required
def my_history(request):
    """The member's published months: total, rank in the branch, qualified; a trend chart."""
    results = list(MemberResult.objects.filter(member__user_id=request.user.pk).order_by("-month", "-id")[:36])
    chart = [{"month": f"{r.month:%Y-%m}", "total": str(r.total)} for r in reversed(results)]
    return render(request, "appraisal/evaluation/my_history.html", {
        "results": results, "chart": chart,
        "open_ev": _own_evaluations(request.user).filter(period__status=PeriodStatus.OPEN)
        .exclude(state=AState.PUBLISHED).select_related("period").order_by("-period__month").first(),
    })


__all__ = ["period_list", "period_create", "period_detail", "period_publish_ready", "period_close", "branch_month",
           "branch_publish", "my_month", "my_history", "evaluation_detail", "evaluation_save", "evaluation_move",
           "evaluation_exempt", "evidence_upload", "evidence_withdraw", "evidence_download"]
