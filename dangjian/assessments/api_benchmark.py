"""JSON API of 对标 (registered in dangjian/api.py): /api/v1/orgs/{org_id}/benchmark — an organization against its
peer group in one month, item by item, with its trend; /api/v1/annual — the year of a committee's organizations with
their grades by month and the 先进党支部 candidates.

The same figures and access as the pages (``assessments.benchmark``, ``eval.view``): an organization or committee
outside the user's scope is 404.
"""

from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Path, Query, Router, Schema

from dangjian.assessments import benchmark as bm
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, reads
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level

router = Router(tags=["组织考评"])

LEVEL_HELP = "committee=党委，general=党总支，branch=党支部"
OrgId = Annotated[int, Path(title="组织编号")]


# ---- the organization against its peer group -----------------------------------------------------------------


class BenchmarkQuery(Schema):
    period_id: int | None = Field(None, ge=1, title="考评月份编号",
                                  description="为空时取该组织最近一个已兑现的月份；没有已兑现月份时取最近的月份（暂定）")


class BenchOrgOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    level_label: str = Field(..., title="层级名称")
    type_id: int | None = Field(None, title="类型编号")
    type_name: str | None = Field(None, title="类型名称")


class BenchPeriodOut(Schema):
    id: int = Field(..., title="考评月份编号")
    month: str = Field(..., title="考评月份", description="YYYY-MM")
    owner: str = Field(..., title="组织考评的党委")
    finalized: bool = Field(..., title="已兑现")
    status_label: str = Field(..., title="状态名称")


class BenchGroupOut(Schema):
    level: Level = Field(..., title="层级")
    type_id: int | None = Field(None, title="类型编号")
    label: str = Field(..., title="对标组", description="同层级、同类型的组织")


class PeerFiguresOut(Schema):
    count: int = Field(..., title="组织数")
    avg: Decimal = Field(..., title="平均分")
    median: Decimal = Field(..., title="中位数")
    best: Decimal = Field(..., title="最高分")
    min: Decimal = Field(..., title="最低分")
    avg_rate: Decimal | None = Field(None, title="平均分得分率（%）")
    median_rate: Decimal | None = Field(None, title="中位数得分率（%）")
    best_rate: Decimal | None = Field(None, title="最高分得分率（%）")


class BenchSummaryOut(Schema):
    total: Decimal = Field(..., title="得分")
    max_total: Decimal = Field(..., title="满分")
    score_rate: Decimal = Field(..., title="得分率（%）")
    vetoed: bool = Field(..., title="触发一票否决")
    peer_rank: int = Field(..., title="同类排名")
    peer_size: int = Field(..., title="同类组织数")
    overall_rank: int = Field(..., title="总排名")
    overall_size: int = Field(..., title="参评组织数")
    percentile: Decimal = Field(..., title="超过同类组织（%）")
    grade: str = Field(..., title="等级")
    coefficient: Decimal | None = Field(None, title="兑现系数")
    peer: PeerFiguresOut | None = Field(None, title="对标组", description="已兑现月份取兑现时的对标组统计")
    gap_avg: Decimal | None = Field(None, title="与平均分差距")
    gap_median: Decimal | None = Field(None, title="与中位数差距")
    gap_best: Decimal | None = Field(None, title="与最高分差距")


class BenchItemOut(Schema):
    eval_item_id: int = Field(..., title="考评细则行编号")
    item_id: int = Field(..., title="细则编号")
    code: str = Field(..., title="细则编码")
    text: str = Field(..., title="考评内容")
    category: str = Field(..., title="类别")
    max_points: Decimal = Field(..., title="分值")
    score: Decimal = Field(..., title="得分", description="有考评得分取考评得分，否则取自评得分，均无为 0")
    scored: bool = Field(..., title="已评分")
    vetoed: bool = Field(..., title="触发一票否决")
    peer_count: int = Field(..., title="对标组组织数")
    peer_avg: Decimal | None = Field(None, title="对标组平均")
    peer_median: Decimal | None = Field(None, title="对标组中位数")
    peer_best: Decimal | None = Field(None, title="对标组最高")
    gap_avg: Decimal | None = Field(None, title="与平均差距")
    gap_best: Decimal | None = Field(None, title="与最高差距")


class BenchCategoryOut(Schema):
    category: str = Field(..., title="类别")
    items: int = Field(..., title="细则数")
    max_points: Decimal = Field(..., title="分值")
    score: Decimal = Field(..., title="得分")
    peer_avg: Decimal = Field(..., title="对标组平均之和")
    peer_best: Decimal = Field(..., title="对标组最高之和")
    gap_avg: Decimal = Field(..., title="与平均差距")
    gap_best: Decimal = Field(..., title="与最高差距")


class BenchTrendOut(Schema):
    period_id: int = Field(..., title="考评月份编号")
    month: str = Field(..., title="考评月份")
    total: Decimal = Field(..., title="得分")
    max_total: Decimal = Field(..., title="满分")
    score_rate: Decimal = Field(..., title="得分率（%）")
    grade: str = Field(..., title="等级")
    peer_rank: int = Field(..., title="同类排名")
    peer_size: int = Field(..., title="同类组织数")
    peer_avg_rate: Decimal | None = Field(None, title="对标组平均得分率（%）")
    peer_best_rate: Decimal | None = Field(None, title="对标组最高得分率（%）")
    selected: bool = Field(..., title="当前所选月份")


