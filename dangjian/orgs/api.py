"""JSON API of the organization tree and the Party members: /api/v1/orgs, /api/v1/members and /api/v1/me.

Every object is read through ``core.access`` with the same actions the pages use, so the API shows exactly
what the pages show: an object outside the user's scope is 404, a list is filtered to the scope. Writes go
through ``orgs.services`` (permission, transaction and audit live there); ``api_errors`` maps what they raise.
"""

import datetime
from enum import Enum
from typing import Annotated

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from ninja import Field, ModelSchema, Path, Query, Router, Schema

from dangjian.core.access import AccessDenied, allowed_paths, can, get_scoped_or_404, roles_of, scope
from dangjian.core.api import ErrorOut
from dangjian.core.api_helpers import PageIn, api_errors, check_field, paginate, reads, writes
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.validators import (
    mask_id_number,
    mask_phone,
    normalize_id_number,
    validate_id_number,
    validate_phone,
)
from dangjian.orgs import services
from dangjian.orgs.models import Gender, Level, Member, MemberStatus, Organization, OrgType, Pledge

router = Router()

ORG_TAGS = ["组织"]
MEMBER_TAGS = ["党员"]
ME_TAGS = ["认证"]

LEVEL_HELP = "committee=党委，general=党总支，branch=党支部"
TYPE_HELP = "组织类型编码：production=生产类（含供电所类），management=管理类，business=经营类"
GENDER_HELP = "M=男，F=女"
STATUS_HELP = "full=正式党员，probationary=预备党员"

OrgId = Annotated[int, Path(title="组织编号")]
MemberId = Annotated[int, Path(title="党员编号")]
Year = Annotated[int, Path(ge=2000, le=2100, title="年度")]


# ---- schemas: organizations ----------------------------------------------------------------------------


class OrgTypeOut(ModelSchema):
    class Meta:
        model = OrgType
        fields = ["code", "name"]


class OrgRef(ModelSchema):
    """An organization named by another object (its parent, a member's organization)."""

    class Meta:
        model = Organization
        fields = ["id", "name", "code"]


class OrgOut(ModelSchema):
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    level_label: str = Field(..., title="层级名称")
    type: OrgTypeOut | None = Field(None, title="类型")
    parent: OrgRef | None = Field(None, title="上级组织")
    merged_into_id: int | None = Field(None, title="并入组织编号", description="因合并而撤销时，并入的组织")
    children_count: int = Field(0, title="下级组织数", description="未撤销的直接下级组织数")
    member_count: int = Field(0, title="党员数", description="直接隶属本组织的在册党员数")

    class Meta:
        model = Organization
        fields = ["id", "name", "code", "depth", "established_on", "term_ends_on", "address", "archived",
                  "archived_on", "order"]

    @staticmethod
    def resolve_level_label(obj):
        return obj.get_level_display()


class OrgDetailOut(OrgOut):
    can_manage: bool = Field(False, title="可管理组织", description="当前用户能否修改、调整、合并、撤销本组织")
    can_manage_members: bool = Field(False, title="可管理党员", description="当前用户能否在本组织新增、修改、转接党员")

    @staticmethod
    def resolve_can_manage(obj, context):
        return can(context["request"].auth, "org.manage", obj.path)

    @staticmethod
    def resolve_can_manage_members(obj, context):
        return can(context["request"].auth, "member.manage", obj.path)


class OrgPage(Schema):
    count: int = Field(..., title="总数")
    items: list[OrgOut] = Field(..., title="本页组织")


class OrgFilter(Schema):
    q: str | None = Field(None, title="关键词", description="名称或组织编码中包含的文字")
    level: Level | None = Field(None, title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, title="类型编码", description=TYPE_HELP)
    parent: int | None = Field(None, title="上级组织编号", description="只列出该组织的直接下级")
    archived: bool = Field(False, title="已撤销", description="true 只列出已撤销的组织；默认只列出正常组织")


class ChildrenFilter(Schema):
    archived: bool = Field(False, title="含已撤销", description="true 同时列出已撤销的下级组织")


