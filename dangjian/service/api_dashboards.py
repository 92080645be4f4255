"""JSON API of the dashboards part (mounted by service/api.py): /api/v1/dashboards/service — the figures of the
服务看板 page with the same filters and the same scope (``service.dashboard``: the user's subtree); and
/api/v1/periods/{period_id}/auto-score — 按服务数据计分 of an organization evaluation month (``eval.manage``,
assessments.auto), the button of the month's page."""

from decimal import Decimal
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema

from dangjian.assessments import auto
from dangjian.assessments.models import Period
from dangjian.core.access import get_scoped_or_404
from dangjian.core.api_helpers import DomainErrorOut, api_errors, reads, writes
from dangjian.service import dashboards as dash

router = Router(tags=["服务群众"])


class DashQuery(Schema):
    org: int | None = Field(None, title="组织编号", description="只统计该组织及其下级；须在您的管理范围内")
    area: int | None = Field(None, title="服务区域编号", description="只统计该服务区域的需求和工单")
    from_: str | None = Field(None, alias="from", title="开始月份", description="YYYY-MM",
                              pattern=r"^\d{4}-\d{2}$")
    to: str | None = Field(None, title="结束月份", description="YYYY-MM；默认为本月", pattern=r"^\d{4}-\d{2}$")
    months: int | None = Field(None, title="最近月数", description="未给开始月份时统计最近几个月（1–36，默认12）")


class CategoryOut(Schema):
    category: str = Field(..., title="类别", description="complaint/opinion/need/suggestion/praise")
    label: str = Field(..., title="类别名称")
    count: int = Field(..., title="数量")


class DashboardAreaOut(Schema):
    area: int | None = Field(None, title="服务区域编号", description="未指定区域时为 null")
    label: str = Field(..., title="服务区域")
    count: int = Field(..., title="数量")


class NeedMonthOut(Schema):
    month: str = Field(..., title="月份")
    government: int = Field(..., title="政府统筹发展要求")
    people: int = Field(..., title="客户/群众诉求")
    total: int = Field(..., title="合计")


class NeedsOut(Schema):
    total: int = Field(..., title="需求总数")
    by_category: list[CategoryOut] = Field(..., title="按类别")
    by_area: list[DashboardAreaOut] = Field(..., title="按服务区域", description="数量最多的20个区域")
    by_month: list[NeedMonthOut] = Field(..., title="按月")


class TicketCountsOut(Schema):
    total: int = Field(..., title="区间内新建工单")
    open: int = Field(..., title="办理中", description="当前处于计划、实施、检查、改进环节的工单（不限区间）")
    overdue: int = Field(..., title="已超期", description="当前办理中且已过完成期限的工单（不限区间）")
    closed: int = Field(..., title="区间内销号")
    cancelled: int = Field(..., title="区间内新建后已撤销")
    recurrence: int = Field(..., title="区间内销号且同类问题重复发生")
    closed_share: Decimal | None = Field(None, title="销号比例（%）",
                                         description="区间内新建且未撤销的工单中，目前已销号的比例")


class TicketMonthOut(Schema):
    month: str = Field(..., title="月份")
    closed: int = Field(..., title="当月销号数")
    mean_days: Decimal | None = Field(None, title="平均办结天数", description="从立项到销号")
    median_days: Decimal | None = Field(None, title="办结天数中位数")
    recurrence: int = Field(..., title="重复发生数")
    recurrence_share: Decimal | None = Field(None, title="重复发生率（%）")
    due: int = Field(..., title="应销号工单数", description="当月及以前到期、当月内处于办理状态、未撤销")
    closed_by_month_end: int = Field(..., title="月末已销号数")
    closure_rate: Decimal | None = Field(None, title="销号率（%）")


class TicketsOut(Schema):
    counts: TicketCountsOut = Field(..., title="概况")
    by_month: list[TicketMonthOut] = Field(..., title="按月")


class IndexCellOut(Schema):
    responses: int = Field(..., title="样本数")
    mean: Decimal | None = Field(None, title="满意度指数", description="按样本数加权")
    share_satisfied: Decimal | None = Field(None, title="满意率（%）")
    orgs: int = Field(..., title="单位数")


class SatisfactionMonthOut(Schema):
    month: str = Field(..., title="月份")
    government: IndexCellOut = Field(..., title="政府满意度")
    customer: IndexCellOut = Field(..., title="客户满意度")


class KindOut(Schema):
    kind: str = Field(..., title="类型")
    label: str = Field(..., title="类型名称")


class SatisfactionOut(Schema):
    kinds: list[KindOut] = Field(..., title="调查类型")
    by_month: list[SatisfactionMonthOut] = Field(..., title="按月")


