"""JSON API of the wall part (mounted by appraisal/api.py): /api/v1/walls/{org_id} (a branch's published month, the
same access as the wall page, ``wall.view``) and /api/v1/wall-feedback (the public's messages, for whoever manages
the branch's wall, ``wall.manage``: list, one message with the full contact, mark read, record the handling)."""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.appraisal import wall as services
from dangjian.appraisal.models import FeedbackKind, WallFeedback
from dangjian.core.access import get_scoped_or_404
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Organization

router = Router(tags=["党员评价"])

OrgId = Annotated[int, Path(title="党组织编号")]
FeedbackId = Annotated[int, Path(title="留言编号")]
KIND_HELP = "praise=表扬，suggestion=建议，complaint=投诉"


class WallOrgOut(Schema):
    id: int = Field(..., title="组织编号")
    name: str = Field(..., title="名称")


class WallMemberOut(Schema):
    member_id: int = Field(..., title="党员编号")
    name: str = Field(..., title="姓名")
    post: str = Field(..., title="岗位", description="该月评价时的岗位")
    pledge: str = Field(..., title="承诺", description="该年度的党员承诺；未填写时为空字符串")
    total: Decimal = Field(..., title="月度得分")
    qualified: bool = Field(..., title="合格")
    rank: int | None = Field(None, title="支部内排名", description="只在该月评价标准公开排名时给出")
    photo_url: str | None = Field(None, title="照片地址", description="登录平台后可访问；没有照片时为 null")


class WallOut(Schema):
    org: WallOrgOut = Field(..., title="党组织")
    month: str | None = Field(None, title="月份", description="YYYY-MM；该组织还没有公示结果时为 null")
    months: list[str] = Field(..., title="已公示的月份", description="新的在前")
    public_ranking: bool = Field(..., title="公开排名")
    count: int = Field(..., title="参评人数")
    average: Decimal | None = Field(None, title="平均分")
    minimum: Decimal | None = Field(None, title="最低分")
    maximum: Decimal | None = Field(None, title="最高分")
    unqualified: int = Field(..., title="不合格人数")
    members: list[WallMemberOut] = Field(..., title="上墙党员", description="公开排名时按名次，否则按姓名排列")


class WallQuery(Schema):
    month: str | None = Field(None, title="月份", description="YYYY-MM，须为已公示的月份；为空时取最近公示的月份")


class WallFeedbackOut(Schema):
    id: int = Field(..., title="留言编号")
    org: WallOrgOut = Field(..., title="党组织")
    kind: FeedbackKind = Field(..., title="类型", description=KIND_HELP)
    kind_label: str = Field(..., title="类型名称")
    member_id: int | None = Field(None, title="涉及党员编号")
    member_name: str | None = Field(None, title="涉及党员")
    text: str = Field(..., title="留言内容")
    contact: str = Field(..., title="联系方式", description="列表中为脱敏后的形式，单条查询时为完整内容")
    created_at: datetime.datetime = Field(..., title="留言时间")
    read_at: datetime.datetime | None = Field(None, title="阅读时间")
    reply: str = Field(..., title="处理情况")
    handled_by: str | None = Field(None, title="处理人")
    handled_at: datetime.datetime | None = Field(None, title="处理时间")


class WallFeedbackPage(Schema):
    count: int = Field(..., title="总数")
    items: list[WallFeedbackOut] = Field(..., title="本页留言")


class WallFeedbackFilter(Schema):
    org_id: int | None = Field(None, title="党组织编号", description="只列出该组织的留言")
    kind: FeedbackKind | None = Field(None, title="类型", description=KIND_HELP)
    status: str | None = Field(None, title="状态", description="unread=未读，open=未处理，handled=已处理",
                               pattern="^(unread|open|handled)$")
    q: str | None = Field(None, title="关键词", description="在留言内容、党员姓名、组织名称中查找", max_length=100)


class WallHandleIn(Schema):
    reply: str = Field(..., title="处理情况", description="2–1000字；保存后该留言为已处理", max_length=2000)


def _wall_dict(wall) -> dict:
    return {
        "org": {"id": wall.org.pk, "name": wall.org.name},
        "month": wall.month_value or None,
        "months": [f"{m:%Y-%m}" for m in wall.months],
        "public_ranking": wall.public_ranking,
        "count": wall.count, "average": wall.average, "minimum": wall.minimum, "maximum": wall.maximum,
        "unqualified": wall.unqualified,
        "members": [{
            "member_id": c.member_id, "name": c.name, "post": c.post, "pledge": c.pledge, "total": c.total,
            "qualified": c.qualified, "rank": c.rank,
            "photo_url": reverse("appraisal:wall_photo", args=[wall.org.pk, c.member_id]) if c.has_photo else None,
        } for c in wall.cards],
    }


