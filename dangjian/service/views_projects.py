"""Pages of the social-responsibility projects (社会责任根植项目): list, create and edit, and the detail page with
milestones (overdue ones stand out), outcome indicators with their values over time (one ECharts line per
indicator against its target) and the progress summary; Excel exports of the projects and of indicator values.

Thin: parse, fetch through core.access (an outsider gets 404), call service.projects, render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Organization
from dangjian.service import projects as services
from dangjian.service.forms_projects import IndicatorForm, MilestoneForm, ProjectForm, ValueForm
from dangjian.service.models import Indicator, IndicatorValue, Milestone, Project, ProjectKind, ProjectState

ORG_SELECT_MAX = 200


def _project(request, pk, action="project.view") -> Project:
    return get_scoped_or_404(request.user, action, Project.objects.select_related("org", "lead"), pk=pk)


def _orgs(user):
    orgs = list(scope(user, "project.view", Organization.objects.filter(archived=False)).order_by("path")
                .only("id", "name")[:ORG_SELECT_MAX + 1])
    return orgs if 1 < len(orgs) <= ORG_SELECT_MAX else None


def _filtered(request):
    user = request.user
    f = {k: request.GET.get(k, "").strip() for k in ("org", "kind", "state", "q")}
    qs = services.visible_projects(user).select_related("org", "lead")
    if f["org"].isdigit():
        org = scope(user, "project.view", Organization.objects.all()).filter(pk=int(f["org"])).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    if f["kind"] in ProjectKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["state"] in ProjectState.values:
        qs = qs.filter(state=f["state"])
    if f["q"]:
        qs = qs.filter(Q(name__contains=f["q"]) | Q(goal__contains=f["q"]))
    return f, qs


@login_required
def project_list(request):
    user = request.user
    require_capability(user, "project.view")
    f, qs = _filtered(request)
    today = services.today()
    qs = qs.annotate(n_milestones=Count("milestones", distinct=True),
                     n_done=Count("milestones", filter=Q(milestones__done_on__isnull=False), distinct=True),
                     n_overdue=Count("milestones", filter=Q(milestones__done_on__isnull=True,
                                                            milestones__due_on__lt=today), distinct=True),
                     n_indicators=Count("indicators", distinct=True)).order_by("-starts_on", "-id")
    if wants_xlsx(request):
        rows = ((p.name, p.get_kind_display(), p.org.name, p.get_state_display(), p.starts_on, p.ends_on,
                 p.lead.name if p.lead else "", p.n_milestones, p.n_done, p.n_overdue, p.n_indicators, p.goal)
                for p in qs.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("社会责任根植项目"), [
            _("项目名称"), _("类型"), _("实施单位"), _("状态"), _("开始日期"), _("计划结束日期"), _("负责人"),
            _("里程碑数"), _("已完成"), _("已逾期"), _("成效指标数"), _("项目目标")], rows,
            what=gettext_noop("社会责任根植项目"))
    page, query = paginate(request, qs)
    return render(request, "service/projects/list.html", {
        "page": page, "query": query, "f": f, "orgs": _orgs(user), "kinds": ProjectKind.choices,
        "states": ProjectState.choices, "manage": can(user, "project.manage")})


@login_required
def project_values_export(request):
    """Every indicator value of the projects the list's filters select, one row per value."""
    require_capability(request.user, "project.view")
    _f, qs = _filtered(request)
    values = (IndicatorValue.objects.filter(indicator__project__in=qs.values("pk"))
              .select_related("indicator__project__org").order_by("indicator__project__name", "indicator_id", "on"))
    rows = ((v.indicator.project.name, v.indicator.project.org.name, v.indicator.name, v.indicator.unit,
             v.indicator.baseline, v.indicator.target, v.on, v.value, v.note) for v in values.iterator(chunk_size=2000))
    return export_xlsx(request, gettext_noop("成效指标数值"), [
        _("项目名称"), _("实施单位"), _("成效指标"), _("单位"), _("基线值"), _("目标值"), _("日期"), _("数值"),
        _("说明")], rows, what=gettext_noop("成效指标数值"))


