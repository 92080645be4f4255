"""Service teams (光明先锋共产党员服务队, 公益组织), their members and activities.

Every write is a plain function taking the acting user first: it checks ``team.manage`` on the team's
organization, checks the input, runs in one transaction and writes one audit event last. A user error raises
``DomainError`` with a Chinese sentence and changes nothing.

Why activities write ``appraisal.ServiceRecord`` rows: a participant's hours are volunteer service that counts
for the member's monthly bonus item (source ``service_hours``). Each ``ServiceParticipation`` owns exactly one
record (member, date, activity title, hours, its share of the people served, source "服务队"), created, changed
and deleted with it in the same transaction. A month whose member evaluation is already published is locked for
the member's records, so any change that would touch such a record is refused as a whole.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from dangjian.appraisal.activities import _check_member_open, _day_total, check_date, check_hours
from dangjian.appraisal.models import ServiceRecord
from dangjian.assessments.evidence import check_upload
from dangjian.core.access import require, scope
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError, actor
from dangjian.orgs.models import Member, Organization
from dangjian.service.models import (
    ActivityPhoto,
    ServiceActivity,
    ServiceParticipation,
    ServiceTeam,
    TeamKind,
    TeamMember,
)

SOURCE = "服务队"  # ServiceRecord.source of the hours written here (the bonus items show where they came from)
TEAM_FIELDS = ["org", "name", "kind", "leader", "founded_on", "description", "archived"]
ACTIVITY_FIELDS = ["date", "title", "place", "content", "people_served"]
MAX_PEOPLE = 1_000_000
MAX_PHOTOS = 12


# ---- reading ----------------------------------------------------------------------------------------------------


def visible_teams(user) -> QuerySet:
    return scope(user, "team.view", ServiceTeam.objects.all())


def visible_activities(user) -> QuerySet:
    return scope(user, "team.view", ServiceActivity.objects.all())


def team_totals(team: ServiceTeam) -> dict:
    """Activities, hours and people served of the team, in all and by month (newest first): three queries."""
    acts = ServiceActivity.objects.filter(team=team)
    people = acts.aggregate(n=Count("id"), people=Sum("people_served"))
    hours = ServiceParticipation.objects.filter(activity__team=team).aggregate(h=Sum("hours"))["h"] or Decimal("0")
    by_month = defaultdict(lambda: {"activities": 0, "people": 0, "hours": Decimal("0")})
    for row in acts.annotate(m=TruncMonth("date")).values("m").annotate(n=Count("id"), p=Sum("people_served")):
        by_month[row["m"]].update(activities=row["n"], people=row["p"] or 0)
    for row in (ServiceParticipation.objects.filter(activity__team=team)
                .annotate(m=TruncMonth("activity__date")).values("m").annotate(h=Sum("hours"))):
        by_month[row["m"]]["hours"] = row["h"] or Decimal("0")
    months = [{"month": m, **v} for m, v in sorted(by_month.items(), key=lambda kv: kv[0], reverse=True)]
    return {"activities": people["n"], "people": people["people"] or 0, "hours": hours, "months": months}


def candidates(team: ServiceTeam, text: str, limit: int = 20) -> list[Member]:
    """Members of the team's organization subtree, not yet in the team, found by name, pinyin or initials."""
    qs = (Member.objects.filter(org__path__startswith=team.org.path, active=True)
          .exclude(service_teams__team=team).select_related("org"))
    return list(qs.search(text).order_by("name_pinyin", "id")[:limit])


# ---- checks -----------------------------------------------------------------------------------------------------


def _text(value, field: str, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("请填写{label}。").format(label=label), field)
    if len(text) > max_length:
        raise DomainError(_("{label}不能超过{n}个字（现有{m}个字）。").format(label=label, n=max_length, m=len(text)),
                          field)
    return text


