"""Pages of the organization tree, members, committee seats and accounts. Thin: parse, call a service,
render. Every object is fetched through core.access, so an outsider gets 404."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Func, OuterRef, Prefetch, Q, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from dangjian.core.access import AccessDenied, allowed_paths, can, get_scoped_or_404, scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.core.views import form_error, paginate, require_capability
from dangjian.orgs import forms, services
from dangjian.orgs.models import (
    CommitteeSeat,
    Gender,
    Level,
    Member,
    MemberStatus,
    Organization,
    OrgType,
    RoleGrant,
)
from dangjian.orgs.photos import PhotoError, store_photo


def _org(request, pk, action="org.view"):
    return get_scoped_or_404(request.user, action, Organization.objects.select_related("type", "parent"), pk=pk)


def _member(request, pk, action="member.view"):
    return get_scoped_or_404(request.user, action, Member.objects.select_related("org", "user"), pk=pk)


# ---- tree and organizations ----------------------------------------------------------------------------


def _with_counts(qs):
    """Direct children, and members in the whole subtree (one correlated subquery per listed row)."""
    subtree_members = (
        Member.objects.filter(active=True, org__path__startswith=OuterRef("path"))
        .order_by().annotate(n=Func(F("id"), function="COUNT")).values("n")
    )
    children = (
        Organization.objects.filter(parent=OuterRef("pk"), archived=False)
        .order_by().annotate(n=Func(F("id"), function="COUNT")).values("n")
    )
    return qs.select_related("type").annotate(n_children=Subquery(children), n_members=Subquery(subtree_members))


@login_required
def tree(request):
    require_capability(request.user, "org.view")
    paths = allowed_paths(request.user, "org.view")
    roots = Organization.objects.filter(parent__isnull=True) if paths is None else \
        Organization.objects.filter(path__in=paths)
    show_archived = request.GET.get("archived") == "1"
    if not show_archived:
        roots = roots.filter(archived=False)
    q = request.GET.get("q", "").strip()
    matches = None
    if q:
        matches = scope(request.user, "org.view", Organization.objects.filter(
            Q(name__contains=q) | Q(code__icontains=q))).select_related("type")[:50]
    return render(request, "orgs/tree.html", {
        "roots": _with_counts(roots), "q": q, "matches": matches, "show_archived": show_archived,
        "can_manage": can(request.user, "org.manage"),
    })


@login_required
def tree_children(request, pk):
    org = _org(request, pk)
    children = org.children.all()
    if request.GET.get("archived") != "1":
        children = children.filter(archived=False)
    return render(request, "orgs/_tree_children.html", {"children": _with_counts(children.order_by("order", "path"))})


@login_required
def org_list(request):
    require_capability(request.user, "org.view")
    qs = scope(request.user, "org.view", Organization.objects.all()).select_related("type", "parent")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "level", "type", "archived")}
    if f["q"]:
        qs = qs.filter(Q(name__contains=f["q"]) | Q(code__icontains=f["q"]))
    if f["level"]:
        qs = qs.filter(level=f["level"])
    if f["type"]:
        qs = qs.filter(type_id=f["type"])
    qs = qs.filter(archived=(f["archived"] == "1"))
    if wants_xlsx(request):
        archived, normal = _("已撤销"), _("正常")
        rows = ((o.code, o.name, str(o.get_level_display()), o.type.display_name if o.type else "",
                 o.parent.name if o.parent else "", o.established_on, o.term_ends_on,
                 archived if o.archived else normal) for o in qs.iterator(chunk_size=2000))
        header = [_("组织编码"), _("名称"), _("层级"), _("类型"), _("上级组织"), _("成立日期"), _("届满日期"),
                  _("状态")]
        return export_xlsx(request, gettext_noop("党组织"), header, rows, what=gettext_noop("党组织"))
    page, query = paginate(request, _with_counts(qs).order_by("path"))
    return render(request, "orgs/org_list.html", {
        "page": page, "query": query, "f": f, "levels": Level.choices, "types": OrgType.objects.all(),
    })


@login_required
def org_detail(request, pk):
    org = _org(request, pk)
    user = request.user
    seats = org.seats.filter(until__isnull=True).select_related("member")
    members = scope(user, "member.view", org.members.filter(active=True)) if can(user, "member.view", org.path) \
        else Member.objects.none()
    children = _with_counts(org.children.filter(archived=False).order_by("order", "path"))
    ancestors = Organization.objects.filter(path__in=org.ancestor_paths()).order_by("depth")
    visible_ancestors = [a for a in ancestors if can(user, "org.view", a.path)]
    manage = can(user, "org.manage", org.path)
    return render(request, "orgs/org_detail.html", {
        "org": org, "seats": seats, "children": children, "ancestors": visible_ancestors,
        "members": list(members.select_related("org")[:20]), "member_total": members.count(),
        "changes": org.changes.select_related("by")[:20], "can_manage": manage,
        "can_manage_members": can(user, "member.manage", org.path),
        "can_audit": can(user, "audit.view", org.path),
        "warnings": org_warnings(org, seats),
    })


def org_warnings(org, seats):
    """Health warnings from the Party rules (DOMAIN.md)."""
    if org.archived:
        return []
    out = []
    if org.level == Level.BRANCH:
        counts = org.members.filter(active=True).aggregate(
            total=Count("id"), full=Count("id", filter=Q(status=MemberStatus.FULL)))
        full, total = counts["full"], counts["total"]
        seat_list = list(seats)
        if full < 3:
            out.append(ngettext(
                "正式党员仅 {n} 名，党支部应有正式党员3名以上（不足时可成立联合党支部）。",
                "正式党员仅 {n} 名，党支部应有正式党员3名以上（不足时可成立联合党支部）。", full).format(n=full))
        if full >= 7 and len(seat_list) < 3:
            out.append(_("正式党员 {n} 名，已达7名以上，应设立支部委员会（3至5人）。").format(n=full))
        if total > 50:
            out.append(_("党员 {n} 名，超过50名，宜分设党支部或成立党总支。").format(n=total))
        if not any(s.duty == "secretary" for s in seat_list):
            out.append(_("未配备书记。"))
    if org.term_ends_on:
        days = (org.term_ends_on - datetime.date.today()).days
        ends = dateformat.format(org.term_ends_on, _("Y年m月d日"))
        if days < 0:
            out.append(_("任期已于 {date} 届满，应按期换届。").format(date=ends))
        elif days <= 90:
            out.append(ngettext("任期将于 {date} 届满（{days} 天后），请做好换届准备。",
                                "任期将于 {date} 届满（{days} 天后），请做好换届准备。", days).format(date=ends, days=days))
    return out


@login_required
def org_create(request):
    require_capability(request.user, "org.manage")
    parent = None
    if request.GET.get("parent"):
        parent = _org(request, request.GET["parent"], "org.manage")
    form = forms.OrgForm(request.POST or None, user=request.user, with_parent=True,
                         initial={"parent": parent.pk if parent else None})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            org = services.create_org(request.user, **data)
        except DomainError as exc:
            form_error(form, exc)
        except AccessDenied as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("已新建“{name}”。").format(name=org.name))
            return redirect("orgs:org_detail", org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": _("新建党组织"),
                                               "back": request.META.get("HTTP_REFERER", "")})


@login_required
def org_edit(request, pk):
    org = _org(request, pk, "org.manage")
    form = forms.OrgForm(request.POST or None, instance=Organization.objects.get(pk=org.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_org(request.user, org, **{k: form.cleaned_data[k] for k in form.changed_data})
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("orgs:org_detail", org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": _("修改：{name}").format(name=org.name),
                                               "org": org})


@login_required
def org_move(request, pk):
    org = _org(request, pk, "org.manage")
    form = forms.MoveForm(request.POST or None, user=request.user, org=org,
                          initial={"effective_on": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.move_org(request.user, org, form.cleaned_data["new_parent"],
                              effective_on=form.cleaned_data["effective_on"], reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已调整隶属关系，历史月份仍按原隶属关系保留。"))
            return redirect("orgs:org_detail", org.pk)
    return render(request, "orgs/form.html", {
        "form": form, "title": _("调整隶属：{name}").format(name=org.name), "org": org,
        "note": _("调整后，该组织及其全部下级组织随之移动；已结束月份的考评结果保持原隶属关系。")})


@login_required
def org_merge(request, pk):
    org = _org(request, pk, "org.manage")
    form = forms.MergeForm(request.POST or None, user=request.user, org=org,
                           initial={"effective_on": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            target = services.merge_org(request.user, org, form.cleaned_data["target"],
                                        effective_on=form.cleaned_data["effective_on"],
                                        reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("“{name}”已并入“{target}”，党员和下级组织已转入。").format(
                name=org.name, target=target.name))
            return redirect("orgs:org_detail", target.pk)
    return render(request, "orgs/form.html", {
        "form": form, "title": _("合并：{name}").format(name=org.name), "org": org,
        "note": _("合并后，本组织的党员和下级组织转入目标组织，本组织撤销；本组织的历史记录保留。"), "danger": True})


@login_required
def org_archive(request, pk):
    org = _org(request, pk, "org.manage")
    form = forms.ReasonForm(request.POST or None, initial={"effective_on": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.archive_org(request.user, org, effective_on=form.cleaned_data["effective_on"],
                                 reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已撤销“{name}”。").format(name=org.name))
            return redirect("orgs:org_detail", org.pk)
    return render(request, "orgs/form.html", {
        "form": form, "title": _("撤销：{name}").format(name=org.name), "org": org, "danger": True,
        "note": _("撤销前须转出全部党员、调整全部下级组织。")})


@login_required
@require_POST
def org_restore(request, pk):
    org = _org(request, pk, "org.manage")
    try:
        services.restore_org(request.user, org)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已恢复“{name}”。").format(name=org.name))
    return redirect("orgs:org_detail", org.pk)


@login_required
def seat_add(request, pk):
    org = _org(request, pk, "org.manage")
    form = forms.SeatForm(request.POST or None, org=org, initial={"since": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.assign_seat(request.user, org, form.cleaned_data["member"], form.cleaned_data["duty"],
                                 form.cleaned_data["since"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已任命。"))
            return redirect("orgs:org_detail", org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": _("任命支委：{name}").format(name=org.name),
                                               "org": org})


@login_required
@require_POST
def seat_end(request, pk):
    seat = get_scoped_or_404(request.user, "org.manage", CommitteeSeat.objects.select_related("org", "member"),
                             pk=pk)
    try:
        services.end_seat(request.user, seat)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已免去{name}的{duty}职务。").format(name=seat.member.name,
                                                                    duty=seat.get_duty_display()))
    return redirect("orgs:org_detail", seat.org_id)


# ---- members -------------------------------------------------------------------------------------------


def member_queryset(request):
    qs = scope(request.user, "member.view", Member.objects.all()).select_related("org")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "org", "status", "gender", "inactive")}
    if f["q"]:
        qs = qs.search(f["q"])
    if f["org"]:
        org = _org(request, f["org"])
        qs = qs.filter(org__path__startswith=org.path)
        f["org_obj"] = org
    if f["status"]:
        qs = qs.filter(status=f["status"])
    if f["gender"]:
        qs = qs.filter(gender=f["gender"])
    qs = qs.filter(active=(f["inactive"] != "1"))
    return qs, f


@login_required
def member_list(request):
    require_capability(request.user, "member.view")
    qs, f = member_queryset(request)
    if wants_xlsx(request):
        return _member_export(request, qs, f)
    page, query = paginate(request, qs)
    return render(request, "orgs/member_list.html", {
        "page": page, "query": query, "f": f, "statuses": MemberStatus.choices, "genders": Gender.choices,
        "can_create": can(request.user, "member.manage"),
        "can_export_personal": can(request.user, "member.export_personal"),
    })


def _member_export(request, qs, f):
    """The roll as Excel. ID and phone numbers are masked unless the user holds the explicit export permission
    (core.access "member.export_personal") and asked for them (?pii=1); then they are written in full for the
    members in the permission's scope, and an audit event with the count is written in the same transaction."""
    user = request.user
    full_paths = allowed_paths(user, "member.export_personal") if request.GET.get("pii") == "1" else []
    personal = full_paths is None or bool(full_paths)
    exported = 0

    def full(m):
        nonlocal exported
        if personal and (full_paths is None or any(m.org.path.startswith(p) for p in full_paths)):
            exported += 1
            return True
        return False

    def rows():
        for m in qs.iterator(chunk_size=2000):
            shown = full(m)
            yield (m.name, str(m.get_gender_display()), m.birth_date,
                   m.id_number if shown else mask_id_number(m.id_number),
                   m.phone if shown else mask_phone(m.phone), m.org.name, str(m.get_status_display()),
                   m.joined_on, m.confirmed_on, m.post, m.title)

    header = [_("姓名"), _("性别"), _("出生日期"), _("身份证号"), _("手机号"), _("所在组织"), _("党员类别"),
              _("入党日期"), _("转正日期"), _("岗位"), _("职务")]
    with transaction.atomic():
        response = export_xlsx(request, gettext_noop("党员名册"), header, rows(), what=gettext_noop("党员名册"))
        if exported:
            org = f.get("org_obj")
            log_action(user, "member.personal_exported", org_path=org.path if org else _common_root(full_paths),
                       request=request, rows=exported, query=request.GET.urlencode()[:500])
    return response


