"""JSON API of the monthly member evaluation (做新时代答卷人): /api/v1/appraisal-periods (with per-branch progress,
publishing and the close), /api/v1/member-evaluations (with items, transitions, exemption) and
/api/v1/member-results. Mounted by appraisal/api.py.

The same access as the pages: every object is read through ``core.access`` (an object outside the user's scope
is 404; a member sees only their own month, a secretary their branch's), every write goes through
``appraisal.services`` or ``appraisal.close``. ``api_errors`` maps what the services raise; a concurrent change
(``ConflictError``) is 409 with the Chinese sentence, and nothing was saved.
"""

import datetime
import functools
from decimal import Decimal
from typing import Annotated

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.appraisal import close, services
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    MemberTransition,
    PeriodStatus,
)
from dangjian.appraisal.services import ConflictError
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.orgs.models import Organization
from dangjian.standards.models import Dimension, MemberPart

router = Router(tags=["党员评价"])

STATE_HELP = "not_started=待自评，self_evaluated=已自评，determined=已评定，published=已公示"
PERIOD_STATUS_HELP = "open=进行中，closed=已结束"
PART_HELP = "base=基础分，bonus=奖励分，deduction=减项分，veto=一票否决"
DIMENSION_HELP = "politics=讲政治有信念，rules=讲规矩有纪律，morals=讲道德有品行，dedication=讲奉献有作为，central=中心工作"

PeriodId = Annotated[int, Path(title="党员评价月份编号")]
EvaluationId = Annotated[int, Path(title="党员月度评价编号")]
LineId = Annotated[int, Path(title="评价细则行编号", description="党员月度评价中的细则行（items[].id），不是评价标准中的细则编号")]
OrgId = Annotated[int, Path(title="党支部编号")]


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


class AppraisalRefOut(Schema):
    id: int = Field(..., title="编号")
    name: str = Field(..., title="名称")


class AppraisalSetRef(Schema):
    id: int = Field(..., title="党员评价标准编号")
    name: str = Field(..., title="名称")
    year: int = Field(..., title="年度")
    version: int = Field(..., title="版本")


class AppraisalPeriodOut(Schema):
    id: int = Field(..., title="党员评价月份编号")
    month: str = Field(..., title="评价月份", description="YYYY-MM")
    owner: AppraisalRefOut = Field(..., title="组织评价的单位")
    standard_set: AppraisalSetRef = Field(..., title="党员评价标准")
    status: PeriodStatus = Field(..., title="状态", description=PERIOD_STATUS_HELP)
    status_label: str = Field(..., title="状态名称")
    self_due: datetime.date = Field(..., title="自评截止")
    determine_due: datetime.date = Field(..., title="评定截止")
    opened_at: datetime.datetime = Field(..., title="开启时间")
    closed_at: datetime.datetime | None = Field(None, title="结束时间")


class MemberBranchProgressOut(Schema):
    org: AppraisalRefOut = Field(..., title="党支部", description="名称为开启评价时的名称")
    total: int = Field(..., title="党员数", description="当前用户权限范围内的")
    counts: dict[str, int] = Field(..., title="各状态人数", description="键为状态：" + STATE_HELP + "；免评人数另计")
    exempt: int = Field(..., title="免评人数")
    ready: bool = Field(..., title="可以公示", description="全部党员已评定（或免评）且尚未公示")
    published: bool = Field(..., title="已公示")
    avg: Decimal | None = Field(None, title="平均分", description="公示后才有")
    unqualified: int | None = Field(None, title="不合格人数", description="公示后才有")


class AppraisalPeriodDetailOut(AppraisalPeriodOut):
    total: int = Field(..., title="参评党员数", description="当前用户权限范围内的")
    counts: dict[str, int] = Field(..., title="各状态人数", description="键为状态：" + STATE_HELP)
    exempt: int = Field(..., title="免评人数")
    branches: list[MemberBranchProgressOut] = Field(..., title="各党支部进度", description="按组织树顺序")
    can_manage: bool = Field(..., title="可管理", description="当前用户能否公示全部已评定的支部、结束本月评价")


