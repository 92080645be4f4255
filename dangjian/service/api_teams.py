"""JSON API of the teams part (mounted by service/api.py), with the permissions of the pages: ``team.view`` reads
(members of the organization subtree included), ``team.manage`` writes; an object outside the user's scope is 404.

/api/v1/service-teams: list, detail, create, members (list, add, remove).
/api/v1/service-activities: list, detail, create, update, delete, with participants and their hours (each
participant's hours become the member's volunteer service record, which feeds the bonus item).
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core.access import get_scoped_or_404, scope
from dangjian.core.api_helpers import PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Member, Organization
from dangjian.service import teams as services
from dangjian.service.models import ServiceActivity, ServiceTeam, TeamKind, TeamMember

router = Router(tags=["服务群众"])

TeamId = Annotated[int, Path(title="服务队编号")]
ActivityId = Annotated[int, Path(title="活动编号")]
MemberId = Annotated[int, Path(title="党员编号")]


class TeamOut(Schema):
    id: int = Field(..., title="服务队编号")
    org_id: int = Field(..., title="所属组织编号")
    org_name: str = Field(..., title="所属组织")
    name: str = Field(..., title="名称")
    kind: TeamKind = Field(..., title="类型", description="party=光明先锋共产党员服务队，welfare=公益组织")
    leader_id: int | None = Field(None, title="队长党员编号")
    leader_name: str | None = Field(None, title="队长")
    founded_on: datetime.date | None = Field(None, title="成立日期")
    description: str = Field(..., title="简介")
    archived: bool = Field(..., title="已撤销")
    members: int = Field(..., title="队员数")
    activities: int = Field(..., title="活动次数")


class TeamPage(Schema):
    count: int = Field(..., title="总数")
    items: list[TeamOut] = Field(..., title="本页服务队")


class TeamFilter(Schema):
    org_id: int | None = Field(None, title="组织编号", description="只列出该组织及其下级组织的服务队")
    q: str | None = Field(None, title="关键词", description="在服务队名称中查找", max_length=60)
    archived: bool = Field(False, title="已撤销", description="true 时只列出已撤销的服务队")


class TeamIn(Schema):
    org_id: int = Field(..., title="所属组织编号")
    name: str = Field(..., title="名称", max_length=200)
    kind: TeamKind = Field(TeamKind.PARTY, title="类型", description="party=光明先锋共产党员服务队，welfare=公益组织")
    founded_on: datetime.date | None = Field(None, title="成立日期")
    description: str = Field("", title="简介", max_length=4000)


class TeamMemberOut(Schema):
    member_id: int = Field(..., title="党员编号")
    name: str = Field(..., title="姓名")
    org_name: str = Field(..., title="所在组织")
    joined_on: datetime.date | None = Field(None, title="加入日期")
    leader: bool = Field(..., title="队长")


class MembersIn(Schema):
    member_ids: list[int] = Field(..., title="党员编号", description="本组织及下级组织的在册党员；已是队员的跳过",
                                  min_length=1, max_length=200)
    joined_on: datetime.date | None = Field(None, title="加入日期")


class AddedOut(Schema):
    added: int = Field(..., title="新加入人数")


class ParticipantOut(Schema):
    member_id: int = Field(..., title="党员编号")
    name: str = Field(..., title="姓名")
    hours: Decimal = Field(..., title="服务时长（小时）")
    people_served: int = Field(..., title="计入的服务人次", description="活动服务人次按参与人数分摊后的份额")
    record_id: int | None = Field(None, title="志愿服务记录编号", description="党员评价中对应的志愿服务记录")


class ActivityOut(Schema):
    id: int = Field(..., title="活动编号")
    team_id: int = Field(..., title="服务队编号")
    team_name: str = Field(..., title="服务队")
    date: datetime.date = Field(..., title="日期")
    title: str = Field(..., title="活动名称")
    place: str = Field(..., title="地点")
    content: str = Field(..., title="活动内容")
    people_served: int = Field(..., title="服务人次")
    hours: Decimal = Field(..., title="合计服务时长（小时）")
    participants: list[ParticipantOut] | None = Field(None, title="参与队员", description="列表中为 null，单条查询时给出")
    photos: int = Field(..., title="照片数")


class ActivityPage(Schema):
    count: int = Field(..., title="总数")
    items: list[ActivityOut] = Field(..., title="本页活动")


class ActivityFilter(Schema):
    org_id: int | None = Field(None, title="组织编号", description="只列出该组织及其下级组织服务队的活动")
    team_id: int | None = Field(None, title="服务队编号")
    month: str | None = Field(None, title="月份", description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    q: str | None = Field(None, title="关键词", description="在活动名称、地点、内容中查找", max_length=100)


class ParticipantIn(Schema):
    member_id: int = Field(..., title="党员编号")
    hours: Decimal | None = Field(None, title="服务时长（小时）", description="为空时取 default_hours")


class ActivityIn(Schema):
    team_id: int = Field(..., title="服务队编号")
    date: datetime.date = Field(..., title="日期", description="不晚于今天")
    title: str = Field(..., title="活动名称", max_length=400)
    place: str = Field(..., title="地点", max_length=400)
    content: str = Field("", title="活动内容", max_length=8000)
    people_served: int = Field(0, title="服务人次", ge=0)
    default_hours: Decimal | None = Field(None, title="统一服务时长（小时）")
    participants: list[ParticipantIn] = Field([], title="参与队员", max_length=500)
    add_missing: bool = Field(False, title="同时加入服务队", description="参与者尚不是队员时一并加入；否则拒绝")


class ActivityPatch(Schema):
    date: datetime.date | None = Field(None, title="日期")
    title: str | None = Field(None, title="活动名称", max_length=400)
    place: str | None = Field(None, title="地点", max_length=400)
    content: str | None = Field(None, title="活动内容", max_length=8000)
    people_served: int | None = Field(None, title="服务人次", ge=0)
    default_hours: Decimal | None = Field(None, title="统一服务时长（小时）")
    participants: list[ParticipantIn] | None = Field(None, title="参与队员", description="给出时替换全部参与队员",
                                                     max_length=500)
    add_missing: bool = Field(False, title="同时加入服务队")


def _team_dict(t) -> dict:
    return {"id": t.pk, "org_id": t.org_id, "org_name": t.org.name, "name": t.name, "kind": t.kind,
            "leader_id": t.leader_id, "leader_name": t.leader.name if t.leader else None, "founded_on": t.founded_on,
            "description": t.description, "archived": t.archived, "members": t.n_members,
            "activities": t.n_activities}


def _teams(user):
    return (services.visible_teams(user).select_related("org", "leader")
            .annotate(n_members=Count("memberships", distinct=True), n_activities=Count("activities", distinct=True)))


def _activity_dict(a, full: bool = False) -> dict:
    out = {"id": a.pk, "team_id": a.team_id, "team_name": a.team.name, "date": a.date, "title": a.title,
           "place": a.place, "content": a.content, "people_served": a.people_served, "hours": a.h or Decimal("0"),
           "photos": a.n_photos, "participants": None}
    if full:
        out["participants"] = [
            {"member_id": p.member_id, "name": p.member.name, "hours": p.hours,
             "people_served": p.record.people_served if p.record else 0, "record_id": p.record_id}
            for p in a.participants.select_related("member", "record").order_by("member__name_pinyin", "id")]
    return out


def _activities(user):
    return (services.visible_activities(user).select_related("team")
            .annotate(h=Sum("participants__hours"), n_photos=Count("photos", distinct=True)))


def _pairs(user, team: ServiceTeam, items: list[ParticipantIn]) -> list:
    ids = [p.member_id for p in items]
    members = {m.pk: m for m in Member.objects.filter(pk__in=ids, org__path__startswith=team.org.path)
               .select_related("org")}
    for i in ids:
        if i not in members:
            raise DomainError(_("党员（编号 {id}）不在{org}及其下级组织中。").format(id=i, org=team.org.name),
                              "participants")
    return [(members[p.member_id], p.hours) for p in items]


@router.get("/service-teams", response=reads(TeamPage), summary="服务队列表",
            description="当前用户可查看的服务队（本组织及下级组织），按组织、名称排列。")
@api_errors
def list_teams(request, filters: Query[TeamFilter], page: Query[PageIn]):
    user = request.auth
    qs = _teams(user).filter(archived=filters.archived).order_by("org__path", "name")
    if filters.org_id:
        org = scope(user, "team.view", Organization.objects.all()).filter(pk=filters.org_id).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    data = paginate(qs, page, services.visible_teams(user).filter(pk__in=qs.values("pk")))
    return {"count": data["count"], "items": [_team_dict(t) for t in data["items"]]}


@router.get("/service-teams/{team_id}", response=reads(TeamOut), summary="服务队详情")
@api_errors
def get_team(request, team_id: TeamId):
    return _team_dict(get_scoped_or_404(request.auth, "team.view", _teams(request.auth), pk=team_id))


@router.post("/service-teams", response=writes(TeamOut, 201), summary="新建服务队",
             description="需在所属组织上有服务队管理权限（党建管理员、该组织的书记）。")
@api_errors(fields={"org": "org_id"})
def create_team(request, body: TeamIn):
    user = request.auth
    org = get_scoped_or_404(user, "team.manage", Organization.objects.all(), pk=body.org_id)
    team = services.create_team(user, org, name=body.name, kind=body.kind, founded_on=body.founded_on,
                                description=body.description)
    return 201, _team_dict(_teams(user).get(pk=team.pk))


@router.get("/service-teams/{team_id}/members", response=reads(list[TeamMemberOut]), summary="服务队队员")
@api_errors
def list_members(request, team_id: TeamId):
    team = get_scoped_or_404(request.auth, "team.view", ServiceTeam.objects.all(), pk=team_id)
    return [{"member_id": tm.member_id, "name": tm.member.name, "org_name": tm.member.org.name,
             "joined_on": tm.joined_on, "leader": tm.member_id == team.leader_id}
            for tm in TeamMember.objects.filter(team=team).select_related("member__org")
            .order_by("member__name_pinyin", "id")]


@router.post("/service-teams/{team_id}/members", response=writes(AddedOut), summary="添加队员",
             description="添加本组织及下级组织的在册党员；已是队员的跳过。")
@api_errors(fields={"member": "member_ids"})
def add_members(request, team_id: TeamId, body: MembersIn):
    user = request.auth
    team = get_scoped_or_404(user, "team.manage", ServiceTeam.objects.select_related("org"), pk=team_id)
    members = list(Member.objects.filter(pk__in=body.member_ids).select_related("org"))
    if len(members) != len(set(body.member_ids)):
        raise DomainError(_("有党员编号不存在。"), "member")
    return {"added": services.add_members(user, team, members, body.joined_on)}


@router.delete("/service-teams/{team_id}/members/{member_id}", response=writes(None, 204), summary="移出队员",
               description="移出后其已登记的服务时长保留。")
@api_errors
def remove_member(request, team_id: TeamId, member_id: MemberId):
    user = request.auth
    team = get_scoped_or_404(user, "team.manage", ServiceTeam.objects.select_related("org"), pk=team_id)
    membership = get_object_or_404(TeamMember.objects.select_related("member"), team=team, member_id=member_id)
    services.remove_member(user, team, membership.member)
    return 204, None


@router.get("/service-activities", response=reads(ActivityPage), summary="服务队活动列表",
            description="当前用户可查看的服务队活动，新的在前。")
@api_errors
def list_activities(request, filters: Query[ActivityFilter], page: Query[PageIn]):
    user = request.auth
    qs = _activities(user).order_by("-date", "-id")
    if filters.org_id:
        org = scope(user, "team.view", Organization.objects.all()).filter(pk=filters.org_id).first()
        qs = qs.filter(team__org__path__startswith=org.path) if org else qs.none()
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.month:
        qs = services.month_filter(qs, filters.month)
    if filters.q:
        qs = qs.filter(Q(title__contains=filters.q) | Q(place__contains=filters.q) | Q(content__contains=filters.q))
    data = paginate(qs, page, services.visible_activities(user).filter(pk__in=qs.values("pk")))
    return {"count": data["count"], "items": [_activity_dict(a) for a in data["items"]]}


@router.get("/service-activities/{activity_id}", response=reads(ActivityOut), summary="服务队活动详情",
            description="含参与队员、各自时长及对应的志愿服务记录。")
@api_errors
def get_activity(request, activity_id: ActivityId):
    return _activity_dict(get_scoped_or_404(request.auth, "team.view", _activities(request.auth), pk=activity_id),
                          full=True)


@router.post("/service-activities", response=writes(ActivityOut, 201), summary="登记服务队活动",
             description="参与队员的时长写入其志愿服务记录（来源“服务队”），计入党员月度评价的志愿服务加分项；"
                         "某队员该月评价已公示时整笔拒绝。")
@api_errors(fields={"hours": "default_hours", "team": "team_id"})
def create_activity(request, body: ActivityIn):
    user = request.auth
    team = get_scoped_or_404(user, "team.manage", ServiceTeam.objects.select_related("org"), pk=body.team_id)
    a = services.create_activity(user, team, participants=_pairs(user, team, body.participants),
                                 default_hours=body.default_hours, add_missing=body.add_missing, date=body.date,
                                 title=body.title, place=body.place, content=body.content,
                                 people_served=body.people_served)
    return 201, _activity_dict(_activities(user).get(pk=a.pk), full=True)


@router.patch("/service-activities/{activity_id}", response=writes(ActivityOut), summary="修改服务队活动",
              description="只修改给出的字段；给出 participants 时替换全部参与队员，其志愿服务记录随之更新。")
@api_errors(fields={"hours": "default_hours"})
def update_activity(request, activity_id: ActivityId, body: ActivityPatch):
    user = request.auth
    a = get_scoped_or_404(user, "team.manage", ServiceActivity.objects.select_related("team__org"), pk=activity_id)
    fields = body.dict(exclude_unset=True)
    participants = fields.pop("participants", None)
    default_hours = fields.pop("default_hours", None)
    add_missing = fields.pop("add_missing", False)
    empty = [k for k, v in fields.items() if v is None]
    if empty:
        raise DomainError(_("{field}不能为空。").format(field=empty[0]), empty[0])
    pairs = _pairs(user, a.team, body.participants) if participants is not None else None
    services.update_activity(user, a, participants=pairs, default_hours=default_hours, add_missing=add_missing,
                             **fields)
    return _activity_dict(_activities(user).get(pk=a.pk), full=True)


@router.delete("/service-activities/{activity_id}", response=writes(None, 204), summary="删除服务队活动",
               description="同时删除参与队员的相应志愿服务记录；某队员该月评价已公示时拒绝。")
@api_errors
def delete_activity(request, activity_id: ActivityId):
    user = request.auth
    a = get_scoped_or_404(user, "team.manage", ServiceActivity.objects.all(), pk=activity_id)
    services.delete_activity(user, a)
    return 204, None

