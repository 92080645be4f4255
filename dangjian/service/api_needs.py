"""JSON API of the needs part (mounted by service/api.py): /api/v1/needs (list, one need, create, accept, decline)
and /api/v1/service-areas (list, create). The permissions are the pages': ``need.view`` to read, ``need.manage``
to write; an object outside the user's scope is 404. Lists show the requester and contact masked; one need shows
them in full to a ``need.manage`` holder, and that reading is audited like the page's "显示完整"."""

import datetime
from typing import Annotated

from django.db.models import Q
from ninja import Field, Path, Query, Router, Schema

from dangjian.core.access import can, get_scoped_or_404
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.dates import month_start, next_month
from dangjian.orgs.models import Organization
from dangjian.service import needs as services
from dangjian.service.models import Need, NeedCategory, NeedKind, NeedSource, NeedState, ServiceArea, Urgency

router = Router(tags=["服务群众"])

NeedId = Annotated[int, Path(title="需求编号（id）")]
KIND_HELP = "government=政府统筹发展要求，people=客户/群众诉求"
CATEGORY_HELP = "complaint=投诉，opinion=意见，need=需求，suggestion=建议，praise=表扬"
SOURCE_HELP = ("95598=95598热线，12398=12398能源监管热线，12345=12345政务热线，visit=走访，survey=满意度调查，"
               "team=服务队，media=媒体，meeting=政企座谈，online=线上征集（二维码），other=其他")
URGENCY_HELP = "normal=一般，urgent=紧急，critical=特急"
STATE_HELP = "received=待受理，accepted=已受理，declined=不予受理"