class AppraisalPeriodPage(Schema):
    count: int = Field(..., title="总数")
    items: list[AppraisalPeriodOut] = Field(..., title="本页党员评价月份")


class AppraisalPeriodFilter(Schema):
    month: str | None = Field(None, title="评价月份", description="YYYY-MM")
    owner_id: int | None = Field(None, title="组织评价的单位编号")
    status: PeriodStatus | None = Field(None, title="状态", description=PERIOD_STATUS_HELP)


class AppraisalPeriodIn(Schema):
    owner_id: int = Field(..., title="组织评价的单位编号", description="党委（或党支部）；须有党员评价管理权限")
    month: str = Field(..., title="评价月份", description="YYYY-MM，例如 2026-10")
    self_due: datetime.date = Field(..., title="自评截止")
    determine_due: datetime.date = Field(..., title="评定截止", description="须满足 评价月份 ≤ 自评截止 ≤ 评定截止")


class MemberPublishReadyOut(Schema):
    published: int = Field(..., title="本次公示的党员数")


class MemberBranchAggregateOut(Schema):
    period_id: int = Field(..., title="党员评价月份编号")
    org: AppraisalRefOut = Field(..., title="党支部")
    month: str = Field(..., title="月份")
    count: int = Field(..., title="参评人数")
    avg: Decimal = Field(..., title="平均分")
    min: Decimal = Field(..., title="最低分")
    max: Decimal = Field(..., title="最高分")
    unqualified: int = Field(..., title="不合格人数")
    published_at: datetime.datetime = Field(..., title="公示时间")


class MemberEvaluationOut(Schema):
    id: int = Field(..., title="党员月度评价编号")
    period_id: int = Field(..., title="党员评价月份编号")
    month: str = Field(..., title="评价月份")
    member: AppraisalRefOut = Field(..., title="党员", description="姓名为开启评价时的姓名")
    org: AppraisalRefOut = Field(..., title="所在党支部", description="名称为开启评价时的名称")
    post: str = Field("", title="岗位")
    state: AState = Field(..., title="状态", description=STATE_HELP)
    state_label: str = Field(..., title="状态名称")
    exempt: bool = Field(..., title="免于评价")
    exempt_reason: str = Field("", title="免评原因")
    self_total: Decimal | None = Field(None, title="自评得分")
    total: Decimal | None = Field(None, title="评定得分", description="评定后才有")
    vetoed: bool = Field(..., title="触发一票否决")
    self_at: datetime.datetime | None = Field(None, title="自评提交时间")
    determined_at: datetime.datetime | None = Field(None, title="评定时间")
    version: int = Field(..., title="版本")


class MemberTotalsOut(Schema):
    self_total: Decimal | None = Field(None, title="自评得分")
    base: Decimal | None = Field(None, title="基础分", description="评定后才有")
    bonus: Decimal | None = Field(None, title="奖励分", description="计入各维度和奖励分上限后；评定后才有")
    deduction: Decimal | None = Field(None, title="减项分", description="扣除的分数（正数）；评定后才有")
    branch_total: Decimal | None = Field(None, title="支部评定得分", description="评定后才有")
    total: Decimal | None = Field(None, title="月度得分", description="按评价权重和否决项计算；评定后才有")
    vetoed: bool | None = Field(None, title="触发一票否决", description="评定后才有")
    qualified: bool | None = Field(None, title="合格", description="评定后才有")


class MemberTransitionOptionOut(Schema):
    to_state: AState = Field(..., title="目标状态", description=STATE_HELP)
    label: str = Field(..., title="操作名称")