def _people(value) -> int:
    try:
        people = int(value or 0)
    except (TypeError, ValueError) as exc:
        raise DomainError(_("服务人次应为整数。"), "people_served") from exc
    if people < 0 or people > MAX_PEOPLE:
        raise DomainError(_("服务人次应在 0 至 1000000 之间。"), "people_served")
    return people


def _optional_date(value, field: str, label: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    return check_date(value, field, label)


def _member_in(org: Organization, member: Member | None, field: str) -> Member | None:
    if member is None:
        return None
    if not member.org.path.startswith(org.path):
        raise DomainError(_("{name}不是{org}及其下级组织的党员，不能加入该服务队。").format(
            name=member.name, org=org.name), field)
    return member


def _lock_team(team: ServiceTeam) -> ServiceTeam:
    return ServiceTeam.objects.select_for_update().select_related("org").get(pk=team.pk)


# ---- teams ------------------------------------------------------------------------------------------------------


def _clean_team(data: Mapping, org: Organization, creating: bool) -> dict:
    out = {}
    if "name" in data or creating:
        out["name"] = _text(data.get("name"), "name", _("服务队名称"), 60, required=True)
    if "kind" in data or creating:
        kind = data.get("kind") or TeamKind.PARTY
        if kind not in TeamKind.values:
            raise DomainError(_("服务队类型不正确。"), "kind")
        out["kind"] = kind
    if "founded_on" in data:
        out["founded_on"] = _optional_date(data.get("founded_on"), "founded_on", _("成立日期"))
    if "description" in data:
        out["description"] = _text(data.get("description"), "description", _("简介"), 1000)
    if "leader" in data:
        out["leader"] = _member_in(org, data.get("leader"), "leader")
    return out


def _unique_name(org: Organization, name: str, exclude_pk=None) -> None:
    qs = ServiceTeam.objects.filter(org=org, name=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(_("{org}已有名为“{name}”的服务队。").format(org=org.name, name=name), "name")


def _ensure_membership(team: ServiceTeam, member: Member, joined_on=None) -> bool:
    _obj, created = TeamMember.objects.get_or_create(team=team, member=member, defaults={"joined_on": joined_on})
    return created


@transaction.atomic
def create_team(user, org: Organization, **data) -> ServiceTeam:
    require(user, "team.manage", org.path)
    if org.archived:
        raise DomainError(_("{org}已撤销，不能新建服务队。").format(org=org.name), "org")
    clean = _clean_team(data, org, True)
    _unique_name(org, clean["name"])
    team = ServiceTeam.objects.create(org=org, **clean)
    if team.leader:
        _ensure_membership(team, team.leader, team.founded_on)
    log_action(user, "team.created", team, after=snapshot(team, TEAM_FIELDS))
    return team


@transaction.atomic
def update_team(user, team: ServiceTeam, **data) -> ServiceTeam:
    team = _lock_team(team)
    require(user, "team.manage", team.org.path)
    unknown = set(data) - {"name", "kind", "leader", "founded_on", "description"}
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    clean = _clean_team(data, team.org, False)
    if "name" in clean:
        _unique_name(team.org, clean["name"], team.pk)
    before = snapshot(team, TEAM_FIELDS)
    for k, v in clean.items():
        setattr(team, k, v)
    team.save()
    if team.leader:
        _ensure_membership(team, team.leader)
    b, a = diff(before, snapshot(team, TEAM_FIELDS))
    log_action(user, "team.updated", team, before=b, after=a)
    return team


@transaction.atomic
def archive_team(user, team: ServiceTeam, archived: bool = True) -> ServiceTeam:
    """Archiving keeps the team's history (activities and the hours they gave); it only stops new activities."""
    team = _lock_team(team)
    require(user, "team.manage", team.org.path)
    if team.archived == archived:
        return team
    team.archived = archived
    team.save(update_fields=["archived"])
    log_action(user, "team.archived" if archived else "team.restored", team)
    return team


@transaction.atomic
def add_members(user, team: ServiceTeam, members: Iterable[Member], joined_on=None) -> int:
    """Add members of the team's organization subtree; those already in the team are skipped."""
    team = _lock_team(team)
    require(user, "team.manage", team.org.path)
    members = list(members)
    if not members:
        raise DomainError(_("请选择要加入服务队的党员。"), "member")
    joined = _optional_date(joined_on, "joined_on", _("加入日期"))
    added = []
    for m in members:
        _member_in(team.org, m, "member")
        if not m.active:
            raise DomainError(_("{name}已不在册，不能加入服务队。").format(name=m.name), "member")
        if _ensure_membership(team, m, joined):
            added.append(m)
    if added:
        log_action(user, "team.member_added", team, members=[m.name for m in added])
    return len(added)


@transaction.atomic
def remove_member(user, team: ServiceTeam, member: Member) -> None:
    """Removing a member keeps the activities they took part in (and their hours); a leader stops leading."""
    team = _lock_team(team)
    require(user, "team.manage", team.org.path)
    deleted, _n = TeamMember.objects.filter(team=team, member=member).delete()
    if not deleted:
        raise DomainError(_("{name}不在该服务队中。").format(name=member.name), "member")
    if team.leader_id == member.pk:
        team.leader = None
        team.save(update_fields=["leader"])
    log_action(user, "team.member_removed", team, member=member.name)


# ---- activities -------------------------------------------------------------------------------------------------


@dataclass
class Wanted:
    """What one participant's ServiceRecord should hold after the change."""

    member: Member
    hours: Decimal
    people: int


def shares(people_served: int, member_ids: list[int]) -> dict[int, int]:
    """The people served split over the participants so the shares add up: the remainder goes one each to the
    first participants by member id (deterministic, so an edit that changes nothing rewrites nothing)."""
    ids = sorted(member_ids)
    if not ids:
        return {}
    base, rest = divmod(people_served, len(ids))
    return {mid: base + (1 if i < rest else 0) for i, mid in enumerate(ids)}


def _clean_participants(team: ServiceTeam, participants, default_hours, add_missing: bool) -> list[tuple]:
    """``participants``: (member, hours or None) pairs; None takes ``default_hours``. Returns (member, hours)."""
    out, seen, outsiders = [], set(), []
    default = None
    for member, hours in participants:
        if member.pk in seen:
            raise DomainError(_("{name}重复出现在参与人员中。").format(name=member.name), "participants")
        seen.add(member.pk)
        if hours in (None, ""):
            if default is None:
                if default_hours in (None, ""):
                    raise DomainError(_("请填写{name}的服务时长，或填写统一时长。").format(name=member.name),
                                      "hours")
                default = check_hours(default_hours, "hours", _("统一服务时长"))
            value = default
        else:
            value = check_hours(hours, "participants", _("{name}的服务时长").format(name=member.name))
        out.append((member, value))
    members_in = set(TeamMember.objects.filter(team=team, member_id__in=seen).values_list("member_id", flat=True))
    for member, _h in out:
        if member.pk not in members_in:
            _member_in(team.org, member, "participants")
            outsiders.append(member)
    if outsiders and not add_missing:
        raise DomainError(_("{names}还不是该服务队队员：请先将其加入服务队，或勾选“同时加入服务队”。").format(
            names="、".join(m.name for m in outsiders)), "participants")
    for m in outsiders:
        if not m.active:
            raise DomainError(_("{name}已不在册，不能登记新的服务时长。").format(name=m.name), "participants")
        _ensure_membership(team, m)
    return out


def _sync_records(user, activity: ServiceActivity, wanted: dict[int, Wanted], old_date: datetime.date | None,
                  old_title: str | None) -> None:
    """Bring the participations and their ServiceRecords to ``wanted``. Every record that would change is checked
    against a published month (the old date and the new) before anything is written."""
    current = {p.member_id: p for p in activity.participants.select_related("record", "member__org")}
    checks = []
    for mid, p in current.items():
        w = wanted.get(mid)
        rec = p.record
        if w is None:
            checks.append((p.member, old_date))
            continue
        same = (rec is not None and rec.date == activity.date and rec.activity == activity.title[:200]
                and rec.hours == w.hours and rec.people_served == w.people and p.hours == w.hours)
        if not same:
            checks.append((p.member, old_date))
            checks.append((p.member, activity.date))
    for mid, w in wanted.items():
        if mid not in current:
            checks.append((w.member, activity.date))
    for member, day in checks:
        if day is not None:
            _check_member_open(member, day, "date" if day == activity.date else "participants")
    # Deletions first, so a member's day total does not count the record being replaced.
    for mid, p in current.items():
        if mid not in wanted:
            rec = p.record
            p.delete()
            if rec is not None:
                rec.delete()
    for mid, w in wanted.items():
        p = current.get(mid)
        rec = p.record if p else None
        _day_total(ServiceRecord, w.member, activity.date, w.hours, _("服务时长"),
                   exclude_pk=rec.pk if rec else None)
        fields = {"date": activity.date, "activity": activity.title[:200], "hours": w.hours,
                  "people_served": w.people, "source": SOURCE}
        if rec is None:
            rec = ServiceRecord.objects.create(member=w.member, created_by=actor(user), **fields)
        elif any(getattr(rec, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(rec, k, v)
            rec.save()
        if p is None:
            ServiceParticipation.objects.create(activity=activity, member=w.member, hours=w.hours, record=rec)
        elif p.hours != w.hours or p.record_id != rec.pk:
            p.hours, p.record = w.hours, rec
            p.save(update_fields=["hours", "record"])


def _clean_activity(data: Mapping, creating: bool) -> dict:
    out = {}
    if "date" in data or creating:
        out["date"] = check_date(data.get("date"), "date", _("活动日期"))
    if "title" in data or creating:
        out["title"] = _text(data.get("title"), "title", _("活动名称"), 100, required=True)
    if "place" in data or creating:
        out["place"] = _text(data.get("place"), "place", _("活动地点"), 100, required=True)
    if "content" in data:
        out["content"] = _text(data.get("content"), "content", _("活动内容"), 2000)
    if "people_served" in data:
        out["people_served"] = _people(data.get("people_served"))
    return out


def _wanted(activity: ServiceActivity, pairs: list[tuple]) -> dict[int, Wanted]:
    share = shares(activity.people_served, [m.pk for m, _h in pairs])
    return {m.pk: Wanted(m, h, share[m.pk]) for m, h in pairs}


def _participant_summary(activity: ServiceActivity) -> list:
    return [[p.member.name, str(p.hours)] for p in activity.participants.select_related("member").order_by("id")]


@transaction.atomic
def create_activity(user, team: ServiceTeam, *, participants=(), default_hours=None, add_missing: bool = False,
                    **data) -> ServiceActivity:
    """Record an activity; ``participants`` are (member, hours or None) pairs (None: ``default_hours``)."""
    team = _lock_team(team)
    require(user, "team.manage", team.org.path)
    if team.archived:
        raise DomainError(_("该服务队已撤销，不能登记新的活动。"), "team")
    unknown = set(data) - set(ACTIVITY_FIELDS)
    if unknown:
        raise DomainError(_("不能填写这些字段：{names}。").format(names="、".join(sorted(unknown))))
    clean = _clean_activity(data, True)
    pairs = _clean_participants(team, list(participants), default_hours, add_missing)
    activity = ServiceActivity.objects.create(team=team, created_by=actor(user), **clean)
    _sync_records(user, activity, _wanted(activity, pairs), None, None)
    log_action(user, "team.activity_created", activity, after={**snapshot(activity, ACTIVITY_FIELDS),
                                                                "participants": _participant_summary(activity)})
    return activity


def _lock_activity(activity: ServiceActivity) -> ServiceActivity:
    return ServiceActivity.objects.select_for_update().select_related("team__org").get(pk=activity.pk)


@transaction.atomic
def update_activity(user, activity: ServiceActivity, *, participants=None, default_hours=None,
                    add_missing: bool = False, **data) -> ServiceActivity:
    """Change an activity; ``participants`` None keeps them (their records follow the new date, title, share)."""
    activity = _lock_activity(activity)
    team = activity.team
    require(user, "team.manage", team.org.path)
    unknown = set(data) - set(ACTIVITY_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    clean = _clean_activity(data, False)
    old_date, old_title = activity.date, activity.title
    before = {**snapshot(activity, ACTIVITY_FIELDS), "participants": _participant_summary(activity)}
    if participants is None:
        pairs = [(p.member, p.hours) for p in activity.participants.select_related("member__org")]
    else:
        pairs = _clean_participants(team, list(participants), default_hours, add_missing)
    for k, v in clean.items():
        setattr(activity, k, v)
    activity.save()
    _sync_records(user, activity, _wanted(activity, pairs), old_date, old_title)
    b, a = diff(before, {**snapshot(activity, ACTIVITY_FIELDS), "participants": _participant_summary(activity)})
    log_action(user, "team.activity_updated", activity, before=b, after=a)
    return activity


@transaction.atomic
def delete_activity(user, activity: ServiceActivity) -> None:
    """Delete the activity with its participants' records (refused if a participant's month is published)."""
    activity = _lock_activity(activity)
    require(user, "team.manage", activity.team.org.path)
    before = {**snapshot(activity, ACTIVITY_FIELDS), "participants": _participant_summary(activity)}
    _sync_records(user, activity, {}, activity.date, activity.title)
    photos = [p.file.name for p in activity.photos.all()]
    log_action(user, "team.activity_deleted", activity, before=before, team=activity.team.name)
    activity.delete()
    if photos:
        from django.core.files.storage import default_storage

        transaction.on_commit(lambda: [default_storage.delete(n) for n in photos])


# ---- photos -----------------------------------------------------------------------------------------------------


@transaction.atomic
def add_photo(user, activity: ServiceActivity, upload) -> ActivityPhoto:
    """A photo of the activity, checked by content (JPG or PNG only)."""
    activity = _lock_activity(activity)
    require(user, "team.manage", activity.team.org.path)
    if activity.photos.count() >= MAX_PHOTOS:
        raise DomainError(_("每次活动最多上传{n}张照片。").format(n=MAX_PHOTOS), "file")
    content_type, name = check_upload(upload, photo=True)
    photo = ActivityPhoto(activity=activity, name=name, content_type=content_type, size=upload.size,
                          uploaded_by=actor(user))
    photo.file.save(name, upload, save=True)
    log_action(user, "team.photo_added", photo, name=name, activity=activity.pk)
    return photo


@transaction.atomic
def delete_photo(user, photo: ActivityPhoto) -> None:
    photo = ActivityPhoto.objects.select_related("activity__team__org").get(pk=photo.pk)
    require(user, "team.manage", photo.activity.team.org.path)
    name = photo.file.name
    log_action(user, "team.photo_deleted", photo, name=photo.name, activity=photo.activity_id)
    photo.delete()
    from django.core.files.storage import default_storage

    transaction.on_commit(lambda: default_storage.delete(name))


def month_filter(qs: QuerySet, month: str, field: str = "date") -> QuerySet:
    """Rows of the month "YYYY-MM" (an unreadable month filters nothing out: the form shows it back)."""
    try:
        y, m = (int(x) for x in month[:7].split("-"))
        first = datetime.date(y, m, 1)
    except ValueError:
        return qs
    nxt = datetime.date(y + (m == 12), m % 12 + 1, 1)
    return qs.filter(Q(**{f"{field}__gte": first}) & Q(**{f"{field}__lt": nxt}))