class OrgCreateIn(Schema):
    parent_id: int | None = Field(None, title="上级组织编号",
                                  description="为空表示新建顶级党委（仅超级管理员可以）")
    name: str = Field(..., max_length=100, title="名称")
    code: str = Field(..., max_length=40, title="组织编码", description="全局唯一")
    level: Level = Field(..., title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, title="类型编码", description=TYPE_HELP + "；党支部必填")
    established_on: datetime.date | None = Field(None, title="成立日期")
    term_ends_on: datetime.date | None = Field(None, title="届满日期")
    address: str = Field("", max_length=200, title="活动阵地")
    order: int = Field(0, ge=0, title="排序")


class OrgPatchIn(Schema):
    """Only the fields sent are changed. Use move / merge / archive for the tree itself."""

    name: str | None = Field(None, max_length=100, title="名称")
    code: str | None = Field(None, max_length=40, title="组织编码")
    level: Level | None = Field(None, title="层级", description=LEVEL_HELP)
    type: str | None = Field(None, title="类型编码", description=TYPE_HELP + "；传 null 表示不设类型")
    established_on: datetime.date | None = Field(None, title="成立日期")
    term_ends_on: datetime.date | None = Field(None, title="届满日期")
    address: str | None = Field(None, max_length=200, title="活动阵地")
    order: int | None = Field(None, ge=0, title="排序")


class MoveIn(Schema):
    new_parent_id: int = Field(..., title="新的上级组织编号")
    effective_on: datetime.date | None = Field(None, title="生效日期", description="默认今天")
    reason: str = Field("", max_length=200, title="原因")


class MergeIn(Schema):
    target_id: int = Field(..., title="并入组织编号", description="须与本组织同一层级")
    effective_on: datetime.date | None = Field(None, title="生效日期", description="默认今天")
    reason: str = Field("", max_length=200, title="原因")


class ArchiveIn(Schema):
    effective_on: datetime.date | None = Field(None, title="撤销日期", description="默认今天")
    reason: str = Field("", max_length=200, title="原因")


class RestoreIn(Schema):
    reason: str = Field("", max_length=200, title="原因")


# ---- schemas: members ----------------------------------------------------------------------------------


class PledgeOut(ModelSchema):
    class Meta:
        model = Pledge
        fields = ["year", "text", "updated_at"]


class MemberOut(ModelSchema):
    gender: Gender = Field(..., title="性别", description=GENDER_HELP)
    gender_label: str = Field(..., title="性别名称")
    status: MemberStatus = Field(..., title="党员类别", description=STATUS_HELP)
    status_label: str = Field(..., title="党员类别名称")
    id_number: str = Field(..., title="身份证号",
                           description="列表中脱敏（被授予导出权限者以 personal=true 除外）；详情中仅本人和有个人信息权限者可见完整号码")
    phone: str = Field(..., title="手机号", description="脱敏规则同身份证号")
    org: OrgRef = Field(..., title="所在组织")

    class Meta:
        model = Member
        fields = ["id", "name", "birth_date", "joined_on", "confirmed_on", "post", "title", "active"]

    @staticmethod
    def resolve_gender_label(obj):
        return obj.get_gender_display()

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    # Masked unless the handler marked the object as cleared for full personal data.
    @staticmethod
    def resolve_id_number(obj):
        return obj.id_number if getattr(obj, "api_pii", False) else mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj):
        return obj.phone if getattr(obj, "api_pii", False) else mask_phone(obj.phone)


class MemberDetailOut(MemberOut):
    pii_visible: bool = Field(..., title="显示完整个人信息", description="本人或有个人信息权限时为 true")
    has_account: bool = Field(..., title="已开通账号")
    can_manage: bool = Field(..., title="可管理", description="当前用户能否修改、转接该党员")
    can_pledge: bool = Field(..., title="可填写承诺", description="本人或可管理该党员时为 true")
    current_pledge: PledgeOut | None = Field(None, title="本年度承诺")
    pledges: list[PledgeOut] = Field(..., title="历年承诺", description="按年度从新到旧")

    @staticmethod
    def resolve_pii_visible(obj):
        return getattr(obj, "api_pii", False)

    @staticmethod
    def resolve_has_account(obj):
        return obj.user_id is not None

    @staticmethod
    def resolve_pledges(obj):
        return obj.api_pledges

    @staticmethod
    def resolve_current_pledge(obj):
        year = datetime.date.today().year
        return next((p for p in obj.api_pledges if p.year == year), None)


