"""JSON API of the standard sets: /api/v1/standards (+ categories, items, publish, archive, copy, applicable).

Same permissions as the pages: reading is ``standard.view`` (sets owned in or above the user's subtrees),
writing is ``standard.manage`` on the owner's subtree; an object outside the scope is 404. Writes go through
``standards.services`` (permission, state, transaction, audit live there); ``api_errors`` maps what they raise.
Points and weights are decimal strings ("5.0", "1.5"), never floats.
"""

import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization, OrgType
from dangjian.standards import services
from dangjian.standards.member_api import router as member_router
from dangjian.standards.models import Category, Item, Method, SetStatus, StandardSet

router = Router()
router.add_router("/", member_router)  # /member-standards: the member standard sets (党员评价标准)
TAGS = ["考评标准"]

STATUS_HELP = "draft=草稿，published=已发布，archived=已归档"
METHOD_HELP = "report=信息资料报送，self=自我评价，onsite=现场考评"
AUTO_HELP = ("satisfaction_customer=客户满意度指数，satisfaction_government=政府满意度指数，"
             "satisfaction=满意度指数（客户与政府合并），ticket_closure=整改工单销号率")
LEVEL_HELP = "committee=党委，general=党总支，branch=党支部"
TYPE_HELP = "组织类型编码：production=生产类（含供电所类），management=管理类，business=经营类"

SetId = Annotated[int, Path(title="标准编号")]
ItemId = Annotated[int, Path(title="细则编号")]
CategoryId = Annotated[int, Path(title="类别编号")]
Points = Annotated[Decimal, Field(gt=0, max_digits=5, decimal_places=1, title="分值",
                                  description="大于0，最多一位小数")]


# ---- schemas ------------------------------------------------------------------------------------------


class StandardOrgOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")
    code: str = Field(..., title="组织编码")


class StandardSetOut(Schema):
    id: int = Field(..., title="标准编号")
    owner: StandardOrgOut = Field(..., title="制定单位")
    year: int = Field(..., title="年度")
    name: str = Field(..., title="名称")
    version: int = Field(..., title="版本", description="同一制定单位、同一年度内从1起编号")
    status: SetStatus = Field(..., title="状态", description=STATUS_HELP)
    status_label: str = Field(..., title="状态名称")
    based_on_id: int | None = Field(None, title="复制自", description="由哪个标准复制而来")
    note: str = Field("", title="说明")
    frozen: bool = Field(..., title="已冻结", description="已被已兑现月份使用；冻结后只能复制为新版本再修改")
    frozen_at: datetime.datetime | None = Field(None, title="冻结时间")
    published_at: datetime.datetime | None = Field(None, title="发布时间")
    item_count: int = Field(0, title="细则数")

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_frozen(obj):
        return obj.frozen_at is not None

    @staticmethod
    def resolve_item_count(obj):
        return getattr(obj, "n_items", 0)


class StandardItemOut(Schema):
    id: int = Field(..., title="细则编号")
    category_id: int = Field(..., title="类别编号")
    code: str = Field(..., title="细则编码")
    text: str = Field(..., title="考评内容")
    max_points: str = Field(..., title="分值", description="十进制字符串，如 \"5.0\"")
    rule: str = Field(..., title="扣分标准")
    evidence: str = Field(..., title="要求报送的资料")
    methods: list[Method] = Field(..., title="考评方式", description=METHOD_HELP)
    applies_levels: list[Level] = Field(..., title="适用层级", description=LEVEL_HELP + "；空表示全部层级")
    applies_types: list[str] = Field(..., title="适用类型", description=TYPE_HELP + "；空表示各类型通用（公用项）")
    common: bool = Field(..., title="公用项", description="不区分类型为 true（公用），只适用于某些类型为 false（差异）")
    weights: dict[str, str] = Field(..., title="类型权重", description="组织类型编码 → 分值倍数；未列出的类型为1")
    is_veto: bool = Field(..., title="一票否决项")
    order: int = Field(..., title="排序")
    auto_source: str = Field(..., title="服务数据计分", description=AUTO_HELP + "；空字符串为人工评分")
    auto_full_at: str | None = Field(None, title="满分线", description="服务数据达到该值得满分（0–100）")
    auto_zero_at: str | None = Field(None, title="零分线", description="不高于该值得0分，其间按比例")
    auto_min_sample: int = Field(..., title="最少样本数")

    @staticmethod
    def resolve_auto_full_at(obj):
        return str(obj.auto_full_at) if obj.auto_full_at is not None else None

    @staticmethod
    def resolve_auto_zero_at(obj):
        return str(obj.auto_zero_at) if obj.auto_zero_at is not None else None

    @staticmethod
    def resolve_max_points(obj):
        return str(obj.max_points)

    @staticmethod
    def resolve_applies_types(obj):
        return [t.code for t in obj.applies_types.all()]

    @staticmethod
    def resolve_common(obj):
        return obj.is_common