class MemberEvaluationDetailOut(MemberEvaluationOut):
    period_status: PeriodStatus = Field(..., title="评价月份状态", description=PERIOD_STATUS_HELP)
    self_due: datetime.date = Field(..., title="自评截止")
    determine_due: datetime.date = Field(..., title="评定截止")
    self_note: str = Field("", title="自评小结")
    branch_note: str = Field("", title="评定意见")
    totals: MemberTotalsOut = Field(..., title="得分")
    transitions: list[MemberTransitionOptionOut] = Field(..., title="当前可执行的操作")
    can_self_edit: bool = Field(..., title="可填报自评", description="当前用户能否填写各细则的自报次数")
    can_determine: bool = Field(..., title="可评定", description="当前用户能否逐项评定")


class MemberEvaluationPage(Schema):
    count: int = Field(..., title="总数")
    items: list[MemberEvaluationOut] = Field(..., title="本页党员月度评价")


class MemberEvaluationFilter(Schema):
    period_id: int | None = Field(None, title="党员评价月份编号")
    org_id: int | None = Field(None, title="组织编号", description="该组织及其全部下级组织的党员")
    state: AState | None = Field(None, title="状态", description=STATE_HELP)
    member_id: int | None = Field(None, title="党员编号")


class MemberLineOut(Schema):
    id: int = Field(..., title="细则行编号")
    item_id: int = Field(..., title="评价标准细则编号")
    code: str = Field(..., title="细则编码")
    part: MemberPart = Field(..., title="部分", description=PART_HELP)
    part_label: str = Field(..., title="部分名称")
    dimension: Dimension = Field(..., title="维度", description=DIMENSION_HELP)
    dimension_label: str = Field(..., title="维度名称")
    text: str = Field(..., title="评价内容")
    rule: str = Field("", title="计分说明")
    item_points: Decimal = Field(..., title="分值", description="基础分为满分；奖励、减项为每次的分值")
    evidence_required: bool = Field(..., title="需附佐证")
    prefill_count: int | None = Field(None, title="记录带入次数", description="由组织生活、党费等活动记录带入；无来源时为 null")
    self_count: int | None = Field(None, title="自报次数", description="基础分为缺的次数；奖励、减项为发生次数；否决项 0 或 1")
    self_points: Decimal | None = Field(None, title="自评分", description="带符号：减项为负数")
    claim: str = Field("", title="自评说明")
    count: int | None = Field(None, title="评定次数", description="支部评定前为 null")
    points: Decimal | None = Field(None, title="评定分", description="带符号：减项为负数；评定前为 null")
    reason: str = Field("", title="评定理由")
    version: int = Field(..., title="版本", description="保存时作为 version 传回")
    updated_by: str | None = Field(None, title="最后修改人")
    updated_at: datetime.datetime = Field(..., title="最后修改时间")


class MemberSelfLineIn(Schema):
    count: int = Field(..., title="自报次数", description="0 至 99 的整数；否决项为 0 或 1")
    claim: str = Field("", title="说明", description="不超过500字；申报奖励、报告减项时必填（提交自评时检查）")
    version: int | None = Field(None, title="读取时的版本",
                                description="细则行的 version；已被他人修改时返回 409，不保存")


class MemberDetermineLineIn(Schema):
    count: int = Field(..., title="评定次数", description="0 至 99 的整数；否决项为 0 或 1")
    reason: str = Field("", title="评定理由", description="不超过500字；与本人填报不同时必填")
    version: int | None = Field(None, title="读取时的版本",
                                description="细则行的 version；已被他人修改时返回 409，不保存")


class MemberTransitionOut(Schema):
    from_state: AState = Field(..., title="原状态")
    to_state: AState = Field(..., title="新状态")
    note: str = Field("", title="说明")
    by: str | None = Field(None, title="操作人")
    at: datetime.datetime = Field(..., title="时间")


class MemberTransitionsOut(Schema):
    available: list[MemberTransitionOptionOut] = Field(..., title="当前可执行的操作")
    history: list[MemberTransitionOut] = Field(..., title="流转记录")