class MemberPage(Schema):
    count: int = Field(..., title="总数")
    items: list[MemberOut] = Field(..., title="本页党员")


class MemberFilter(Schema):
    q: str | None = Field(None, title="关键词", description="姓名、全拼或拼音首字母，如 张三、zhangsan、zs")
    org: int | None = Field(None, title="组织编号", description="该组织及其全部下级组织的党员")
    status: MemberStatus | None = Field(None, title="党员类别", description=STATUS_HELP)
    gender: Gender | None = Field(None, title="性别", description=GENDER_HELP)
    active: bool = Field(True, title="在册", description="默认只列出在册党员；false 列出已不在册的")
    personal: bool = Field(False, title="完整个人信息",
                           description="true 且当前用户被授予“导出完整身份证号和手机号”权限时，返回其范围内党员的完整号码，"
                                       "并记入审计日志；无此权限时忽略，仍为脱敏值")


class MemberCreateIn(Schema):
    org_id: int = Field(..., title="所在党支部编号")
    name: str = Field(..., max_length=40, title="姓名")
    gender: Gender = Field(..., title="性别", description=GENDER_HELP)
    birth_date: datetime.date = Field(..., title="出生日期", description="须与身份证号中的出生日期一致")
    id_number: str = Field(..., title="身份证号", description="18位居民身份证号码，校验位须正确")
    phone: str = Field("", title="手机号", description="以1开头的11位数字，可为空")
    joined_on: datetime.date = Field(..., title="入党日期")
    confirmed_on: datetime.date | None = Field(None, title="转正日期", description="正式党员必填，预备党员不填")
    status: MemberStatus = Field(MemberStatus.FULL, title="党员类别", description=STATUS_HELP)
    post: str = Field("", max_length=60, title="岗位")
    title: str = Field("", max_length=60, title="职务")


class MemberPatchIn(Schema):
    """Only the fields sent are changed. Use transfer to change the organization."""

    name: str | None = Field(None, max_length=40, title="姓名")
    gender: Gender | None = Field(None, title="性别", description=GENDER_HELP)
    birth_date: datetime.date | None = Field(None, title="出生日期")
    id_number: str | None = Field(None, title="身份证号")
    phone: str | None = Field(None, title="手机号")
    joined_on: datetime.date | None = Field(None, title="入党日期")
    confirmed_on: datetime.date | None = Field(None, title="转正日期")
    status: MemberStatus | None = Field(None, title="党员类别", description=STATUS_HELP)
    post: str | None = Field(None, max_length=60, title="岗位")
    title: str | None = Field(None, max_length=60, title="职务")


class TransferIn(Schema):
    to_org_id: int = Field(..., title="转入党支部编号")
    effective_on: datetime.date | None = Field(None, title="转接日期", description="默认今天")
    reason: str = Field("", max_length=200, title="原因")


class PledgeIn(Schema):
    text: str = Field(..., title="承诺内容", description="不超过500字")


class MeOut(Schema):
    username: str = Field(..., title="用户名")
    full_name: str = Field(..., title="姓名")
    roles: list[str] = Field(..., title="角色",
                             description="admin=系统管理员，staff=党建管理员，assessor=考评员，"
                                         "secretary=支部书记/支委，member=党员")
    member_id: int | None = Field(None, title="对应党员编号", description="账号未关联党员时为 null")


# ---- helpers -------------------------------------------------------------------------------------------


def _plain(data: dict) -> dict:
    """Enum members as their plain values, so models and audit records get ordinary strings."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in data.items()}


def _with_counts(qs):
    """The list's related rows and counts in the same query: one subquery per count, no per-row queries."""
    children = (Organization.objects.filter(parent=OuterRef("pk"), archived=False).order_by()
                .values("parent").annotate(n=Count("pk")).values("n"))
    members = (Member.objects.filter(org=OuterRef("pk"), active=True).order_by()
               .values("org").annotate(n=Count("pk")).values("n"))
    return qs.select_related("type", "parent").annotate(
        children_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0)),
        member_count=Coalesce(Subquery(members, output_field=IntegerField()), Value(0)),
    )


def _org(user, pk, action="org.view") -> Organization:
    return get_scoped_or_404(user, action, Organization.objects.select_related("type", "parent"), pk=pk)


def _org_out(user, pk) -> Organization:
    return get_scoped_or_404(user, "org.view", _with_counts(Organization.objects.all()), pk=pk)