class BenchmarkOut(Schema):
    org: BenchOrgOut = Field(..., title="组织")
    periods: list[BenchPeriodOut] = Field(..., title="该组织参加考评的月份")
    period: BenchPeriodOut | None = Field(None, title="所选月份", description="该组织尚未参加考评时为 null")
    provisional: bool = Field(..., title="暂定", description="所选月份尚未兑现：按已录入的得分暂算")
    group: BenchGroupOut | None = Field(None, title="对标组")
    summary: BenchSummaryOut | None = Field(None, title="概况")
    items: list[BenchItemOut] = Field(..., title="逐项对标", description="按与对标组最高分的差距从大到小")
    categories: list[BenchCategoryOut] = Field(..., title="分类小计")
    trend: list[BenchTrendOut] = Field(..., title="趋势", description="最近12个已兑现月份，按月份先后")


@router.get("/orgs/{org_id}/benchmark", response=reads(BenchmarkOut), summary="组织对标分析",
            description="该组织在一个考评月份与对标组（同层级、同类型）的比较：得分、排名、等级与对标组平均分、"
                        "中位数、最高分；逐项差距与分类小计；最近12个已兑现月份的得分率趋势。未兑现的月份为暂定数据。")
@api_errors
def org_benchmark(request, org_id: OrgId, query: Query[BenchmarkQuery]):
    return bm.org_benchmark(request.auth, org_id, query.period_id)


# ---- the annual view -------------------------------------------------------------------------------------------


class AnnualQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100, title="年度", description="默认为该党委最近一个有已兑现月份的年度")
    owner_id: int | None = Field(None, ge=1, title="组织考评的党委编号",
                                 description="默认为当前用户可见的最上级党委")
    level: Level | None = Field(None, title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, pattern=r"^(\d{1,9}|none)$", title="组织类型编号",
                             description="none 表示未分类型的组织")
    q: str | None = Field(None, max_length=100, title="组织名称包含")
    candidates_only: bool = Field(False, title="只看先进党支部候选")
    cand_level: Literal["branch", "all"] = Field("branch", title="候选层级", description="branch=只限党支部，all=各层级")
    min_months: int = Field(10, ge=1, le=12, title="最少考评月数",
                            description="本年已兑现月数少于此数时，取已兑现月数")
    top: int = Field(20, ge=1, le=100, title="平均得分率位于同类前百分之几")


class AnnualMonthOut(Schema):
    month: int = Field(..., title="月份", description="1–12")
    period_id: int | None = Field(None, title="考评月份编号", description="该月未兑现时为 null")
    grade: str | None = Field(None, title="等级")
    total: Decimal | None = Field(None, title="得分")


class AnnualRowOut(Schema):
    org_id: int = Field(..., title="组织编号")
    name: str = Field(..., title="组织名称")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    level_label: str = Field(..., title="层级名称")
    type_id: int | None = Field(None, title="类型编号")
    months: list[AnnualMonthOut] = Field(..., title="各月等级与得分")
    months_evaluated: int = Field(..., title="考评月数")
    avg_rate: Decimal = Field(..., title="平均得分率（%）")
    top_grades: int = Field(..., title="最高等级次数")
    worst_grade: str | None = Field(None, title="最低等级")
    vetoed: bool = Field(..., title="有月份触发一票否决")
    peer_rank: int = Field(..., title="同类年度排名", description="按平均得分率，在同层级、同类型组织中")
    peer_size: int = Field(..., title="同类组织数")
    candidate: bool = Field(..., title="先进党支部候选")
    not_candidate_because: list[str] = Field(..., title="未列为候选的原因")


class AnnualOwnerOut(Schema):
    id: int = Field(..., title="党委编号")
    name: str = Field(..., title="名称")


class AnnualPage(Schema):
    year: int = Field(..., title="年度")
    owner: AnnualOwnerOut | None = Field(None, title="组织考评的党委")
    months: list[str] = Field(..., title="已兑现月份", description="YYYY-MM")
    grades: list[str] = Field(..., title="等级", description="从高到低")
    rule: str = Field(..., title="候选规则")
    candidates: int = Field(..., title="候选数", description="符合筛选条件的组织中的候选数")
    count: int = Field(..., title="总数")
    items: list[AnnualRowOut] = Field(..., title="本页组织")


@router.get("/annual", response={**reads(AnnualPage), 400: DomainErrorOut}, summary="年度组织考评与先进党支部候选",
            description="当前用户权限范围内每个组织一行：各月等级和得分、考评月数、平均得分率、最高等级次数、最低等级、"
                        "同类年度排名，以及按规则（参数可调）判定的先进党支部候选。")
@api_errors
def annual(request, query: Query[AnnualQuery], page: Query[PageIn]):
    params = {"year": query.year, "owner": query.owner_id, "level": query.level.value if query.level else None,
              "type": query.type, "q": query.q, "candidates": "1" if query.candidates_only else "",
              "cand_level": query.cand_level, "min_months": query.min_months, "top": query.top}
    f = bm.annual_filters(request.auth, {k: v for k, v in params.items() if v is not None})
    if f.errors:
        raise DomainError(f.errors[0])
    rows = bm.AnnualRows(request.auth, f)
    counts = rows.counts()
    return {"year": f.year, "owner": {"id": f.owner.pk, "name": f.owner.name} if f.owner else None,
            "months": [p["label"] for p in f.periods], "grades": f.grades, "rule": bm.rule_text(f),
            "candidates": counts["candidates"], "count": counts["rows"],
            "items": rows.fetch(page.limit, min(page.offset, counts["rows"]))}
