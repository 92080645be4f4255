"""Pages of the monthly organization evaluation: the months (periods), the coverage of a month (随时掌握), one
organization's month with its summary, items, evidence, scores, moves and objections, and assessor assignment.

Thin: parse, fetch through core.access (an outsider gets 404), call a service, render. Buttons come from
``services.available_transitions``; every rule is the services'.
"""

import importlib.util
import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.assessments import forms, services
from dangjian.assessments.models import (
    AssessorAssignment,
    EvalItem,
    Evaluation,
    Evidence,
    Period,
    PeriodStatus,
    ScoreEntry,
    State,
)
from dangjian.core.access import can, get_scoped_or_404, roles_at, roles_of, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Level, OrgType, Role

DONE = (State.ASSESSED, State.PUBLISHED, State.OBJECTED, State.FINALIZED)
REVIEW = (State.ASSESSED, State.PUBLISHED, State.OBJECTED, State.FINALIZED)
FORWARD = [State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED]
# Bootstrap classes of each state's badge and progress segment.
STATE_CLASS = {
    State.NOT_STARTED: "secondary", State.SUBMITTED: "info", State.SELF_ASSESSED: "primary",
    State.ASSESSED: "warning", State.PUBLISHED: "success", State.OBJECTED: "danger", State.FINALIZED: "dark",
}


def close_module():
    """The month close (月兑现), written beside this app; the 兑现 button appears only where it exists."""
    if importlib.util.find_spec("dangjian.assessments.close") is None:
        return None
    return importlib.import_module("dangjian.assessments.close")


def _period(request, pk) -> Period:
    try:
        return services.visible_periods(request.user).select_related("owner", "standard_set").get(pk=pk)
    except (Period.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("页面不存在，或您无权访问。")) from exc


def _managed_period(request, pk) -> Period:
    return get_scoped_or_404(request.user, "eval.manage", Period.objects.select_related("owner", "standard_set"),
                             pk=pk)


def _evaluation(request, pk, action="eval.view") -> Evaluation:
    qs = Evaluation.objects.select_related("period__owner", "period__standard_set", "org_type")
    return get_scoped_or_404(request.user, action, qs, pk=pk)


def _state_label(value) -> str:
    return str(State(value).label)


# ---- months --------------------------------------------------------------------------------------------