def _member(user, pk, action="member.view") -> Member:
    return get_scoped_or_404(user, action, Member.objects.select_related("org", "user"), pk=pk)


def _org_type(code: str | None) -> OrgType | None:
    if code is None or not code.strip():
        return None
    found = OrgType.objects.filter(code=code.strip(), active=True).first()
    if found is None:
        raise DomainError(_("组织类型编码“{code}”不存在或已停用。").format(code=code), "type")
    return found


def _required_text(data: dict, key: str, message: str) -> None:
    """A text field, when sent, is trimmed and must not be blank."""
    if key in data:
        value = (data[key] or "").strip()
        if not value:
            raise DomainError(message, key)
        data[key] = value


def _not_null(data: dict, messages: dict[str, str]) -> None:
    """A PATCH may not set a required field to null."""
    for key, message in messages.items():
        if key in data and data[key] is None:
            raise DomainError(message, key)


def _clean_member(data: dict) -> dict:
    """The form's field rules for the API: trimmed name, normalized and checked id number and phone."""
    data = _plain(data)
    _not_null(data, {"gender": _("性别不能为空。"), "birth_date": _("出生日期不能为空。"),
                     "joined_on": _("入党日期不能为空。"), "status": _("党员类别不能为空。"),
                     "id_number": _("身份证号不能为空。")})
    _required_text(data, "name", _("请填写姓名。"))
    if "id_number" in data:
        data["id_number"] = check_field(normalize_id_number(data["id_number"]), validate_id_number, "id_number")
    for key in ("phone", "post", "title"):
        if key in data:
            data[key] = (data[key] or "").strip()
    if "phone" in data:
        check_field(data["phone"], validate_phone, "phone")
    return data


def _member_detail(request, pk) -> Member:
    """The member as the detail shows it; full personal data only for themself or a PII holder (audited)."""
    user = request.auth
    member = _member(user, pk)
    own = member.user_id is not None and member.user_id == user.pk
    member.api_pii = own or can(user, "member.pii", member.org.path)
    if member.api_pii and not own:
        log_action(user, "member.pii_viewed", member, request=request)
    member.api_pledges = list(member.pledges.all())
    member.can_manage = can(user, "member.manage", member.org.path)
    member.can_pledge = own or member.can_manage
    return member


# ---- current user --------------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, 401: ErrorOut}, tags=ME_TAGS, summary="当前用户",
            description="令牌所属用户的用户名、角色和关联的党员。")
def me(request):
    user = request.auth
    return {
        "username": user.get_username(),
        "full_name": user.first_name,
        "roles": sorted(roles_of(user)),
        "member_id": Member.objects.filter(user_id=user.pk).values_list("pk", flat=True).first(),
    }


# ---- organizations -------------------------------------------------------------------------------------


@router.get("/orgs", response=reads(OrgPage), tags=ORG_TAGS, summary="党组织列表",
            description="按组织范围过滤（与“党组织列表”页面一致）；按组织路径排序。")
@api_errors
def list_orgs(request, filters: Query[OrgFilter], page: Query[PageIn]):
    user = request.auth
    qs = scope(user, "org.view", Organization.objects.all())
    if filters.q and filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(Q(name__contains=q) | Q(code__icontains=q))
    if filters.level:
        qs = qs.filter(level=filters.level.value)
    if filters.type:
        qs = qs.filter(type__code=filters.type.strip())
    if filters.parent is not None:
        qs = qs.filter(parent=_org(user, filters.parent))
    qs = qs.filter(archived=filters.archived)
    return paginate(_with_counts(qs), page, count_qs=qs)


@router.get("/orgs/{org_id}", response=reads(OrgDetailOut), tags=ORG_TAGS, summary="党组织详情")
@api_errors
def get_org(request, org_id: OrgId):
    return _org_out(request.auth, org_id)


@router.get("/orgs/{org_id}/children", response=reads(OrgPage), tags=ORG_TAGS, summary="直接下级组织",
            description="按排序号和组织路径排序；默认不含已撤销的组织。")
@api_errors
def list_children(request, org_id: OrgId, filters: Query[ChildrenFilter], page: Query[PageIn]):
    user = request.auth
    org = _org(user, org_id)
    qs = scope(user, "org.view", Organization.objects.filter(parent=org))
    if not filters.archived:
        qs = qs.filter(archived=False)
    return paginate(_with_counts(qs).order_by("order", "path"), page, count_qs=qs)