class StandardCategoryOut(Schema):
    id: int = Field(..., title="类别编号")
    code: str = Field(..., title="类别编码")
    name: str = Field(..., title="类别名称")
    order: int = Field(..., title="排序")


class StandardCategoryWithItemsOut(StandardCategoryOut):
    items: list[StandardItemOut] = Field(..., title="细则")

    @staticmethod
    def resolve_items(obj):
        return list(obj.items.all())


class StandardSummaryRow(Schema):
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, title="类型编码", description="党委、党总支不分类型时为 null")
    count: int = Field(..., title="细则数")
    common: int = Field(..., title="其中公用项")
    veto: int = Field(..., title="一票否决项数")
    total: str = Field(..., title="满分", description="按类型权重计算后的满分，十进制字符串")


class StandardSetDetailOut(StandardSetOut):
    can_manage: bool = Field(False, title="可管理", description="当前用户能否修改、发布、归档本标准")
    editable: bool = Field(False, title="可修改内容", description="草稿且未冻结，且当前用户可管理")
    categories: list[StandardCategoryWithItemsOut] = Field(..., title="类别和细则")
    summary: list[StandardSummaryRow] = Field(..., title="各层级、类型的细则数和满分")

    # The handler loads the contents and the summary once (constant queries) and hangs them on the set.
    @staticmethod
    def resolve_categories(obj):
        return obj.categories_out

    @staticmethod
    def resolve_summary(obj):
        return obj.summary_out


class StandardSetPage(Schema):
    count: int = Field(..., title="总数")
    items: list[StandardSetOut] = Field(..., title="本页标准")


class StandardSetFilter(Schema):
    q: str | None = Field(None, title="关键词", description="标准名称或制定单位名称中包含的文字")
    year: int | None = Field(None, title="年度")
    status: SetStatus | None = Field(None, title="状态", description=STATUS_HELP)
    owner: int | None = Field(None, title="制定单位编号")


class StandardSetCreateIn(Schema):
    owner_id: int = Field(..., title="制定单位编号", description="须为党委，且在当前用户的管理范围内")
    year: int = Field(..., ge=2000, le=2100, title="年度")
    name: str = Field(..., max_length=100, title="名称")
    note: str = Field("", max_length=2000, title="说明")


class StandardSetPatchIn(Schema):
    """Only the fields sent are changed; drafts only."""

    name: str | None = Field(None, max_length=100, title="名称")
    note: str | None = Field(None, max_length=2000, title="说明")


class StandardCopyIn(Schema):
    owner_id: int | None = Field(None, title="制定单位编号", description="默认与原标准相同；可为当前用户管理的其他党委")
    year: int | None = Field(None, ge=2000, le=2100, title="年度", description="默认与原标准相同")
    name: str | None = Field(None, max_length=100, title="名称", description="默认沿用原名称（年度不同时替换其中的年份）")


class StandardCategoryIn(Schema):
    code: str = Field(..., max_length=10, title="类别编码")
    name: str = Field(..., max_length=40, title="类别名称")


class StandardCategoryPatchIn(Schema):
    code: str | None = Field(None, max_length=10, title="类别编码")
    name: str | None = Field(None, max_length=40, title="类别名称")
    order: int | None = Field(None, ge=0, le=32767, title="排序")