class NeedOrgRef(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")


class AreaOut(Schema):
    id: int = Field(..., title="服务区域编号")
    org: NeedOrgRef = Field(..., title="所属单位")
    name: str = Field(..., title="服务区域")
    grid_manager: str = Field(..., title="网格经理")
    note: str = Field(..., title="说明")
    archived: bool = Field(..., title="已停用")


class AreaPage(Schema):
    count: int = Field(..., title="总数")
    items: list[AreaOut] = Field(..., title="本页服务区域")


class AreaFilter(Schema):
    org_id: int | None = Field(None, title="单位编号", description="只列出该单位及其下级单位的服务区域")
    archived: bool | None = Field(None, title="已停用", description="true=只列已停用的，false=只列使用中的")


class AreaIn(Schema):
    org_id: int = Field(..., title="所属单位编号")
    name: str = Field(..., title="区域名称", max_length=200)
    grid_manager: str = Field("", title="网格经理", max_length=200)
    note: str = Field("", title="说明", max_length=1000)


class TicketRef(Schema):
    id: int = Field(..., title="工单编号（id）")
    number: str = Field(..., title="工单编号")
    state: str = Field(..., title="工单状态")


class NeedOut(Schema):
    id: int = Field(..., title="需求编号（id）")
    number: str = Field(..., title="需求编号", description="如 XQ2026-000123，群众来电查询时报的编号")
    org: NeedOrgRef = Field(..., title="受理单位")
    area: NeedOrgRef | None = Field(None, title="服务区域")
    kind: NeedKind = Field(..., title="类型", description=KIND_HELP)
    category: NeedCategory = Field(..., title="类别", description=CATEGORY_HELP)
    source: NeedSource = Field(..., title="来源", description=SOURCE_HELP)
    urgency: Urgency = Field(..., title="紧急程度", description=URGENCY_HELP)
    title: str = Field(..., title="标题")
    text: str = Field(..., title="内容")
    requester: str = Field(..., title="诉求人", description="列表中脱敏（张**）；单条查询时对有管理权限的用户为完整内容")
    contact: str = Field(..., title="联系方式", description="列表中脱敏（139****1234）；单条查询时对有管理权限的用户为完整内容")
    address: str = Field(..., title="地址")
    received_on: datetime.date = Field(..., title="受理日期")
    channel: str = Field(..., title="渠道", description="staff=员工录入，import=Excel导入，public=公众提交，api=接口")
    state: NeedState = Field(..., title="状态", description=STATE_HELP)
    decline_reason: str = Field(..., title="不予受理理由")
    ticket: TicketRef | None = Field(None, title="整改工单", description="受理后建立的整改工单")
    created_at: datetime.datetime = Field(..., title="登记时间")


class NeedPage(Schema):
    count: int = Field(..., title="总数")
    items: list[NeedOut] = Field(..., title="本页需求")


class NeedFilter(Schema):
    org_id: int | None = Field(None, title="单位编号", description="该单位及其下级单位的需求")
    kind: NeedKind | None = Field(None, title="类型", description=KIND_HELP)
    category: NeedCategory | None = Field(None, title="类别", description=CATEGORY_HELP)
    source: NeedSource | None = Field(None, title="来源", description=SOURCE_HELP)
    urgency: Urgency | None = Field(None, title="紧急程度", description=URGENCY_HELP)
    state: NeedState | None = Field(None, title="状态", description=STATE_HELP)
    area_id: int | None = Field(None, title="服务区域编号")
    month: str | None = Field(None, title="受理月份", description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    q: str | None = Field(None, title="关键词", description="在编号、标题、内容、地址中查找", max_length=100)


class NeedIn(Schema):
    org_id: int = Field(..., title="受理单位编号")
    area_id: int | None = Field(None, title="服务区域编号", description="须为受理单位的服务区域")
    kind: NeedKind = Field(NeedKind.PEOPLE, title="类型", description=KIND_HELP)
    category: NeedCategory = Field(NeedCategory.NEED, title="类别", description=CATEGORY_HELP)
    source: NeedSource = Field(NeedSource.HOTLINE, title="来源", description=SOURCE_HELP)
    urgency: Urgency = Field(Urgency.NORMAL, title="紧急程度", description=URGENCY_HELP)
    title: str = Field("", title="标题", description="不超过60字；为空时取内容的第一句", max_length=200)
    text: str = Field(..., title="内容", description="2–2000字", max_length=5000)
    requester: str = Field("", title="诉求人", max_length=200)
    contact: str = Field("", title="联系方式", description="手机号、固定电话或电子邮箱", max_length=200)
    address: str = Field("", title="地址", max_length=500)
    received_on: datetime.date | None = Field(None, title="受理日期", description="不填为今天；不能晚于今天")


class AcceptIn(Schema):
    title: str = Field("", title="工单标题", description="为空时用需求标题", max_length=200)
    description: str = Field("", title="问题描述", description="为空时用需求内容", max_length=5000)
    due_date: datetime.date | None = Field(None, title="完成期限", description="不填时按紧急程度：一般15天、紧急5天、特急1天")


class DeclineIn(Schema):
    reason: str = Field(..., title="不予受理理由", description="2–300字", max_length=1000)


def _area_dict(a: ServiceArea) -> dict:
    return {"id": a.pk, "org": {"id": a.org_id, "name": a.org.name}, "name": a.name, "grid_manager": a.grid_manager,
            "note": a.note, "archived": a.archived}


def _ticket(n: Need):
    t = getattr(n, "ticket", None)
    return {"id": t.pk, "number": t.number, "state": t.state} if t is not None else None


def _need_dict(n: Need, *, full: bool) -> dict:
    return {
        "id": n.pk, "number": n.number, "org": {"id": n.org_id, "name": n.org.name},
        "area": {"id": n.area_id, "name": n.area.name} if n.area_id else None,
        "kind": n.kind, "category": n.category, "source": n.source, "urgency": n.urgency, "title": n.title,
        "text": n.text, "requester": n.requester if full else services.mask_name(n.requester),
        "contact": n.contact if full else services.mask_contact(n.contact), "address": n.address,
        "received_on": n.received_on, "channel": n.channel, "state": n.state, "decline_reason": n.decline_reason,
        "ticket": _ticket(n), "created_at": n.created_at,
    }


def _need(user, need_id: int, action: str = "need.view") -> Need:
    return get_scoped_or_404(user, action, Need.objects.select_related("org", "area", "ticket"), pk=need_id)


def _shown(request, need: Need) -> dict:
    """One need as the detail shows it: in full to a need.manage holder (the reading is audited)."""
    user = request.auth
    full = can(user, "need.manage", need.org.path)
    if full and (need.requester or need.contact):
        services.log_contact_viewed(user, need, request)
    return _need_dict(need, full=full)


@router.get("/needs", response={**reads(NeedPage), 400: DomainErrorOut}, summary="需求列表",
            description="当前用户有权查看的需求，按受理日期新的在前；诉求人和联系方式脱敏。")
@api_errors
def list_needs(request, filters: Query[NeedFilter], page: Query[PageIn]):
    user = request.auth
    qs = services.needs_visible(user)
    if filters.org_id is not None:
        org = get_scoped_or_404(user, "need.view", Organization.objects.all(), pk=filters.org_id)
        qs = qs.filter(org__path__startswith=org.path)
    for key in ("kind", "category", "source", "urgency", "state"):
        value = getattr(filters, key)
        if value is not None:
            qs = qs.filter(**{key: value.value})
    if filters.area_id is not None:
        qs = qs.filter(area_id=filters.area_id)
    if filters.month:
        month = month_start(filters.month)
        qs = qs.filter(received_on__gte=month, received_on__lt=next_month(month))
    if filters.q:
        qs = qs.filter(Q(title__contains=filters.q) | Q(text__contains=filters.q) | Q(number__contains=filters.q)
                       | Q(address__contains=filters.q))
    result = paginate(qs.select_related("org", "area", "ticket").order_by("-received_on", "-id"), page, count_qs=qs)
    return {"count": result["count"], "items": [_need_dict(n, full=False) for n in result["items"]]}


@router.get("/needs/{need_id}", response=reads(NeedOut), summary="需求详情",
            description="有管理权限的用户可见完整的诉求人和联系方式，查看记入审计日志。")
@api_errors
def get_need(request, need_id: NeedId):
    return _shown(request, _need(request.auth, need_id))


@router.post("/needs", response=writes(NeedOut, 201), summary="登记需求",
             description="登记一条需求（渠道记为“接口”），状态为待受理。需要该单位的需求管理权限。")
@api_errors(fields={"org": "org_id", "area": "area_id"})
def create_need(request, body: NeedIn):
    user = request.auth
    org = get_scoped_or_404(user, "need.manage", Organization.objects.all(), pk=body.org_id)
    area = None
    if body.area_id is not None:
        area = get_scoped_or_404(user, "need.manage", ServiceArea.objects.all(), pk=body.area_id)
    need = services.create_need(user, org, kind=body.kind, category=body.category, source=body.source,
                                urgency=body.urgency, area=area, title=body.title, text=body.text,
                                requester=body.requester, contact=body.contact, address=body.address,
                                received_on=body.received_on, channel="api", request=request)
    return 201, _need_dict(_need(user, need.pk), full=True)


@router.post("/needs/{need_id}/accept", response=writes(NeedOut), summary="受理需求",
             description="只有待受理的需求可以受理；受理后建立整改工单（计划阶段），需求变为已受理。")
@api_errors
def accept_need(request, need_id: NeedId, body: AcceptIn):
    user = request.auth
    need = _need(user, need_id, "need.manage")
    services.accept_need(user, need, title=body.title, description=body.description, due_date=body.due_date,
                         request=request)
    return _need_dict(_need(user, need_id), full=True)


@router.post("/needs/{need_id}/decline", response=writes(NeedOut), summary="不予受理",
             description="只有待受理的需求可以不予受理；须填写理由。")
@api_errors
def decline_need(request, need_id: NeedId, body: DeclineIn):
    user = request.auth
    need = _need(user, need_id, "need.manage")
    services.decline_need(user, need, body.reason, request=request)
    return _need_dict(_need(user, need_id), full=True)


@router.get("/service-areas", response=reads(AreaPage), summary="服务区域列表",
            description="当前用户有权查看的单位的服务区域（网格）。")
@api_errors
def list_areas(request, filters: Query[AreaFilter], page: Query[PageIn]):
    user = request.auth
    qs = services.areas_visible(user)
    if filters.org_id is not None:
        org = get_scoped_or_404(user, "need.view", Organization.objects.all(), pk=filters.org_id)
        qs = qs.filter(org__path__startswith=org.path)
    if filters.archived is not None:
        qs = qs.filter(archived=filters.archived)
    result = paginate(qs.select_related("org").order_by("org__path", "name", "id"), page, count_qs=qs)
    return {"count": result["count"], "items": [_area_dict(a) for a in result["items"]]}


@router.post("/service-areas", response=writes(AreaOut, 201), summary="新建服务区域",
             description="需要该单位的需求管理权限；同一单位内区域名称不能重复。")
@api_errors(fields={"org": "org_id"})
def create_area(request, body: AreaIn):
    user = request.auth
    org = get_scoped_or_404(user, "need.manage", Organization.objects.all(), pk=body.org_id)
    area = services.create_area(user, org, name=body.name, grid_manager=body.grid_manager, note=body.note)
    return 201, _area_dict(area)
