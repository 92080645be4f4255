"""JSON API of the monthly organization evaluation: /api/v1/periods, /api/v1/org-evaluations (with items,
evidence, transitions and objections), /api/v1/evidence and /api/v1/objections.

The same access as the pages: every object is read through ``core.access`` (an object outside the user's scope
is 404), every write goes through ``assessments.services``. ``api_errors`` maps what the services raise; a
concurrent change (``ConflictError``) is 409 with the Chinese sentence, and nothing was saved.
"""

import datetime
import functools
from decimal import Decimal
from typing import Annotated

from django.db.models import Count
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, UploadedFile

from dangjian.assessments import services
from dangjian.assessments.models import (
    EvalItem,
    Evaluation,
    Evidence,
    Objection,
    Period,
    PeriodStatus,
    State,
    Transition,
)
from dangjian.assessments.services import ConflictError
from dangjian.assessments.views import file_response
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.api_helpers import READ_ERRORS, DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization
from dangjian.standards.models import StandardSet

router = Router(tags=["组织考评"])

STATE_HELP = ("not_started=未开始，submitted=已报送，self_assessed=已自评，assessed=已考评，published=已公示，"
              "objected=有异议，finalized=已兑现")
LEVEL_HELP = "committee=党委，general=党总支，branch=党支部"

PeriodId = Annotated[int, Path(title="考评月份编号")]
EvaluationId = Annotated[int, Path(title="组织考评编号")]
EvalItemId = Annotated[int, Path(title="考评细则行编号", description="组织考评中的细则行（items[].id），不是考评标准中的细则编号")]
EvidenceId = Annotated[int, Path(title="文件编号")]
ObjectionId = Annotated[int, Path(title="异议编号")]