class StandardItemIn(Schema):
    category_id: int = Field(..., title="类别编号")
    code: str = Field(..., max_length=20, title="细则编码", description="本标准内唯一，如 ZZ-01")
    text: str = Field(..., max_length=1000, title="考评内容")
    max_points: Points
    rule: str = Field(..., max_length=1000, title="扣分标准")
    evidence: str = Field("", max_length=1000, title="要求报送的资料")
    methods: list[Method] = Field(..., min_length=1, title="考评方式", description=METHOD_HELP)
    applies_levels: list[Level] = Field([], title="适用层级", description=LEVEL_HELP + "；空表示全部层级")
    applies_types: list[str] = Field([], title="适用类型", description=TYPE_HELP + "；空表示公用项")
    weights: dict[str, Decimal] = Field({}, title="类型权重", description="组织类型编码 → 倍数（大于0，不超过10）")
    is_veto: bool = Field(False, title="一票否决项")
    auto_source: str = Field("", max_length=24, title="服务数据计分", description=AUTO_HELP + "；空为人工评分")
    auto_full_at: Decimal | None = Field(None, title="满分线", description="按服务数据计分时必填，0–100")
    auto_zero_at: Decimal | None = Field(None, title="零分线", description="按服务数据计分时必填，低于满分线")
    auto_min_sample: int | None = Field(None, title="最少样本数", description="默认1")


class StandardItemPatchIn(Schema):
    """Only the fields sent are changed; drafts only."""

    category_id: int | None = Field(None, title="类别编号")
    code: str | None = Field(None, max_length=20, title="细则编码")
    text: str | None = Field(None, max_length=1000, title="考评内容")
    max_points: Points | None = Field(None, title="分值", description="大于0，最多一位小数")
    rule: str | None = Field(None, max_length=1000, title="扣分标准")
    evidence: str | None = Field(None, max_length=1000, title="要求报送的资料")
    methods: list[Method] | None = Field(None, title="考评方式", description=METHOD_HELP)
    applies_levels: list[Level] | None = Field(None, title="适用层级", description=LEVEL_HELP)
    applies_types: list[str] | None = Field(None, title="适用类型", description=TYPE_HELP)
    weights: dict[str, Decimal] | None = Field(None, title="类型权重")
    is_veto: bool | None = Field(None, title="一票否决项")
    auto_source: str | None = Field(None, max_length=24, title="服务数据计分", description=AUTO_HELP + "；空为人工评分")
    auto_full_at: Decimal | None = Field(None, title="满分线")
    auto_zero_at: Decimal | None = Field(None, title="零分线")
    auto_min_sample: int | None = Field(None, title="最少样本数")


class ApplicableStandardFilter(Schema):
    org_id: int = Field(..., title="组织编号", description="须在当前用户的组织范围内，且隶属于本标准的制定单位")


class ApplicableStandardItemOut(StandardItemOut):
    points: str = Field(..., title="该组织的分值", description="分值 × 该组织类型的权重")
    category_name: str = Field(..., title="类别名称")

    @staticmethod
    def resolve_points(obj):
        return str(obj.points)

    @staticmethod
    def resolve_category_name(obj):
        return obj.category.name


class ApplicableStandardOut(Schema):
    org: StandardOrgOut = Field(..., title="组织")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, title="类型编码")
    count: int = Field(..., title="适用细则数")
    veto: int = Field(..., title="一票否决项数")
    total: str = Field(..., title="满分", description="十进制字符串")
    items: list[ApplicableStandardItemOut] = Field(..., title="适用细则")


# ---- helpers ------------------------------------------------------------------------------------------


def _plain(values):
    return [v.value if isinstance(v, Enum) else v for v in values]


