"""JSON API of the surveys part (mounted by service/api.py), with the permissions of the pages:

- ``/surveys`` (list, create — blank or from a shipped template), ``/surveys/{id}`` (detail with questions, change
  settings), ``/surveys/{id}/questions`` (list, add, change, delete, reorder — while a draft),
  ``/surveys/{id}/open``, ``/close``, ``/recompute``, ``/surveys/{id}/links`` (list, add);
- ``/survey-responses``: the anonymous responses with their answers, for the staff who manage surveys
  (``survey.manage``); no client hash is ever returned;
- ``/satisfaction-indices``: the monthly indices the user may see.

The public response is a page only: there is no anonymous write here.
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Count, F, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core import public
from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.dates import month_start
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Organization
from dangjian.service import surveys as services
from dangjian.service.models import (
    Answer,
    QKind,
    Question,
    SatisfactionIndex,
    ServiceArea,
    Survey,
    SurveyKind,
    SurveyResponse,
    SurveyState,
)

router = Router(tags=["服务群众"])

SurveyId = Annotated[int, Path(title="问卷编号")]
QuestionId = Annotated[int, Path(title="题目编号")]
KIND_HELP = "government=政府满意度，customer=客户满意度"
STATE_HELP = "draft=草稿，open=收集中，closed=已结束"
QKIND_HELP = "scale=满意度量表（满意/比较满意/不太满意/不满意/不清楚），choice=单选，multi=多选，text=文字"


class SurveyOrgRef(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")


class QuestionOut(Schema):
    id: int = Field(..., title="题目编号")
    order: int = Field(..., title="序号")
    kind: QKind = Field(..., title="题型", description=QKIND_HELP)
    text: str = Field(..., title="题目")
    required: bool = Field(..., title="必答")
    options: list[str] = Field(..., title="选项", description="量表题为五级量表的名称；文字题为空")
    topic: str = Field(..., title="关注方面")


class SurveyOut(Schema):
    id: int = Field(..., title="问卷编号")
    title: str = Field(..., title="问卷名称")
    kind: SurveyKind = Field(..., title="类型", description=KIND_HELP)
    state: SurveyState = Field(..., title="状态", description=STATE_HELP)
    owner: SurveyOrgRef = Field(..., title="发起单位")
    intro: str = Field(..., title="卷首语")
    threshold: Decimal = Field(..., title="满意度预警线")
    min_responses: int = Field(..., title="预警最少样本数")
    one_per_invitation: bool = Field(..., title="每个邀请码限答一次")
    opens_on: datetime.date | None = Field(None, title="开始日期")
    closes_on: datetime.date | None = Field(None, title="结束日期")
    created_at: datetime.datetime = Field(..., title="创建时间")


class SurveyDetailOut(SurveyOut):
    questions: list[QuestionOut] = Field(..., title="题目")


class SurveyPage(Schema):
    count: int = Field(..., title="总数")
    items: list[SurveyOut] = Field(..., title="本页问卷")


class SurveyFilter(Schema):
    kind: SurveyKind | None = Field(None, title="类型", description=KIND_HELP)
    state: SurveyState | None = Field(None, title="状态", description=STATE_HELP)
    q: str | None = Field(None, title="关键词", description="在问卷名称中查找", max_length=100)


class SurveyIn(Schema):
    owner_id: int = Field(..., title="发起单位编号")
    template: str | None = Field(None, title="问卷模板", description="government=政府满意度调查模板，"
                                 "customer=客户满意度调查模板；为空时创建空白问卷", pattern="^(government|customer)$")
    title: str | None = Field(None, title="问卷名称", description="使用模板时可不填", max_length=200)
    kind: SurveyKind = Field(SurveyKind.CUSTOMER, title="类型", description=KIND_HELP + "；使用模板时取模板的类型")
    intro: str = Field("", title="卷首语", max_length=2000)
    threshold: Decimal | None = Field(None, title="满意度预警线", description="0–100；为空时取默认值（模板或80）")
    min_responses: int = Field(5, title="预警最少样本数")
    one_per_invitation: bool = Field(False, title="每个邀请码限答一次")
    opens_on: datetime.date | None = Field(None, title="开始日期")
    closes_on: datetime.date | None = Field(None, title="结束日期")


class SurveyPatch(Schema):
    title: str | None = Field(None, title="问卷名称", max_length=200)
    kind: SurveyKind | None = Field(None, title="类型", description=KIND_HELP + "；仅草稿可改")
    intro: str | None = Field(None, title="卷首语", max_length=2000)
    threshold: Decimal | None = Field(None, title="满意度预警线")
    min_responses: int | None = Field(None, title="预警最少样本数")
    one_per_invitation: bool | None = Field(None, title="每个邀请码限答一次", description="仅草稿可改")
    opens_on: datetime.date | None = Field(None, title="开始日期")
    closes_on: datetime.date | None = Field(None, title="结束日期")


class QuestionIn(Schema):
    kind: QKind = Field(QKind.SCALE, title="题型", description=QKIND_HELP)
    text: str = Field(..., title="题目", max_length=400)
    required: bool = Field(True, title="必答")
    options: list[str] = Field([], title="选项", description="单选、多选题的选项（2–20个）", max_length=50)
    topic: str = Field("", title="关注方面", description="量表题所衡量的方面，如供电质量", max_length=40)


class QuestionPatch(Schema):
    kind: QKind | None = Field(None, title="题型", description=QKIND_HELP)
    text: str | None = Field(None, title="题目", max_length=400)
    required: bool | None = Field(None, title="必答")
    options: list[str] | None = Field(None, title="选项", max_length=50)
    topic: str | None = Field(None, title="关注方面", max_length=40)


class OrderIn(Schema):
    ids: list[int] = Field(..., title="题目编号", description="本问卷全部题目的编号，按新的顺序", max_length=100)


class LinkOut(Schema):
    id: int = Field(..., title="链接编号")
    org: SurveyOrgRef = Field(..., title="被评价单位")
    area_id: int | None = Field(None, title="服务区域编号")
    area_name: str | None = Field(None, title="服务区域")
    enabled: bool = Field(..., title="启用")
    url: str = Field(..., title="公众填写地址", description="匿名填写页面的完整地址（二维码内容）")
    responses: int = Field(..., title="答卷数")


class LinksIn(Schema):
    org_ids: list[int] = Field([], title="被评价单位编号", max_length=500)
    area_ids: list[int] = Field([], title="服务区域编号", max_length=500)


class LinkList(Schema):
    items: list[LinkOut] = Field(..., title="调查链接")


class RecomputeOut(Schema):
    indices: int = Field(..., title="重新计算的指数条数")
    tickets: int = Field(..., title="新生成的整改工单数")


class AnswerOut(Schema):
    question_id: int = Field(..., title="题目编号")
    choice: int | None = Field(None, title="所选序号", description="量表、单选题：选项序号（从0开始）")
    choices: list[int] = Field(..., title="所选序号（多选）")
    text: str = Field(..., title="文字答案")
    label: str = Field(..., title="答案", description="答案的文字形式")
    score: Decimal | None = Field(None, title="得分")


class ResponseOut(Schema):
    id: int = Field(..., title="答卷编号")
    survey_id: int = Field(..., title="问卷编号")
    org: SurveyOrgRef = Field(..., title="被评价单位")
    area_id: int | None = Field(None, title="服务区域编号")
    month: str = Field(..., title="月份", description="YYYY-MM")
    score: Decimal | None = Field(None, title="得分", description="量表题得分的平均值（不清楚不计入）")
    submitted_at: datetime.datetime = Field(..., title="提交时间")
    answers: list[AnswerOut] = Field(..., title="答案")


class ResponsePage(Schema):
    count: int = Field(..., title="总数")
    items: list[ResponseOut] = Field(..., title="本页答卷")


class ResponseFilter(Schema):
    survey_id: int | None = Field(None, title="问卷编号")
    org_id: int | None = Field(None, title="单位编号", description="含下级单位")
    month: str | None = Field(None, title="月份", description="YYYY-MM", max_length=7)


class IndexOut(Schema):
    id: int = Field(..., title="编号")
    org: SurveyOrgRef = Field(..., title="单位")
    month: str = Field(..., title="月份", description="YYYY-MM")
    kind: SurveyKind = Field(..., title="类型", description=KIND_HELP)
    responses: int = Field(..., title="样本数")
    mean_score: Decimal | None = Field(None, title="满意度指数", description="0–100，一位小数，四舍五入")
    share_satisfied: Decimal | None = Field(None, title="满意率（%）", description="得分不低于80分的答卷占比")
    threshold: Decimal | None = Field(None, title="预警线")
    ticket_id: int | None = Field(None, title="整改工单编号", description="指数偏低自动生成的工单")
    ticket_number: str | None = Field(None, title="整改工单号")


class IndexPage(Schema):
    count: int = Field(..., title="总数")
    items: list[IndexOut] = Field(..., title="本页指数")


class IndexFilter(Schema):
    org_id: int | None = Field(None, title="单位编号", description="含下级单位")
    month: str | None = Field(None, title="月份", description="YYYY-MM", max_length=7)
    kind: SurveyKind | None = Field(None, title="类型", description=KIND_HELP)
    low: bool | None = Field(None, title="只看低于预警线")


# ---- helpers ----------------------------------------------------------------------------------------------------


def _question_dict(q: Question) -> dict:
    options = services.scale_labels() if q.kind == QKind.SCALE else list(q.options)
    return {"id": q.pk, "order": q.order, "kind": q.kind, "text": q.text, "required": q.required,
            "options": options, "topic": q.topic}


def _survey_dict(s: Survey, *, questions: bool = False) -> dict:
    out = {"id": s.pk, "title": s.title, "kind": s.kind, "state": s.state,
           "owner": {"id": s.owner_id, "name": s.owner.name}, "intro": s.intro, "threshold": s.threshold,
           "min_responses": s.min_responses, "one_per_invitation": s.one_per_invitation, "opens_on": s.opens_on,
           "closes_on": s.closes_on, "created_at": s.created_at}
    if questions:
        out["questions"] = [_question_dict(q) for q in s.questions.order_by("order", "id")]
    return out


def _visible(user, survey_id: int) -> Survey:
    try:
        return services.visible_surveys(user).select_related("owner").get(pk=survey_id)
    except Survey.DoesNotExist as exc:
        raise Http404 from exc


def _managed(user, survey_id: int) -> Survey:
    return get_scoped_or_404(user, "survey.manage", Survey.objects.select_related("owner"), pk=survey_id)


def _month(text: str | None):
    if not text:
        return None
    if len(text.strip()) != 7:
        raise DomainError(_("月份格式应为 YYYY-MM，例如 2026-10。"), "month")
    return month_start(text.strip())


# ---- surveys ----------------------------------------------------------------------------------------------------


@router.get("/surveys", response=reads(SurveyPage), summary="满意度调查问卷列表",
            description="当前用户可见的问卷（本单位及下级发起的，或有本单位调查链接的），新的在前。")
@api_errors
def list_surveys(request, filters: Query[SurveyFilter], page: Query[PageIn]):
    qs = services.visible_surveys(request.auth).select_related("owner").order_by("-created_at", "-id")
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    if filters.state:
        qs = qs.filter(state=filters.state.value)
    if filters.q:
        qs = qs.filter(title__contains=filters.q)
    result = paginate(qs, page)
    return {"count": result["count"], "items": [_survey_dict(s) for s in result["items"]]}


@router.post("/surveys", response=writes(SurveyDetailOut, 201), summary="新建满意度调查问卷",
             description="创建问卷草稿；指定 template 时按模板生成题目。需要发起单位的问卷管理权限。")
@api_errors(fields={"owner": "owner_id"})
def create_survey(request, body: SurveyIn):
    user = request.auth
    owner = get_scoped_or_404(user, "survey.manage", Organization.objects.all(), pk=body.owner_id)
    if body.template:
        survey = services.create_from_template(user, owner, body.template, title=body.title)
        changes = {k: v for k, v in {"intro": body.intro or None, "threshold": body.threshold,
                                     "min_responses": body.min_responses, "one_per_invitation": body.one_per_invitation,
                                     "opens_on": body.opens_on, "closes_on": body.closes_on}.items() if v is not None}
        services.update_survey(user, survey, **changes)
    else:
        survey = services.create_survey(user, owner, title=body.title or "", kind=body.kind.value, intro=body.intro,
                                        threshold=body.threshold if body.threshold is not None else Decimal("80"),
                                        min_responses=body.min_responses,
                                        one_per_invitation=body.one_per_invitation, opens_on=body.opens_on,
                                        closes_on=body.closes_on)
    return 201, _survey_dict(_managed(user, survey.pk), questions=True)


@router.get("/surveys/{survey_id}", response=reads(SurveyDetailOut), summary="满意度调查问卷详情")
@api_errors
def get_survey(request, survey_id: SurveyId):
    return _survey_dict(_visible(request.auth, survey_id), questions=True)


@router.patch("/surveys/{survey_id}", response=writes(SurveyDetailOut), summary="修改问卷设置",
              description="草稿可改全部设置；收集中只能改名称、卷首语、预警线、最少样本数和结束日期；已结束不能修改。")
@api_errors
def patch_survey(request, survey_id: SurveyId, body: SurveyPatch):
    user = request.auth
    survey = _managed(user, survey_id)
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in body.dict(exclude_unset=True).items()
               if v is not None}
    services.update_survey(user, survey, **changes)
    return _survey_dict(_managed(user, survey_id), questions=True)


@router.post("/surveys/{survey_id}/open", response=writes(SurveyOut), summary="开始调查",
             description="草稿 → 收集中；至少需要一道满意度量表题，开始后题目固定。")
@api_errors
def open_survey(request, survey_id: SurveyId):
    user = request.auth
    services.open_survey(user, _managed(user, survey_id))
    return _survey_dict(_managed(user, survey_id))


@router.post("/surveys/{survey_id}/close", response=writes(SurveyOut), summary="结束调查",
             description="收集中 → 已结束；随即重新计算相关月份的满意度指数，偏低的自动生成整改工单。")
@api_errors
def close_survey(request, survey_id: SurveyId):
    user = request.auth
    services.close_survey(user, _managed(user, survey_id))
    return _survey_dict(_managed(user, survey_id))


@router.post("/surveys/{survey_id}/recompute", response=writes(RecomputeOut), summary="重新计算满意度指数",
             description="重新计算本问卷各月份、各单位的满意度指数；已有工单的指数不会重复生成工单。")
@api_errors
def recompute(request, survey_id: SurveyId):
    user = request.auth
    written, opened = services.recompute_survey(user, _managed(user, survey_id))
    return {"indices": written, "tickets": opened}


# ---- questions --------------------------------------------------------------------------------------------------


@router.get("/surveys/{survey_id}/questions", response=reads(list[QuestionOut]), summary="问卷题目")
@api_errors
def list_questions(request, survey_id: SurveyId):
    survey = _visible(request.auth, survey_id)
    return [_question_dict(q) for q in survey.questions.order_by("order", "id")]


@router.post("/surveys/{survey_id}/questions", response=writes(QuestionOut, 201), summary="添加题目",
             description="仅草稿可添加。")
@api_errors
def add_question(request, survey_id: SurveyId, body: QuestionIn):
    user = request.auth
    q = services.add_question(user, _managed(user, survey_id), kind=body.kind.value, text=body.text,
                              required=body.required, options=body.options, topic=body.topic)
    return 201, _question_dict(q)


def _own_question(user, survey_id: int, question_id: int) -> Question:
    survey = _managed(user, survey_id)
    return get_scoped_or_404(user, "survey.manage", Question.objects.select_related("survey__owner"),
                             pk=question_id, survey=survey)


@router.patch("/surveys/{survey_id}/questions/{question_id}", response=writes(QuestionOut), summary="修改题目",
              description="仅草稿可修改。")
@api_errors
def patch_question(request, survey_id: SurveyId, question_id: QuestionId, body: QuestionPatch):
    user = request.auth
    q = _own_question(user, survey_id, question_id)
    data = {"kind": q.kind, "text": q.text, "required": q.required, "options": q.options, "topic": q.topic}
    data.update({k: (v.value if hasattr(v, "value") else v) for k, v in body.dict(exclude_unset=True).items()
                 if v is not None})
    return _question_dict(services.update_question(user, q, **data))


@router.delete("/surveys/{survey_id}/questions/{question_id}", response=writes(None, 204), summary="删除题目",
               description="仅草稿可删除。")
@api_errors
def delete_question(request, survey_id: SurveyId, question_id: QuestionId):
    user = request.auth
    services.delete_question(user, _own_question(user, survey_id, question_id))
    return 204, None


@router.post("/surveys/{survey_id}/question-order", response=writes(list[QuestionOut]), summary="调整题目顺序",
             description="按 ids 的顺序重新排列本问卷的全部题目（仅草稿）。")
@api_errors
def order_questions(request, survey_id: SurveyId, body: OrderIn):
    user = request.auth
    survey = _managed(user, survey_id)
    services.reorder_questions(user, survey, body.ids)
    return [_question_dict(q) for q in survey.questions.order_by("order", "id")]


# ---- links ------------------------------------------------------------------------------------------------------


def _links(request, survey: Survey) -> list[dict]:
    links = (scope(request.auth, "survey.view", survey.links.select_related("org", "area"))
             .annotate(n=Count("responses")).order_by("org__path", "area__name"))
    return [{"id": lk.pk, "org": {"id": lk.org_id, "name": lk.org.name}, "area_id": lk.area_id,
             "area_name": lk.area.name if lk.area else None, "enabled": lk.enabled,
             "url": public.public_url(request, "service:survey_public", lk.key), "responses": lk.n}
            for lk in links]


@router.get("/surveys/{survey_id}/links", response=reads(LinkList), summary="调查链接",
            description="问卷的匿名填写链接（每个被评价单位或服务区域一个），只列出当前用户范围内的单位。")
@api_errors
def list_links(request, survey_id: SurveyId):
    return {"items": _links(request, _visible(request.auth, survey_id))}


@router.post("/surveys/{survey_id}/links", response=writes(LinkList, 201), summary="生成调查链接",
             description="为发起单位范围内的组织或服务区域生成链接；已有链接的不重复生成。返回全部链接。")
@api_errors(fields={"orgs": "org_ids", "areas": "area_ids"})
def add_links(request, survey_id: SurveyId, body: LinksIn):
    user = request.auth
    survey = _managed(user, survey_id)
    orgs = list(Organization.objects.filter(pk__in=body.org_ids))
    areas = list(ServiceArea.objects.select_related("org").filter(pk__in=body.area_ids))
    if len(orgs) != len(set(body.org_ids)):
        raise DomainError(_("所选单位不存在。"), "orgs")
    if len(areas) != len(set(body.area_ids)):
        raise DomainError(_("所选服务区域不存在。"), "areas")
    services.add_links(user, survey, orgs=orgs, areas=areas)
    return 201, {"items": _links(request, survey)}


# ---- responses and indices --------------------------------------------------------------------------------------


@router.get("/survey-responses", response={**reads(ResponsePage), 400: DomainErrorOut}, summary="调查答卷",
            description="匿名答卷及其答案（问卷管理人员可见，不含任何提交者信息），新的在前。")
@api_errors
def list_responses(request, filters: Query[ResponseFilter], page: Query[PageIn]):
    user = request.auth
    qs = scope(user, "survey.manage", SurveyResponse.objects.select_related("org")).order_by("-submitted_at", "-id")
    if filters.survey_id is not None:
        qs = qs.filter(survey_id=filters.survey_id)
    if filters.org_id is not None:
        org = get_scoped_or_404(user, "survey.manage", Organization.objects.all(), pk=filters.org_id)
        qs = qs.filter(org__path__startswith=org.path)
    month = _month(filters.month)
    if month:
        qs = qs.filter(month=month)
    result = paginate(qs.prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("question"))),
                      page)
    items = []
    for r in result["items"]:
        items.append({
            "id": r.pk, "survey_id": r.survey_id, "org": {"id": r.org_id, "name": r.org.name}, "area_id": r.area_id,
            "month": f"{r.month:%Y-%m}", "score": r.score, "submitted_at": r.submitted_at,
            "answers": [{"question_id": a.question_id, "choice": a.choice, "choices": a.choices, "text": a.text,
                         "label": services.answer_text(a.question, a), "score": a.score} for a in r.answers.all()],
        })
    return {"count": result["count"], "items": items}


@router.get("/satisfaction-indices", response={**reads(IndexPage), 400: DomainErrorOut}, summary="满意度指数",
            description="按单位、月份、调查类型的满意度指数（当前用户范围内），新的月份在前。")
@api_errors
def list_indices(request, filters: Query[IndexFilter], page: Query[PageIn]):
    user = request.auth
    qs = (scope(user, "survey.view", SatisfactionIndex.objects.select_related("org", "ticket"))
          .order_by("-month", "org__path", "kind"))
    if filters.org_id is not None:
        org = get_scoped_or_404(user, "survey.view", Organization.objects.all(), pk=filters.org_id)
        qs = qs.filter(org__path__startswith=org.path)
    month = _month(filters.month)
    if month:
        qs = qs.filter(month=month)
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    if filters.low:
        qs = qs.filter(mean_score__lt=F("threshold"))
    result = paginate(qs, page)
    items = []
    for ix in result["items"]:
        ticket = getattr(ix, "ticket", None)
        items.append({"id": ix.pk, "org": {"id": ix.org_id, "name": ix.org.name}, "month": f"{ix.month:%Y-%m}",
                      "kind": ix.kind, "responses": ix.responses, "mean_score": ix.mean_score,
                      "share_satisfied": ix.share_satisfied, "threshold": ix.threshold,
                      "ticket_id": ticket.pk if ticket else None, "ticket_number": ticket.number if ticket else None})
    return {"count": result["count"], "items": items}