def _common_root(paths) -> str:
    """The one organization a user's grants start from, if there is exactly one (the audit event's scope)."""
    return paths[0] if paths and len(paths) == 1 else ""


@login_required
def member_search(request):
    """Type-ahead for the member list (HTMX): the same scoped queryset, first 10 matches."""
    require_capability(request.user, "member.view")
    qs, _ = member_queryset(request)
    return render(request, "orgs/_member_rows.html", {"members": qs[:10]})


@login_required
def member_detail(request, pk):
    member = _member(request, pk)
    user = request.user
    own = member.user_id == user.pk
    show_pii = own or can(user, "member.pii", member.org.path)
    if show_pii and not own and request.GET.get("reveal") == "1":
        log_action(user, "member.pii_viewed", member)
    return render(request, "orgs/member_detail.html", {
        "m": member, "own": own, "show_pii": show_pii, "reveal": request.GET.get("reveal") == "1" or own,
        "id_masked": mask_id_number(member.id_number), "phone_masked": mask_phone(member.phone),
        "pledges": member.pledges.all(), "transfers": member.transfers.select_related("from_org", "to_org"),
        "seats": member.seats.select_related("org"),
        "can_manage": can(user, "member.manage", member.org.path),
        "can_pledge": own or can(user, "member.manage", member.org.path),
        "can_audit": can(user, "audit.view", member.org.path),
        "year": datetime.date.today().year,
    })


