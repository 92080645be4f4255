"""JSON API of the PDCA tickets (mounted by service/api.py), with the permissions of the pages: ``ticket.view`` to
read, ``ticket.handle`` on the ticket's organization to fill steps, add actions and move, ``ticket.manage`` to
cancel, reopen, change the organization or extend the due date. Out of scope → 404.

/api/v1/tickets (list, create), /tickets/{id} (detail, PATCH step fields), /tickets/{id}/transitions (history and
the moves available; POST moves), /tickets/{id}/actions (GET, POST), /ticket-actions/{id}/evidence (upload),
/ticket-evidence/{id}/download and DELETE /ticket-evidence/{id} (withdraw)."""

import datetime
from typing import Annotated

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Query, Router, Schema, UploadedFile

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.api_helpers import READ_ERRORS, PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.core.public import mask_contact
from dangjian.orgs.models import Organization
from dangjian.service import tickets as services
from dangjian.service.models import (
    Origin,
    Satisfaction,
    ServiceArea,
    Ticket,
    TicketAction,
    TicketEvidence,
    TState,
)
from dangjian.service.views_tickets import file_response

router = Router(tags=["服务群众"])

TicketId = Annotated[int, Path(title="工单编号（id）")]
ActionId = Annotated[int, Path(title="措施落实记录编号")]
EvidenceId = Annotated[int, Path(title="佐证材料编号")]
STATE_HELP = "plan=计划，do=实施，check=检查，act=改进，closed=已销号，cancelled=已撤销"
ORIGIN_HELP = "need=需求，survey=满意度偏低，staff=自查发现"
SATISFACTION_HELP = "satisfied=满意，fairly=比较满意，not_very=不太满意，unsatisfied=不满意，unknown=不清楚/未回访"


class TicketRefOut(Schema):
    id: int = Field(..., title="编号")
    name: str = Field(..., title="名称")


class TicketOut(Schema):
    id: int = Field(..., title="编号（id）")
    number: str = Field(..., title="工单号")
    org: TicketRefOut = Field(..., title="责任单位")
    area: TicketRefOut | None = Field(None, title="服务区域")
    origin: str = Field(..., title="来源", description=ORIGIN_HELP)
    title: str = Field(..., title="标题")
    state: str = Field(..., title="状态", description=STATE_HELP)
    state_label: str = Field(..., title="状态名称")
    version: int = Field(..., title="版本号", description="修改或流转时带上，用于发现他人已修改")
    due_date: datetime.date | None = Field(None, title="完成期限")
    overdue: bool = Field(..., title="已逾期", description="未销号且已过完成期限")
    owner: TicketRefOut | None = Field(None, title="责任人")
    created_at: datetime.datetime = Field(..., title="立项时间")
    closed_at: datetime.datetime | None = Field(None, title="销号时间")


class TicketPage(Schema):
    count: int = Field(..., title="总数")
    overdue_count: int = Field(..., title="可见范围内的逾期工单数")
    items: list[TicketOut] = Field(..., title="本页工单")


class MoveOut(Schema):
    to_state: str = Field(..., title="目标状态", description=STATE_HELP)
    label: str = Field(..., title="操作名称")
    needs_reason: bool = Field(..., title="须填理由")


class NeedRefOut(Schema):
    id: int = Field(..., title="需求编号（id）")
    number: str = Field(..., title="需求编号")
    category: str = Field(..., title="类别")
    contact: str = Field(..., title="联系方式（脱敏）")


class TicketDetailOut(TicketOut):
    description: str = Field(..., title="问题描述")
    need: NeedRefOut | None = Field(None, title="来源需求")
    index_id: int | None = Field(None, title="来源满意度指数编号")
    analysis: str = Field(..., title="原因分析")
    measures: str = Field(..., title="整改措施")
    verification: str = Field(..., title="核查情况")
    satisfaction: str = Field(..., title="诉求人满意度", description=SATISFACTION_HELP + "；未填写为空字符串")
    callback_on: datetime.date | None = Field(None, title="回访日期")
    standardization: str = Field(..., title="固化与改进")
    similar_cases: str = Field(..., title="举一反三")
    recurrence: bool = Field(..., title="同类问题重复发生")
    available: list[MoveOut] = Field(..., title="当前用户可执行的流转")


