"""JSON API of the month close (月兑现): finalize a month, read its results (scope, filters, pagination), one result
with its adjustments, adjust a result, and the month's adjustments (registered in dangjian/api.py).

The same access and rules as the pages: results are read through ``core.access.scope`` (``eval.view``), finalizing
and adjusting need ``eval.manage`` on the committee that opened the month and go through ``assessments.close``.
A month that is not finalized, or whose stored digest no longer matches its results, answers 409 with the Chinese
sentence; so does a refused finalize (already finalized, publicity window still open).
"""

import datetime
import functools
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.assessments import close, results, tasks
from dangjian.assessments.api import PeriodOut, _period, _period_dict
from dangjian.assessments.models import Period, Result
from dangjian.core.access import can, get_scoped_or_404
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level

router = Router(tags=["组织考评"])

LEVEL_HELP = "committee=党委，general=党总支，branch=党支部"
PeriodId = Annotated[int, Path(title="考评月份编号")]
ResultId = Annotated[int, Path(title="兑现结果编号")]


class NotShown(DomainError):
    """The month's results cannot be shown now (not finalized, digest mismatch): 409."""


# ---- schemas -------------------------------------------------------------------------------------------


class FinalizeOut(PeriodOut):
    organizations: int = Field(..., title="兑现的组织数")
    digest: str = Field(..., title="结果校验值", description="兑现结果的 SHA-256 摘要，展示或导出前据此校验")


class FinalizeQueuedOut(Schema):
    task_id: str = Field(..., title="后台任务编号")
    period_id: int = Field(..., title="考评月份编号")
    status: Literal["queued"] = Field(..., title="状态", description="queued：已提交，由后台任务进程执行")


class ResultOut(Schema):
    id: int = Field(..., title="兑现结果编号")
    period_id: int = Field(..., title="考评月份编号")
    evaluation_id: int = Field(..., title="组织考评编号")
    org_id: int = Field(..., title="组织编号")
    org_name: str = Field(..., title="组织名称", description="兑现当月的名称")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    org_type: str | None = Field(None, title="类型编码", description="党总支等未分类型的为 null")
    org_type_name: str | None = Field(None, title="类型名称")
    total: Decimal = Field(..., title="得分")
    max_total: Decimal = Field(..., title="满分")
    score_rate: Decimal = Field(..., title="得分率（%）")
    vetoed: bool = Field(..., title="触发一票否决")
    peer_rank: int = Field(..., title="同类排名", description="同层级、同类型组织（对标组）中的名次，同分同名次")
    peer_size: int = Field(..., title="同类组织数")
    overall_rank: int = Field(..., title="总排名")
    overall_size: int = Field(..., title="参评组织数")
    percentile: Decimal = Field(..., title="超过同类组织（%）")
    grade: str = Field(..., title="等级")
    coefficient: Decimal = Field(..., title="兑现系数", description="书记月度绩效系数")
    secretary: str = Field("", title="书记", description="兑现时在任的书记")
    adjusted: bool = Field(..., title="兑现后经过调整")


class ResultPage(Schema):
    count: int = Field(..., title="总数")
    items: list[ResultOut] = Field(..., title="本页兑现结果", description="按对标组、同类排名排序")


class ResultFilter(Schema):
    level: Level | None = Field(None, title="层级", description=LEVEL_HELP)
    type: int | None = Field(None, title="组织类型编号")
    grade: str | None = Field(None, max_length=10, title="等级")
    q: str | None = Field(None, max_length=100, title="组织名称包含")
    sort: Literal["peer", "overall"] = Field("peer", title="排序",
                                             description="peer=按对标组、同类排名（默认），overall=按总排名")


class PeerGroupOut(Schema):
    level: Level = Field(..., title="层级")
    org_type: str | None = Field(None, title="类型编码")
    count: int = Field(..., title="组织数")
    avg: Decimal = Field(..., title="平均分")
    median: Decimal = Field(..., title="中位数")
    min: Decimal = Field(..., title="最低分")
    max: Decimal = Field(..., title="最高分")


