"""JSON API of the member standard sets: /api/v1/member-standards (+ items, publish, archive, copy).

Same permissions as the pages: reading is ``standard.view`` (sets owned in or above the user's subtrees),
writing is ``standard.manage`` on the owner's subtree; an object outside the scope is 404. Writes go through
``standards.member_services`` (permission, state, transaction, audit live there); ``api_errors`` maps what they
raise to 400 with a Chinese sentence. Points, caps and weights are decimal strings ("2.0", "0.5"), never floats;
a cap of null means "no cap".
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Organization
from dangjian.standards import member_services as services
from dangjian.standards.models import (
    ActivitySource,
    Dimension,
    MemberItem,
    MemberPart,
    MemberStandardSet,
    SetStatus,
    VetoEffect,
)

router = Router()
TAGS = ["党员评价标准"]

STATUS_HELP = "draft=草稿，published=已发布，archived=已归档"
PART_HELP = "base=基础分，bonus=奖励分，deduction=减项分，veto=一票否决"
DIMENSION_HELP = ("politics=讲政治有信念，rules=讲规矩有纪律，morals=讲道德有品行，dedication=讲奉献有作为，"
                  "central=中心工作")
SOURCE_HELP = ("空=手工填报，meeting_attended=参加组织生活次数，meeting_absent=无故缺席组织生活次数，"
               "lecture_given=讲党课次数，study=学习记录条数，dues_missing=当月党费未按时交纳，"
               "service_hours=志愿服务时长（小时）")
VETO_HELP = "month=当月不合格、当月得分计0；year_zero=当月不合格、全年得分清零；bar_top=当月不合格、年度不得评为优秀"
DECIMAL_HELP = "十进制字符串，如 \"2.0\""

SetId = Annotated[int, Path(title="标准编号")]
ItemId = Annotated[int, Path(title="细则编号")]


def _dec(value) -> str | None:
    return None if value is None else str(value)


# ---- schemas ------------------------------------------------------------------------------------------


class MemberStandardOrgOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")
    code: str = Field(..., title="组织编码")


class MemberStandardSetOut(Schema):
    id: int = Field(..., title="标准编号")
    owner: MemberStandardOrgOut = Field(..., title="制定单位")
    year: int = Field(..., title="年度")
    name: str = Field(..., title="名称")
    version: int = Field(..., title="版本", description="同一制定单位、同一年度内从1起编号")
    status: SetStatus = Field(..., title="状态", description=STATUS_HELP)
    status_label: str = Field(..., title="状态名称")
    based_on_id: int | None = Field(None, title="复制自")
    note: str = Field("", title="说明")
    frozen: bool = Field(..., title="已冻结", description="已被已结束的评价月份使用；冻结后只能复制为新版本再修改")
    frozen_at: datetime.datetime | None = Field(None, title="冻结时间")
    published_at: datetime.datetime | None = Field(None, title="发布时间")
    item_count: int = Field(0, title="细则数")
    bonus_cap: str | None = Field(None, title="奖励分上限（每月）", description=DECIMAL_HELP + "；null 表示不设上限")
    deduction_cap: str | None = Field(None, title="减项分上限（每月）", description="null 表示不设上限")
    floor: str | None = Field(None, title="月度最低分", description="null 表示不设下限")
    pass_mark: str | None = Field(None, title="合格分数线", description="null 表示只看否决项")
    dimension_caps: dict[str, str] = Field(..., title="各维度奖励分上限（每月）",
                                           description="维度 → 上限；未列出的维度不单独设上限。" + DIMENSION_HELP)
    veto_effect: VetoEffect = Field(..., title="否决项的效果", description=VETO_HELP)
    weight_self: str = Field(..., title="自评权重（%）")
    weight_branch: str = Field(..., title="支部评定权重（%）", description="与自评权重之和为100")
    public_ranking: bool = Field(..., title="公开显示排名")

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_frozen(obj):
        return obj.frozen_at is not None

    @staticmethod
    def resolve_item_count(obj):
        return getattr(obj, "n_items", 0)

    @staticmethod
    def resolve_bonus_cap(obj):
        return _dec(obj.bonus_cap)

    @staticmethod
    def resolve_deduction_cap(obj):
        return _dec(obj.deduction_cap)

    @staticmethod
    def resolve_floor(obj):
        return _dec(obj.floor)

    @staticmethod
    def resolve_pass_mark(obj):
        return _dec(obj.pass_mark)

    @staticmethod
    def resolve_weight_self(obj):
        return str(obj.weight_self)

    @staticmethod
    def resolve_weight_branch(obj):
        return str(obj.weight_branch)


class MemberItemOut(Schema):
    id: int = Field(..., title="细则编号")
    code: str = Field(..., title="编码")
    part: MemberPart = Field(..., title="部分", description=PART_HELP)
    dimension: Dimension = Field(..., title="维度", description=DIMENSION_HELP)
    text: str = Field(..., title="评价内容")
    rule: str = Field(..., title="计分说明")
    points: str = Field(..., title="分值", description="基础分为本项满分，奖励、减项为每次的分值，一票否决项为0")
    per_miss: str | None = Field(None, title="每缺一次扣分", description="只用于基础分；null 表示缺一次即扣完")
    month_cap: str | None = Field(None, title="每月上限", description="只用于奖励、减项；null 表示不设上限")
    year_cap: str | None = Field(None, title="全年上限", description="只用于奖励、减项；null 表示不设上限")
    source: ActivitySource = Field(..., title="数据来源", description=SOURCE_HELP)
    evidence_required: bool = Field(..., title="需附佐证")
    order: int = Field(..., title="排序", description="全标准统一编号，按部分分组")

    @staticmethod
    def resolve_points(obj):
        return str(obj.points)

    @staticmethod
    def resolve_per_miss(obj):
        return _dec(obj.per_miss)

    @staticmethod
    def resolve_month_cap(obj):
        return _dec(obj.month_cap)

    @staticmethod
    def resolve_year_cap(obj):
        return _dec(obj.year_cap)


class MemberPartTotalOut(Schema):
    part: MemberPart = Field(..., title="部分", description=PART_HELP)
    count: int = Field(..., title="细则数")
    points: str = Field(..., title="分值合计", description="基础分为满分；奖励、减项为每项一次的分值之和")
    month_max: str | None = Field(None, title="每月最多", description="按各项每月上限和本部分上限计；null 表示不限")


class MemberStandardSetDetailOut(MemberStandardSetOut):
    can_manage: bool = Field(False, title="可管理", description="当前用户能否修改、发布、归档本标准")
    editable: bool = Field(False, title="可修改内容", description="草稿且未冻结，且当前用户可管理")
    items: list[MemberItemOut] = Field(..., title="评价细则", description="按部分分组排序")
    totals: list[MemberPartTotalOut] = Field(..., title="各部分汇总")
    max_total: str | None = Field(None, title="每月最高可得分", description="基础分满分 + 奖励分每月最多；null 表示不限")

    # The handler loads the items and the totals once (constant queries) and hangs them on the set.
    @staticmethod
    def resolve_items(obj):
        return obj.items_out

    @staticmethod
    def resolve_totals(obj):
        return obj.totals_out

    @staticmethod
    def resolve_max_total(obj):
        return obj.max_total_out


class MemberStandardSetPage(Schema):
    count: int = Field(..., title="总数")
    items: list[MemberStandardSetOut] = Field(..., title="本页标准")


class MemberStandardSetFilter(Schema):
    q: str | None = Field(None, title="关键词", description="标准名称或制定单位名称中包含的文字")
    year: int | None = Field(None, title="年度")
    status: SetStatus | None = Field(None, title="状态", description=STATUS_HELP)
    owner: int | None = Field(None, title="制定单位编号")


class MemberSettingsIn(Schema):
    """Settings; only the fields sent are changed (null clears a cap, the floor or the pass mark)."""

    bonus_cap: Decimal | None = Field(None, title="奖励分上限（每月）", description="大于0，最多一位小数；null 不设上限")
    deduction_cap: Decimal | None = Field(None, title="减项分上限（每月）")
    floor: Decimal | None = Field(None, title="月度最低分", description="null 表示不设下限")
    pass_mark: Decimal | None = Field(None, title="合格分数线", description="null 表示只看否决项")
    dimension_caps: dict[str, Decimal] | None = Field(None, title="各维度奖励分上限（每月）",
                                                      description="维度 → 上限；" + DIMENSION_HELP)
    veto_effect: VetoEffect | None = Field(None, title="否决项的效果", description=VETO_HELP)
    weight_self: Decimal | None = Field(None, title="自评权重（%）")
    weight_branch: Decimal | None = Field(None, title="支部评定权重（%）", description="与自评权重之和应为100")
    public_ranking: bool | None = Field(None, title="公开显示排名")


class MemberStandardSetCreateIn(MemberSettingsIn):
    owner_id: int = Field(..., title="制定单位编号", description="须为党委，且在当前用户的管理范围内")
    year: int = Field(..., title="年度", description="2000–2100")
    name: str = Field(..., title="名称", description="不超过100字")
    note: str = Field("", title="说明")


class MemberStandardSetPatchIn(MemberSettingsIn):
    """Only the fields sent are changed; drafts only."""

    name: str | None = Field(None, title="名称")
    note: str | None = Field(None, title="说明")


class MemberStandardCopyIn(Schema):
    owner_id: int | None = Field(None, title="制定单位编号", description="默认与原标准相同；可为当前用户管理的其他党委")
    year: int | None = Field(None, title="年度", description="默认与原标准相同")
    name: str | None = Field(None, title="名称", description="默认沿用原名称（年度不同时替换其中的年份）")


class MemberItemIn(Schema):
    code: str = Field(..., title="编码", description="本标准内唯一，如 JL-01")
    part: MemberPart = Field(..., title="部分", description=PART_HELP)
    dimension: Dimension = Field(..., title="维度", description=DIMENSION_HELP)
    text: str = Field(..., title="评价内容", description="不超过300字")
    rule: str = Field("", title="计分说明")
    points: Decimal | None = Field(None, title="分值", description="大于0，最多一位小数；一票否决项不填或填0")
    per_miss: Decimal | None = Field(None, title="每缺一次扣分", description="只用于基础分，不大于分值")
    month_cap: Decimal | None = Field(None, title="每月上限", description="只用于奖励、减项")
    year_cap: Decimal | None = Field(None, title="全年上限", description="只用于奖励、减项，不小于每月上限")
    source: ActivitySource = Field(ActivitySource.NONE, title="数据来源", description=SOURCE_HELP)
    evidence_required: bool = Field(False, title="需附佐证")


class MemberItemPatchIn(Schema):
    """Only the fields sent are changed; drafts only."""

    code: str | None = Field(None, title="编码")
    part: MemberPart | None = Field(None, title="部分", description=PART_HELP)
    dimension: Dimension | None = Field(None, title="维度", description=DIMENSION_HELP)
    text: str | None = Field(None, title="评价内容")
    rule: str | None = Field(None, title="计分说明")
    points: Decimal | None = Field(None, title="分值")
    per_miss: Decimal | None = Field(None, title="每缺一次扣分", description="null 表示缺一次即扣完")
    month_cap: Decimal | None = Field(None, title="每月上限", description="null 表示不设上限")
    year_cap: Decimal | None = Field(None, title="全年上限", description="null 表示不设上限")
    source: ActivitySource | None = Field(None, title="数据来源", description=SOURCE_HELP)
    evidence_required: bool | None = Field(None, title="需附佐证")


# ---- helpers ------------------------------------------------------------------------------------------


def _item_count():
    return Coalesce(Subquery(MemberItem.objects.filter(standard_set=OuterRef("pk")).order_by()
                             .values("standard_set").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


def _set(user, pk, action="standard.view") -> MemberStandardSet:
    return get_scoped_or_404(user, action, MemberStandardSet.objects.select_related("owner"), pk=pk)


def _set_out(user, pk) -> MemberStandardSet:
    ms = get_scoped_or_404(user, "standard.view", MemberStandardSet.objects.select_related("owner")
                           .annotate(n_items=_item_count()), pk=pk)
    items = services.member_set_contents(ms)
    totals = services.member_set_totals(ms, items)
    ms.items_out = items
    ms.totals_out = [{"part": p["part"], "count": p["count"], "points": str(p["points"]),
                      "month_max": _dec(p["month_max"])} for p in totals["parts"]]
    ms.max_total_out = _dec(totals["max_total"])
    ms.can_manage = services.can_manage_member_set(user, ms)
    ms.editable = ms.can_manage and ms.is_editable
    return ms


NOT_NULL_SETTINGS = ("veto_effect", "weight_self", "weight_branch", "public_ranking", "dimension_caps")


def _settings(data: dict) -> dict:
    out = {}
    for key in services.SETTING_FIELDS:
        if key not in data:
            continue
        if data[key] is None and key in NOT_NULL_SETTINGS:
            raise DomainError(_("该字段不能为空。"), key)
        out[key] = data[key]
    return out


def _item_in_set(user, set_id, item_id) -> tuple[MemberStandardSet, MemberItem]:
    ms = _set(user, set_id, "standard.manage")
    item = MemberItem.objects.filter(standard_set=ms, pk=item_id).select_related("standard_set__owner").first()
    if item is None:
        raise Http404
    return ms, item


# ---- sets ---------------------------------------------------------------------------------------------


@router.get("/member-standards", response=reads(MemberStandardSetPage), tags=TAGS, summary="党员评价标准列表",
            description="当前用户可查看的党员评价标准：本人组织范围内及其上级党委制定的标准；按年度倒序、版本倒序排列。")
@api_errors
def list_member_sets(request, filters: Query[MemberStandardSetFilter], page: Query[PageIn]):
    qs = scope(request.auth, "standard.view", MemberStandardSet.objects.all())
    if filters.q and filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(Q(name__contains=q) | Q(owner__name__contains=q))
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status.value)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    full = qs.select_related("owner").annotate(n_items=_item_count()).order_by("-year", "owner__path", "-version")
    return paginate(full, page, count_qs=qs)


@router.get("/member-standards/{set_id}", response=reads(MemberStandardSetDetailOut), tags=TAGS,
            summary="党员评价标准详情", description="含计分设置、全部评价细则和各部分汇总。")
@api_errors
def get_member_set(request, set_id: SetId):
    return _set_out(request.auth, set_id)


@router.post("/member-standards", response=writes(MemberStandardSetDetailOut, 201), tags=TAGS,
             summary="新建党员评价标准", description="生成草稿，版本号为该党委该年度的下一个版本；可同时给出计分设置。")
@api_errors(fields={"owner": "owner_id"})
def create_member_set(request, body: MemberStandardSetCreateIn):
    user = request.auth
    owner = get_scoped_or_404(user, "standard.manage", Organization.objects.all(), pk=body.owner_id)
    data = body.model_dump(exclude_unset=True)
    ms = services.create_member_set(user, owner=owner, year=body.year, name=body.name, note=body.note,
                                    settings=_settings(data))
    return 201, _set_out(user, ms.pk)


@router.patch("/member-standards/{set_id}", response=writes(MemberStandardSetDetailOut), tags=TAGS,
              summary="修改党员评价标准及计分设置",
              description="只修改请求中给出的字段；已发布、已归档或已冻结的标准不能修改，请复制为新版本。")
@api_errors
def update_member_set(request, set_id: SetId, body: MemberStandardSetPatchIn):
    user = request.auth
    ms = _set(user, set_id, "standard.manage")
    data = body.model_dump(exclude_unset=True)
    changes = _settings(data)
    if "name" in data:
        changes["name"] = data["name"]
    if "note" in data:
        changes["note"] = data["note"] or ""
    services.update_member_set(user, ms, **changes)
    return _set_out(user, ms.pk)


@router.post("/member-standards/{set_id}/publish", response=writes(MemberStandardSetDetailOut), tags=TAGS,
             summary="发布党员评价标准", description="草稿才能发布；同一党委同一年度此前发布的版本自动归档。")
@api_errors
def publish_member_set(request, set_id: SetId):
    user = request.auth
    services.publish_member_set(user, _set(user, set_id, "standard.manage"))
    return _set_out(user, set_id)


@router.post("/member-standards/{set_id}/archive", response=writes(MemberStandardSetDetailOut), tags=TAGS,
             summary="归档党员评价标准")
@api_errors
def archive_member_set(request, set_id: SetId):
    user = request.auth
    services.archive_member_set(user, _set(user, set_id, "standard.manage"))
    return _set_out(user, set_id)


@router.post("/member-standards/{set_id}/copy", response=writes(MemberStandardSetDetailOut, 201), tags=TAGS,
             summary="复制党员评价标准为新版本",
             description="复制全部计分设置和评价细则，生成新的草稿；已发布或已冻结的标准只能这样修改。")
@api_errors(fields={"owner": "owner_id"})
def copy_member_set(request, set_id: SetId, body: MemberStandardCopyIn | None = None):
    user = request.auth
    source = _set(user, set_id)
    body = body or MemberStandardCopyIn()
    owner = None
    if body.owner_id is not None:
        owner = get_scoped_or_404(user, "standard.manage", Organization.objects.all(), pk=body.owner_id)
    new = services.copy_member_set(user, source, owner=owner, year=body.year, name=body.name)
    return 201, _set_out(user, new.pk)


# ---- items --------------------------------------------------------------------------------------------


@router.post("/member-standards/{set_id}/items", response=writes(MemberItemOut, 201), tags=TAGS,
             summary="新增党员评价细则", description="草稿才能修改；编码在本标准内唯一；新细则排在其所属部分的最后。")
@api_errors
def create_member_item(request, set_id: SetId, body: MemberItemIn):
    user = request.auth
    ms = _set(user, set_id, "standard.manage")
    item = services.add_member_item(user, ms, **body.model_dump())
    return 201, item


@router.patch("/member-standards/{set_id}/items/{item_id}", response=writes(MemberItemOut), tags=TAGS,
              summary="修改党员评价细则", description="只修改请求中给出的字段。")
@api_errors
def update_member_item(request, set_id: SetId, item_id: ItemId, body: MemberItemPatchIn):
    user = request.auth
    _ms, item = _item_in_set(user, set_id, item_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("code", "part", "dimension", "text", "source", "evidence_required"):
        if key in changes and changes[key] is None:
            raise DomainError(_("该字段不能为空。"), key)
    if "rule" in changes and changes["rule"] is None:
        changes["rule"] = ""
    return services.update_member_item(user, item, **changes)


@router.delete("/member-standards/{set_id}/items/{item_id}", response=writes(None, 204), tags=TAGS,
               summary="删除党员评价细则")
@api_errors
def delete_member_item(request, set_id: SetId, item_id: ItemId):
    user = request.auth
    _ms, item = _item_in_set(user, set_id, item_id)
    services.delete_member_item(user, item)
    return 204, None