def conflicts(view):
    """ConflictError -> 409 (inside ``api_errors``, which would make it a 400)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ConflictError as exc:
            return 409, {"detail": str(exc.message), "field": exc.field}

    return wrapper


# ---- schemas -------------------------------------------------------------------------------------------


class OrgRefOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")


class StandardSetRef(Schema):
    id: int = Field(..., title="考评标准编号")
    name: str = Field(..., title="名称")
    year: int = Field(..., title="年度")
    version: int = Field(..., title="版本")


class PeriodOut(Schema):
    id: int = Field(..., title="考评月份编号")
    month: str = Field(..., title="考评月份", description="YYYY-MM")
    owner: OrgRefOut = Field(..., title="组织考评的党委")
    standard_set: StandardSetRef = Field(..., title="考评标准")
    status: PeriodStatus = Field(..., title="状态", description="open=进行中，finalized=已兑现")
    status_label: str = Field(..., title="状态名称")
    submit_due: datetime.date = Field(..., title="报送截止")
    self_due: datetime.date = Field(..., title="自评截止")
    assess_due: datetime.date = Field(..., title="考评截止")
    objection_days: int = Field(..., title="公示期（天）")
    opened_at: datetime.datetime = Field(..., title="开启时间")
    finalized_at: datetime.datetime | None = Field(None, title="兑现时间")


class PeriodDetailOut(PeriodOut):
    total: int = Field(..., title="参评组织数", description="当前用户权限范围内的参评组织")
    counts: dict[str, int] = Field(..., title="各状态组织数", description="键为状态：" + STATE_HELP)
    overdue: int = Field(..., title="逾期组织数", description="已过当前环节截止日期仍未完成的组织")
    can_manage: bool = Field(..., title="可管理", description="当前用户能否公示、分配考评员、兑现")


class PeriodPage(Schema):
    count: int = Field(..., title="总数")
    items: list[PeriodOut] = Field(..., title="本页考评月份")


class PeriodFilter(Schema):
    year: int | None = Field(None, title="年度")
    status: PeriodStatus | None = Field(None, title="状态", description="open=进行中，finalized=已兑现")
    owner: int | None = Field(None, title="党委编号", description="只列出该党委开启的考评月份")


class PeriodIn(Schema):
    owner_id: int = Field(..., title="组织考评的党委编号", description="须有考评管理权限；党支部不能组织考评")
    month: str = Field(..., title="考评月份", description="YYYY-MM，例如 2026-10", pattern=r"^\d{4}-\d{2}$")
    submit_due: datetime.date = Field(..., title="报送截止")
    self_due: datetime.date = Field(..., title="自评截止")
    assess_due: datetime.date = Field(..., title="考评截止", description="须满足 考评月份 ≤ 报送 ≤ 自评 ≤ 考评")
    objection_days: int = Field(3, ge=0, le=30, title="公示期（天）",
                                description="首次公示之日后可提出异议的自然日数，期满后才能兑现；0 表示不设公示期")
    standard_set_id: int | None = Field(None, title="考评标准编号",
                                        description="为空时使用该党委或上级党委当年已发布的考评标准")


class PublishOut(Schema):
    published: int = Field(..., title="本次公示的组织数")


class EvaluationOut(Schema):
    id: int = Field(..., title="组织考评编号")
    period_id: int = Field(..., title="考评月份编号")
    month: str = Field(..., title="考评月份")
    org: OrgRefOut = Field(..., title="党组织", description="名称为开启考评时的名称")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    org_type: str | None = Field(None, title="类型编码")
    state: State = Field(..., title="状态", description=STATE_HELP)
    state_label: str = Field(..., title="状态名称")
    max_total: Decimal = Field(..., title="满分")
    self_total: Decimal | None = Field(None, title="自评得分")
    assessor_total: Decimal | None = Field(None, title="考评得分", description="公示前仅考评员和党建管理员可见")
    due: datetime.date | None = Field(None, title="当前环节截止")
    overdue: bool = Field(..., title="逾期")
    version: int = Field(..., title="版本", description="保存月小结时作为 expected_version 传回")


class EvalItemOut(Schema):
    id: int = Field(..., title="细则行编号")
    item_id: int = Field(..., title="考评标准细则编号")
    code: str = Field(..., title="细则编码")
    category: str = Field(..., title="类别")
    text: str = Field(..., title="考评内容")
    rule: str = Field(..., title="扣分标准")
    evidence_required: str = Field(..., title="要求报送的资料")
    methods: list[str] = Field(..., title="考评方式", description="report=信息资料报送，self=自我评价，onsite=现场考评")
    is_veto: bool = Field(..., title="一票否决项")
    max_points: Decimal = Field(..., title="分值")
    self_score: Decimal | None = Field(None, title="自评得分")
    self_remark: str = Field("", title="自评说明")
    assessor_score: Decimal | None = Field(None, title="考评得分", description="公示前仅考评员和党建管理员可见")
    assessor_reason: str = Field("", title="扣分理由")
    vetoed: bool = Field(False, title="触发一票否决")
    version: int = Field(..., title="版本", description="打分时作为 expected_version 传回")


class TransitionOptionOut(Schema):
    to_state: State = Field(..., title="目标状态", description=STATE_HELP)
    label: str = Field(..., title="操作名称")


class TransitionOut(Schema):
    from_state: State = Field(..., title="原状态")
    to_state: State = Field(..., title="新状态")
    note: str = Field("", title="说明")
    by: str | None = Field(None, title="操作人")
    at: datetime.datetime = Field(..., title="时间")


class ObjectionOut(Schema):
    id: int = Field(..., title="异议编号")
    evaluation_id: int = Field(..., title="组织考评编号")
    eval_item_id: int | None = Field(None, title="细则行编号")
    text: str = Field(..., title="异议内容")
    raised_by: str | None = Field(None, title="提出人")
    raised_at: datetime.datetime = Field(..., title="提出时间")
    answer: str = Field("", title="答复")
    upheld: bool | None = Field(None, title="异议成立", description="未答复时为 null")
    answered_by: str | None = Field(None, title="答复人")
    answered_at: datetime.datetime | None = Field(None, title="答复时间")


class EvaluationDetailOut(EvaluationOut):
    summary: str = Field("", title="月小结")
    items: list[EvalItemOut] = Field(..., title="考评细则", description="按类别和细则顺序")
    transitions: list[TransitionOptionOut] = Field(..., title="当前可执行的操作")
    objections: list[ObjectionOut] = Field(..., title="异议与答复")


class EvaluationPage(Schema):
    count: int = Field(..., title="总数")
    items: list[EvaluationOut] = Field(..., title="本页组织考评")


class EvaluationFilter(Schema):
    period: int | None = Field(None, title="考评月份编号")
    state: State | None = Field(None, title="状态", description=STATE_HELP)
    org: int | None = Field(None, title="组织编号", description="该组织及其全部下级组织的考评")
    level: Level | None = Field(None, title="层级", description=LEVEL_HELP)
    overdue: bool | None = Field(None, title="只看逾期", description="true 只列出已过当前环节截止日期的")


class SummaryIn(Schema):
    summary: str = Field(..., title="月小结", description="不超过5000字；只能在“未开始”状态修改")
    expected_version: int | None = Field(None, title="读取时的版本",
                                         description="组织考评的 version；已被他人修改时返回 409，不保存")


class ScoreIn(Schema):
    score: Decimal = Field(..., title="得分", description="0 至该细则分值，最多一位小数")
    reason: str = Field("", max_length=500, title="说明", description="扣分（低于分值）时必填")
    veto: bool = Field(False, title="触发一票否决", description="仅一票否决项、仅考评打分可用")
    expected_version: int | None = Field(None, title="读取时的版本",
                                         description="细则行的 version；已被他人修改时返回 409，不保存")


class EvidenceOut(Schema):
    id: int = Field(..., title="文件编号")
    eval_item_id: int | None = Field(None, title="细则行编号", description="为空表示本月综合资料")
    kind: Evidence.Kind = Field(..., title="类别", description="evidence=佐证资料，photo=现场照片")
    name: str = Field(..., title="文件名")
    content_type: str = Field(..., title="文件类型", description="按文件内容识别")
    size: int = Field(..., title="字节数")
    uploaded_by: str | None = Field(None, title="上传人")
    uploaded_at: datetime.datetime = Field(..., title="上传时间")
    withdrawn_at: datetime.datetime | None = Field(None, title="撤回时间")
    download_url: str = Field(..., title="下载地址", description="使用同一令牌下载")


class EvidencePage(Schema):
    count: int = Field(..., title="总数")
    items: list[EvidenceOut] = Field(..., title="本页文件")


class EvidenceFilter(Schema):
    item: int | None = Field(None, title="细则行编号")
    kind: Evidence.Kind | None = Field(None, title="类别", description="evidence=佐证资料，photo=现场照片")


class TransitionsOut(Schema):
    available: list[TransitionOptionOut] = Field(..., title="当前可执行的操作")
    history: list[TransitionOut] = Field(..., title="流转记录")


class TransitionIn(Schema):
    to_state: State = Field(..., title="目标状态", description=STATE_HELP)
    note: str = Field("", max_length=500, title="说明",
                      description="退回时填理由；提出异议时填异议内容；答复异议时填答复")
    upheld: bool | None = Field(None, title="异议成立", description="答复异议（有异议→已公示）时必填")
    eval_item_id: int | None = Field(None, title="针对的细则行编号", description="提出异议时可选")


class ObjectionIn(Schema):
    text: str = Field(..., max_length=2000, title="异议内容")
    eval_item_id: int | None = Field(None, title="针对的细则行编号")


class AnswerIn(Schema):
    answer: str = Field(..., max_length=2000, title="答复")
    upheld: bool = Field(..., title="异议成立")


# ---- helpers -------------------------------------------------------------------------------------------


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


def _period_dict(p: Period) -> dict:
    return {
        "id": p.pk, "month": p.label, "owner": {"id": p.owner_id, "name": p.owner.name},
        "standard_set": {"id": p.standard_set_id, "name": p.standard_set.name, "year": p.standard_set.year,
                         "version": p.standard_set.version},
        "status": p.status, "status_label": str(p.get_status_display()), "submit_due": p.submit_due,
        "self_due": p.self_due, "assess_due": p.assess_due, "objection_days": p.objection_days,
        "opened_at": p.opened_at, "finalized_at": p.finalized_at,
    }


def _period(user, pk) -> Period:
    try:
        return services.visible_periods(user).select_related("owner", "standard_set").get(pk=pk)
    except Period.DoesNotExist as exc:
        raise Http404 from exc


def _period_detail(user, period: Period) -> dict:
    base = scope(user, "eval.view", Evaluation.objects.filter(period=period))
    counts = dict(base.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {**_period_dict(period), "total": sum(counts.values()), "counts": {s: counts.get(s, 0) for s in State.values},
            "overdue": base.filter(services.overdue_q()).count(),
            "can_manage": can(user, "eval.manage", period.owner.path)}


def _evaluation(user, pk, action="eval.view") -> Evaluation:
    qs = Evaluation.objects.select_related("period__owner", "org_type")
    return get_scoped_or_404(user, action, qs, pk=pk)


def _evaluation_dict(user, ev: Evaluation, today=None) -> dict:
    shows = services.shows_assessor_scores(user, ev)
    return {
        "id": ev.pk, "period_id": ev.period_id, "month": ev.period.label,
        "org": {"id": ev.org_id, "name": ev.org_name}, "level": ev.level,
        "org_type": ev.org_type.code if ev.org_type_id else None, "state": ev.state,
        "state_label": str(State(ev.state).label), "max_total": ev.max_total, "self_total": ev.self_total,
        "assessor_total": ev.assessor_total if shows else None, "due": services.due_date(ev),
        "overdue": services.is_overdue(ev, today), "version": ev.version,
    }


def _item_dict(ei: EvalItem, shows: bool) -> dict:
    it = ei.item
    return {
        "id": ei.pk, "item_id": ei.item_id, "code": it.code, "category": it.category.name, "text": it.text,
        "rule": it.rule, "evidence_required": it.evidence, "methods": it.methods, "is_veto": it.is_veto,
        "max_points": ei.max_points, "self_score": ei.self_score, "self_remark": ei.self_remark,
        "assessor_score": ei.assessor_score if shows else None, "assessor_reason": ei.assessor_reason if shows else "",
        "vetoed": ei.vetoed if shows else False, "version": ei.version,
    }


def _objection_dict(o: Objection) -> dict:
    return {"id": o.pk, "evaluation_id": o.evaluation_id, "eval_item_id": o.eval_item_id, "text": o.text,
            "raised_by": _name(o.raised_by), "raised_at": o.raised_at, "answer": o.answer, "upheld": o.upheld,
            "answered_by": _name(o.answered_by), "answered_at": o.answered_at}


def _options(user, ev) -> list[dict]:
    return [{"to_state": to, "label": label} for to, label in services.available_transitions(user, ev)]


def _evaluation_detail(user, pk) -> dict:
    ev = _evaluation(user, pk)
    shows = services.shows_assessor_scores(user, ev)
    items = (ev.items.select_related("item__category")
             .order_by("item__category__order", "item__category_id", "item__order", "item_id"))
    objections = ev.objections.select_related("raised_by", "answered_by")
    return {**_evaluation_dict(user, ev), "summary": ev.summary, "items": [_item_dict(ei, shows) for ei in items],
            "transitions": _options(user, ev), "objections": [_objection_dict(o) for o in objections]}


def _evidence_dict(e: Evidence) -> dict:
    return {"id": e.pk, "eval_item_id": e.eval_item_id, "kind": e.kind, "name": e.name,
            "content_type": e.content_type, "size": e.size, "uploaded_by": _name(e.uploaded_by),
            "uploaded_at": e.uploaded_at, "withdrawn_at": e.withdrawn_at,
            "download_url": reverse("api:download_evidence", kwargs={"evidence_id": e.pk})}


def _eval_item(user, evaluation_id, item_id, action) -> EvalItem:
    return get_scoped_or_404(user, action, EvalItem.objects.select_related("item__category"),
                             pk=item_id, evaluation_id=evaluation_id)


# ---- periods -------------------------------------------------------------------------------------------


@router.get("/periods", response=reads(PeriodPage), summary="考评月份列表",
            description="当前用户可见的考评月份：本人权限范围内党委开启的，以及覆盖本人所在组织的上级党委开启的。")
@api_errors
def list_periods(request, filters: Query[PeriodFilter], page: Query[PageIn]):
    qs = services.visible_periods(request.auth).select_related("owner", "standard_set")
    if filters.year:
        qs = qs.filter(month__year=filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status.value)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    result = paginate(qs.order_by("-month", "owner__path"), page)
    return {"count": result["count"], "items": [_period_dict(p) for p in result["items"]]}


@router.post("/periods", response=writes(PeriodDetailOut, 201), summary="开启考评月份",
             description="党建管理员为本党委开启一个月的考评：其下属每个党组织按层级和类型生成考评细则。")
@api_errors(fields={"owner": "owner_id", "standard_set": "standard_set_id"})
def open_period(request, body: PeriodIn):
    user = request.auth
    owner = get_scoped_or_404(user, "eval.manage", Organization.objects.all(), pk=body.owner_id)
    standard_set = None
    if body.standard_set_id is not None:
        standard_set = get_scoped_or_404(user, "standard.view", StandardSet.objects.all(), pk=body.standard_set_id)
    period = services.open_period(user, owner, body.month, submit_due=body.submit_due, self_due=body.self_due,
                                  assess_due=body.assess_due, objection_days=body.objection_days,
                                  standard_set=standard_set)
    return 201, _period_detail(user, _period(user, period.pk))


@router.get("/periods/{period_id}", response=reads(PeriodDetailOut), summary="考评月份详情（含进度）",
            description="各状态的组织数和逾期数只统计当前用户权限范围内的组织。")
@api_errors
def get_period(request, period_id: PeriodId):
    return _period_detail(request.auth, _period(request.auth, period_id))


@router.post("/periods/{period_id}/publish", response=writes(PublishOut), summary="公示全部已考评",
             description="把该月全部“已考评”的组织考评改为“已公示”，公示期开始。")
@api_errors
def publish_period(request, period_id: PeriodId):
    user = request.auth
    period = get_scoped_or_404(user, "eval.manage", Period.objects.select_related("owner"), pk=period_id)
    return {"published": services.publish_all(user, period)}


# ---- organization evaluations --------------------------------------------------------------------------


@router.get("/org-evaluations", response=reads(EvaluationPage), summary="组织考评列表",
            description="按组织范围过滤；可按考评月份、状态、组织（含下级）、层级、是否逾期筛选。")
@api_errors
def list_evaluations(request, filters: Query[EvaluationFilter], page: Query[PageIn]):
    user = request.auth
    qs = scope(user, "eval.view", Evaluation.objects.all()).select_related("period__owner", "org_type")
    if filters.period is not None:
        qs = qs.filter(period_id=filters.period)
    if filters.state:
        qs = qs.filter(state=filters.state.value)
    if filters.org is not None:
        org = get_scoped_or_404(user, "eval.view", Organization.objects.all(), pk=filters.org)
        qs = qs.filter(org_path__startswith=org.path)
    if filters.level:
        qs = qs.filter(level=filters.level.value)
    if filters.overdue is not None:
        qs = qs.filter(services.overdue_q()) if filters.overdue else qs.exclude(services.overdue_q())
    result = paginate(qs.order_by("-period__month", "org_path"), page)
    today = timezone.localdate()
    return {"count": result["count"], "items": [_evaluation_dict(user, e, today) for e in result["items"]]}


@router.get("/org-evaluations/{evaluation_id}", response=reads(EvaluationDetailOut), summary="组织考评详情",
            description="含月小结、全部考评细则（自评与考评得分）、当前可执行的操作、异议与答复。")
@api_errors
def get_evaluation(request, evaluation_id: EvaluationId):
    return _evaluation_detail(request.auth, evaluation_id)


@router.put("/org-evaluations/{evaluation_id}/summary", response={**writes(EvaluationDetailOut), 409: DomainErrorOut},
            summary="保存月小结", description="组织书记（或党建管理员）在“未开始”状态填写；版本不符时 409。")
@api_errors
@conflicts
def save_summary(request, evaluation_id: EvaluationId, body: SummaryIn):
    user = request.auth
    ev = _evaluation(user, evaluation_id, "eval.submit")
    services.save_summary(user, ev, body.summary, expected_version=body.expected_version)
    return _evaluation_detail(user, evaluation_id)


def _score(request, evaluation_id, item_id, kind, body: ScoreIn, action):
    user = request.auth
    ei = _eval_item(user, evaluation_id, item_id, action)
    ei = services.score(user, ei, kind, body.score, reason=body.reason, veto=body.veto,
                        expected_version=body.expected_version)
    ei = EvalItem.objects.select_related("item__category", "evaluation").get(pk=ei.pk)
    return _item_dict(ei, services.shows_assessor_scores(user, ei.evaluation))


@router.put("/org-evaluations/{evaluation_id}/items/{item_id}/self",
            response={**writes(EvalItemOut), 409: DomainErrorOut}, summary="自评打分",
            description="组织书记在“已报送”前后逐项自评；扣分须说明；版本不符时 409，不保存。")
@api_errors
@conflicts
def score_self(request, evaluation_id: EvaluationId, item_id: EvalItemId, body: ScoreIn):
    return _score(request, evaluation_id, item_id, "self", body, "eval.submit")


@router.put("/org-evaluations/{evaluation_id}/items/{item_id}/assessor",
            response={**writes(EvalItemOut), 409: DomainErrorOut}, summary="考评打分",
            description="考评员在“已自评”状态逐项打分（已分配考评员的组织只能由分配的考评员打分）；"
                        "党建管理员在复核中可更正；扣分须说明理由；版本不符时 409，不保存。")
@api_errors
@conflicts
def score_assessor(request, evaluation_id: EvaluationId, item_id: EvalItemId, body: ScoreIn):
    return _score(request, evaluation_id, item_id, "assessor", body, "eval.assess")


# ---- evidence ------------------------------------------------------------------------------------------


@router.get("/org-evaluations/{evaluation_id}/evidence", response=reads(EvidencePage), summary="佐证资料和现场照片",
            description="未撤回的文件，按上传顺序。")
@api_errors
def list_evidence(request, evaluation_id: EvaluationId, filters: Query[EvidenceFilter], page: Query[PageIn]):
    ev = _evaluation(request.auth, evaluation_id)
    qs = ev.evidence.filter(withdrawn_at__isnull=True).select_related("uploaded_by").order_by("id")
    if filters.item is not None:
        qs = qs.filter(eval_item_id=filters.item)
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    result = paginate(qs, page)
    return {"count": result["count"], "items": [_evidence_dict(e) for e in result["items"]]}


@router.post("/org-evaluations/{evaluation_id}/evidence", response=writes(EvidenceOut, 201), summary="上传文件",
             description="multipart/form-data：file（必填）、kind、eval_item_id。佐证资料可为 PDF、JPG、PNG、"
                         "Word、Excel、PowerPoint，按文件内容识别类型，单个不超过 20 MB；现场照片为 JPG 或 PNG。")
@api_errors(fields={"eval_item": "eval_item_id"})
def upload_evidence(request, evaluation_id: EvaluationId, file: File[UploadedFile | None] = None,
                    kind: Form[Evidence.Kind] = Evidence.Kind.EVIDENCE, eval_item_id: Form[int | None] = None):
    user = request.auth
    ev = _evaluation(user, evaluation_id)
    item = None
    if eval_item_id is not None:
        item = ev.items.select_related("item").filter(pk=eval_item_id).first()
        if item is None:
            raise DomainError(_("该细则不属于本次考评。"), "eval_item")
    evidence = services.upload_evidence(user, ev, file, eval_item=item, kind=getattr(kind, "value", kind))
    return 201, _evidence_dict(Evidence.objects.select_related("uploaded_by").get(pk=evidence.pk))


@router.get("/evidence/{evidence_id}/download", response=READ_ERRORS, url_name="download_evidence",
            summary="下载文件", description="以附件形式返回文件内容。",
            openapi_extra={"responses": {200: {"description": "文件内容（附件）", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
@api_errors
def download_evidence(request, evidence_id: EvidenceId):
    evidence = get_scoped_or_404(request.auth, "eval.view", Evidence.objects.filter(withdrawn_at__isnull=True),
                                 pk=evidence_id)
    return file_response(evidence)


@router.delete("/evidence/{evidence_id}", response=writes(EvidenceOut), summary="撤回文件",
               description="撤回后不再列出、不能下载；记录保留在审计日志中。")
@api_errors
def withdraw_evidence(request, evidence_id: EvidenceId):
    user = request.auth
    evidence = get_scoped_or_404(user, "eval.view", Evidence.objects.filter(withdrawn_at__isnull=True)
                                 .select_related("evaluation"), pk=evidence_id)
    evidence = services.withdraw_evidence(user, evidence)
    return _evidence_dict(Evidence.objects.select_related("uploaded_by").get(pk=evidence.pk))


# ---- transitions and objections ------------------------------------------------------------------------


@router.get("/org-evaluations/{evaluation_id}/transitions", response=reads(TransitionsOut),
            summary="可执行的操作和流转记录")
@api_errors
def list_transitions(request, evaluation_id: EvaluationId):
    user = request.auth
    ev = _evaluation(user, evaluation_id)
    history = Transition.objects.filter(evaluation=ev).select_related("by")
    return {"available": _options(user, ev),
            "history": [{"from_state": t.from_state, "to_state": t.to_state, "note": t.note, "by": _name(t.by),
                         "at": t.at} for t in history]}


@router.post("/org-evaluations/{evaluation_id}/transitions", response=writes(EvaluationDetailOut),
             summary="状态流转",
             description="只能执行 GET …/transitions 中 available 列出的操作。退回须填理由；"
                         "提出异议（→objected）须填异议内容；答复异议（objected→published）须填答复和 upheld。")
@api_errors(fields={"eval_item": "eval_item_id"})
def make_transition(request, evaluation_id: EvaluationId, body: TransitionIn):
    user = request.auth
    ev = _evaluation(user, evaluation_id)
    item = ev.items.filter(pk=body.eval_item_id).first() if body.eval_item_id is not None else None
    services.transition(user, ev, body.to_state.value, note=body.note.strip(), upheld=body.upheld, eval_item=item)
    return _evaluation_detail(user, evaluation_id)


@router.post("/org-evaluations/{evaluation_id}/objections", response=writes(ObjectionOut, 201), summary="提出异议",
             description="组织在公示期内对考评结果（或某一细则）提出异议；考评转为“有异议”。")
@api_errors(fields={"eval_item": "eval_item_id"})
def raise_objection(request, evaluation_id: EvaluationId, body: ObjectionIn):
    user = request.auth
    ev = _evaluation(user, evaluation_id, "eval.submit")
    item = None
    if body.eval_item_id is not None:
        item = ev.items.filter(pk=body.eval_item_id).first()
        if item is None:
            raise DomainError(_("该细则不属于本次考评。"), "eval_item")
    objection = services.raise_objection(user, ev, body.text, eval_item=item)
    return 201, _objection_dict(Objection.objects.select_related("raised_by", "answered_by").get(pk=objection.pk))


@router.post("/objections/{objection_id}/answer", response=writes(ObjectionOut), summary="答复异议",
             description="党建管理员答复异议（成立或不成立）；考评回到“已公示”。")
@api_errors
def answer_objection(request, objection_id: ObjectionId, body: AnswerIn):
    user = request.auth
    objection = get_scoped_or_404(user, "eval.manage", Objection.objects.select_related("evaluation"),
                                  pk=objection_id)
    objection = services.answer_objection(user, objection, body.answer, upheld=body.upheld)
    return _objection_dict(Objection.objects.select_related("raised_by", "answered_by").get(pk=objection.pk))


__all__ = ["router"]
