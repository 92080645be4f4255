"""JSON API of the organization evaluation: oversight (registered in dangjian/api.py).

GET /api/v1/dashboards/org-evaluations — the figures of the 考评监督看板 page (assessments.oversight.figures)
with the same filters and the same scope (``eval.oversee``: the committee's staff and administrators, over
their subtree; a period or organization outside it is 404)."""

from contextlib import nullcontext
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from dangjian.assessments import oversight as ov
from dangjian.core.api_helpers import DomainErrorOut, api_errors, reads
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError

router = Router(tags=["组织考评"])


class OversightQuery(Schema):
    period_id: int | None = Field(None, title="考评月份编号", description="默认为您可查看的最近一个考评月份")
    org_id: int | None = Field(None, title="组织编号", description="只统计该组织及其下级；默认为该月的考评党委")
    gap: Decimal | None = Field(None, title="自评虚高阈值", description="自评高出考评占满分的百分比，0–100，默认5")
    lenience: Decimal | None = Field(None, title="考评员宽严阈值", description="平均偏差的百分点，0–100，默认5")


class OversightPeriodOut(Schema):
    id: int = Field(..., title="考评月份编号")
    label: str = Field(..., title="月份")
    owner: str = Field(..., title="考评党委")
    status: str = Field(..., title="状态", description="open 进行中 / finalized 已兑现")
    finalized: bool = Field(..., title="已兑现")


class OversightOrgOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="组织名称")


class StateCountOut(Schema):
    state: str = Field(..., title="状态")
    label: str = Field(..., title="状态名称")
    n: int = Field(..., title="组织数")


class ChildProgressOut(Schema):
    org_id: int | None = Field(None, title="组织编号", description="该下级组织本月未参评时为 null")
    name: str = Field(..., title="组织名称")
    level: str = Field(..., title="层级")
    own: bool = Field(..., title="是否为所选组织本级")
    total: int = Field(..., title="参评组织数", description="该下级组织及其下级")
    submitted: int = Field(..., title="已报送及以后")
    self_assessed: int = Field(..., title="已自评及以后")
    assessed: int = Field(..., title="已考评及以后")
    published: int = Field(..., title="已公示及以后")
    overdue: int = Field(..., title="逾期")


class ProgressOut(Schema):
    total: int = Field(..., title="参评组织数")
    overdue: int = Field(..., title="逾期组织数")
    counts: list[StateCountOut] = Field(..., title="各状态组织数")
    passed: dict[str, int] = Field(..., title="累计进度", description="submitted/self_assessed/assessed/published 及以后")
    children: list[ChildProgressOut] = Field(..., title="各直属下级组织进度")


class BinOut(Schema):
    low: int = Field(..., title="区间下限（%）")
    high: int = Field(..., title="区间上限（%）")
    label: str = Field(..., title="区间")
    count: int = Field(..., title="组织数")


class DistributionOut(Schema):
    n: int = Field(..., title="已考评组织数")
    mean: Decimal | None = Field(None, title="平均得分率（%）")
    median: Decimal | None = Field(None, title="得分率中位数（%）")
    min: Decimal | None = Field(None, title="最低得分率（%）")
    max: Decimal | None = Field(None, title="最高得分率（%）")
    bins: list[BinOut] = Field(..., title="得分率分布", description="每5个百分点一档，100%计入最后一档")


class RankedOut(Schema):
    evaluation_id: int = Field(..., title="组织考评编号")
    org_id: int = Field(..., title="组织编号")
    name: str = Field(..., title="组织名称")
    score: Decimal = Field(..., title="得分")
    max_total: Decimal = Field(..., title="满分")
    rate: Decimal = Field(..., title="得分率（%）")
    rank: int = Field(..., title="同类排名", description="所选组织范围内；并列同名次")


class OversightPeerGroupOut(Schema):
    level: str = Field(..., title="层级")
    org_type: int | None = Field(None, title="类型编号")
    label: str = Field(..., title="对标组")
    size: int = Field(..., title="同类组织数")
    mean: Decimal = Field(..., title="平均得分率（%）")
    top: list[RankedOut] = Field(..., title="前三")
    bottom: list[RankedOut] = Field(..., title="后三", description="不与前三重复")


class TrendGroupOut(Schema):
    level: str = Field(..., title="层级")
    org_type: int | None = Field(None, title="类型编号")
    label: str = Field(..., title="对标组")
    values: list[Decimal | None] = Field(..., title="各月平均得分率（%）", description="与 months 一一对应")
    counts: list[int] = Field(..., title="各月组织数")


