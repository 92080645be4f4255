"""JSON API of the year end (民主评议党员), mounted by appraisal/api.py: /api/v1/appraisals.

The same access as the pages: read through ``core.access.scope`` with "appraisal.view" (a member sees their own
year through the model's ``own_q``), write through ``yearend.record_votes`` with "yearend.manage".
"""

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema

from dangjian.appraisal import yearend
from dangjian.appraisal.models import Grade, YearAppraisal
from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import PageIn, api_errors, paginate, reads, writes
from dangjian.orgs.models import Organization

router = Router(tags=["党员评价"])

GRADE_HELP = "excellent=优秀，qualified=合格，basic=基本合格，unqualified=不合格；空字符串表示未评定"
AppraisalId = Annotated[int, Path(title="党员年度评议编号")]


class YearendOrgRef(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")


class AppraisalOut(Schema):
    id: int = Field(..., title="党员年度评议编号")
    review_id: int = Field(..., title="民主评议编号")
    year: int = Field(..., title="年度")
    org: YearendOrgRef = Field(..., title="党支部")
    member_id: int = Field(..., title="党员编号")
    member_name: str = Field(..., title="姓名")
    months: int = Field(..., title="参评月数", description="本年已公示的月份数")
    annual_total: Decimal = Field(..., title="全年得分",
                                  description="各月得分之和；评价标准规定否决项“全年清零”时，有否决月份即为 0")
    average: Decimal = Field(..., title="月均得分", description="全年得分 ÷ 参评月数，保留一位小数")
    veto_months: int = Field(..., title="一票否决月数")
    unqualified_months: int = Field(..., title="不合格月数")
    rank: int | None = Field(None, title="支部内排名", description="按全年得分，并列同名次")
    suggested_grade: str = Field(..., title="建议等次", description=GRADE_HELP)
    votes_excellent: int = Field(..., title="优秀票")
    votes_qualified: int = Field(..., title="合格票")
    votes_basic: int = Field(..., title="基本合格票")
    votes_unqualified: int = Field(..., title="不合格票")
    final_grade: str = Field(..., title="评定等次", description=GRADE_HELP)
    reason: str = Field("", title="与建议等次不同的理由")
    candidate: bool = Field(..., title="优秀共产党员候选人")
    locked: bool = Field(..., title="已确认", description="民主评议已确认后不能再修改")
    locked_at: datetime.datetime | None = Field(None, title="确认时间")


class AppraisalPage(Schema):
    count: int = Field(..., title="总数")
    items: list[AppraisalOut] = Field(..., title="本页党员年度评议")


class AppraisalFilter(Schema):
    year: int | None = Field(None, title="年度")
    org_id: int | None = Field(None, title="组织编号", description="该组织及其全部下级党支部的评议")


class VotesIn(Schema):
    votes_excellent: int = Field(0, ge=0, le=100000, title="优秀票")
    votes_qualified: int = Field(0, ge=0, le=100000, title="合格票")
    votes_basic: int = Field(0, ge=0, le=100000, title="基本合格票")
    votes_unqualified: int = Field(0, ge=0, le=100000, title="不合格票",
                                   description="四项合计不超过民主评议的参加测评人数（已填写时）")
    final_grade: Grade | None = Field(None, title="评定等次",
                                      description="与建议等次不同时必须填写理由；优秀不超过比例上限")
    reason: str = Field("", max_length=500, title="理由", description="评定等次与建议等次不同时必填")
    candidate: bool = Field(False, title="优秀共产党员候选人", description="只有评定为优秀的党员才能列为候选人")


def _dict(a: YearAppraisal) -> dict:
    r = a.review
    return {
        "id": a.pk, "review_id": a.review_id, "year": r.year, "org": {"id": r.org_id, "name": r.org.name},
        "member_id": a.member_id, "member_name": a.member_name, "months": a.months, "annual_total": a.annual_total,
        "average": a.average, "veto_months": a.veto_months, "unqualified_months": a.unqualified_months,
        "rank": a.rank, "suggested_grade": a.suggested_grade, "votes_excellent": a.votes_excellent,
        "votes_qualified": a.votes_qualified, "votes_basic": a.votes_basic, "votes_unqualified": a.votes_unqualified,
        "final_grade": a.final_grade, "reason": a.reason, "candidate": a.candidate,
        "locked": r.locked_at is not None, "locked_at": r.locked_at,
    }


def _qs():
    return YearAppraisal.objects.select_related("review__org")


@router.get("/appraisals", response=reads(AppraisalPage), summary="党员年度评议列表",
            description="按组织范围过滤（党员本人可以看到自己的年度评议）；可按年度、组织（含下级）筛选。")
@api_errors
def list_appraisals(request, filters: Query[AppraisalFilter], page: Query[PageIn]):
    qs = scope(request.auth, "appraisal.view", _qs())
    if filters.year is not None:
        qs = qs.filter(review__year=filters.year)
    if filters.org_id is not None:
        path = Organization.objects.filter(pk=filters.org_id).values_list("path", flat=True).first()
        qs = qs.filter(review__org__path__startswith=path) if path else qs.none()
    result = paginate(qs.order_by("-review__year", "review__org__path", "rank", "member_name", "id"), page)
    return {"count": result["count"], "items": [_dict(a) for a in result["items"]]}


@router.get("/appraisals/{appraisal_id}", response=reads(AppraisalOut), summary="党员年度评议详情")
@api_errors
def get_appraisal(request, appraisal_id: AppraisalId):
    return _dict(get_scoped_or_404(request.auth, "appraisal.view", _qs(), pk=appraisal_id))


@router.post("/appraisals/{appraisal_id}/votes", response=writes(AppraisalOut), summary="录入民主测评票数和评定等次",
             description="票数不小于 0，合计不超过参加测评人数；评定等次与建议不同须写理由（不能简单以票取人）；"
                         "优秀不超过比例上限；只有优秀可列为优秀共产党员候选人；已确认的评议不能修改。")
@api_errors
def record_votes(request, appraisal_id: AppraisalId, body: VotesIn):
    user = request.auth
    a = get_scoped_or_404(user, "yearend.manage", _qs(), pk=appraisal_id)
    a = yearend.record_votes(
        user, a, votes_excellent=body.votes_excellent, votes_qualified=body.votes_qualified,
        votes_basic=body.votes_basic, votes_unqualified=body.votes_unqualified,
        final_grade=body.final_grade.value if body.final_grade else "", reason=body.reason, candidate=body.candidate)
    return _dict(_qs().get(pk=a.pk))


__all__ = ["router"]