@login_required
def member_create(request):
    require_capability(request.user, "member.manage")
    initial = {}
    if request.GET.get("org"):
        initial["org"] = _org(request, request.GET["org"], "member.manage").pk
    form = forms.MemberForm(request.POST or None, user=request.user, with_org=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        org = data.pop("org")
        try:
            member = services.create_member(request.user, org, **data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新增党员{name}。").format(name=member.name))
            return redirect("orgs:member_detail", member.pk)
    return render(request, "orgs/form.html", {"form": form, "title": _("新增党员")})


@login_required
def member_edit(request, pk):
    member = _member(request, pk, "member.manage")
    form = forms.MemberForm(request.POST or None, instance=Member.objects.get(pk=member.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(request.user, member, **{k: form.cleaned_data[k] for k in form.changed_data})
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("orgs:member_detail", member.pk)
    return render(request, "orgs/form.html", {"form": form,
                                               "title": _("修改党员信息：{name}").format(name=member.name)})


@login_required
def member_transfer(request, pk):
    member = _member(request, pk, "member.manage")
    form = forms.TransferForm(request.POST or None, user=request.user, member=member,
                              initial={"effective_on": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_member(request.user, member, form.cleaned_data["to_org"],
                                     effective_on=form.cleaned_data["effective_on"],
                                     reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("{name}的组织关系已转入{org}。").format(
                name=member.name, org=form.cleaned_data["to_org"].name))
            if can(request.user, "member.view", form.cleaned_data["to_org"].path):
                return redirect("orgs:member_detail", member.pk)
            return redirect("orgs:member_list")
    return render(request, "orgs/form.html", {
        "form": form, "title": _("转接组织关系：{name}").format(name=member.name),
        "note": _("当前所在组织：{org}。转接后，此前月份的记录仍归原组织。").format(org=member.org.name)})


@login_required
def member_pledge(request, pk):
    member = _member(request, pk)
    own = member.user_id == request.user.pk
    if not (own or can(request.user, "member.manage", member.org.path)):
        raise Http404
    year = datetime.date.today().year
    try:
        year = int(request.GET.get("year", year))
    except ValueError:
        pass
    current = member.pledges.filter(year=year).first()
    form = forms.PledgeForm(request.POST or None, initial={"year": year, "text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_pledge(request.user, member, form.cleaned_data["year"], form.cleaned_data["text"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("承诺已保存。"))
            return redirect("orgs:member_detail", member.pk)
    return render(request, "orgs/form.html", {"form": form, "title": _("党员承诺：{name}").format(name=member.name)})


@login_required
def member_photo(request, pk):
    member = _member(request, pk)
    own = member.user_id == request.user.pk
    if request.method == "POST":
        if not (own or can(request.user, "member.manage", member.org.path)):
            raise Http404
        form = forms.PhotoForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                store_photo(request.user, member, form.cleaned_data["photo"])
            except PhotoError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("照片已更新。"))
        else:
            messages.error(request, _("请选择照片文件。"))
        return redirect("orgs:member_detail", member.pk)
    if not member.photo:
        raise Http404
    try:
        fh = member.photo.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    resp = FileResponse(fh, content_type="image/jpeg" if member.photo.name.endswith(".jpg") else "image/png")
    resp["Cache-Control"] = "private, max-age=300"
    return resp


# ---- accounts and roles --------------------------------------------------------------------------------


@login_required
def account_list(request):
    require_capability(request.user, "role.manage")
    q = request.GET.get("q", "").strip()
    users = User.objects.order_by("username").prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.select_related("org")))
    paths = allowed_paths(request.user, "role.manage")
    if paths is not None:
        cond = Q()
        for p in paths:
            cond |= Q(grants__org__path__startswith=p) | Q(member__org__path__startswith=p)
        users = users.filter(cond).distinct()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(first_name__contains=q))
    if wants_xlsx(request):
        active, inactive, sep = _("启用"), _("停用"), _("；")
        rows = ((u.username, u.first_name, active if u.is_active else inactive, u.last_login,
                 sep.join(f"{g.get_role_display()}@{g.org.name}" for g in u.grants.all())) for u in users)
        header = [_("用户名"), _("姓名"), _("状态"), _("最近登录"), _("角色")]
        return export_xlsx(request, gettext_noop("账号与角色"), header, rows, what=gettext_noop("账号与角色"))
    page, query = paginate(request, users)
    return render(request, "orgs/account_list.html", {"page": page, "query": query, "q": q})


def _account(request, pk):
    require_capability(request.user, "role.manage")
    qs = User.objects.all()
    paths = allowed_paths(request.user, "role.manage")
    if paths is not None:
        cond = Q()
        for p in paths:
            cond |= Q(grants__org__path__startswith=p) | Q(member__org__path__startswith=p)
        qs = qs.filter(cond).distinct()
    try:
        return qs.get(pk=pk)
    except (User.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


@login_required
def account_create(request):
    require_capability(request.user, "role.manage")
    form = forms.AccountForm(request.POST or None)
    member = None
    if request.GET.get("member"):
        member = _member(request, request.GET["member"], "member.manage")
        if not form.is_bound:
            from dangjian.core.pinyin import name_keys

            form.initial = {"username": name_keys(member.name)[0] + str(member.pk), "full_name": member.name}
    if request.method == "POST" and form.is_valid():
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            try:
                user = services.create_account(request.user, form.cleaned_data["username"],
                                               form.cleaned_data["full_name"], form.cleaned_data["password"],
                                               member=member)
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("已开通账号 {username}。").format(username=user.username))
                return redirect("orgs:account_detail", user.pk)
    title = _("开通账号：{name}").format(name=member.name) if member else _("开通账号")
    return render(request, "orgs/form.html", {"form": form, "title": title})


@login_required
def account_detail(request, pk):
    account = _account(request, pk)
    form = forms.GrantForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_role(request.user, account, form.cleaned_data["role"], form.cleaned_data["org"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已授权。"))
            return redirect("orgs:account_detail", account.pk)
    return render(request, "orgs/account_detail.html", {
        "account": account, "grants": account.grants.select_related("org"), "form": form,
        "member": Member.objects.filter(user=account).select_related("org").first(),
    })


@login_required
@require_POST
def account_status(request, pk):
    account = _account(request, pk)
    try:
        services.set_account_active(request.user, account, request.POST.get("active") == "1")
    except DomainError as exc:
        messages.error(request, exc.message)
    except AccessDenied as exc:
        raise Http404 from exc
    else:
        messages.success(request, _("账号已启用。") if account.is_active else _("账号已停用，其访问令牌已作废。"))
    return redirect("orgs:account_detail", account.pk)


@login_required
def account_password(request, pk):
    account = _account(request, pk)
    form = forms.ResetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(request.user, account, form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error("password", exc)
        except AccessDenied as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("已重置 {username} 的密码，请通知本人登录后修改。").format(
                username=account.username))
            return redirect("orgs:account_detail", account.pk)
    return render(request, "orgs/form.html", {
        "form": form, "title": _("重置密码：{username}").format(username=account.username)})


@login_required
@require_POST
def grant_revoke(request, pk):
    require_capability(request.user, "role.manage")
    grant = get_scoped_or_404(request.user, "role.manage", RoleGrant.objects.select_related("org", "user"), pk=pk)
    services.revoke_role(request.user, grant)
    messages.success(request, _("已撤销授权。"))
    return redirect("orgs:account_detail", grant.user_id)