@router.post("/orgs", response=writes(OrgDetailOut, 201), tags=ORG_TAGS, summary="新建党组织",
             description="需要在上级组织上有组织管理权限；层级须符合三级设置（党委→党总支→党支部）。")
@api_errors(fields={"parent": "parent_id"})
def create_org(request, body: OrgCreateIn):
    user = request.auth
    parent = _org(user, body.parent_id, "org.manage") if body.parent_id is not None else None
    data = _plain(body.model_dump(exclude={"parent_id", "type"}))
    _required_text(data, "name", _("请填写组织名称。"))
    _required_text(data, "code", _("请填写组织编码。"))
    org = services.create_org(user, parent=parent, type=_org_type(body.type), **data)
    return 201, _org_out(user, org.pk)


@router.patch("/orgs/{org_id}", response=writes(OrgDetailOut), tags=ORG_TAGS, summary="修改党组织",
              description="只修改请求中给出的字段。调整隶属、合并、撤销请使用对应的接口。")
@api_errors
def update_org(request, org_id: OrgId, body: OrgPatchIn):
    user = request.auth
    org = _org(user, org_id, "org.manage")
    changes = _plain(body.model_dump(exclude_unset=True))
    _not_null(changes, {"level": _("层级不能为空。"), "order": _("排序不能为空。")})
    _required_text(changes, "name", _("请填写组织名称。"))
    _required_text(changes, "code", _("请填写组织编码。"))
    if "address" in changes:
        changes["address"] = (changes["address"] or "").strip()
    if "type" in changes:
        changes["type"] = _org_type(changes["type"])
    services.update_org(user, org, **changes)
    return _org_out(user, org.pk)


@router.post("/orgs/{org_id}/move", response=writes(OrgDetailOut), tags=ORG_TAGS, summary="调整隶属关系",
             description="本组织连同全部下级组织移到新的上级之下；已结束月份仍按原隶属关系保留。")
@api_errors(fields={"parent": "new_parent_id"})
def move_org(request, org_id: OrgId, body: MoveIn):
    user = request.auth
    org = _org(user, org_id, "org.manage")
    new_parent = _org(user, body.new_parent_id, "org.manage")
    services.move_org(user, org, new_parent, effective_on=body.effective_on, reason=body.reason.strip())
    return _org_out(user, org.pk)


@router.post("/orgs/{org_id}/merge", response=writes(OrgDetailOut), tags=ORG_TAGS, summary="合并党组织",
             description="本组织的在册党员和下级组织转入目标组织，本组织撤销并记为并入目标组织；"
                         "返回本组织（merged_into_id 为目标组织）。")
@api_errors(fields={"target": "target_id", "parent": "target_id"})
def merge_org(request, org_id: OrgId, body: MergeIn):
    user = request.auth
    org = _org(user, org_id, "org.manage")
    target = _org(user, body.target_id, "org.manage")
    services.merge_org(user, org, target, effective_on=body.effective_on, reason=body.reason.strip())
    return _org_out(user, org.pk)


@router.post("/orgs/{org_id}/archive", response=writes(OrgDetailOut), tags=ORG_TAGS, summary="撤销党组织",
             description="撤销前须转出全部在册党员、调整或撤销全部下级组织。")
@api_errors
def archive_org(request, org_id: OrgId, body: ArchiveIn):
    user = request.auth
    org = _org(user, org_id, "org.manage")
    services.archive_org(user, org, effective_on=body.effective_on, reason=body.reason.strip())
    return _org_out(user, org.pk)


@router.post("/orgs/{org_id}/restore", response=writes(OrgDetailOut), tags=ORG_TAGS, summary="恢复已撤销的党组织")
@api_errors
def restore_org(request, org_id: OrgId, body: RestoreIn | None = None):
    user = request.auth
    org = _org(user, org_id, "org.manage")
    services.restore_org(user, org, reason=(body.reason.strip() if body else ""))
    return _org_out(user, org.pk)


# ---- members -------------------------------------------------------------------------------------------


