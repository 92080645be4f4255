"""Pages of the service teams (光明先锋共产党员服务队, 公益组织) and their activities.

Thin: parse, fetch through core.access (an outsider gets 404), call service.teams, render. Everyone with
``team.view`` in the team's organization subtree (members included) reads; ``team.manage`` writes.
"""

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch, Q, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Member, Organization
from dangjian.service import teams as services
from dangjian.service.forms_teams import ActivityForm, PhotoForm, TeamForm
from dangjian.service.models import (
    ActivityPhoto,
    ServiceActivity,
    ServiceParticipation,
    ServiceTeam,
    TeamKind,
    TeamMember,
)

ORG_SELECT_MAX = 200


def _team(request, pk, action="team.view") -> ServiceTeam:
    return get_scoped_or_404(request.user, action, ServiceTeam.objects.select_related("org", "leader"), pk=pk)


def _activity(request, pk, action="team.view") -> ServiceActivity:
    return get_scoped_or_404(request.user, action, ServiceActivity.objects.select_related("team__org"), pk=pk)


def _orgs(user):
    orgs = list(scope(user, "team.view", Organization.objects.filter(archived=False)).order_by("path")
                .only("id", "name")[:ORG_SELECT_MAX + 1])
    return orgs if 1 < len(orgs) <= ORG_SELECT_MAX else None


def _org_filter(qs, user, value: str, field: str):
    """Filter by an organization's subtree; the organization is fetched through scope (another's id: nothing)."""
    if not value.isdigit():
        return qs
    org = scope(user, "team.view", Organization.objects.all()).filter(pk=int(value)).first()
    return qs.filter(**{f"{field}__startswith": org.path}) if org else qs.none()


# ---- teams ------------------------------------------------------------------------------------------------------