class TrendOut(Schema):
    months: list[str] = Field(..., title="月份", description="所选月份及此前11个月")
    groups: list[TrendGroupOut] = Field(..., title="各对标组")


class WeakItemOut(Schema):
    item_id: int = Field(..., title="细则编号")
    code: str = Field(..., title="细则编码")
    text: str = Field(..., title="考评内容")
    category: str = Field(..., title="类别")
    avg_rate: Decimal = Field(..., title="平均得分率（%）")
    scored: int = Field(..., title="已考评组织数")
    losing: int = Field(..., title="失分组织数")
    lost: Decimal = Field(..., title="失分合计")


class WeakOrgOut(Schema):
    evaluation_id: int = Field(..., title="组织考评编号")
    org_id: int = Field(..., title="组织编号")
    name: str = Field(..., title="组织名称")
    lost: Decimal = Field(..., title="在薄弱细则上失分合计")


class WeakestOut(Schema):
    items: list[WeakItemOut] = Field(..., title="薄弱细则", description="平均得分率最低的15项（有失分的）")
    orgs: list[WeakOrgOut] = Field(..., title="失分最多的组织", description="最多20个")
    cells: list[list[Decimal | int | None]] = Field(..., title="热力图",
                                                     description="[组织下标, 细则下标, 得分率%]")


class InflationRowOut(Schema):
    evaluation_id: int = Field(..., title="组织考评编号")
    org_id: int = Field(..., title="组织编号")
    name: str = Field(..., title="组织名称")
    level_label: str = Field(..., title="层级")
    self_total: Decimal = Field(..., title="自评得分")
    assessor_total: Decimal = Field(..., title="考评得分")
    max_total: Decimal = Field(..., title="满分")
    gap: Decimal = Field(..., title="高出分数")
    gap_pp: Decimal = Field(..., title="高出（占满分百分点）")
    flagged: bool = Field(..., title="超过阈值")


class InflationOut(Schema):
    threshold: Decimal = Field(..., title="阈值（占满分%）")
    compared: int = Field(..., title="已对比组织数")
    flagged: int = Field(..., title="超过阈值的组织数")
    rows: list[InflationRowOut] = Field(..., title="自评高于考评的组织", description="按高出分数从大到小")


class AssessorRowOut(Schema):
    assessor_id: int = Field(..., title="考评员用户编号")
    name: str = Field(..., title="考评员")
    n: int = Field(..., title="考评细则数")
    mean_rate: Decimal = Field(..., title="平均得分率（%）")
    residual: Decimal = Field(..., title="平均偏差（百分点）",
                              description="各项得分率减去该细则本月全部组织平均得分率的平均值")
    flag: str = Field(..., title="判断", description="lenient 偏宽 / strict 偏严 / few 样本不足 / 空 正常")
    flag_label: str = Field(..., title="判断名称")


class AssessorsOut(Schema):
    threshold: Decimal = Field(..., title="阈值（百分点）")
    min_items: int = Field(..., title="最少细则数")
    flagged: int = Field(..., title="偏宽或偏严的考评员数")
    rows: list[AssessorRowOut] = Field(..., title="各考评员")


class OversightOut(Schema):
    period: OversightPeriodOut = Field(..., title="考评月份")
    org: OversightOrgOut = Field(..., title="统计范围")
    progress: ProgressOut = Field(..., title="考评进度")
    distribution: DistributionOut = Field(..., title="得分率分布")
    ranking: list[OversightPeerGroupOut] = Field(..., title="同类排名")
    trend: TrendOut = Field(..., title="得分率趋势")
    weakest: WeakestOut = Field(..., title="薄弱细则")
    inflation: InflationOut = Field(..., title="自评虚高")
    assessors: AssessorsOut = Field(..., title="考评员宽严")


@router.get("/dashboards/org-evaluations", response={**reads(OversightOut), 400: DomainErrorOut},
            summary="考评监督看板",
            description="某考评月份、某组织及其下级的考评进度、得分率分布、同类排名、近12个月趋势、薄弱细则、自评虚高"
                        "和考评员宽严。与考评监督看板页面的筛选和权限相同（党建管理员、系统管理员；本组织及下级）。")
@api_errors
def org_evaluations(request, query: Query[OversightQuery]):
    user = request.auth
    params = {"period": query.period_id, "org": query.org_id, "gap": query.gap, "lenience": query.lenience}
    p = ov.parse_params(user, {k: v for k, v in params.items() if v is not None})
    if p is None:
        raise DomainError(_("尚无可查看的考评月份。"))
    with frozen_reads() if p.period.is_finalized else nullcontext():  # a finalized month: replica if any
        return ov.figures(user, p)