class AdjustmentOut(Schema):
    id: int = Field(..., title="调整编号")
    result_id: int = Field(..., title="兑现结果编号")
    org_name: str = Field(..., title="组织名称")
    old_total: Decimal = Field(..., title="原得分")
    new_total: Decimal = Field(..., title="调整后得分")
    reason: str = Field(..., title="调整理由")
    by: str | None = Field(None, title="调整人")
    at: datetime.datetime = Field(..., title="调整时间")


class AdjustmentPage(Schema):
    count: int = Field(..., title="总数")
    items: list[AdjustmentOut] = Field(..., title="本页调整记录", description="最新的在前")


class ResultDetailOut(ResultOut):
    peer_group: PeerGroupOut | None = Field(None, title="对标组统计")
    adjustments: list[AdjustmentOut] = Field(..., title="兑现后调整", description="最新的在前")


class AdjustIn(Schema):
    new_total: Decimal = Field(..., title="调整后得分", description="0 至满分之间，最多一位小数，且不同于原得分")
    reason: str = Field(..., max_length=500, title="调整理由", description="必填，不超过500字")


class AdjustedOut(Schema):
    adjustment: AdjustmentOut = Field(..., title="调整记录")
    result: ResultOut = Field(..., title="调整后的兑现结果", description="本月排名、等级和系数已重新计算")


REFUSED = {409: DomainErrorOut}


# ---- helpers -------------------------------------------------------------------------------------------


def _shown(period: Period) -> None:
    if not period.is_finalized:
        raise NotShown(_not_finalized(period))
    try:
        close.check_digest(period, fresh=True)
    except DomainError as exc:
        raise NotShown(exc.message) from exc


def _not_finalized(period: Period) -> str:
    return _("{month}的考评尚未兑现，暂无兑现结果。").format(month=period.label)


