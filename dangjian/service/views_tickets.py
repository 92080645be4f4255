"""Pages of the PDCA tickets (整改工单): the list (filters, overdue first-class, Excel export), a staff-origin
ticket, and the detail page where each step's form, the actions with evidence, the allowed moves and the history
live together.

Thin: parse, fetch through core.access (an outsider gets 404), call service.tickets, render. A form with errors
is shown again on the detail page; a stale version (someone else moved the ticket) sends the user back to the
fresh page with the service's sentence.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import ConflictError, DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.public import mask_contact
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.service import forms_tickets as forms
from dangjian.service import tickets as services
from dangjian.service.models import (
    OPEN_STATES,
    Origin,
    ServiceArea,
    Ticket,
    TicketAction,
    TicketEvidence,
    TState,
)

EXPORT_MAX = 100_000
SELECT_MAX = 300
PDCA = [(TState.PLAN, "P"), (TState.DO, "D"), (TState.CHECK, "C"), (TState.ACT, "A")]


# ---- list --------------------------------------------------------------------------------------------------------


@login_required
def ticket_list(request):
    user = request.user
    require_capability(user, "ticket.view")
    today = timezone.localdate()
    f = {k: request.GET.get(k, "").strip() for k in services.FILTER_KEYS}
    base = services.visible(user)
    qs = services.filter_tickets(user, base, f, today)
    if wants_xlsx(request):
        rows = ((t.number, t.org.name, t.area.name if t.area else "", t.get_origin_display(), t.title,
                 t.get_state_display(), t.due_date, _("是") if services.is_overdue(t, today) else "",
                 (t.owner.get_full_name() or t.owner.get_username()) if t.owner else "",
                 timezone.localdate(t.created_at), timezone.localtime(t.closed_at) if t.closed_at else None,
                 t.get_satisfaction_display() if t.satisfaction else "", _("是") if t.recurrence else "")
                for t in qs[:EXPORT_MAX].iterator(chunk_size=2000))
        header = [_("编号"), _("责任单位"), _("服务区域"), _("来源"), _("标题"), _("状态"), _("完成期限"), _("逾期"),
                  _("责任人"), _("立项日期"), _("销号时间"), _("诉求人满意度"), _("同类问题重复发生")]
        return export_xlsx(request, gettext_noop("整改工单"), header, rows, what=gettext_noop("整改工单"))
    page, query = paginate(request, qs)
    for t in page:
        t.overdue = services.is_overdue(t, today)
    orgs = list(forms.scoped_orgs(user, "ticket.view")[: SELECT_MAX + 1])
    for o in orgs:
        o.label = "\u3000" * max(o.depth - 1, 0) + o.name
    areas = list(scope(user, "ticket.view", ServiceArea.objects.filter(archived=False))
                 .select_related("org").order_by("org__path", "name")[: SELECT_MAX + 1])
    return render(request, "service/tickets/list.html", {
        "page": page, "query": query, "f": f, "today": today,
        "overdue_count": base.filter(services.overdue_q(today)).count(),
        "orgs": orgs if 1 < len(orgs) <= SELECT_MAX else None,
        "areas": areas if len(areas) <= SELECT_MAX else None,
        "states": [("open", _("未销号"))] + [(v, str(lbl)) for v, lbl in TState.choices],
        "origins": Origin.choices, "can_create": can(user, "ticket.handle"),
    })


# ---- create (staff origin) ---------------------------------------------------------------------------------------


@login_required
@deny_as_404
def ticket_create(request):
    user = request.user
    require_capability(user, "ticket.handle")
    form = forms.TicketCreateForm(request.POST or None, user=user, initial={"org": request.GET.get("org")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ticket = services.open_staff_ticket(user, d["org"], title=d["title"], description=d["description"],
                                                area=d["area"], due_date=d["due_date"], request=request)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新建工单 {number}，请填写计划。").format(number=ticket.number))
            return redirect("service:ticket_detail", ticket.pk)
    return render(request, "service/tickets/form.html", {"form": form, "title": _("新建整改工单")})


# ---- detail ------------------------------------------------------------------------------------------------------


def _ticket(request, pk) -> Ticket:
    return get_scoped_or_404(request.user, "ticket.view",
                             Ticket.objects.select_related("org", "area", "owner", "need", "index", "created_by"),
                             pk=pk)


def _need_url(ticket: Ticket) -> str | None:
    if not ticket.need_id:
        return None
    try:
        return reverse("service:need_detail", args=[ticket.need_id])
    except NoReverseMatch:
        return None


def _detail(request, ticket: Ticket, *, status=200, **bound):
    """The detail page; ``bound`` holds forms with errors to show instead of fresh ones."""
    user = request.user
    today = timezone.localdate()
    handle = services.may_handle(user, ticket)
    manage = services.may_manage(user, ticket)
    state = ticket.state
    live = TicketEvidence.objects.filter(withdrawn_at__isnull=True).order_by("id")
    actions = list(ticket.actions.select_related("created_by").prefetch_related(Prefetch("evidence", queryset=live)))
    history = list(ticket.transitions.select_related("actor"))
    ctx = {
        "ticket": ticket, "today": today, "overdue": services.is_overdue(ticket, today),
        "moves": services.allowed_moves(user, ticket), "handle": handle, "manage": manage,
        "actions": actions, "history": history, "need_url": _need_url(ticket),
        "contact": mask_contact(ticket.need.contact) if ticket.need_id else "",
        "complaint": services.is_complaint(ticket), "pdca": PDCA, "open": state in OPEN_STATES,
        "step_index": {s: i for i, (s, _x) in enumerate(PDCA)}.get(state, 4 if state == TState.CLOSED else -1),
    }
    if handle and state == TState.PLAN:
        ctx["plan_form"] = bound.get("plan_form") or forms.PlanForm(ticket=ticket)
    if handle and state == TState.DO:
        ctx["action_form"] = bound.get("action_form") or forms.ActionForm()
    if handle and state == TState.CHECK:
        ctx["check_form"] = bound.get("check_form") or forms.CheckForm(ticket=ticket)
    if handle and state == TState.ACT:
        ctx["act_form"] = bound.get("act_form") or forms.ActForm(ticket=ticket)
    if manage and state in OPEN_STATES:
        ctx["reassign_form"] = bound.get("reassign_form") or forms.ReassignForm(ticket=ticket, user=user)
    ctx["move_error"] = bound.get("move_error")
    return render(request, "service/tickets/detail.html", ctx, status=status)


@login_required
def ticket_detail(request, pk):
    return _detail(request, _ticket(request, pk))


def _conflict(request, ticket, exc):
    messages.error(request, exc.message)
    return redirect("service:ticket_detail", ticket.pk)


@login_required
@require_POST
@deny_as_404
def ticket_move(request, pk):
    ticket = _ticket(request, pk)
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请求无效，请刷新页面后重试。"))
        return redirect("service:ticket_detail", ticket.pk)
    d = form.cleaned_data
    try:
        ticket = services.move(request.user, ticket, d["to_state"], version=d["version"], reason=d["reason"],
                               request=request)
    except ConflictError as exc:
        return _conflict(request, ticket, exc)
    except DomainError as exc:
        messages.error(request, exc.message)
        anchor = {"analysis": "plan", "measures": "plan", "due_date": "plan", "actions": "do",
                  "verification": "check", "satisfaction": "check", "callback_on": "check",
                  "standardization": "act", "similar_cases": "act"}.get(exc.field, "")
        return redirect(reverse("service:ticket_detail", args=[ticket.pk]) + (f"#{anchor}" if anchor else ""))
    messages.success(request, _("工单已转为“{state}”。").format(state=ticket.get_state_display()))
    return redirect("service:ticket_detail", ticket.pk)


def _save_step(request, pk, form_class, key, fields):
    ticket = _ticket(request, pk)
    if not services.may_handle(request.user, ticket):
        raise Http404(_("页面不存在，或您无权访问。"))
    form = form_class(request.POST, ticket=ticket)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.save_fields(request.user, ticket, {k: d[k] for k in fields}, version=d["version"],
                                 request=request)
        except ConflictError as exc:
            return _conflict(request, ticket, exc)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(reverse("service:ticket_detail", args=[ticket.pk]) + f"#{key}")
    return _detail(request, ticket, **{f"{key}_form": form})


@login_required
@require_POST
@deny_as_404
def ticket_plan(request, pk):
    return _save_step(request, pk, forms.PlanForm, "plan", ("analysis", "measures", "owner", "due_date", "area"))


@login_required
@require_POST
@deny_as_404
def ticket_check(request, pk):
    return _save_step(request, pk, forms.CheckForm, "check", ("verification", "satisfaction", "callback_on"))


@login_required
@require_POST
@deny_as_404
def ticket_act(request, pk):
    return _save_step(request, pk, forms.ActForm, "act", ("standardization", "similar_cases", "recurrence"))


@login_required
@require_POST
@deny_as_404
def ticket_reassign(request, pk):
    ticket = _ticket(request, pk)
    if not services.may_manage(request.user, ticket):
        raise Http404(_("页面不存在，或您无权访问。"))
    form = forms.ReassignForm(request.POST, ticket=ticket, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        changes = {"org": d["org"]}
        if d["due_date"] != ticket.due_date:
            changes["due_date"] = d["due_date"]
        try:
            services.save_fields(request.user, ticket, changes, version=d["version"], request=request)
        except ConflictError as exc:
            return _conflict(request, ticket, exc)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("service:ticket_detail", ticket.pk)
    return _detail(request, ticket, reassign_form=form)


# ---- actions and evidence ----------------------------------------------------------------------------------------


@login_required
@require_POST
@deny_as_404
def ticket_action_add(request, pk):
    ticket = _ticket(request, pk)
    if not services.may_handle(request.user, ticket):
        raise Http404(_("页面不存在，或您无权访问。"))
    form = forms.ActionForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.add_action(request.user, ticket, date=d["date"], text=d["text"], files=d["files"],
                                request=request)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已登记措施落实情况。"))
            return redirect(reverse("service:ticket_detail", args=[ticket.pk]) + "#do")
    return _detail(request, ticket, action_form=form)


@login_required
@require_POST
@deny_as_404
def ticket_evidence_add(request, pk):
    action = get_scoped_or_404(request.user, "ticket.view", TicketAction.objects.select_related("ticket__org"),
                               pk=pk)
    try:
        ev = services.upload_evidence(request.user, action, request.FILES.get("file"), request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已上传“{name}”。").format(name=ev.name))
    return redirect(reverse("service:ticket_detail", args=[action.ticket_id]) + f"#action-{action.pk}")


def file_response(evidence: TicketEvidence) -> FileResponse:
    """The stored file as an attachment, never rendered by the browser as a page of this site."""
    try:
        fh = evidence.file.open("rb")
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise Http404 from exc
    resp = FileResponse(fh, as_attachment=True, filename=evidence.name, content_type=evidence.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp["Cache-Control"] = "private, no-store"
    return resp


@login_required
def ticket_evidence_download(request, pk):
    ev = get_scoped_or_404(request.user, "ticket.view", TicketEvidence.objects.filter(withdrawn_at__isnull=True),
                           pk=pk)
    return file_response(ev)


@login_required
@require_POST
@deny_as_404
def ticket_evidence_withdraw(request, pk):
    ev = get_scoped_or_404(request.user, "ticket.view", TicketEvidence.objects.filter(withdrawn_at__isnull=True)
                           .select_related("ticket__org"), pk=pk)
    try:
        services.withdraw_evidence(request.user, ev, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回“{name}”。").format(name=ev.name))
    return redirect(reverse("service:ticket_detail", args=[ev.ticket_id]) + "#do")


__all__ = ["ticket_list", "ticket_create", "ticket_detail", "ticket_move", "ticket_plan", "ticket_check",
           "ticket_act", "ticket_reassign", "ticket_action_add", "ticket_evidence_add", "ticket_evidence_download",
           "ticket_evidence_withdraw"]
