"""Pages of the member standard sets (党员量化评价标准), under /standards/member/ in the "standards" namespace.
Thin: parse, fetch through core.access (an outsider gets 404), call member_services, render. Reading is
``standard.view`` (every role: the rules are not secret to anyone evaluated under them); writing is
``standard.manage`` on the owner's subtree."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx, xlsx_response
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Organization
from dangjian.standards import member_excel, member_forms
from dangjian.standards import member_services as services
from dangjian.standards.models import Dimension, MemberItem, MemberPart, MemberStandardSet, SetStatus


def _set(request, pk, action="standard.view") -> MemberStandardSet:
    qs = MemberStandardSet.objects.select_related("owner", "based_on")
    return get_scoped_or_404(request.user, action, qs, pk=pk)


def _item(request, pk) -> MemberItem:
    return get_scoped_or_404(request.user, "standard.manage",
                             MemberItem.objects.select_related("standard_set__owner"), pk=pk)


def _detail(ms, anchor=""):
    return redirect(reverse("standards:member_set_detail", args=[ms.pk]) + anchor)


def _locked(request, ms):
    """A published, archived or frozen set: back to its page with the sentence saying how to change it."""
    try:
        services.check_editable(ms)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _detail(ms)
    return None


def _item_count():
    return Coalesce(Subquery(MemberItem.objects.filter(standard_set=OuterRef("pk")).order_by()
                             .values("standard_set").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


def _render_form(request, form, title, ms=None, note=None, template="standards/member_form.html", **extra):
    return render(request, template, {"form": form, "title": title, "ms": ms, "note": note, **extra})


# ---- sets ---------------------------------------------------------------------------------------------


@login_required
def member_set_list(request):
    require_capability(request.user, "standard.view")
    user = request.user
    visible = scope(user, "standard.view", MemberStandardSet.objects.all())
    qs = visible.select_related("owner")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "year", "status", "owner")}
    if f["q"]:
        qs = qs.filter(Q(name__contains=f["q"]) | Q(owner__name__contains=f["q"]))
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["status"] in SetStatus.values:
        qs = qs.filter(status=f["status"])
    if f["owner"].isdigit():
        qs = qs.filter(owner_id=int(f["owner"]))
    qs = qs.annotate(n_items=_item_count()).order_by("-year", "owner__path", "-version")
    if wants_xlsx(request):
        frozen = _("已冻结")
        rows = ((s.owner.name, s.year, s.name, s.version, str(s.get_status_display()), s.n_items, s.bonus_cap,
                 s.deduction_cap, s.floor, s.pass_mark, str(s.get_veto_effect_display()), s.published_at,
                 frozen if s.frozen_at else "", s.created_at) for s in qs.iterator(chunk_size=2000))
        header = [_("制定单位"), _("年度"), _("标准名称"), _("版本"), _("状态"), _("细则数"), _("奖励分上限"),
                  _("减项分上限"), _("月度最低分"), _("合格分数线"), _("否决项的效果"), _("发布时间"), _("冻结"),
                  _("创建时间")]
        return export_xlsx(request, gettext_noop("党员评价标准"), header, rows, what=gettext_noop("党员评价标准"))
    page, query = paginate(request, qs)
    years = list(visible.order_by("-year").values_list("year", flat=True).distinct())
    owner_ids = visible.order_by().values("owner_id")
    owners = list(Organization.objects.filter(pk__in=owner_ids).order_by("path").only("id", "name"))
    return render(request, "standards/member_set_list.html", {
        "page": page, "query": query, "f": f, "statuses": SetStatus.choices, "years": years, "owners": owners,
        "can_manage": can(user, "standard.manage"),
    })


@login_required
@deny_as_404
def member_set_create(request):
    require_capability(request.user, "standard.manage")
    form = member_forms.MemberSetForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            ms = services.create_member_set(request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新建“{name}”（草稿），请完善计分设置、添加细则，或导入 Excel。").format(
                name=ms.name))
            return _detail(ms)
    return _render_form(request, form, _("新建党员评价标准"), back=reverse("standards:member_set_list"))


@login_required
@deny_as_404
def member_set_edit(request, pk):
    ms = _set(request, pk, "standard.manage")
    if (locked := _locked(request, ms)) is not None:
        return locked
    form = member_forms.MemberSettingsForm(request.POST or None,
                                           initial=member_forms.MemberSettingsForm.initial_for(ms))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member_set(request.user, ms, **form.changes())
        except DomainError as exc:
            form_error(form, exc)  # dimension_caps is no form field: its error shows above the form
        else:
            messages.success(request, _("已保存。"))
            return _detail(ms)
    return _render_form(request, form, _("修改名称和计分设置：{name}").format(name=ms.name), ms,
                        template="standards/member_settings_form.html")


@login_required
def member_set_detail(request, pk):
    ms = _set(request, pk)
    user = request.user
    items = services.member_set_contents(ms)
    totals = services.member_set_totals(ms, items)
    manage = services.can_manage_member_set(user, ms)
    versions = (scope(user, "standard.view", MemberStandardSet.objects.filter(owner_id=ms.owner_id, year=ms.year))
                .exclude(pk=ms.pk).order_by("-version").only("id", "version", "status"))
    caps = [(label, ms.dimension_caps.get(value)) for value, label in Dimension.choices]
    return render(request, "standards/member_set_detail.html", {
        "ms": ms, "parts": totals["parts"], "totals": totals, "caps": caps,
        "can_manage": manage, "editable": manage and ms.is_editable, "can_copy": can(user, "standard.manage"),
        "versions": list(versions), "can_audit": can(user, "audit.view", ms.owner.path),
    })


def _state_change(request, pk, run, success):
    ms = _set(request, pk, "standard.manage")
    try:
        run(request.user, ms)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(name=ms.name))
    return _detail(ms)


@login_required
@require_POST
@deny_as_404
def member_set_publish(request, pk):
    return _state_change(request, pk, services.publish_member_set,
                         _("已发布“{name}”；同一年度此前发布的版本已自动归档。"))


@login_required
@require_POST
@deny_as_404
def member_set_archive(request, pk):
    return _state_change(request, pk, services.archive_member_set, _("已归档“{name}”。"))


@login_required
@deny_as_404
def member_set_copy(request, pk):
    source = _set(request, pk)
    require_capability(request.user, "standard.manage")
    form = member_forms.MemberCopyForm(request.POST or None, user=request.user, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.copy_member_set(request.user, source, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已复制为“{name}”第{version}版（草稿），可修改后发布。").format(
                name=new.name, version=new.version))
            return _detail(new)
    return _render_form(request, form, _("复制为新版本：{name}").format(name=source.name), source,
                        _("复制全部计分设置和评价细则，生成新的草稿版本；原标准不变。"))


@login_required
@deny_as_404
def member_set_export(request, pk):
    ms = _set(request, pk)
    content, filename = member_excel.export_member_set_to_excel(request.user, ms, request)
    return xlsx_response(content, filename)


@login_required
@deny_as_404
def member_set_load_default(request):
    require_capability(request.user, "standard.manage")
    form = member_forms.MemberDefaultForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ms = services.load_default_member_set(request.user, data["owner"], data["year"], publish=data["publish"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已载入默认党员评价标准“{name}”。").format(name=ms.name))
            return _detail(ms)
    return _render_form(request, form, _("载入默认党员评价标准"), back=reverse("standards:member_set_list"),
                        note=_("平台自带的默认标准按“基础分80分＋奖励分（每月最多20分）－减项分”计分：基础分10项、"
                               "奖励分15项、减项分12项、一票否决5项，覆盖讲政治有信念、讲规矩有纪律、讲道德有品行、"
                               "讲奉献有作为和中心工作五个维度；60分为合格线。载入后为新的版本，可修改后发布。"))


# ---- import -------------------------------------------------------------------------------------------


def _import_result(ctx, upload, run):
    ctx["filename"] = getattr(upload, "name", "")
    try:
        result = run(upload)
    except DomainError as exc:
        ctx["file_error"] = exc.message
        return None
    if "problems" in result:
        ctx["problems"] = result["problems"][:member_excel.MAX_SHOWN_PROBLEMS]
        ctx["problem_total"] = len(result["problems"])
        ctx["row_total"] = result["rows"]
        ctx["truncated"] = len(result["problems"]) > member_excel.MAX_SHOWN_PROBLEMS
        return None
    return result


def _import_ctx(form, title, ms=None):
    return {"form": form, "title": title, "ms": ms, "columns": member_excel.ITEM_COLUMNS,
            "settings": [title for _key, title in member_excel.SETTING_ROWS]}


@login_required
@deny_as_404
def member_set_import(request):
    require_capability(request.user, "standard.manage")
    form = member_forms.MemberImportNewForm(request.POST or None, request.FILES or None, user=request.user)
    ctx = _import_ctx(form, _("导入党员评价标准"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _import_result(ctx, request.FILES.get("file"), lambda upload: (
            member_excel.import_member_set_from_excel(request.user, upload, owner=data["owner"], year=data["year"],
                                                      name=data["name"], request=request)))
        if result:
            messages.success(request, _("已导入“{name}”：{count}项细则（草稿）。").format(
                name=result["set"].name, count=result["count"]))
            return _detail(result["set"])
    return render(request, "standards/member_import.html", ctx)


@login_required
@deny_as_404
def member_set_import_into(request, pk):
    ms = _set(request, pk, "standard.manage")
    form = member_forms.MemberImportIntoForm(request.POST or None, request.FILES or None)
    ctx = _import_ctx(form, _("导入细则和设置：{name}").format(name=ms.name), ms)
    try:
        services.check_editable(ms)
    except DomainError as exc:
        ctx["file_error"] = exc.message
        ctx["locked"] = True
    if request.method == "POST" and form.is_valid() and not ctx.get("locked"):
        result = _import_result(ctx, request.FILES.get("file"), lambda upload: (
            member_excel.import_member_set_from_excel(request.user, upload, target=ms, request=request)))
        if result:
            messages.success(request, _("已用文件中的计分设置和{count}项细则替换本标准的内容。").format(
                count=result["count"]))
            return _detail(ms)
    return render(request, "standards/member_import.html", ctx)


@login_required
def member_set_template(request):
    require_capability(request.user, "standard.manage")
    return xlsx_response(member_excel.template_bytes(), _("党员评价标准导入模板") + ".xlsx")


# ---- items --------------------------------------------------------------------------------------------


def _item_page(request, form, ms, title, item=None):
    return render(request, "standards/member_item_form.html", {"form": form, "ms": ms, "title": title, "item": item})


@login_required
@deny_as_404
def member_item_create(request, pk):
    ms = _set(request, pk, "standard.manage")
    if (locked := _locked(request, ms)) is not None:
        return locked
    part = request.GET.get("part", "")
    initial = {"part": part if part in MemberPart.values else MemberPart.BASE, "dimension": Dimension.POLITICS}
    form = member_forms.MemberItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.add_member_item(request.user, ms, **form.item_data())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新增细则 {code}。").format(code=item.code))
            if "another" in request.POST:
                return redirect(reverse("standards:member_item_create", args=[ms.pk]) + f"?part={item.part}")
            return _detail(ms, f"#item-{item.pk}")
    return _item_page(request, form, ms, _("新增党员评价细则"))


@login_required
@deny_as_404
def member_item_edit(request, pk):
    item = _item(request, pk)
    ms = item.standard_set
    if (locked := _locked(request, ms)) is not None:
        return locked
    form = member_forms.MemberItemForm(request.POST or None, initial=member_forms.MemberItemForm.initial_for(item))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member_item(request.user, item, **form.item_data())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存细则 {code}。").format(code=item.code))
            return _detail(ms, f"#item-{item.pk}")
    return _item_page(request, form, ms, _("修改细则：{code}").format(code=item.code), item)


@login_required
@require_POST
@deny_as_404
def member_item_delete(request, pk):
    item = _item(request, pk)
    try:
        services.delete_member_item(request.user, item)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除细则 {code}。").format(code=item.code))
    return _detail(item.standard_set)


@login_required
@require_POST
@deny_as_404
def member_item_move(request, pk):
    item = _item(request, pk)
    try:
        services.move_member_item(request.user, item, "up" if request.POST.get("direction") == "up" else "down")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _detail(item.standard_set, f"#item-{item.pk}")


# Mounted by standards/urls.py at "member/".
urlpatterns = [
    path("", member_set_list, name="member_set_list"),
    path("new/", member_set_create, name="member_set_create"),
    path("default/", member_set_load_default, name="member_set_load_default"),
    path("import/", member_set_import, name="member_set_import"),
    path("import/template/", member_set_template, name="member_set_template"),
    path("<int:pk>/", member_set_detail, name="member_set_detail"),
    path("<int:pk>/edit/", member_set_edit, name="member_set_edit"),
    path("<int:pk>/publish/", member_set_publish, name="member_set_publish"),
    path("<int:pk>/archive/", member_set_archive, name="member_set_archive"),
    path("<int:pk>/copy/", member_set_copy, name="member_set_copy"),
    path("<int:pk>/export/", member_set_export, name="member_set_export"),
    path("<int:pk>/import/", member_set_import_into, name="member_set_import_into"),
    path("<int:pk>/items/new/", member_item_create, name="member_item_create"),
    path("items/<int:pk>/edit/", member_item_edit, name="member_item_edit"),
    path("items/<int:pk>/delete/", member_item_delete, name="member_item_delete"),
    path("items/<int:pk>/move/", member_item_move, name="member_item_move"),
]