def refusals(view):
    """``NotShown`` and ``close.FinalizeRefused`` -> 409 (inside ``api_errors``, which would make them 400)."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotShown, close.FinalizeRefused) as exc:
            return 409, {"detail": str(exc.message), "field": exc.field}

    return wrapper


def _result_dict(r: Result, adjusted: bool | None = None) -> dict:
    return {
        "id": r.pk, "period_id": r.period_id, "evaluation_id": r.evaluation_id, "org_id": r.org_id,
        "org_name": r.org_name, "level": r.level, "org_type": r.org_type.code if r.org_type_id else None,
        "org_type_name": r.org_type.display_name if r.org_type_id else None, "total": r.total,
        "max_total": r.max_total, "score_rate": r.score_rate, "vetoed": r.vetoed, "peer_rank": r.peer_rank,
        "peer_size": r.peer_size, "overall_rank": r.overall_rank, "overall_size": r.overall_size,
        "percentile": r.percentile, "grade": r.grade, "coefficient": r.coefficient, "secretary": r.secretary,
        "adjusted": bool(getattr(r, "adjusted", False) if adjusted is None else adjusted),
    }


def _adjustment_dict(a) -> dict:
    return {"id": a.pk, "result_id": a.result_id, "org_name": a.result.org_name, "old_total": a.old_total,
            "new_total": a.new_total, "reason": a.reason, "by": results.user_name(a.by) or None, "at": a.at}


def _group_dict(g) -> dict:
    return {"level": g.level, "org_type": g.org_type.code if g.org_type_id else None, "count": g.count,
            "avg": g.avg, "median": g.median, "min": g.min, "max": g.max}


def _result(user, result_id, action="eval.view") -> Result:
    return get_scoped_or_404(user, action, Result.objects.select_related("period__owner", "org_type"), pk=result_id)


def _result_detail(user, result: Result) -> dict:
    period = result.period
    adjustments = list(results.adjustments(user, period, result))
    group = next((g for g in results.peer_groups(user, period, results.visible_results(user, period)
                                                 .filter(pk=result.pk))), None)
    return {**_result_dict(result, adjusted=bool(adjustments)), "peer_group": _group_dict(group) if group else None,
            "adjustments": [_adjustment_dict(a) for a in adjustments]}


# ---- routes --------------------------------------------------------------------------------------------


@router.post("/periods/{period_id}/finalize", response={**writes(FinalizeOut), 202: FinalizeQueuedOut, **REFUSED},
             summary="兑现（月兑现）",
             description="计算全部组织的得分、同类排名和总排名、等级和书记月度绩效系数，并锁定该月。"
                         "须全部组织已公示、异议已答复且公示期已结束（公示期：每个组织首次公示之日后 objection_days "
                         "个自然日）。已兑现或仍在公示期内时返回 409，其他不满足的条件返回 400，均附中文说明。"
                         "部署为后台执行（TASKS_BACKEND=database）时立即返回 202 和任务编号，兑现由后台任务进程完成，"
                         "完成或失败时通过站内消息通知提交人；同一月份已有未完成的兑现任务时返回 409。")
@api_errors
@refusals
def finalize_period(request, period_id: PeriodId):
    user = request.auth
    period = get_scoped_or_404(user, "eval.manage", Period.objects.select_related("owner", "standard_set"),
                               pk=period_id)
    submitted = tasks.submit_finalize(user, period)
    if submitted.queued:
        return 202, {"task_id": submitted.task_id, "period_id": period.pk, "status": "queued"}
    period = _period(user, period.pk)
    return {**_period_dict(period), "organizations": Result.objects.filter(period_id=period.pk).count(),
            "digest": period.digest}


@router.get("/periods/{period_id}/results", response={**reads(ResultPage), **REFUSED}, summary="兑现结果列表",
            description="当前用户权限范围内各组织的兑现结果（党支部书记和党员只看到本组织），按对标组（层级、类型）和"
                        "同类排名排序；可按层级、类型、等级、名称筛选。尚未兑现或结果校验值不符时返回 409。")
@api_errors
@refusals
def list_results(request, period_id: PeriodId, filters: Query[ResultFilter], page: Query[PageIn]):
    user = request.auth
    period = _period(user, period_id)
    _shown(period)
    f = {"level": filters.level.value if filters.level else "", "type": str(filters.type or ""),
         "grade": filters.grade or "", "q": filters.q or ""}
    with frozen_reads():  # a finalized month: its results may come from a read replica
        qs = results.filter_results(results.visible_results(user, period), f)
        result = paginate(results.for_listing(qs, filters.sort), page, count_qs=qs)
        return {"count": result["count"], "items": [_result_dict(r) for r in result["items"]]}


@router.get("/results/{result_id}", response={**reads(ResultDetailOut), **REFUSED}, summary="兑现结果详情",
            description="一个组织的兑现结果、所在对标组的统计和兑现后调整记录。结果校验值不符时返回 409。")
@api_errors
@refusals
def get_result(request, result_id: ResultId):
    user = request.auth
    result = _result(user, result_id)
    _shown(result.period)
    return _result_detail(user, result)


@router.post("/results/{result_id}/adjustments", response=writes(AdjustedOut, 201),
             summary="兑现后调整",
             description="党建管理员更正已兑现月份中一个组织的得分并说明理由；系统重新计算全月排名、等级和系数，"
                         "记录调整和审计日志。")
@api_errors(fields={"score": "new_total"})
def adjust_result(request, result_id: ResultId, body: AdjustIn):
    user = request.auth
    result = _result(user, result_id, "eval.manage")
    if not can(user, "eval.manage", result.period.owner.path):
        raise Http404
    adjustment = close.adjust_result(user, result, body.new_total, body.reason)
    result = _result(user, result_id)
    adjustment = results.adjustments(user, result.period, result).get(pk=adjustment.pk)
    return 201, {"adjustment": _adjustment_dict(adjustment), "result": _result_dict(result, adjusted=True)}


@router.get("/periods/{period_id}/adjustments", response=reads(AdjustmentPage), summary="兑现后调整记录",
            description="该月当前用户权限范围内的全部调整，最新的在前。")
@api_errors
def list_adjustments(request, period_id: PeriodId, page: Query[PageIn]):
    user = request.auth
    period = _period(user, period_id)
    result = paginate(results.adjustments(user, period), page)
    return {"count": result["count"], "items": [_adjustment_dict(a) for a in result["items"]]}


__all__ = ["router"]