def _item_count():
    return Coalesce(Subquery(Item.objects.filter(standard_set=OuterRef("pk")).order_by()
                             .values("standard_set").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


def _set(user, pk, action="standard.view") -> StandardSet:
    qs = StandardSet.objects.select_related("owner")
    return get_scoped_or_404(user, action, qs, pk=pk)


def _set_out(user, pk) -> StandardSet:
    ss = get_scoped_or_404(user, "standard.view", StandardSet.objects.select_related("owner")
                           .annotate(n_items=_item_count()), pk=pk)
    categories = services.set_contents(ss)
    all_types = list(OrgType.objects.all())
    ss.categories_out = categories
    ss.summary_out = [
        {"level": r["level"], "type": r["type"].code if r["type"] else None, "count": r["count"],
         "common": r["common"], "veto": r["veto"], "total": str(r["total"])}
        for r in services.level_type_summary(categories, services.summary_types(categories, all_types))
    ]
    ss.can_manage = services.can_manage(user, ss)
    ss.editable = ss.can_manage and ss.is_editable
    return ss


def _types(codes: list[str] | None) -> list[OrgType] | None:
    if codes is None:
        return None
    codes = [c.strip() for c in codes]
    found = {t.code: t for t in OrgType.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(_("组织类型编码“{code}”不存在。").format(code="、".join(unknown)), "applies_types")
    return [found[c] for c in codes]


def _category(ss: StandardSet, pk: int | None) -> Category:
    category = Category.objects.filter(standard_set=ss, pk=pk).first()
    if category is None:
        raise DomainError(_("类别编号{pk}不属于本标准。").format(pk=pk), "category_id")
    return category


def _item_changes(ss: StandardSet, data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if key == "category_id":
            out["category"] = _category(ss, value)
        elif key == "applies_types":
            out["applies_types"] = _types(value)
        elif key in ("methods", "applies_levels"):
            out[key] = _plain(value or [])
        elif key == "weights":
            out["weights"] = value or {}
        else:
            out[key] = value
    return out


def _item_in_set(user, set_id, item_id, action="standard.manage") -> tuple[StandardSet, Item]:
    ss = _set(user, set_id, action)
    item = Item.objects.filter(standard_set=ss, pk=item_id).select_related("category").first()
    if item is None:
        from django.http import Http404

        raise Http404
    return ss, item


def _item_out(item_id) -> Item:
    return Item.objects.prefetch_related("applies_types").get(pk=item_id)


# ---- sets ---------------------------------------------------------------------------------------------


@router.get("/standards", response=reads(StandardSetPage), tags=TAGS, summary="考评标准列表",
            description="当前用户可查看的标准：本人组织范围内及其上级党委制定的标准；按年度倒序、版本倒序排列。")
@api_errors
def list_sets(request, filters: Query[StandardSetFilter], page: Query[PageIn]):
    qs = scope(request.auth, "standard.view", StandardSet.objects.all())
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


@router.get("/standards/{set_id}", response=reads(StandardSetDetailOut), tags=TAGS, summary="考评标准详情",
            description="含全部类别和细则，以及各层级、类型的细则数和满分。")
@api_errors
def get_set(request, set_id: SetId):
    return _set_out(request.auth, set_id)


@router.post("/standards", response=writes(StandardSetDetailOut, 201), tags=TAGS, summary="新建考评标准",
             description="生成草稿，版本号为该党委该年度的下一个版本。")
@api_errors(fields={"owner": "owner_id"})
def create_set(request, body: StandardSetCreateIn):
    user = request.auth
    owner = get_scoped_or_404(user, "standard.manage", Organization.objects.all(), pk=body.owner_id)
    ss = services.create_set(user, owner=owner, year=body.year, name=body.name, note=body.note)
    return 201, _set_out(user, ss.pk)


@router.patch("/standards/{set_id}", response=writes(StandardSetDetailOut), tags=TAGS, summary="修改考评标准",
              description="只修改请求中给出的字段；已发布、已归档或已冻结的标准不能修改，请复制为新版本。")
@api_errors
def update_set(request, set_id: SetId, body: StandardSetPatchIn):
    user = request.auth
    ss = _set(user, set_id, "standard.manage")
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "note"}
    services.update_set(user, ss, **changes)
    return _set_out(user, ss.pk)


@router.post("/standards/{set_id}/publish", response=writes(StandardSetDetailOut), tags=TAGS, summary="发布考评标准",
             description="草稿才能发布；同一党委同一年度此前发布的版本自动归档。")
@api_errors
def publish_set(request, set_id: SetId):
    user = request.auth
    services.publish_set(user, _set(user, set_id, "standard.manage"))
    return _set_out(user, set_id)


@router.post("/standards/{set_id}/archive", response=writes(StandardSetDetailOut), tags=TAGS, summary="归档考评标准")
@api_errors
def archive_set(request, set_id: SetId):
    user = request.auth
    services.archive_set(user, _set(user, set_id, "standard.manage"))
    return _set_out(user, set_id)


@router.post("/standards/{set_id}/copy", response=writes(StandardSetDetailOut, 201), tags=TAGS, summary="复制为新版本",
             description="复制全部类别、细则、适用范围和权重，生成新的草稿；已冻结的标准只能这样修改。")
@api_errors(fields={"owner": "owner_id"})
def copy_set(request, set_id: SetId, body: StandardCopyIn | None = None):
    user = request.auth
    source = _set(user, set_id)
    body = body or StandardCopyIn()
    owner = None
    if body.owner_id is not None:
        owner = get_scoped_or_404(user, "standard.manage", Organization.objects.all(), pk=body.owner_id)
    new = services.copy_to_new_version(user, source, owner=owner, year=body.year, name=body.name)
    return 201, _set_out(user, new.pk)


# ---- categories ---------------------------------------------------------------------------------------


@router.post("/standards/{set_id}/categories", response=writes(StandardCategoryOut, 201), tags=TAGS, summary="新增考评类别")
@api_errors
def create_category(request, set_id: SetId, body: StandardCategoryIn):
    user = request.auth
    ss = _set(user, set_id, "standard.manage")
    return 201, services.add_category(user, ss, code=body.code, name=body.name)


@router.patch("/standards/{set_id}/categories/{category_id}", response=writes(StandardCategoryOut), tags=TAGS,
              summary="修改考评类别")
@api_errors
def update_category(request, set_id: SetId, category_id: CategoryId, body: StandardCategoryPatchIn):
    user = request.auth
    ss = _set(user, set_id, "standard.manage")
    category = get_scoped_or_404(user, "standard.manage", Category.objects.filter(standard_set=ss), pk=category_id)
    return services.update_category(user, category, **body.model_dump(exclude_unset=True))


@router.delete("/standards/{set_id}/categories/{category_id}", response=writes(None, 204), tags=TAGS,
               summary="删除考评类别", description="类别下没有细则时才能删除。")
@api_errors
def delete_category(request, set_id: SetId, category_id: CategoryId):
    user = request.auth
    ss = _set(user, set_id, "standard.manage")
    category = get_scoped_or_404(user, "standard.manage", Category.objects.filter(standard_set=ss), pk=category_id)
    services.delete_category(user, category)
    return 204, None


# ---- items --------------------------------------------------------------------------------------------


@router.post("/standards/{set_id}/items", response=writes(StandardItemOut, 201), tags=TAGS, summary="新增考评细则",
             description="草稿才能修改；细则编码在本标准内唯一。")
@api_errors(fields={"category": "category_id"})
def create_item(request, set_id: SetId, body: StandardItemIn):
    user = request.auth
    ss = _set(user, set_id, "standard.manage")
    item = services.add_item(user, ss, **_item_changes(ss, body.model_dump()))
    return 201, _item_out(item.pk)


@router.patch("/standards/{set_id}/items/{item_id}", response=writes(StandardItemOut), tags=TAGS, summary="修改考评细则",
              description="只修改请求中给出的字段。")
@api_errors(fields={"category": "category_id"})
def update_item(request, set_id: SetId, item_id: ItemId, body: StandardItemPatchIn):
    user = request.auth
    ss, item = _item_in_set(user, set_id, item_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("category_id", "code", "text", "max_points", "rule", "methods", "is_veto"):
        if key in changes and changes[key] is None:
            raise DomainError(_("该字段不能为空。"), key)
    services.update_item(user, item, **_item_changes(ss, changes))
    return _item_out(item.pk)


@router.delete("/standards/{set_id}/items/{item_id}", response=writes(None, 204), tags=TAGS, summary="删除考评细则")
@api_errors
def delete_item(request, set_id: SetId, item_id: ItemId):
    user = request.auth
    _ss, item = _item_in_set(user, set_id, item_id)
    services.delete_item(user, item)
    return 204, None


@router.get("/standards/{set_id}/applicable", response=writes(ApplicableStandardOut), tags=TAGS,
            summary="适用于某组织的细则", description="按组织的层级和类型筛选细则，分值按类型权重计算，并给出满分。")
@api_errors(fields={"org": "org_id"})
def applicable(request, set_id: SetId, filters: Query[ApplicableStandardFilter]):
    user = request.auth
    ss = _set(user, set_id)
    org = get_scoped_or_404(user, "org.view", Organization.objects.select_related("type"), pk=filters.org_id)
    if not org.path.startswith(ss.owner.path):
        raise DomainError(_("“{org}”不隶属于本标准的制定单位“{owner}”，不按本标准考评。").format(
            org=org.name, owner=ss.owner.name), "org")
    items, total = services.applicable(org, ss)
    return {"org": org, "level": org.level, "type": org.type.code if org.type_id else None, "count": len(items),
            "veto": sum(1 for it in items if it.is_veto), "total": str(total), "items": items}