class MemberTransitionIn(Schema):
    to_state: AState = Field(..., title="目标状态", description=STATE_HELP + "；公示由支部整体进行，见 …/branches/{org_id}/publish")
    note: str = Field("", title="说明", description="不超过500字；评定时作为评定意见")


class MemberExemptIn(Schema):
    exempt: bool = Field(..., title="免于评价")
    reason: str = Field("", title="原因", description="免评时必填，不超过200字；取消免评时忽略")


class MemberResultOut(Schema):
    id: int = Field(..., title="结果编号")
    period_id: int = Field(..., title="党员评价月份编号")
    evaluation_id: int = Field(..., title="党员月度评价编号")
    month: str = Field(..., title="月份")
    member: AppraisalRefOut = Field(..., title="党员")
    org: AppraisalRefOut = Field(..., title="党支部")
    base: Decimal = Field(..., title="基础分")
    bonus: Decimal = Field(..., title="奖励分")
    deduction: Decimal = Field(..., title="减项分")
    self_total: Decimal = Field(..., title="自评得分")
    branch_total: Decimal = Field(..., title="支部评定得分")
    total: Decimal = Field(..., title="月度得分")
    vetoed: bool = Field(..., title="触发一票否决")
    qualified: bool = Field(..., title="合格")
    rank: int = Field(..., title="支部内排名")
    branch_size: int = Field(..., title="支部参评人数")
    published_at: datetime.datetime = Field(..., title="公示时间")


class MemberResultPage(Schema):
    count: int = Field(..., title="总数")
    items: list[MemberResultOut] = Field(..., title="本页结果")


class MemberResultFilter(Schema):
    period_id: int | None = Field(None, title="党员评价月份编号")
    org_id: int | None = Field(None, title="组织编号", description="该组织及其全部下级组织的党员")
    member_id: int | None = Field(None, title="党员编号")
    month: str | None = Field(None, title="月份", description="YYYY-MM")


# ---- helpers -------------------------------------------------------------------------------------------


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


def _period_dict(p: AppraisalPeriod) -> dict:
    ms = p.standard_set
    return {
        "id": p.pk, "month": p.label, "owner": {"id": p.owner_id, "name": p.owner.name},
        "standard_set": {"id": ms.pk, "name": ms.name, "year": ms.year, "version": ms.version},
        "status": p.status, "status_label": str(PeriodStatus(p.status).label), "self_due": p.self_due,
        "determine_due": p.determine_due, "opened_at": p.opened_at, "closed_at": p.closed_at,
    }


def _period(user, pk) -> AppraisalPeriod:
    try:
        return services.visible_periods(user).get(pk=pk)
    except AppraisalPeriod.DoesNotExist as exc:
        raise Http404 from exc


def _period_detail(user, period: AppraisalPeriod) -> dict:
    """The period with the progress of the branches in the user's scope: one grouped query over the evaluations
    and one over the published branches' figures."""
    rows = (scope(user, "appraisal.view", MemberEvaluation.objects.filter(period=period)).order_by()
            .values("org_id", "org_name", "org_path", "state", "exempt").annotate(n=Count("id")))
    branches: dict[int, dict] = {}
    for row in rows:
        b = branches.setdefault(row["org_id"], {"org": {"id": row["org_id"], "name": row["org_name"]},
                                                "path": row["org_path"], "counts": dict.fromkeys(AState.values, 0),
                                                "exempt": 0})
        if row["exempt"]:
            b["exempt"] += row["n"]
        else:
            b["counts"][row["state"]] += row["n"]
    aggregates = {a.org_id: a for a in BranchAggregate.objects.filter(period=period, org_id__in=list(branches))}
    out, counts, exempt = [], dict.fromkeys(AState.values, 0), 0
    for org_id, b in sorted(branches.items(), key=lambda kv: kv[1]["path"]):
        c = b["counts"]
        agg = aggregates.get(org_id)
        waiting = c[AState.NOT_STARTED] + c[AState.SELF_EVALUATED]
        out.append({"org": b["org"], "total": sum(c.values()) + b["exempt"], "counts": c, "exempt": b["exempt"],
                    "ready": agg is None and waiting == 0 and c[AState.DETERMINED] > 0,
                    "published": agg is not None, "avg": agg.avg if agg else None,
                    "unqualified": agg.unqualified if agg else None})
        for state, n in c.items():
            counts[state] += n
        exempt += b["exempt"]
    return {**_period_dict(period), "total": sum(counts.values()) + exempt, "counts": counts, "exempt": exempt,
            "branches": out, "can_manage": can(user, "appraisal.manage", period.owner.path)}