class TicketFilter(Schema):
    org_id: int | None = Field(None, title="责任单位编号", description="含其下级单位")
    state: str | None = Field(None, title="状态", description=STATE_HELP + "；open=未销号",
                              pattern="^(open|plan|do|check|act|closed|cancelled)$")
    origin: Origin | None = Field(None, title="来源", description=ORIGIN_HELP)
    overdue: bool | None = Field(None, title="只看逾期")
    mine: bool | None = Field(None, title="本单位逾期", description="本人负责或本人所在单位的逾期工单")
    area_id: int | None = Field(None, title="服务区域编号")
    month: str | None = Field(None, title="立项月份", description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    q: str | None = Field(None, title="关键词", description="在工单号、标题、问题描述中查找", max_length=100)


class TicketIn(Schema):
    org_id: int = Field(..., title="责任单位编号")
    title: str = Field(..., title="标题", max_length=60)
    description: str = Field(..., title="问题描述", max_length=2000)
    area_id: int | None = Field(None, title="服务区域编号")
    due_date: datetime.date | None = Field(None, title="完成期限")


class TicketPatchIn(Schema):
    version: int | None = Field(None, title="版本号", description="建议带上：与当前版本不符时返回 400 且不作修改")
    title: str | None = Field(None, title="标题", description="计划阶段")
    description: str | None = Field(None, title="问题描述", description="计划阶段")
    area_id: int | None = Field(None, title="服务区域编号", description="计划阶段")
    analysis: str | None = Field(None, title="原因分析", description="计划阶段")
    measures: str | None = Field(None, title="整改措施", description="计划阶段")
    owner_id: int | None = Field(None, title="责任人用户编号", description="计划阶段；须能处理该单位的工单")
    due_date: datetime.date | None = Field(None, title="完成期限",
                                           description="计划阶段；之后只有党建管理员可延期")
    verification: str | None = Field(None, title="核查情况", description="检查阶段")
    satisfaction: Satisfaction | None = Field(None, title="诉求人满意度", description="检查阶段；" + SATISFACTION_HELP)
    callback_on: datetime.date | None = Field(None, title="回访日期", description="检查阶段")
    standardization: str | None = Field(None, title="固化与改进", description="改进阶段")
    similar_cases: str | None = Field(None, title="举一反三", description="改进阶段")
    recurrence: bool | None = Field(None, title="同类问题重复发生", description="改进阶段")
    org_id: int | None = Field(None, title="责任单位编号", description="只有党建管理员可调整，须在其管理范围内")


class TicketTransitionOut(Schema):
    from_state: str = Field(..., title="原状态")
    to_state: str = Field(..., title="新状态")
    actor: str | None = Field(None, title="操作人")
    reason: str = Field(..., title="理由")
    at: datetime.datetime = Field(..., title="时间")


class TicketTransitionsOut(Schema):
    available: list[MoveOut] = Field(..., title="当前用户可执行的流转")
    history: list[TicketTransitionOut] = Field(..., title="流转记录", description="第一条为立项")


class TicketMoveIn(Schema):
    to_state: TState = Field(..., title="目标状态", description=STATE_HELP)
    version: int = Field(..., title="版本号", description="当前看到的工单版本号")
    reason: str = Field("", title="理由", description="退回、撤销、重新打开时必填", max_length=500)


class TicketEvidenceOut(Schema):
    id: int = Field(..., title="编号")
    name: str = Field(..., title="文件名")
    content_type: str = Field(..., title="类型")
    size: int = Field(..., title="大小（字节）")
    uploaded_at: datetime.datetime = Field(..., title="上传时间")
    download_url: str = Field(..., title="下载地址")


class ActionOut(Schema):
    id: int = Field(..., title="编号")
    date: datetime.date = Field(..., title="落实日期")
    text: str = Field(..., title="措施落实情况")
    created_by: str | None = Field(None, title="登记人")
    evidence: list[TicketEvidenceOut] = Field(..., title="佐证材料")


class ActionPage(Schema):
    count: int = Field(..., title="总数")
    items: list[ActionOut] = Field(..., title="措施落实情况")


class ActionIn(Schema):
    date: datetime.date = Field(..., title="落实日期", description="不晚于今天、不早于立项日期")
    text: str = Field(..., title="措施落实情况", max_length=2000)


# ---- helpers -----------------------------------------------------------------------------------------------------


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user else None


def _ref(obj, name=None) -> dict | None:
    return {"id": obj.pk, "name": name or obj.name} if obj else None


def _ticket_dict(t: Ticket, today: datetime.date) -> dict:
    return {
        "id": t.pk, "number": t.number, "org": _ref(t.org), "area": _ref(t.area), "origin": t.origin,
        "title": t.title, "state": t.state, "state_label": str(t.get_state_display()), "version": t.version,
        "due_date": t.due_date, "overdue": services.is_overdue(t, today),
        "owner": {"id": t.owner.pk, "name": _name(t.owner)} if t.owner else None,
        "created_at": t.created_at, "closed_at": t.closed_at,
    }


def _moves(user, t: Ticket) -> list[dict]:
    return [{"to_state": m.to, "label": m.label, "needs_reason": m.needs_reason}
            for m in services.allowed_moves(user, t)]


def _ticket(user, pk) -> Ticket:
    return get_scoped_or_404(user, "ticket.view", Ticket.objects.select_related("org", "area", "owner", "need"),
                             pk=pk)


def _detail(user, pk) -> dict:
    t = _ticket(user, pk)
    out = _ticket_dict(t, timezone.localdate())
    out.update({
        "description": t.description, "index_id": t.index_id, "analysis": t.analysis, "measures": t.measures,
        "verification": t.verification, "satisfaction": t.satisfaction, "callback_on": t.callback_on,
        "standardization": t.standardization, "similar_cases": t.similar_cases, "recurrence": t.recurrence,
        "need": ({"id": t.need.pk, "number": t.need.number, "category": t.need.category,
                  "contact": mask_contact(t.need.contact)} if t.need_id else None),
        "available": _moves(user, t),
    })
    return out


def _evidence_dict(ev: TicketEvidence) -> dict:
    return {"id": ev.pk, "name": ev.name, "content_type": ev.content_type, "size": ev.size,
            "uploaded_at": ev.uploaded_at, "download_url": f"/api/v1/ticket-evidence/{ev.pk}/download"}


def _action_dict(a: TicketAction) -> dict:
    return {"id": a.pk, "date": a.date, "text": a.text, "created_by": _name(a.created_by),
            "evidence": [_evidence_dict(ev) for ev in a.evidence.all()]}


def _actions(t: Ticket):
    live = TicketEvidence.objects.filter(withdrawn_at__isnull=True).order_by("id")
    return t.actions.select_related("created_by").prefetch_related(Prefetch("evidence", queryset=live))


def _require_view(user):
    if not can(user, "ticket.view"):
        raise Http404


# ---- tickets -----------------------------------------------------------------------------------------------------


@router.get("/tickets", response=reads(TicketPage), summary="整改工单列表",
            description="当前用户可见范围内的工单，新的在前；可按单位（含下级）、状态、来源、逾期、区域、立项月份筛选。")
@api_errors
def list_tickets(request, filters: Query[TicketFilter], page: Query[PageIn]):
    user = request.auth
    _require_view(user)
    today = timezone.localdate()
    f = {"org": filters.org_id, "state": filters.state, "origin": filters.origin.value if filters.origin else None,
         "overdue": bool(filters.overdue), "mine": bool(filters.mine), "area": filters.area_id,
         "month": filters.month, "q": filters.q}
    base = services.visible(user)
    qs = services.filter_tickets(user, base, f, today)
    result = paginate(qs, page)
    return {"count": result["count"], "overdue_count": base.filter(services.overdue_q(today)).count(),
            "items": [_ticket_dict(t, today) for t in result["items"]]}


@router.post("/tickets", response=writes(TicketDetailOut, 201), summary="新建整改工单（自查发现）",
             description="须有该单位的处理工单权限。新工单处于计划阶段。")
@api_errors(fields={"org": "org_id", "area": "area_id"})
def create_ticket(request, body: TicketIn):
    user = request.auth
    _require_view(user)
    org = get_scoped_or_404(user, "ticket.handle", Organization.objects.all(), pk=body.org_id)
    area = None
    if body.area_id is not None:
        area = ServiceArea.objects.filter(pk=body.area_id).first()
        if area is None:
            raise DomainError(_("所选服务区域不存在。"), "area")
    t = services.open_staff_ticket(user, org, title=body.title, description=body.description, area=area,
                                   due_date=body.due_date, request=request)
    return 201, _detail(user, t.pk)


@router.get("/tickets/{ticket_id}", response=reads(TicketDetailOut), summary="整改工单详情")
@api_errors
def get_ticket(request, ticket_id: TicketId):
    return _detail(request.auth, ticket_id)


@router.patch("/tickets/{ticket_id}", response=writes(TicketDetailOut), summary="填写或修改工单各阶段内容",
              description="只能修改当前阶段的字段（计划：标题、描述、区域、原因分析、整改措施、责任人、完成期限；"
                          "检查：核查情况、满意度、回访日期；改进：固化与改进、举一反三、重复发生）。"
                          "党建管理员还可调整责任单位（org_id）、延长完成期限。全部成功或全部不改。")
@api_errors(fields={"org": "org_id", "area": "area_id", "owner": "owner_id"})
def patch_ticket(request, ticket_id: TicketId, body: TicketPatchIn):
    user = request.auth
    t = _ticket(user, ticket_id)
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    changes = {}
    for key, value in data.items():
        if key == "area_id":
            area = None
            if value is not None:
                area = ServiceArea.objects.filter(pk=value).first()
                if area is None:
                    raise DomainError(_("所选服务区域不存在。"), "area")
            changes["area"] = area
        elif key == "owner_id":
            owner = None
            if value is not None:
                owner = get_user_model().objects.filter(pk=value).first()
                if owner is None:
                    raise DomainError(_("责任人须为能处理该单位工单的用户。"), "owner")
            changes["owner"] = owner
        elif key == "org_id":
            org = scope(user, "ticket.manage", Organization.objects.all()).filter(pk=value or 0).first()
            if org is None:
                raise DomainError(_("所选责任单位不存在，或不在您的管理范围内。"), "org")
            changes["org"] = org
        elif key == "satisfaction":
            changes[key] = getattr(value, "value", value) or ""
        else:
            changes[key] = value
    services.save_fields(user, t, changes, version=version, request=request)
    return _detail(user, t.pk)


# ---- transitions -------------------------------------------------------------------------------------------------


@router.get("/tickets/{ticket_id}/transitions", response=reads(TicketTransitionsOut), summary="流转记录和可执行的流转")
@api_errors
def list_transitions(request, ticket_id: TicketId):
    user = request.auth
    t = _ticket(user, ticket_id)
    history = t.transitions.select_related("actor")
    return {"available": _moves(user, t),
            "history": [{"from_state": h.from_state, "to_state": h.to_state, "actor": _name(h.actor),
                         "reason": h.reason, "at": h.at} for h in history]}


@router.post("/tickets/{ticket_id}/transitions", response=writes(TicketDetailOut), summary="工单流转",
             description="只能执行 GET …/transitions 中 available 列出的流转；version 须为当前版本。"
                         "提交计划须已填原因分析、整改措施、完成期限；提交检查须至少一条措施落实情况；"
                         "检查通过须填核查情况（来自需求的工单还须填满意度和回访日期）；销号须填固化与改进"
                         "（投诉还须举一反三）。退回、撤销、重新打开须填理由。")
@api_errors
def move_ticket(request, ticket_id: TicketId, body: TicketMoveIn):
    user = request.auth
    t = _ticket(user, ticket_id)
    services.move(user, t, body.to_state.value, version=body.version, reason=body.reason, request=request)
    return _detail(user, t.pk)


# ---- actions and evidence ----------------------------------------------------------------------------------------


@router.get("/tickets/{ticket_id}/actions", response=reads(ActionPage), summary="措施落实情况",
            description="按日期排列，含未撤回的佐证材料。")
@api_errors
def list_actions(request, ticket_id: TicketId, page: Query[PageIn]):
    t = _ticket(request.auth, ticket_id)
    result = paginate(_actions(t), page)
    return {"count": result["count"], "items": [_action_dict(a) for a in result["items"]]}


@router.post("/tickets/{ticket_id}/actions", response=writes(ActionOut, 201), summary="登记措施落实情况",
             description="实施阶段；佐证材料另以 POST /ticket-actions/{id}/evidence 上传。")
@api_errors
def create_action(request, ticket_id: TicketId, body: ActionIn):
    user = request.auth
    t = _ticket(user, ticket_id)
    a = services.add_action(user, t, date=body.date, text=body.text, request=request)
    return 201, _action_dict(_actions(t).get(pk=a.pk))


@router.post("/ticket-actions/{action_id}/evidence", response=writes(TicketEvidenceOut, 201), summary="上传佐证材料",
             description="multipart/form-data：file。PDF、JPG、PNG、Word、Excel、PowerPoint，按文件内容识别类型，"
                         "单个不超过 20 MB；只能在实施阶段上传。")
@api_errors
def upload_evidence(request, action_id: ActionId, file: File[UploadedFile | None] = None):
    user = request.auth
    action = get_scoped_or_404(user, "ticket.view", TicketAction.objects.select_related("ticket__org"), pk=action_id)
    ev = services.upload_evidence(user, action, file, request=request)
    return 201, _evidence_dict(ev)


@router.get("/ticket-evidence/{evidence_id}/download", response=READ_ERRORS, summary="下载佐证材料",
            description="以附件形式返回文件内容。", url_name="ticket_evidence_download",
            openapi_extra={"responses": {200: {"description": "文件内容（附件）", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
@api_errors
def download_evidence(request, evidence_id: EvidenceId):
    ev = get_scoped_or_404(request.auth, "ticket.view", TicketEvidence.objects.filter(withdrawn_at__isnull=True),
                           pk=evidence_id)
    return file_response(ev)


@router.delete("/ticket-evidence/{evidence_id}", response=writes(TicketEvidenceOut), summary="撤回佐证材料",
               description="实施阶段可撤回；撤回后不再列出、不能下载，记录保留在审计日志中。")
@api_errors
def withdraw_evidence(request, evidence_id: EvidenceId):
    user = request.auth
    ev = get_scoped_or_404(user, "ticket.view", TicketEvidence.objects.filter(withdrawn_at__isnull=True)
                           .select_related("ticket__org"), pk=evidence_id)
    ev = services.withdraw_evidence(user, ev, request=request)
    return _evidence_dict(ev)