def _scoped_count(user, states=None):
    qs = scope(user, "eval.view", Evaluation.objects.filter(period=OuterRef("pk")))
    if states:
        qs = qs.filter(state__in=states)
    return Coalesce(Subquery(qs.order_by().values("period").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


@login_required
def period_list(request):
    user = request.user
    require_capability(user, "eval.view")
    qs = services.visible_periods(user).select_related("owner", "standard_set")
    f = {k: request.GET.get(k, "").strip() for k in ("year", "status", "q")}
    if f["year"].isdigit():
        qs = qs.filter(month__year=int(f["year"]))
    if f["status"] in PeriodStatus.values:
        qs = qs.filter(status=f["status"])
    if f["q"]:
        qs = qs.filter(owner__name__contains=f["q"])
    qs = qs.annotate(n_total=_scoped_count(user), n_done=_scoped_count(user, DONE)).order_by("-month", "owner__path")
    if wants_xlsx(request):
        rows = ((p.label, p.owner.name, str(p.standard_set), str(p.get_status_display()), p.submit_due, p.self_due,
                 p.assess_due, p.objection_days, p.n_total, p.n_done) for p in qs.iterator(chunk_size=2000))
        header = [_("考评月份"), _("组织考评的党委"), _("考评标准"), _("状态"), _("报送截止"), _("自评截止"),
                  _("考评截止"), _("公示期（天）"), _("参评组织"), _("已考评")]
        return export_xlsx(request, gettext_noop("考评月份"), header, rows, what=gettext_noop("考评月份"))
    page, query = paginate(request, qs)
    for p in page:
        p.pct = round(100 * p.n_done / p.n_total) if p.n_total else 0
    roles = roles_of(user)
    mine = []
    if Role.SECRETARY in roles:
        mine = list(scope(user, "eval.submit", Evaluation.objects.filter(period__status=PeriodStatus.OPEN))
                    .select_related("period__owner").order_by("-period__month", "org_path")[:10])
    awaiting = []
    if Role.ASSESSOR in roles:
        awaiting = list(services.awaiting_assessment(user).select_related("period__owner")
                        .order_by("period__assess_due", "org_path")[:10])
    today = timezone.localdate()
    for e in itertools.chain(mine, awaiting):
        e.due = services.due_date(e)
        e.overdue = services.is_overdue(e, today)
        e.badge = STATE_CLASS[e.state]
    years = services.visible_periods(user).order_by().dates("month", "year", order="DESC")
    return render(request, "assessments/period_list.html", {
        "page": page, "query": query, "f": f, "statuses": PeriodStatus.choices, "years": [d.year for d in years],
        "can_open": can(user, "eval.manage"), "mine": mine, "awaiting": awaiting,
    })


@login_required
@deny_as_404
def period_create(request):
    user = request.user
    require_capability(user, "eval.manage")
    form = forms.PeriodForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            period = services.open_period(
                user, d["owner"], d["month"], submit_due=d["submit_due"], self_due=d["self_due"],
                assess_due=d["assess_due"], objection_days=d["objection_days"], standard_set=d["standard_set"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已开启{owner} {month} 的考评，{n} 个组织参加。").format(
                owner=period.owner.name, month=period.label, n=period.evaluations.count()))
            return redirect("assessments:period_detail", period.pk)
    return render(request, "assessments/form.html", {
        "form": form, "title": _("开启考评月份"), "back": reverse("assessments:period_list"),
        "note": _("开启后，该党委下属的每个党组织都会生成本月考评，考评细则按其层级和类型从考评标准中选取。"),
    })


def _overdue_flag(today):
    return Case(When(services.overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField())


@login_required
def period_detail(request, pk):
    """The coverage of a month (随时掌握): counts per state, progress, and every organization with its state,
    totals and overdue marker; filters, Excel export, drill-down to each organization's month."""
    period = _period(request, pk)
    user = request.user
    today = timezone.localdate()
    base = scope(user, "eval.view", Evaluation.objects.filter(period=period))
    # Counts per state and the overdue ones in one query.
    per_state = (base.order_by().values_list("state")
                 .annotate(n=Count("id"), late=Count("id", filter=services.overdue_q(today)))
                 .values_list("state", "n", "late"))
    counts, overdue_n = {}, 0
    for state, n, late in per_state:
        counts[state] = n
        overdue_n += late
    total = sum(counts.values())
    f = {k: request.GET.get(k, "").strip() for k in ("state", "level", "type", "overdue", "q", "org")}
    qs = base
    if f["state"] in State.values:
        qs = qs.filter(state=f["state"])
    if f["level"] in Level.values:
        qs = qs.filter(level=f["level"])
    if f["type"].isdigit():
        qs = qs.filter(org_type_id=int(f["type"]))
    if f["overdue"] == "1":
        qs = qs.filter(services.overdue_q(today))
    if f["q"]:
        qs = qs.filter(org_name__contains=f["q"])
    sub = None
    if f["org"].isdigit():  # a subtree (the oversight dashboard's drill-down); rows stay within the user's scope
        sub = base.filter(org_id=int(f["org"])).values_list("org_path", "org_name").first()
        qs = qs.filter(org_path__startswith=sub[0]) if sub else qs.none()
    qs = qs.select_related("org_type").annotate(overdue=_overdue_flag(today)).order_by("org_path")
    manage = can(user, "eval.manage", period.owner.path)
    if wants_xlsx(request):
        yes, no = _("是"), ""
        rows = ((e.org_name, str(e.get_level_display()), e.org_type.display_name if e.org_type else "",
                 _state_label(e.state), e.max_total, e.self_total,
                 e.assessor_total if services.shows_assessor_scores(user, e) else None,
                 getattr(period, services.WAITING_DUE.get(e.state, ""), None), yes if e.overdue else no)
                for e in qs.iterator(chunk_size=2000))
        header = [_("组织名称"), _("层级"), _("类型"), _("状态"), _("满分"), _("自评得分"), _("考评得分"),
                  _("当前环节截止"), _("逾期")]
        return export_xlsx(request, gettext_noop("考评进度"), header, rows, what=gettext_noop("考评进度"),
                           count=total)
    if manage:
        qs = qs.prefetch_related(Prefetch("assignments", queryset=AssessorAssignment.objects.select_related("assessor")))
    page, query = paginate(request, qs, 50)
    for e in page:
        e.period = period
        e.badge = STATE_CLASS[e.state]
        e.show_assessor = services.shows_assessor_scores(user, e)
        e.due = services.due_date(e)
    cards = [{"value": v, "label": str(lbl), "n": counts.get(v, 0), "cls": STATE_CLASS[v],
              "pct": round(100 * counts.get(v, 0) / total, 1) if total else 0} for v, lbl in State.choices]
    done = sum(counts.get(s, 0) for s in DONE)
    close = close_module()
    # 公示期: while any evaluation's publicity window is open, the month cannot be finalized (close.publicity_until).
    publicity_until = (close.publicity_open_until(period, today)
                       if close is not None and period.status == PeriodStatus.OPEN
                       and (counts.get(State.PUBLISHED) or counts.get(State.OBJECTED)) else None)
    can_finalize = manage and period.status == PeriodStatus.OPEN and close is not None
    finalize_pending = None
    if can_finalize:
        from dangjian.assessments import tasks
        from dangjian.core.tasks import in_background

        # With a task worker (TASKS_BACKEND=database) a submitted close waits in the queue: say so, no second click.
        if in_background(tasks.finalize_period_task):
            finalize_pending = tasks.pending_finalize(period.pk)
    return render(request, "assessments/period_detail.html", {
        "period": period, "page": page, "query": query, "f": f, "cards": cards, "total": total,
        "overdue_n": overdue_n, "done": done, "done_pct": round(100 * done / total) if total else 0,
        "states": State.choices, "levels": Level.choices, "types": OrgType.objects.all(),
        "can_manage": manage and period.status == PeriodStatus.OPEN, "assessed_n": counts.get(State.ASSESSED, 0),
        "can_finalize": can_finalize, "finalize_pending": finalize_pending,
        "today": today, "publicity_until": publicity_until, "subtree": sub[1] if sub else None,
    })


@login_required
@require_POST
@deny_as_404
def period_publish(request, pk):
    period = _managed_period(request, pk)
    try:
        n = services.publish_all(request.user, period)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if n:
            messages.success(request, _("已公示 {n} 个组织的考评结果，公示期 {days} 天。").format(
                n=n, days=period.objection_days))
        else:
            messages.info(request, _("没有待公示的组织：只有“已考评”的组织可以公示。"))
    return redirect("assessments:period_detail", period.pk)


@login_required
@require_POST
@deny_as_404
def period_finalize(request, pk):
    """月兑现 of the whole month, by the month close (``close.finalize_period``) through ``tasks.submit_finalize``:
    in the request (immediate backend) or queued for a worker (TASKS_BACKEND=database)."""
    period = _managed_period(request, pk)
    if close_module() is None:
        raise Http404
    from dangjian.assessments import tasks

    try:
        submitted = tasks.submit_finalize(request.user, period)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if submitted.queued:
            messages.info(request, _("{month} 的兑现已提交，正在后台进行；完成或失败时会通过站内消息通知您。").format(
                month=period.label))
        else:
            messages.success(request, _("{month} 已兑现并锁定。").format(month=period.label))
    return redirect("assessments:period_detail", period.pk)


@login_required
@deny_as_404
def period_assessors(request, pk):
    """Assign assessors to organizations of the month: an assessor, a multi-select of organizations."""
    period = _managed_period(request, pk)
    user = request.user
    f = {k: request.GET.get(k, "").strip() for k in ("level", "type", "state")}
    evaluations = scope(user, "eval.manage", period.evaluations.all()).order_by("org_path")
    if f["level"] in Level.values:
        evaluations = evaluations.filter(level=f["level"])
    if f["type"].isdigit():
        evaluations = evaluations.filter(org_type_id=int(f["type"]))
    if f["state"] in State.values:
        evaluations = evaluations.filter(state=f["state"])
    form = forms.AssignForm(request.POST or None, assessors=services.eligible_assessors(period),
                            evaluations=evaluations.only("id", "org_name", "org_path", "period_id"))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            n = services.assign_assessors(user, period, d["assessor"], d["evaluations"], replace=d["replace"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已为{name}分配 {n} 个考评对象。").format(
                name=d["assessor"].get_full_name() or d["assessor"].get_username(), n=n))
            return redirect(request.get_full_path())
    assignments = (scope(user, "eval.manage", AssessorAssignment.objects.filter(evaluation__period=period))
                   .select_related("assessor", "evaluation").order_by("evaluation__org_path", "assessor__username"))
    if wants_xlsx(request):
        rows = ((a.evaluation.org_name, a.assessor.get_full_name(), a.assessor.get_username())
                for a in assignments.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("考评员分配"), [_("考评对象"), _("考评员"), _("用户名")], rows,
                           what=gettext_noop("考评员分配"))
    page, query = paginate(request, assignments, 50)
    return render(request, "assessments/assessors.html", {
        "period": period, "form": form, "page": page, "query": query, "f": f, "levels": Level.choices,
        "types": OrgType.objects.all(), "states": State.choices,
        "can_manage": period.status == PeriodStatus.OPEN,
    })


@login_required
@require_POST
@deny_as_404
def assignment_remove(request, pk):
    assignment = get_scoped_or_404(request.user, "eval.manage",
                                   AssessorAssignment.objects.select_related("evaluation", "assessor"), pk=pk)
    try:
        services.unassign_assessor(request.user, assignment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消{name}对{org}的考评分配。").format(
            name=assignment.assessor.get_full_name() or assignment.assessor.get_username(),
            org=assignment.evaluation.org_name))
    return redirect("assessments:period_assessors", assignment.evaluation.period_id)


# ---- one organization's month --------------------------------------------------------------------------


def _flags(user, ev: Evaluation) -> dict:
    """What this user may do on this evaluation now: computed once per page (constant queries)."""
    open_ = ev.period.status == PeriodStatus.OPEN
    roles = roles_at(user, ev.org_path)
    kinds = services.evidence_kinds(user, ev)
    return {
        "can_summary": open_ and ev.state == State.NOT_STARTED and can(user, "eval.submit", ev.org_path),
        "can_self": open_ and ev.state == State.SUBMITTED and bool(roles & {Role.SECRETARY, Role.STAFF, Role.ADMIN}),
        "can_assess": Evidence.Kind.PHOTO in kinds,
        "can_evidence": Evidence.Kind.EVIDENCE in kinds,
        "kinds": kinds,
        "show_self": ev.state != State.NOT_STARTED or bool(roles & {Role.SECRETARY, Role.STAFF, Role.ADMIN}),
        "show_assessor": services.shows_assessor_scores(user, ev),
        "review": ev.state in REVIEW,
    }


def _decorate(ei: EvalItem, files: list, flags: dict, error=None, typed=None, saved=False) -> EvalItem:
    ei.files = [f for f in files if f.kind == Evidence.Kind.EVIDENCE]
    ei.photos = [f for f in files if f.kind == Evidence.Kind.PHOTO]
    for f in files:
        f.can_withdraw = f.kind in flags["kinds"]
    ei.error, ei.typed, ei.saved = error, typed or {}, saved
    ei.diff = (ei.assessor_score - ei.self_score if ei.assessor_score is not None and ei.self_score is not None
               else None)
    return ei


def _moves(user, ev: Evaluation) -> dict:
    """The buttons ``available_transitions`` offers, sorted by the form each needs."""
    out = {"plain": [], "returns": [], "objection": None, "answer": None}
    for to, label in services.available_transitions(user, ev):
        entry = {"to": to, "label": label}
        if to == State.OBJECTED:
            out["objection"] = entry
        elif ev.state == State.OBJECTED and to == State.PUBLISHED:
            out["answer"] = entry
        elif ev.state in FORWARD and to in FORWARD and FORWARD.index(to) < FORWARD.index(ev.state):
            out["returns"].append(entry)
        else:
            out["plain"].append(entry)
    return out


def _detail_context(request, ev: Evaluation, *, item_errors=None, summary_error=None, summary_text=None) -> dict:
    user = request.user
    flags = _flags(user, ev)
    items = list(ev.items.select_related("item__category", "assessor")
                 .order_by("item__category__order", "item__category_id", "item__order", "item_id"))
    files = list(ev.evidence.filter(withdrawn_at__isnull=True).select_related("uploaded_by").order_by("id"))
    by_item = {}
    for f in files:
        by_item.setdefault(f.eval_item_id, []).append(f)
    item_errors = item_errors or {}
    for ei in items:
        error, typed = item_errors.get(ei.pk, (None, None))
        _decorate(ei, by_item.get(ei.pk, []), flags, error, typed)
    from dangjian.assessments.auto import annotate_items

    annotate_items(ev, items)  # 服务数据计分: where each auto score came from, or why it was left to the assessor
    general = by_item.get(None, [])
    for f in general:
        f.can_withdraw = f.kind in flags["kinds"]
    categories = [(cat, list(group)) for cat, group in itertools.groupby(items, key=lambda ei: ei.item.category)]
    objections = list(ev.objections.select_related("raised_by", "answered_by", "eval_item__item"))
    transitions = list(ev.transitions.select_related("by"))
    for t in transitions:
        t.from_label, t.to_label = _state_label(t.from_state), _state_label(t.to_state)
    today = timezone.localdate()
    summary_form = forms.SummaryForm(initial={"summary": ev.summary if summary_text is None else summary_text,
                                              "version": ev.version})
    return {
        "ev": ev, "period": ev.period, "categories": categories, "item_count": len(items), "flags": flags,
        "moves": _moves(user, ev), "general_files": general, "objections": objections, "transitions": transitions,
        "open_objection": next((o for o in reversed(objections) if o.answered_at is None), None),
        "summary_form": summary_form, "summary_error": summary_error, "badge": STATE_CLASS[ev.state],
        "due": services.due_date(ev), "overdue": services.is_overdue(ev, today),
        "evidence_form": forms.EvidenceForm(), "photo_form": forms.EvidenceForm(photo=True),
        "items_for_objection": items if ev.state == State.PUBLISHED else [],
        "can_manage": can(user, "eval.manage", ev.period.owner.path),
        "scored_self": sum(1 for ei in items if ei.self_score is not None),
        "scored_assessor": sum(1 for ei in items if ei.assessor_score is not None),
    }


@login_required
def evaluation_detail(request, pk):
    ev = _evaluation(request, pk)
    return render(request, "assessments/evaluation_detail.html", _detail_context(request, ev))


def _back(ev, anchor=""):
    url = reverse("assessments:evaluation_detail", args=[ev.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
@deny_as_404
def evaluation_summary(request, pk):
    ev = _evaluation(request, pk, "eval.submit")
    form = forms.SummaryForm(request.POST)
    form.is_valid()
    text = request.POST.get("summary", "")
    version = form.cleaned_data.get("version")
    try:
        services.save_summary(request.user, ev, text, expected_version=version)
    except DomainError as exc:
        ev = _evaluation(request, pk, "eval.submit")
        return render(request, "assessments/evaluation_detail.html",
                      _detail_context(request, ev, summary_error=exc.message, summary_text=text))
    messages.success(request, _("月小结已保存。"))
    return _back(ev, "summary")


@login_required
@require_POST
@deny_as_404
def evaluation_move(request, pk):
    """Every state move, from the buttons ``available_transitions`` offers: returns and objections carry a
    note, answering an objection says whether it is upheld (成立) or not."""
    ev = _evaluation(request, pk)
    to = request.POST.get("to_state", "")
    note = request.POST.get("note", "").strip()
    upheld = {"1": True, "0": False}.get(request.POST.get("upheld", ""))
    item = None
    if request.POST.get("item", "").isdigit():
        item = ev.items.filter(pk=int(request.POST["item"])).first()
    try:
        ev = services.transition(request.user, ev, to, note=note, upheld=upheld, eval_item=item)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("操作成功，当前状态：{state}。").format(state=_state_label(ev.state)))
    return _back(ev)


def _render_item(request, ev, ei, *, error=None, typed=None, saved=False):
    flags = _flags(request.user, ev)
    ei = (EvalItem.objects.select_related("item__category", "assessor").get(pk=ei.pk))
    files = list(ev.evidence.filter(eval_item=ei, withdrawn_at__isnull=True).select_related("uploaded_by")
                 .order_by("id"))
    _decorate(ei, files, flags, error, typed, saved)
    from dangjian.assessments.auto import annotate_items

    annotate_items(ev, [ei])
    return render(request, "assessments/_item.html", {
        "ev": ev, "ei": ei, "flags": flags, "evidence_form": forms.EvidenceForm(),
        "photo_form": forms.EvidenceForm(photo=True)})


def _score(request, pk, kind):
    action = "eval.submit" if kind == ScoreEntry.Kind.SELF else "eval.assess"
    ei = get_scoped_or_404(request.user, action, EvalItem.objects.select_related("item"), pk=pk)
    ev = _evaluation(request, ei.evaluation_id)
    typed = {"score": request.POST.get("score", "").strip(), "reason": request.POST.get("reason", "").strip(),
             "veto": request.POST.get("veto") in ("on", "1", "true")}
    version = request.POST.get("version", "")
    try:
        services.score(request.user, ei, kind, typed["score"], reason=typed["reason"], veto=typed["veto"],
                       expected_version=int(version) if version.isdigit() else None)
    except DomainError as exc:
        ev = _evaluation(request, ei.evaluation_id)
        if request.htmx:
            return _render_item(request, ev, ei, error=exc.message, typed=typed)
        return render(request, "assessments/evaluation_detail.html",
                      _detail_context(request, ev, item_errors={ei.pk: (exc.message, typed)}))
    if request.htmx:
        ev = _evaluation(request, ei.evaluation_id)
        return _render_item(request, ev, ei, saved=True)
    messages.success(request, _("已保存细则 {code} 的得分。").format(code=ei.item.code))
    return _back(ev, f"item-{ei.pk}")


@login_required
@require_POST
@deny_as_404
def item_self(request, pk):
    return _score(request, pk, ScoreEntry.Kind.SELF)


@login_required
@require_POST
@deny_as_404
def item_assess(request, pk):
    return _score(request, pk, ScoreEntry.Kind.ASSESSOR)


# ---- evidence ------------------------------------------------------------------------------------------


@login_required
@require_POST
@deny_as_404
def evidence_upload(request, pk):
    ev = _evaluation(request, pk)
    form = forms.EvidenceForm(request.POST, request.FILES)
    form.is_valid()
    kind = form.cleaned_data.get("kind") or Evidence.Kind.EVIDENCE
    item = None
    if form.cleaned_data.get("item"):
        item = ev.items.select_related("item").filter(pk=form.cleaned_data["item"]).first()
        if item is None:
            raise Http404
    try:
        evidence = services.upload_evidence(request.user, ev, request.FILES.get("file"), eval_item=item, kind=kind)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传“{name}”。").format(name=evidence.name))
    return _back(ev, f"item-{item.pk}" if item else "summary")


@login_required
@require_POST
@deny_as_404
def evidence_withdraw(request, pk):
    evidence = get_scoped_or_404(request.user, "eval.view",
                                 Evidence.objects.filter(withdrawn_at__isnull=True).select_related("evaluation"),
                                 pk=pk)
    try:
        services.withdraw_evidence(request.user, evidence)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回“{name}”。").format(name=evidence.name))
    return _back(evidence.evaluation, f"item-{evidence.eval_item_id}" if evidence.eval_item_id else "summary")


def file_response(evidence: Evidence) -> FileResponse:
    """The stored file as an attachment, never rendered by the browser as a page of this site."""
    try:
        fh = evidence.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    resp = FileResponse(fh, as_attachment=True, filename=evidence.name, content_type=evidence.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp["Cache-Control"] = "private, no-store"
    return resp


@login_required
def evidence_download(request, pk):
    evidence = get_scoped_or_404(request.user, "eval.view", Evidence.objects.filter(withdrawn_at__isnull=True),
                                 pk=pk)
    return file_response(evidence)


__all__ = ["period_list", "period_create", "period_detail", "period_publish", "period_finalize",
           "period_assessors", "assignment_remove", "evaluation_detail", "evaluation_summary", "evaluation_move",
           "item_self", "item_assess", "evidence_upload", "evidence_withdraw", "evidence_download"]