@router.get("/members", response=reads(MemberPage), tags=MEMBER_TAGS, summary="党员列表",
            description="按组织范围过滤（党员本人只看到自己的记录）；身份证号和手机号脱敏，"
                        "仅被明确授予导出权限者以 personal=true 取得完整号码（记入审计日志）。")
@api_errors
def list_members(request, filters: Query[MemberFilter], page: Query[PageIn]):
    user = request.auth
    qs = scope(user, "member.view", Member.objects.all()).select_related("org")
    if filters.q and filters.q.strip():
        qs = qs.search(filters.q)
    if filters.org is not None:
        qs = qs.filter(org__path__startswith=_org(user, filters.org).path)
    if filters.status:
        qs = qs.filter(status=filters.status.value)
    if filters.gender:
        qs = qs.filter(gender=filters.gender.value)
    qs = qs.filter(active=filters.active)
    if not filters.personal:
        return paginate(qs, page)
    return _with_personal(request, qs, page, filters.org)


def _with_personal(request, qs, page, org_id):
    """A page of members with full ID and phone numbers where the explicit export permission covers them
    (core.access "member.export_personal"), audited with the count in the same transaction; masked elsewhere."""
    user = request.auth
    paths = allowed_paths(user, "member.export_personal")
    with transaction.atomic():
        result = paginate(qs, page)
        shown = 0
        for m in result["items"]:
            m.api_pii = paths is None or any(m.org.path.startswith(p) for p in paths)
            shown += m.api_pii
        if shown:
            org_path = _org(user, org_id).path if org_id is not None else (paths[0] if paths and len(paths) == 1
                                                                             else "")
            log_action(user, "member.personal_exported", org_path=org_path, request=request, rows=shown,
                       query=request.GET.urlencode()[:500])
    return result


@router.get("/members/{member_id}", response=reads(MemberDetailOut), tags=MEMBER_TAGS, summary="党员详情",
            description="本人或有个人信息权限者看到完整身份证号和手机号（非本人查看时记入审计日志），其他人看到脱敏值。")
@api_errors
def get_member(request, member_id: MemberId):
    return _member_detail(request, member_id)


@router.post("/members", response=writes(MemberDetailOut, 201), tags=MEMBER_TAGS, summary="新增党员",
             description="党员须登记在党支部；身份证号校验位、出生日期、入党与转正日期均会校验。")
@api_errors(fields={"org": "org_id"})
def create_member(request, body: MemberCreateIn):
    user = request.auth
    org = _org(user, body.org_id, "member.manage")
    data = _clean_member(body.model_dump(exclude={"org_id"}))
    member = services.create_member(user, org, **data)
    return 201, _member_detail(request, member.pk)


@router.patch("/members/{member_id}", response=writes(MemberDetailOut), tags=MEMBER_TAGS, summary="修改党员信息",
              description="只修改请求中给出的字段；变更所在组织请使用转接接口。")
@api_errors
def update_member(request, member_id: MemberId, body: MemberPatchIn):
    user = request.auth
    member = _member(user, member_id, "member.manage")
    services.update_member(user, member, **_clean_member(body.model_dump(exclude_unset=True)))
    return _member_detail(request, member.pk)


@router.post("/members/{member_id}/transfer", response=writes(MemberDetailOut), tags=MEMBER_TAGS,
             summary="转接组织关系", description="转入党支部；此前月份的记录仍归原组织。")
@api_errors(fields={"to_org": "to_org_id"})
def transfer_member(request, member_id: MemberId, body: TransferIn):
    user = request.auth
    member = _member(user, member_id, "member.manage")
    to_org = _org(user, body.to_org_id, "member.manage")
    services.transfer_member(user, member, to_org, effective_on=body.effective_on, reason=body.reason.strip())
    return _member_detail(request, member.pk)


@router.put("/members/{member_id}/pledges/{year}", response=writes(PledgeOut), tags=MEMBER_TAGS,
            summary="保存党员承诺", description="党员本人或可管理该党员者填写；同一年度再次保存即覆盖。")
@api_errors
def save_pledge(request, member_id: MemberId, year: Year, body: PledgeIn):
    user = request.auth
    member = _member(user, member_id)
    own = member.user_id is not None and member.user_id == user.pk
    if not (own or can(user, "member.manage", member.org.path)):
        raise AccessDenied("member.manage")
    return services.save_pledge(user, member, year, body.text)