class BeforeAfterRowOut(Schema):
    ticket: int = Field(..., title="工单编号（id）")
    number: str = Field(..., title="工单编号")
    title: str = Field(..., title="标题")
    org: int = Field(..., title="组织编号")
    org_name: str = Field(..., title="单位")
    kind: str = Field(..., title="调查类型")
    kind_label: str = Field(..., title="调查类型名称")
    before_month: str = Field(..., title="整改前月份")
    before: Decimal | None = Field(None, title="整改前指数")
    responses: int = Field(..., title="整改前样本数")
    closed_on: str = Field(..., title="销号日期")
    after_month: str | None = Field(None, title="整改后月份", description="销号次月起第一个有指数的月份")
    after: Decimal | None = Field(None, title="整改后指数")
    change: Decimal | None = Field(None, title="变化")


class BeforeAfterOut(Schema):
    rows: list[BeforeAfterRowOut] = Field(..., title="工单", description="最近销号的50项")
    compared: int = Field(..., title="已有整改后指数的项数")
    improved: int = Field(..., title="提升的项数")
    mean_change: Decimal | None = Field(None, title="平均变化")


class TeamMonthOut(Schema):
    month: str = Field(..., title="月份")
    activities: int = Field(..., title="活动次数")
    people_served: int = Field(..., title="服务人次")
    hours: Decimal = Field(..., title="服务时长（小时）")
    members: int = Field(..., title="参与党员")


class TeamsOut(Schema):
    by_month: list[TeamMonthOut] = Field(..., title="按月")
    hours: Decimal = Field(..., title="服务时长合计")
    people_served: int = Field(..., title="服务人次合计")


class DashboardOut(Schema):
    start: str = Field(..., title="开始月份")
    end: str = Field(..., title="结束月份")
    org: int | None = Field(None, title="组织编号")
    area: int | None = Field(None, title="服务区域编号")
    needs: NeedsOut = Field(..., title="需求")
    tickets: TicketsOut = Field(..., title="整改工单")
    satisfaction: SatisfactionOut = Field(..., title="满意度")
    before_after: BeforeAfterOut = Field(..., title="整改前后对比")
    teams: TeamsOut = Field(..., title="服务队")


@router.get("/dashboards/service", response={**reads(DashboardOut), 400: DomainErrorOut}, summary="服务看板",
            description="需求按类别、区域和月份；工单办理、超期、销号、办结时长与销号率；满意度趋势；整改前后对比；"
                        "服务队时长与服务人次。与服务看板页面的筛选和权限相同（党建管理员、书记；本组织及下级）。")
@api_errors
def service_dashboard(request, query: Query[DashQuery]):
    user = request.auth
    params = {"org": query.org, "area": query.area, "from": query.from_, "to": query.to, "months": query.months}
    f = dash.parse_filters(user, {k: v for k, v in params.items() if v is not None})
    return {"start": f"{f.start:%Y-%m}", "end": f"{f.end:%Y-%m}", "org": f.org.pk if f.org else None,
            "area": f.area.pk if f.area else None, **dash.service_figures(user, f)}


PeriodId = Annotated[int, Path(title="考评月份编号")]


class AutoOutcomeOut(Schema):
    eval_item_id: int = Field(..., title="考评细则记录编号")
    code: str = Field(..., title="细则编码")
    score: Decimal | None = Field(None, title="得分", description="没有足够服务数据时为 null（留给考评员评分）")
    note: str = Field(..., title="来源说明", description="得分来自哪里，或为何未自动计分")


class AutoScoreOut(Schema):
    scored: int = Field(..., title="已计分项数")
    left_to_assessor: int = Field(..., title="留给考评员的项数")
    items: list[AutoOutcomeOut] = Field(..., title="各项结果")


@router.post("/periods/{period_id}/auto-score", response=writes(AutoScoreOut), summary="按服务数据计分",
             description="为该考评月份中设置了服务数据计分的细则，按各组织（含下级）当月的满意度指数或整改工单销号率"
                         "计算考评得分并注明来源；已公示的组织、考评员已人工打分的细则不变；没有数据的留给考评员。"
                         "须为该月组织考评党委的党建管理员。")
@api_errors
def auto_score(request, period_id: PeriodId):
    user = request.auth
    period = get_scoped_or_404(user, "eval.manage", Period.objects.select_related("owner"), pk=period_id)
    outcomes = auto.apply_auto_scores(user, period)
    scored = sum(1 for o in outcomes if o.score is not None)
    return {"scored": scored, "left_to_assessor": len(outcomes) - scored,
            "items": [{"eval_item_id": o.eval_item_id, "code": o.code, "score": o.score, "note": o.note}
                      for o in outcomes]}