def _evaluation(user, pk, action="appraisal.view") -> MemberEvaluation:
    qs = MemberEvaluation.objects.select_related("period__standard_set", "member")
    return get_scoped_or_404(user, action, qs, pk=pk)


def _evaluation_dict(ev: MemberEvaluation) -> dict:
    return {
        "id": ev.pk, "period_id": ev.period_id, "month": ev.period.label,
        "member": {"id": ev.member_id, "name": ev.member_name}, "org": {"id": ev.org_id, "name": ev.org_name},
        "post": ev.post, "state": ev.state, "state_label": str(AState(ev.state).label), "exempt": ev.exempt,
        "exempt_reason": ev.exempt_reason, "self_total": ev.self_total, "total": ev.total, "vetoed": ev.vetoed,
        "self_at": ev.self_at, "determined_at": ev.determined_at, "version": ev.version,
    }


def _totals(ev: MemberEvaluation) -> dict:
    if ev.exempt or ev.state not in (AState.DETERMINED, AState.PUBLISHED):
        return {"self_total": ev.self_total}
    t = services.totals_of(ev)
    return {"self_total": t.self_total, "base": t.base, "bonus": t.bonus, "deduction": t.deduction,
            "branch_total": t.branch_total, "total": t.total, "vetoed": t.vetoed, "qualified": t.qualified}


def _options(user, ev) -> list[dict]:
    return [{"to_state": to, "label": _(label)} for to, label in services.available_transitions(user, ev)]


def _evaluation_detail(user, pk) -> dict:
    ev = _evaluation(user, pk)
    period = ev.period
    return {**_evaluation_dict(ev), "period_status": period.status, "self_due": period.self_due,
            "determine_due": period.determine_due, "self_note": ev.self_note, "branch_note": ev.branch_note,
            "totals": _totals(ev), "transitions": _options(user, ev),
            "can_self_edit": services.can_self_edit(user, ev), "can_determine": services.can_determine(user, ev)}


def _line_dict(ln: MemberLine) -> dict:
    it = ln.item
    return {
        "id": ln.pk, "item_id": ln.item_id, "code": it.code, "part": it.part,
        "part_label": str(MemberPart(it.part).label), "dimension": it.dimension,
        "dimension_label": str(Dimension(it.dimension).label), "text": it.text, "rule": it.rule,
        "item_points": it.points, "evidence_required": it.evidence_required, "prefill_count": ln.prefill_count,
        "self_count": ln.self_count, "self_points": ln.self_points, "claim": ln.claim, "count": ln.count,
        "points": ln.points, "reason": ln.reason, "version": ln.version, "updated_by": _name(ln.updated_by),
        "updated_at": ln.updated_at,
    }


def _line(ev: MemberEvaluation, line_id) -> MemberLine:
    """A line of an evaluation already read through the access check."""
    try:
        return ev.lines.select_related("item", "evaluation").get(pk=line_id)
    except MemberLine.DoesNotExist as exc:
        raise Http404 from exc


def _fresh_line(pk) -> dict:
    return _line_dict(MemberLine.objects.select_related("item", "updated_by").get(pk=pk))


def _org_path(org_id) -> str | None:
    """The path of the organization a list is filtered by. The lists are already scoped, so an organization
    outside the user's scope simply yields nothing (no 404 that would tell it exists)."""
    return Organization.objects.filter(pk=org_id).values_list("path", flat=True).first()