@login_required
def project_create(request):
    user = request.user
    require_capability(user, "project.manage")
    form = ProjectForm(request.POST or None, user=user,
                       initial={"kind": request.GET.get("kind", ""), "starts_on": services.today()})
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        org = d.pop("org")
        try:
            project = services.create_project(user, org, **d)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("项目已建立，请添加里程碑和成效指标。"))
            return redirect("service:project_detail", project.pk)
    return render(request, "service/projects/form.html", {"form": form, "title": _("新建社会责任根植项目")})


@login_required
@deny_as_404
def project_edit(request, pk):
    project = _project(request, pk, "project.manage")
    initial = {k: getattr(project, k) for k in ("name", "kind", "state", "goal", "starts_on", "ends_on")}
    initial["lead"] = project.lead_id
    form = ProjectForm(request.POST or None, user=request.user, project=project, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(request.user, project, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("service:project_detail", project.pk)
    return render(request, "service/projects/form.html", {"form": form, "title": _("修改项目"), "project": project})


@login_required
def project_detail(request, pk, forms=None):
    project = _project(request, pk)
    manage = can(request.user, "project.manage", project.org.path)
    prog = services.progress(project)
    forms = forms or {}
    ctx = {"project": project, "manage": manage, "prog": prog, "chart": services.chart_data(prog),
           "today": services.today()}
    if manage:
        ctx.update(milestone_form=forms.get("milestone") or MilestoneForm(),
                   indicator_form=forms.get("indicator") or IndicatorForm(),
                   value_form=forms.get("value") or ValueForm(initial={"on": services.today()}),
                   value_indicator=forms.get("value_indicator"))
    return render(request, "service/projects/detail.html", ctx, status=400 if forms else 200)


@login_required
@require_POST
@deny_as_404
def project_milestone_add(request, pk):
    project = _project(request, pk, "project.manage")
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            services.add_milestone(request.user, project, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("里程碑已添加。"))
            return redirect("service:project_detail", project.pk)
    return project_detail(request, project.pk, forms={"milestone": form})


@login_required
@require_POST
@deny_as_404
def project_milestone_done(request, pk):
    milestone = get_scoped_or_404(request.user, "project.manage", Milestone.objects.all(), pk=pk)
    try:
        services.complete_milestone(request.user, milestone, request.POST.get("done_on") or None)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("里程碑已标记完成。"))
    return redirect("service:project_detail", milestone.project_id)


@login_required
@require_POST
@deny_as_404
def project_milestone_delete(request, pk):
    milestone = get_scoped_or_404(request.user, "project.manage", Milestone.objects.all(), pk=pk)
    services.delete_milestone(request.user, milestone)
    messages.success(request, _("里程碑已删除。"))
    return redirect("service:project_detail", milestone.project_id)


@login_required
@require_POST
@deny_as_404
def project_indicator_add(request, pk):
    project = _project(request, pk, "project.manage")
    form = IndicatorForm(request.POST)
    if form.is_valid():
        try:
            services.add_indicator(request.user, project, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("成效指标已添加。"))
            return redirect("service:project_detail", project.pk)
    return project_detail(request, project.pk, forms={"indicator": form})


@login_required
@require_POST
@deny_as_404
def project_value_add(request, pk):
    indicator = get_scoped_or_404(request.user, "project.manage", Indicator.objects.all(), pk=pk)
    form = ValueForm(request.POST)
    if form.is_valid():
        try:
            services.add_value(request.user, indicator, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已登记{name}的数值。").format(name=indicator.name))
            return redirect("service:project_detail", indicator.project_id)
    return project_detail(request, indicator.project_id, forms={"value": form, "value_indicator": indicator.pk})


@login_required
@require_POST
@deny_as_404
def project_value_delete(request, pk):
    value = get_scoped_or_404(request.user, "project.manage", IndicatorValue.objects.select_related("indicator"),
                              pk=pk)
    services.delete_value(request.user, value)
    messages.success(request, _("数值已删除。"))
    return redirect("service:project_detail", value.indicator.project_id)