def _feedback_dict(fb: WallFeedback, *, full_contact: bool) -> dict:
    return {
        "id": fb.pk, "org": {"id": fb.org_id, "name": fb.org.name}, "kind": fb.kind,
        "kind_label": str(fb.get_kind_display()), "member_id": fb.member_id,
        "member_name": fb.member.name if fb.member else None, "text": fb.text,
        "contact": fb.contact if full_contact else services.mask_contact(fb.contact),
        "created_at": fb.created_at, "read_at": fb.read_at, "reply": fb.reply,
        "handled_by": (fb.handled_by.get_full_name() or fb.handled_by.get_username()) if fb.handled_by else None,
        "handled_at": fb.handled_at,
    }


def _feedback(user, feedback_id: int) -> WallFeedback:
    return get_scoped_or_404(user, "wall.manage", WallFeedback.objects.select_related("org", "member", "handled_by"),
                             pk=feedback_id)


@router.get("/walls/{org_id}", response={**reads(WallOut), 400: DomainErrorOut}, summary="党支部上墙公示",
            description="该组织某个已公示月份的上墙内容：每名党员的姓名、岗位、承诺、得分、是否合格（公开排名时含名次），"
                        "以及参评人数、平均分等。与上墙页面权限相同：本支部党员、支部书记、党建管理员。")
@api_errors
def get_wall(request, org_id: OrgId, query: Query[WallQuery]):
    org = get_scoped_or_404(request.auth, "wall.view", Organization.objects.all(), pk=org_id)
    if query.month and services.parse_month(query.month) is None:
        raise DomainError(_("月份格式应为 YYYY-MM，例如 2026-10。"), "month")
    with frozen_reads():  # published months only: they may be read on a read replica
        return _wall_dict(services.build_wall(org, query.month))


@router.get("/wall-feedback", response=reads(WallFeedbackPage), summary="群众监督留言列表",
            description="当前用户管理的党组织收到的留言，新的在前；联系方式脱敏。")
@api_errors
def list_feedback(request, filters: Query[WallFeedbackFilter], page: Query[PageIn]):
    user = request.auth
    qs = services.inbox(user).select_related("org", "member", "handled_by")
    if filters.org_id is not None:
        org = get_scoped_or_404(user, "wall.manage", Organization.objects.all(), pk=filters.org_id)
        qs = qs.filter(org=org)
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    if filters.status == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif filters.status == "open":
        qs = qs.filter(handled_at__isnull=True)
    elif filters.status == "handled":
        qs = qs.filter(handled_at__isnull=False)
    if filters.q:
        qs = qs.filter(Q(text__contains=filters.q) | Q(member__name__contains=filters.q)
                       | Q(org__name__contains=filters.q))
    result = paginate(qs.order_by("-created_at", "-id"), page)
    return {"count": result["count"], "items": [_feedback_dict(fb, full_contact=False) for fb in result["items"]]}


@router.get("/wall-feedback/{feedback_id}", response=reads(WallFeedbackOut), summary="群众监督留言详情",
            description="含完整的联系方式。")
@api_errors
def get_feedback(request, feedback_id: FeedbackId):
    return _feedback_dict(_feedback(request.auth, feedback_id), full_contact=True)


@router.post("/wall-feedback/{feedback_id}/read", response=writes(WallFeedbackOut), summary="标记留言已读",
             description="已读的留言保留第一次阅读的时间。")
@api_errors
def read_feedback(request, feedback_id: FeedbackId):
    user = request.auth
    services.mark_feedback_read(user, _feedback(user, feedback_id))
    return _feedback_dict(_feedback(user, feedback_id), full_contact=True)


@router.post("/wall-feedback/{feedback_id}/handle", response=writes(WallFeedbackOut), summary="记录留言处理情况",
             description="保存处理情况，留言标记为已处理（也标记已读）；再次提交会更新处理情况。")
@api_errors
def handle_feedback(request, feedback_id: FeedbackId, body: WallHandleIn):
    user = request.auth
    services.handle_feedback(user, _feedback(user, feedback_id), body.reply)
    return _feedback_dict(_feedback(user, feedback_id), full_contact=True)