def _aggregate_dict(a: BranchAggregate) -> dict:
    return {"period_id": a.period_id, "org": {"id": a.org_id, "name": a.org.name}, "month": f"{a.month:%Y-%m}",
            "count": a.count, "avg": a.avg, "min": a.min, "max": a.max, "unqualified": a.unqualified,
            "published_at": a.published_at}


def _result_dict(r: MemberResult) -> dict:
    return {"id": r.pk, "period_id": r.period_id, "evaluation_id": r.evaluation_id, "month": f"{r.month:%Y-%m}",
            "member": {"id": r.member_id, "name": r.member_name}, "org": {"id": r.org_id, "name": r.org_name},
            "base": r.base, "bonus": r.bonus, "deduction": r.deduction, "self_total": r.self_total,
            "branch_total": r.branch_total, "total": r.total, "vetoed": r.vetoed, "qualified": r.qualified,
            "rank": r.rank, "branch_size": r.branch_size, "published_at": r.published_at}


# ---- periods -------------------------------------------------------------------------------------------


@router.get("/appraisal-periods", response={**reads(AppraisalPeriodPage), 400: DomainErrorOut}, summary="党员评价月份列表",
            description="当前用户可见的党员评价月份：本人权限范围内开启的，以及覆盖本人所在支部的上级开启的。"
                        "可按月份、组织评价的单位、状态筛选。")
@api_errors
def list_appraisal_periods(request, filters: Query[AppraisalPeriodFilter], page: Query[PageIn]):
    qs = services.visible_periods(request.auth)
    if filters.month:
        qs = qs.filter(month=services.month_start(filters.month))
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.status:
        qs = qs.filter(status=filters.status.value)
    result = paginate(qs.order_by("-month", "owner__path", "id"), page)
    return {"count": result["count"], "items": [_period_dict(p) for p in result["items"]]}


@router.post("/appraisal-periods", response=writes(AppraisalPeriodDetailOut, 201), summary="开启党员评价月份",
             description="党建管理员为本单位开启一个月的党员评价：范围内每名在册党员（正式、预备）按当年已发布的"
                         "党员评价标准生成评价细则，组织生活、党费等活动记录自动带入次数。")
@api_errors(fields={"owner": "owner_id", "standard_set": None})
def open_appraisal_period(request, body: AppraisalPeriodIn):
    user = request.auth
    owner = get_scoped_or_404(user, "appraisal.manage", Organization.objects.all(), pk=body.owner_id)
    period = services.open_period(user, owner, body.month, self_due=body.self_due, determine_due=body.determine_due)
    return 201, _period_detail(user, _period(user, period.pk))


@router.get("/appraisal-periods/{period_id}", response=reads(AppraisalPeriodDetailOut),
            summary="党员评价月份详情（含各支部进度）",
            description="各状态人数和各党支部进度只统计当前用户权限范围内的党员：党员本人只看到自己。")
@api_errors
def get_appraisal_period(request, period_id: PeriodId):
    return _period_detail(request.auth, _period(request.auth, period_id))


@router.post("/appraisal-periods/{period_id}/publish-ready", response=writes(MemberPublishReadyOut),
             summary="公示全部已评定的支部",
             description="党建管理员一次公示该月全部党员都已评定（或免评）的党支部，生成月度结果和支部统计；"
                         "还有党员未评定的支部不受影响。")
@api_errors
def publish_ready_branches(request, period_id: PeriodId):
    user = request.auth
    period = get_scoped_or_404(user, "appraisal.manage", AppraisalPeriod.objects.select_related("owner"),
                               pk=period_id)
    return {"published": close.publish_ready(user, period)}


@router.post("/appraisal-periods/{period_id}/close", response=writes(AppraisalPeriodDetailOut),
             summary="结束本月党员评价",
             description="公示全部已评定的支部并结束该月评价；范围内还有党员未评定时拒绝，并列出这些党员。")