@login_required
def team_list(request):
    user = request.user
    require_capability(user, "team.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "kind", "q", "archived")}
    qs = (services.visible_teams(user).select_related("org", "leader")
          .annotate(n_members=Count("memberships", distinct=True), n_activities=Count("activities", distinct=True))
          .order_by("org__path", "name"))
    qs = _org_filter(qs, user, f["org"], "org__path")
    if f["kind"] in TeamKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["q"]:
        qs = qs.filter(Q(name__contains=f["q"]) | Q(org__name__contains=f["q"]))
    qs = qs.filter(archived=f["archived"] == "1")
    if wants_xlsx(request):
        rows = ((t.name, t.org.name, t.get_kind_display(), t.leader.name if t.leader else "", t.n_members,
                 t.n_activities, t.founded_on, _("已撤销") if t.archived else _("活跃"))
                for t in qs.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("服务队"), [_("名称"), _("所属组织"), _("类型"), _("队长"),
                                                          _("队员数"), _("活动次数"), _("成立日期"), _("状态")],
                           rows, what=gettext_noop("服务队"))
    page, query = paginate(request, qs)
    return render(request, "service/teams/list.html", {
        "page": page, "query": query, "f": f, "kinds": TeamKind.choices, "orgs": _orgs(user),
        "manage": can(user, "team.manage")})


@login_required
def team_create(request):
    user = request.user
    require_capability(user, "team.manage")
    form = TeamForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            team = services.create_team(user, d["org"], name=d["name"], kind=d["kind"], founded_on=d["founded_on"],
                                        description=d["description"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("服务队已建立，请添加队员。"))
            return redirect("service:team_detail", team.pk)
    return render(request, "service/teams/form.html", {"form": form, "title": _("新建服务队")})


@login_required
@deny_as_404
def team_edit(request, pk):
    team = _team(request, pk, "team.manage")
    initial = {k: getattr(team, k) for k in ("name", "kind", "founded_on", "description")}
    initial["leader"] = team.leader_id
    form = TeamForm(request.POST or None, user=request.user, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_team(request.user, team, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("service:team_detail", team.pk)
    return render(request, "service/teams/form.html", {"form": form, "title": _("修改服务队"), "team": team})


@login_required
@require_POST
@deny_as_404
def team_archive(request, pk):
    team = _team(request, pk, "team.manage")
    archived = request.POST.get("archived", "1") == "1"
    services.archive_team(request.user, team, archived)
    messages.success(request, _("服务队已撤销。") if archived else _("服务队已恢复。"))
    return redirect("service:team_detail", team.pk)


@login_required
def team_detail(request, pk):
    user = request.user
    team = _team(request, pk)
    manage = can(user, "team.manage", team.org.path)
    members = list(TeamMember.objects.filter(team=team).select_related("member__org")
                   .annotate(hours=Sum("member__service_participations__hours",
                                       filter=Q(member__service_participations__activity__team=team)))
                   .order_by("member__name_pinyin", "id"))
    activities = list(ServiceActivity.objects.filter(team=team)
                      .annotate(n=Count("participants", distinct=True), h=Sum("participants__hours"))
                      .order_by("-date", "-id")[:10])
    mq = request.GET.get("mq", "").strip()[:40]
    found = services.candidates(team, mq) if manage and mq else []
    return render(request, "service/teams/detail.html", {
        "team": team, "manage": manage, "members": members, "activities": activities,
        "totals": services.team_totals(team), "mq": mq, "found": found})


@login_required
@require_POST
@deny_as_404
def team_member_add(request, pk):
    team = _team(request, pk, "team.manage")
    ids = [int(x) for x in request.POST.getlist("member") if x.isdigit()][:200]
    members = list(Member.objects.filter(pk__in=ids).select_related("org"))
    try:
        n = services.add_members(request.user, team, members)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已加入 {n} 名队员。").format(n=n))
    return redirect("service:team_detail", team.pk)


@login_required
@require_POST
@deny_as_404
def team_member_remove(request, pk, member_id):
    team = _team(request, pk, "team.manage")
    membership = TeamMember.objects.filter(team=team, member_id=member_id).select_related("member").first()
    if membership is None:
        raise Http404
    services.remove_member(request.user, team, membership.member)
    messages.success(request, _("已将{name}移出服务队。").format(name=membership.member.name))
    return redirect("service:team_detail", team.pk)


# ---- activities -------------------------------------------------------------------------------------------------


@login_required
def service_activity_list(request):
    user = request.user
    require_capability(user, "team.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "team", "month", "q")}
    qs = (services.visible_activities(user).select_related("team__org")
          .annotate(n=Count("participants", distinct=True), h=Sum("participants__hours"))
          .order_by("-date", "-id"))
    qs = _org_filter(qs, user, f["org"], "team__org__path")
    if f["team"].isdigit():
        qs = qs.filter(team_id=int(f["team"]))
    if f["month"]:
        qs = services.month_filter(qs, f["month"])
    if f["q"]:
        qs = qs.filter(Q(title__contains=f["q"]) | Q(place__contains=f["q"]) | Q(content__contains=f["q"]))
    base = services.visible_activities(user).filter(pk__in=qs.values("pk"))
    totals = {"n": base.count(), "people": base.aggregate(p=Sum("people_served"))["p"] or 0,
              "hours": ServiceParticipation.objects.filter(activity__in=base).aggregate(h=Sum("hours"))["h"]
              or Decimal("0")}
    if wants_xlsx(request):
        rows = ((a.date, a.team.name, a.team.org.name, a.title, a.place, a.n, a.h or 0, a.people_served, a.content)
                for a in qs.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("服务队活动"), [_("日期"), _("服务队"), _("所属组织"), _("活动名称"),
                                                             _("地点"), _("参与人数"), _("服务时长（小时）"),
                                                             _("服务人次"), _("活动内容")],
                           rows, what=gettext_noop("服务队活动"))
    page, query = paginate(request, qs)
    teams = list(services.visible_teams(user).order_by("org__path", "name").only("id", "name")[:ORG_SELECT_MAX])
    return render(request, "service/teams/activity_list.html", {
        "page": page, "query": query, "f": f, "orgs": _orgs(user), "teams": teams, "totals": totals})


def _parse_participants(request, team: ServiceTeam, form_data: dict):
    """(member, hours or None) pairs from the checked team members (``p``, hours ``h_<id>``) and the names typed
    into "其他参与党员" (members of the team's organization subtree, found by exact name)."""
    ids = [int(x) for x in request.POST.getlist("p") if x.isdigit()][:500]
    members = {m.pk: m for m in Member.objects.filter(pk__in=ids, org__path__startswith=team.org.path)
               .select_related("org")}
    pairs = [(members[i], request.POST.get(f"h_{i}", "").strip() or None) for i in ids if i in members]
    names = [n for n in re.split(r"[,，、;；\s]+", form_data.get("others") or "") if n]
    for name in dict.fromkeys(names):
        found = list(Member.objects.filter(org__path__startswith=team.org.path, active=True, name=name)
                     .select_related("org")[:2])
        if not found:
            raise DomainError(_("在{org}及其下级组织中找不到党员“{name}”。").format(org=team.org.name, name=name),
                              "others")
        if len(found) > 1:
            raise DomainError(_("{org}有多名党员叫“{name}”，请先将要登记的那位加入服务队，再在队员表中勾选。").format(
                org=team.org.name, name=name), "others")
        if found[0].pk not in members:
            members[found[0].pk] = found[0]
            pairs.append((found[0], None))
    return pairs


def _activity_form(request, team: ServiceTeam, activity: ServiceActivity | None):
    user = request.user
    if activity is not None:
        initial = {k: getattr(activity, k) for k in ("date", "title", "place", "content", "people_served")}
        current = {p.member_id: p.hours for p in activity.participants.all()}
    else:
        initial, current = {}, {}
    form = ActivityForm(request.POST or None, initial=initial)
    roster = list(Member.objects.filter(service_teams__team=team).select_related("org").order_by("name_pinyin", "id"))
    # Past participants who have left the team still show (their hours stay unless unticked).
    extra = [m for m in Member.objects.filter(pk__in=set(current) - {m.pk for m in roster}).select_related("org")]
    roster += extra
    if request.method == "POST":
        checked = {int(x) for x in request.POST.getlist("p") if x.isdigit()}
        hours = {m.pk: request.POST.get(f"h_{m.pk}", "") for m in roster}
    else:
        checked = set(current)
        hours = {m.pk: current.get(m.pk, "") for m in roster}
    rows = [{"member": m, "checked": m.pk in checked, "hours": hours.get(m.pk, "")} for m in roster]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        fields = {k: d[k] for k in ("date", "title", "place", "content", "people_served")}
        try:
            pairs = _parse_participants(request, team, d)
            if activity is None:
                activity = services.create_activity(user, team, participants=pairs, default_hours=d["default_hours"],
                                                    add_missing=d["add_missing"], **fields)
                messages.success(request, _("活动已登记，参与队员的服务时长已计入其志愿服务记录。"))
            else:
                services.update_activity(user, activity, participants=pairs, default_hours=d["default_hours"],
                                         add_missing=d["add_missing"], **fields)
                messages.success(request, _("已保存。"))
        except DomainError as exc:
            form_error(form, exc, {"participants": None, "hours": "default_hours"})
        else:
            return redirect("service:service_activity_detail", activity.pk)
    return render(request, "service/teams/activity_form.html", {
        "form": form, "team": team, "activity": activity, "rows": rows,
        "title": _("修改活动") if activity else _("登记服务活动")})


@login_required
@deny_as_404
def service_activity_create(request, pk):
    team = _team(request, pk, "team.manage")
    if team.archived:
        messages.error(request, _("该服务队已撤销，不能登记新的活动。"))
        return redirect("service:team_detail", team.pk)
    return _activity_form(request, team, None)


@login_required
@deny_as_404
def service_activity_edit(request, pk):
    activity = _activity(request, pk, "team.manage")
    return _activity_form(request, activity.team, activity)


@login_required
def service_activity_detail(request, pk):
    activity = _activity(request, pk)
    activity = (ServiceActivity.objects.filter(pk=activity.pk).select_related("team__org", "created_by")
                .prefetch_related(Prefetch("participants", ServiceParticipation.objects
                                           .select_related("member__org", "record").order_by("member__name_pinyin")),
                                  "photos").get())
    manage = can(request.user, "team.manage", activity.team.org.path)
    total = sum((p.hours for p in activity.participants.all()), Decimal("0"))
    return render(request, "service/teams/activity_detail.html", {
        "activity": activity, "team": activity.team, "manage": manage, "total_hours": total,
        "photo_form": PhotoForm() if manage else None})


@login_required
@require_POST
@deny_as_404
def service_activity_delete(request, pk):
    activity = _activity(request, pk, "team.manage")
    team_id = activity.team_id
    try:
        services.delete_activity(request.user, activity)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("service:service_activity_detail", activity.pk)
    messages.success(request, _("活动已删除，参与队员的相应服务时长已一并删除。"))
    return redirect("service:team_detail", team_id)


@login_required
@require_POST
@deny_as_404
def service_activity_photo_add(request, pk):
    activity = _activity(request, pk, "team.manage")
    files = request.FILES.getlist("file")
    if not files:
        messages.error(request, _("请选择要上传的文件。"))
    for upload in files[:services.MAX_PHOTOS]:
        try:
            services.add_photo(request.user, activity, upload)
        except DomainError as exc:
            messages.error(request, f"{upload.name}：{exc.message}")
            break
    return redirect("service:service_activity_detail", activity.pk)


@login_required
def service_activity_photo(request, pk):
    """A photo, served only to those who may see its activity (never from a public media URL)."""
    photo = get_scoped_or_404(request.user, "team.view", ActivityPhoto.objects.all(), pk=pk)
    try:
        fh = default_storage.open(photo.file.name, "rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    resp = FileResponse(fh, content_type=photo.content_type if photo.content_type.startswith("image/")
                        else "application/octet-stream")
    resp["Cache-Control"] = "private, max-age=300"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


@login_required
@require_POST
@deny_as_404
def service_activity_photo_delete(request, pk):
    photo = get_scoped_or_404(request.user, "team.manage", ActivityPhoto.objects.all(), pk=pk)
    activity_id = photo.activity_id
    services.delete_photo(request.user, photo)
    messages.success(request, _("照片已删除。"))
    return redirect("service:service_activity_detail", activity_id)
