"""JSON API of the projects part (mounted by service/api.py), with the permissions of the pages: ``project.view``
reads (members of the organization subtree included), ``project.manage`` writes; out of scope is 404.

/api/v1/projects: list, detail (with the progress summary), create, update; milestones (list, add, mark done);
indicators (list, add) and indicator values (list, add).
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Member, Organization
from dangjian.service import projects as services
from dangjian.service.models import Indicator, Milestone, Project, ProjectKind, ProjectState

router = Router(tags=["服务群众"])

ProjectId = Annotated[int, Path(title="项目编号")]
MilestoneId = Annotated[int, Path(title="里程碑编号")]
IndicatorId = Annotated[int, Path(title="指标编号")]
KIND_HELP = "service_point=便民服务点，spokesperson=小小新闻发言人，pv_poverty=光伏扶贫，other=其他"
STATE_HELP = "planned=筹备中，running=实施中，done=已完成"


class ProjectOut(Schema):
    id: int = Field(..., title="项目编号")
    org_id: int = Field(..., title="实施单位编号")
    org_name: str = Field(..., title="实施单位")
    name: str = Field(..., title="项目名称")
    kind: ProjectKind = Field(..., title="类型", description=KIND_HELP)
    goal: str = Field(..., title="项目目标")
    state: ProjectState = Field(..., title="状态", description=STATE_HELP)
    starts_on: datetime.date = Field(..., title="开始日期")
    ends_on: datetime.date | None = Field(None, title="计划结束日期")
    lead_id: int | None = Field(None, title="负责人党员编号")
    lead_name: str | None = Field(None, title="负责人")
    milestones: int = Field(..., title="里程碑数")
    milestones_done: int = Field(..., title="已完成里程碑")
    milestones_overdue: int = Field(..., title="逾期里程碑", description="计划日期已过仍未完成的")


class ProjectPage(Schema):
    count: int = Field(..., title="总数")
    items: list[ProjectOut] = Field(..., title="本页项目")


class ProjectFilter(Schema):
    org_id: int | None = Field(None, title="组织编号", description="只列出该组织及其下级组织的项目")
    kind: ProjectKind | None = Field(None, title="类型", description=KIND_HELP)
    state: ProjectState | None = Field(None, title="状态", description=STATE_HELP)
    q: str | None = Field(None, title="关键词", description="在项目名称和目标中查找", max_length=100)


class ProjectIn(Schema):
    org_id: int = Field(..., title="实施单位编号")
    name: str = Field(..., title="项目名称", max_length=400)
    kind: ProjectKind = Field(ProjectKind.OTHER, title="类型", description=KIND_HELP)
    goal: str = Field(..., title="项目目标", max_length=8000)
    state: ProjectState = Field(ProjectState.PLANNED, title="状态", description=STATE_HELP)
    starts_on: datetime.date = Field(..., title="开始日期")
    ends_on: datetime.date | None = Field(None, title="计划结束日期")
    lead_id: int | None = Field(None, title="负责人党员编号", description="实施单位及其下级组织的党员")


class ProjectPatch(Schema):
    name: str | None = Field(None, title="项目名称", max_length=400)
    kind: ProjectKind | None = Field(None, title="类型", description=KIND_HELP)
    goal: str | None = Field(None, title="项目目标", max_length=8000)
    state: ProjectState | None = Field(None, title="状态", description=STATE_HELP)
    starts_on: datetime.date | None = Field(None, title="开始日期")
    ends_on: datetime.date | None = Field(None, title="计划结束日期", description="可置为 null")
    lead_id: int | None = Field(None, title="负责人党员编号", description="可置为 null")


class MilestoneOut(Schema):
    id: int = Field(..., title="里程碑编号")
    title: str = Field(..., title="里程碑")
    due_on: datetime.date = Field(..., title="计划日期")
    done_on: datetime.date | None = Field(None, title="完成日期")
    note: str = Field(..., title="说明")
    overdue: bool = Field(..., title="已逾期", description="计划日期已过仍未完成")


class MilestoneIn(Schema):
    title: str = Field(..., title="里程碑", max_length=400)
    due_on: datetime.date = Field(..., title="计划日期")
    note: str = Field("", title="说明", max_length=1200)


class DoneIn(Schema):
    done_on: datetime.date | None = Field(None, title="完成日期", description="为空时取今天；不晚于今天")


class IndicatorOut(Schema):
    id: int = Field(..., title="指标编号")
    name: str = Field(..., title="成效指标")
    unit: str = Field(..., title="单位")
    baseline: Decimal | None = Field(None, title="基线值")
    target: Decimal | None = Field(None, title="目标值")
    latest_value: Decimal | None = Field(None, title="最新值")
    latest_on: datetime.date | None = Field(None, title="最新值日期")
    percent: Decimal | None = Field(None, title="目标完成度（%）", description="(最新值−基线)/(目标−基线)×100")


class IndicatorIn(Schema):
    name: str = Field(..., title="成效指标", max_length=240)
    unit: str = Field("", title="单位", max_length=80)
    baseline: Decimal | None = Field(None, title="基线值")
    target: Decimal | None = Field(None, title="目标值")


class ValueOut(Schema):
    id: int = Field(..., title="数值编号")
    on: datetime.date = Field(..., title="日期")
    value: Decimal = Field(..., title="数值")
    note: str = Field(..., title="说明")


class ValueIn(Schema):
    on: datetime.date = Field(..., title="日期", description="不晚于今天；每个指标每天一个数值")
    value: Decimal = Field(..., title="数值")
    note: str = Field("", title="说明", max_length=800)


class ProjectDetailOut(ProjectOut):
    milestone_list: list[MilestoneOut] = Field(..., title="里程碑")
    indicators: list[IndicatorOut] = Field(..., title="成效指标")


def _projects(user):
    today = services.today()
    return (services.visible_projects(user).select_related("org", "lead")
            .annotate(n_m=Count("milestones", distinct=True),
                      n_done=Count("milestones", filter=Q(milestones__done_on__isnull=False), distinct=True),
                      n_over=Count("milestones", filter=Q(milestones__done_on__isnull=True,
                                                          milestones__due_on__lt=today), distinct=True)))


def _project_dict(p) -> dict:
    return {"id": p.pk, "org_id": p.org_id, "org_name": p.org.name, "name": p.name, "kind": p.kind, "goal": p.goal,
            "state": p.state, "starts_on": p.starts_on, "ends_on": p.ends_on, "lead_id": p.lead_id,
            "lead_name": p.lead.name if p.lead else None, "milestones": p.n_m, "milestones_done": p.n_done,
            "milestones_overdue": p.n_over}


def _milestone_dict(m, today) -> dict:
    return {"id": m.pk, "title": m.title, "due_on": m.due_on, "done_on": m.done_on, "note": m.note,
            "overdue": m.done_on is None and m.due_on < today}


def _indicator_dict(ip) -> dict:
    ind = ip.indicator
    return {"id": ind.pk, "name": ind.name, "unit": ind.unit, "baseline": ind.baseline, "target": ind.target,
            "latest_value": ip.latest.value if ip.latest else None, "latest_on": ip.latest.on if ip.latest else None,
            "percent": ip.percent}


def _detail(user, pk) -> dict:
    p = get_scoped_or_404(user, "project.view", _projects(user), pk=pk)
    prog = services.progress(p)
    today = services.today()
    return {**_project_dict(p), "milestone_list": [_milestone_dict(m, today) for m in prog.milestones],
            "indicators": [_indicator_dict(ip) for ip in prog.indicators]}


def _lead(org: Organization, lead_id: int | None) -> Member | None:
    if lead_id is None:
        return None
    lead = Member.objects.filter(pk=lead_id, org__path__startswith=org.path).select_related("org").first()
    if lead is None:
        raise DomainError(_("负责人须为{org}及其下级组织的党员。").format(org=org.name), "lead")
    return lead


@router.get("/projects", response=reads(ProjectPage), summary="社会责任根植项目列表",
            description="当前用户可查看的项目（本组织及下级组织），开始日期新的在前。")
@api_errors
def list_projects(request, filters: Query[ProjectFilter], page: Query[PageIn]):
    user = request.auth
    qs = _projects(user).order_by("-starts_on", "-id")
    if filters.org_id:
        org = scope(user, "project.view", Organization.objects.all()).filter(pk=filters.org_id).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.q:
        qs = qs.filter(Q(name__contains=filters.q) | Q(goal__contains=filters.q))
    data = paginate(qs, page, services.visible_projects(user).filter(pk__in=qs.values("pk")))
    return {"count": data["count"], "items": [_project_dict(p) for p in data["items"]]}


@router.get("/projects/{project_id}", response=reads(ProjectDetailOut), summary="项目详情",
            description="含里程碑（逾期标记）与成效指标的最新值、目标完成度。")
@api_errors
def get_project(request, project_id: ProjectId):
    return _detail(request.auth, project_id)


@router.post("/projects", response=writes(ProjectDetailOut, 201), summary="新建项目")
@api_errors(fields={"org": "org_id", "lead": "lead_id"})
def create_project(request, body: ProjectIn):
    user = request.auth
    org = get_scoped_or_404(user, "project.manage", Organization.objects.all(), pk=body.org_id)
    data = body.dict()
    data.pop("org_id")
    data["lead"] = _lead(org, data.pop("lead_id"))
    p = services.create_project(user, org, **data)
    return 201, _detail(user, p.pk)


@router.patch("/projects/{project_id}", response=writes(ProjectDetailOut), summary="修改项目",
              description="只修改给出的字段。")
@api_errors(fields={"lead": "lead_id"})
def update_project(request, project_id: ProjectId, body: ProjectPatch):
    user = request.auth
    p = get_scoped_or_404(user, "project.manage", Project.objects.select_related("org"), pk=project_id)
    data = body.dict(exclude_unset=True)
    if "lead_id" in data:
        data["lead"] = _lead(p.org, data.pop("lead_id"))
    empty = [k for k in ("name", "kind", "goal", "state", "starts_on") if k in data and data[k] is None]
    if empty:
        raise DomainError(_("{field}不能为空。").format(field=empty[0]), empty[0])
    services.update_project(user, p, **data)
    return _detail(user, p.pk)


@router.get("/projects/{project_id}/milestones", response=reads(list[MilestoneOut]), summary="项目里程碑")
@api_errors
def list_milestones(request, project_id: ProjectId):
    p = get_scoped_or_404(request.auth, "project.view", Project.objects.all(), pk=project_id)
    today = services.today()
    return [_milestone_dict(m, today) for m in p.milestones.all()]


@router.post("/projects/{project_id}/milestones", response=writes(MilestoneOut, 201), summary="新增里程碑")
@api_errors
def add_milestone(request, project_id: ProjectId, body: MilestoneIn):
    user = request.auth
    p = get_scoped_or_404(user, "project.manage", Project.objects.all(), pk=project_id)
    m = services.add_milestone(user, p, title=body.title, due_on=body.due_on, note=body.note)
    return 201, _milestone_dict(m, services.today())


@router.post("/projects/{project_id}/milestones/{milestone_id}/done", response=writes(MilestoneOut),
             summary="里程碑标记完成")
@api_errors
def milestone_done(request, project_id: ProjectId, milestone_id: MilestoneId, body: DoneIn):
    user = request.auth
    m = get_scoped_or_404(user, "project.manage", Milestone.objects.all(), pk=milestone_id, project_id=project_id)
    m = services.complete_milestone(user, m, body.done_on)
    return _milestone_dict(m, services.today())


@router.get("/projects/{project_id}/indicators", response=reads(list[IndicatorOut]), summary="成效指标")
@api_errors
def list_indicators(request, project_id: ProjectId):
    p = get_scoped_or_404(request.auth, "project.view", Project.objects.all(), pk=project_id)
    return [_indicator_dict(ip) for ip in services.progress(p).indicators]


@router.post("/projects/{project_id}/indicators", response=writes(IndicatorOut, 201), summary="新增成效指标")
@api_errors
def add_indicator(request, project_id: ProjectId, body: IndicatorIn):
    user = request.auth
    p = get_scoped_or_404(user, "project.manage", Project.objects.all(), pk=project_id)
    ind = services.add_indicator(user, p, name=body.name, unit=body.unit, baseline=body.baseline, target=body.target)
    return 201, _indicator_dict(services.IndicatorProgress(ind))


@router.get("/projects/{project_id}/indicators/{indicator_id}/values", response=reads(list[ValueOut]),
            summary="指标数值", description="按日期排列。")
@api_errors
def list_values(request, project_id: ProjectId, indicator_id: IndicatorId):
    ind = get_scoped_or_404(request.auth, "project.view", Indicator.objects.all(), pk=indicator_id,
                            project_id=project_id)
    return [{"id": v.pk, "on": v.on, "value": v.value, "note": v.note} for v in ind.values.all()]


@router.post("/projects/{project_id}/indicators/{indicator_id}/values", response=writes(ValueOut, 201),
             summary="登记指标数值")
@api_errors
def add_value(request, project_id: ProjectId, indicator_id: IndicatorId, body: ValueIn):
    user = request.auth
    ind = get_scoped_or_404(user, "project.manage", Indicator.objects.all(), pk=indicator_id, project_id=project_id)
    v = services.add_value(user, ind, on=body.on, value=body.value, note=body.note)
    return 201, {"id": v.pk, "on": v.on, "value": v.value, "note": v.note}