@api_errors
def close_appraisal_period(request, period_id: PeriodId):
    user = request.auth
    period = get_scoped_or_404(user, "appraisal.manage", AppraisalPeriod.objects.select_related("owner"),
                               pk=period_id)
    close.close_period(user, period)
    return _period_detail(user, _period(user, period_id))


@router.post("/appraisal-periods/{period_id}/branches/{org_id}/publish", response=writes(MemberBranchAggregateOut),
             summary="公示一个党支部的月度评价",
             description="支部书记（或党建管理员）在党员大会后公示本支部该月的评价结果：全部党员须已评定（或免评）。"
                         "公示后结果锁定，不能再修改。")
@api_errors
def publish_branch(request, period_id: PeriodId, org_id: OrgId):
    user = request.auth
    period = _period(user, period_id)
    org = get_scoped_or_404(user, "appraisal.determine", Organization.objects.all(), pk=org_id)
    if not org.path.startswith(period.owner.path):
        raise Http404
    aggregate = close.publish_branch(user, period, org)
    return _aggregate_dict(BranchAggregate.objects.select_related("org").get(pk=aggregate.pk))


# ---- member evaluations --------------------------------------------------------------------------------


@router.get("/member-evaluations", response=reads(MemberEvaluationPage), summary="党员月度评价列表",
            description="党员只看到本人的，支部书记看到本支部的，党建管理员看到本单位的；"
                        "可按评价月份、组织（含下级）、状态、党员筛选。")
@api_errors
def list_member_evaluations(request, filters: Query[MemberEvaluationFilter], page: Query[PageIn]):
    qs = services.visible_evaluations(request.auth).select_related("period")
    if filters.period_id is not None:
        qs = qs.filter(period_id=filters.period_id)
    if filters.org_id is not None:
        path = _org_path(filters.org_id)
        qs = qs.filter(org_path__startswith=path) if path else qs.none()
    if filters.state:
        qs = qs.filter(state=filters.state.value)
    if filters.member_id is not None:
        qs = qs.filter(member_id=filters.member_id)
    result = paginate(qs.order_by("-period__month", "org_path", "member_name", "id"), page)
    return {"count": result["count"], "items": [_evaluation_dict(e) for e in result["items"]]}


@router.get("/member-evaluations/{evaluation_id}", response=reads(MemberEvaluationDetailOut), summary="党员月度评价详情",
            description="含自评小结、评定意见、得分（评定后才有支部评定的各部分）、当前可执行的操作。")
@api_errors
def get_member_evaluation(request, evaluation_id: EvaluationId):
    return _evaluation_detail(request.auth, evaluation_id)


@router.get("/member-evaluations/{evaluation_id}/items", response=reads(list[MemberLineOut]), summary="评价细则",
            description="该党员本月的全部评价细则（按标准中的顺序，不分页）：记录带入次数、自报次数与自评分、"
                        "评定次数与评定分、理由和版本。")
@api_errors
def list_member_evaluation_items(request, evaluation_id: EvaluationId):
    ev = _evaluation(request.auth, evaluation_id)
    lines = ev.lines.select_related("item", "updated_by").order_by("item__order", "item_id")
    return [_line_dict(ln) for ln in lines]


@router.put("/member-evaluations/{evaluation_id}/items/{line_id}/self",
            response={**writes(MemberLineOut), 409: DomainErrorOut}, summary="党员自评一项",
            description="党员本人（或支部书记代为）在“待自评”状态填写自报次数和说明；版本不符时 409，不保存。")
@api_errors
@conflicts
def save_self_item(request, evaluation_id: EvaluationId, line_id: LineId, body: MemberSelfLineIn):
    user = request.auth
    ln = _line(_evaluation(user, evaluation_id), line_id)
    ln = services.save_self_line(user, ln, body.count, claim=body.claim, expected_version=body.version)
    return _fresh_line(ln.pk)


@router.put("/member-evaluations/{evaluation_id}/items/{line_id}/determination",
            response={**writes(MemberLineOut), 409: DomainErrorOut}, summary="支部评定一项",
            description="支部书记（或党建管理员）在评定前逐项评定次数；与本人填报不同时须写明理由（党员可见）；"
                        "版本不符时 409，不保存。")
@api_errors
@conflicts
def determine_item(request, evaluation_id: EvaluationId, line_id: LineId, body: MemberDetermineLineIn):
    user = request.auth
    ln = _line(_evaluation(user, evaluation_id, "appraisal.determine"), line_id)
    ln = services.determine_line(user, ln, body.count, reason=body.reason, expected_version=body.version)
    return _fresh_line(ln.pk)


@router.get("/member-evaluations/{evaluation_id}/transitions", response=reads(MemberTransitionsOut),
            summary="可执行的操作和流转记录")
@api_errors
def list_member_evaluation_transitions(request, evaluation_id: EvaluationId):
    user = request.auth
    ev = _evaluation(user, evaluation_id)
    history = MemberTransition.objects.filter(evaluation=ev).select_related("by").order_by("id")
    return {"available": _options(user, ev),
            "history": [{"from_state": t.from_state, "to_state": t.to_state, "note": t.note, "by": _name(t.by),
                         "at": t.at} for t in history]}


@router.post("/member-evaluations/{evaluation_id}/transitions", response=writes(MemberEvaluationDetailOut),
             summary="状态流转",
             description="只能执行 GET …/transitions 中 available 列出的操作：提交自评、撤回自评（党员本人或支部），"
                         "评定、撤回评定（支部）。提交自评时，申报的奖励和报告的减项须写明事由，要求佐证的须已上传。")
@api_errors
def move_member_evaluation(request, evaluation_id: EvaluationId, body: MemberTransitionIn):
    user = request.auth
    ev = _evaluation(user, evaluation_id)
    services.move(user, ev, body.to_state.value, note=body.note)
    return _evaluation_detail(user, evaluation_id)


@router.post("/member-evaluations/{evaluation_id}/exempt", response=writes(MemberEvaluationDetailOut),
             summary="免于评价或取消免评",
             description="支部决定离退休、长期外出流动、年老体弱或长期患病的党员本月免于评价，须写明原因；"
                         "免评的党员不影响支部公示，也没有月度结果。")
@api_errors
def exempt_member_evaluation(request, evaluation_id: EvaluationId, body: MemberExemptIn):
    user = request.auth
    ev = _evaluation(user, evaluation_id, "appraisal.determine")
    services.set_exempt(user, ev, body.exempt, body.reason)
    return _evaluation_detail(user, evaluation_id)


# ---- published results ---------------------------------------------------------------------------------


@router.get("/member-results", response={**reads(MemberResultPage), 400: DomainErrorOut}, summary="党员月度结果（已公示）",
            description="已公示的月度结果：各部分得分、合格与否、支部内排名。党员只看到本人的，支部书记看到本支部的；"
                        "可按评价月份、组织（含下级）、党员、月份筛选。")
@api_errors
def list_member_results(request, filters: Query[MemberResultFilter], page: Query[PageIn]):
    qs = scope(request.auth, "appraisal.view", MemberResult.objects.all())
    if filters.period_id is not None:
        qs = qs.filter(period_id=filters.period_id)
    if filters.org_id is not None:
        path = _org_path(filters.org_id)
        qs = qs.filter(org_path__startswith=path) if path else qs.none()
    if filters.member_id is not None:
        qs = qs.filter(member_id=filters.member_id)
    if filters.month:
        qs = qs.filter(month=services.month_start(filters.month))
    result = paginate(qs.order_by("-month", "org_path", "rank", "member_name", "id"), page)
    return {"count": result["count"], "items": [_result_dict(r) for r in result["items"]]}


__all__ = ["router"]
