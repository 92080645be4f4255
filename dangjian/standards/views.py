"""Pages of the standard sets. Thin: parse, fetch through core.access (an outsider gets 404), call a service,
render. Reading is ``standard.view`` (every role: the rules are not secret to anyone evaluated under them);
writing is ``standard.manage`` on the owner's subtree."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx, xlsx_response
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Level, Organization, OrgType
from dangjian.standards import excel_io, forms, services
from dangjian.standards.models import Category, Item, SetStatus, StandardSet


def _set(request, pk, action="standard.view") -> StandardSet:
    qs = StandardSet.objects.select_related("owner", "based_on", "created_by")
    return get_scoped_or_404(request.user, action, qs, pk=pk)


def _category(request, pk) -> Category:
    return get_scoped_or_404(request.user, "standard.manage",
                             Category.objects.select_related("standard_set__owner"), pk=pk)


def _item(request, pk) -> Item:
    return get_scoped_or_404(request.user, "standard.manage",
                             Item.objects.select_related("standard_set__owner", "category"), pk=pk)


def _detail(ss):
    return redirect("standards:set_detail", ss.pk)


def _locked(request, ss):
    """A published, archived or frozen set: back to its page with the sentence saying how to change it."""
    try:
        services.check_editable(ss)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _detail(ss)
    return None


def _item_count():
    return Coalesce(Subquery(Item.objects.filter(standard_set=OuterRef("pk")).order_by()
                             .values("standard_set").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


# ---- sets ---------------------------------------------------------------------------------------------


@login_required
def set_list(request):
    require_capability(request.user, "standard.view")
    user = request.user
    qs = scope(user, "standard.view", StandardSet.objects.all()).select_related("owner")
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
        frozen, no = _("已冻结"), ""
        rows = ((s.owner.name, s.year, s.name, s.version, str(s.get_status_display()), s.n_items,
                 s.published_at, frozen if s.frozen_at else no, s.created_at) for s in qs.iterator(chunk_size=2000))
        header = [_("制定单位"), _("年度"), _("标准名称"), _("版本"), _("状态"), _("细则数"), _("发布时间"),
                  _("冻结"), _("创建时间")]
        return export_xlsx(request, gettext_noop("考评标准"), header, rows, what=gettext_noop("考评标准"))
    page, query = paginate(request, qs)
    years = (scope(user, "standard.view", StandardSet.objects.all()).order_by("-year")
             .values_list("year", flat=True).distinct())
    return render(request, "standards/set_list.html", {
        "page": page, "query": query, "f": f, "statuses": SetStatus.choices, "years": list(years),
        "can_manage": can(user, "standard.manage"),
    })


@login_required
@deny_as_404
def set_create(request):
    require_capability(request.user, "standard.manage")
    form = forms.SetForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            ss = services.create_set(request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新建“{name}”（草稿），请添加类别和细则，或导入 Excel。").format(name=ss.name))
            return _detail(ss)
    return render(request, "standards/form.html", {"form": form, "title": _("新建考评标准"),
                                                   "back": reverse("standards:set_list")})


@login_required
@deny_as_404
def set_edit(request, pk):
    ss = _set(request, pk, "standard.manage")
    if (locked := _locked(request, ss)) is not None:
        return locked
    form = forms.SetEditForm(request.POST or None, initial={"name": ss.name, "note": ss.note})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_set(request.user, ss, **{k: form.cleaned_data[k] for k in form.changed_data})
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return _detail(ss)
    return render(request, "standards/form.html", {"form": form, "title": _("修改：{name}").format(name=ss.name),
                                                   "ss": ss})


@login_required
def set_detail(request, pk):
    ss = _set(request, pk)
    user = request.user
    categories = services.set_contents(ss)
    all_types = list(OrgType.objects.all())
    types = services.summary_types(categories, all_types)
    services.label_weights(categories, all_types)
    manage = services.can_manage(user, ss)
    versions = (StandardSet.objects.visible_to(user).filter(owner_id=ss.owner_id, year=ss.year)
                .exclude(pk=ss.pk).order_by("-version"))
    items = sum(len(c.items.all()) for c in categories)
    return render(request, "standards/set_detail.html", {
        "ss": ss, "categories": categories, "summary": services.level_type_summary(categories, types),
        "item_total": items, "can_manage": manage, "editable": manage and ss.is_editable,
        "can_copy": can(user, "standard.manage"), "versions": list(versions),
        "can_audit": can(user, "audit.view", ss.owner.path),
    })


@login_required
@require_POST
@deny_as_404
def set_publish(request, pk):
    ss = _set(request, pk, "standard.manage")
    try:
        services.publish_set(request.user, ss)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发布“{name}”；同一年度此前发布的版本已自动归档。").format(name=ss.name))
    return _detail(ss)


@login_required
@require_POST
@deny_as_404
def set_archive(request, pk):
    ss = _set(request, pk, "standard.manage")
    try:
        services.archive_set(request.user, ss)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已归档“{name}”。").format(name=ss.name))
    return _detail(ss)


@login_required
@deny_as_404
def set_copy(request, pk):
    source = _set(request, pk)
    require_capability(request.user, "standard.manage")
    form = forms.CopyForm(request.POST or None, user=request.user, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.copy_to_new_version(request.user, source, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已复制为“{name}”第{version}版（草稿），可修改后发布。").format(
                name=new.name, version=new.version))
            return _detail(new)
    return render(request, "standards/form.html", {
        "form": form, "title": _("复制为新版本：{name}").format(name=source.name), "ss": source,
        "note": _("复制全部类别和细则（含适用范围和权重），生成新的草稿版本；原标准不变。")})


@login_required
@deny_as_404
def set_export(request, pk):
    ss = _set(request, pk)
    content, filename = excel_io.export_set_to_excel(request.user, ss, request)
    return xlsx_response(content, filename)


@login_required
@deny_as_404
def load_default(request):
    require_capability(request.user, "standard.manage")
    form = forms.DefaultSetForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            ss = services.load_default_set(request.user, form.cleaned_data["owner"], form.cleaned_data["year"],
                                           publish=form.cleaned_data["publish"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已载入默认标准“{name}”。").format(name=ss.name))
            return _detail(ss)
    return render(request, "standards/form.html", {
        "form": form, "title": _("载入默认考评标准"), "back": reverse("standards:set_list"),
        "note": _("平台自带的默认标准：组织建设、组织生活、党员教育管理、作用发挥、基础工作五类五十余项细则，"
                  "党支部按“公用+差异”考评，党委、党总支另有班子建设、指导下级等细则，各层级、各类型满分均为100分。"
                  "载入后为新的版本，可修改后发布。")})


# ---- import -------------------------------------------------------------------------------------------


def _import_result(request, ctx, run):
    upload = request.FILES.get("file")
    ctx["filename"] = getattr(upload, "name", "")
    try:
        result = run(upload)
    except DomainError as exc:
        ctx["file_error"] = exc.message
        return None
    if "problems" in result:
        ctx["problems"] = result["problems"][:excel_io.MAX_SHOWN_PROBLEMS]
        ctx["problem_total"] = len(result["problems"])
        ctx["row_total"] = result["rows"]
        ctx["truncated"] = len(result["problems"]) > excel_io.MAX_SHOWN_PROBLEMS
        return None
    return result


@login_required
@deny_as_404
def import_new(request):
    require_capability(request.user, "standard.manage")
    form = forms.ImportNewForm(request.POST or None, request.FILES or None, user=request.user)
    ctx = {"form": form, "title": _("导入考评标准"), "columns": excel_io.ITEM_COLUMNS,
           "category_columns": excel_io.CATEGORY_COLUMNS}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _import_result(request, ctx, lambda upload: excel_io.import_set_from_excel(
            request.user, upload, owner=data["owner"], year=data["year"], name=data["name"], request=request))
        if result:
            messages.success(request, _("已导入“{name}”：{categories}个类别、{count}项细则（草稿）。").format(
                name=result["set"].name, categories=result["categories"], count=result["count"]))
            return _detail(result["set"])
    return render(request, "standards/import.html", ctx)


@login_required
@deny_as_404
def import_into(request, pk):
    ss = _set(request, pk, "standard.manage")
    form = forms.ImportIntoForm(request.POST or None, request.FILES or None)
    ctx = {"form": form, "ss": ss, "title": _("导入细则：{name}").format(name=ss.name),
           "columns": excel_io.ITEM_COLUMNS, "category_columns": excel_io.CATEGORY_COLUMNS}
    if not ss.is_editable:
        try:
            services.check_editable(ss)
        except DomainError as exc:
            ctx["file_error"] = exc.message
            ctx["locked"] = True
    if request.method == "POST" and form.is_valid() and not ctx.get("locked"):
        result = _import_result(request, ctx, lambda upload: excel_io.import_set_from_excel(
            request.user, upload, target=ss, request=request))
        if result:
            messages.success(request, _("已用文件中的{categories}个类别、{count}项细则替换本标准的内容。").format(
                categories=result["categories"], count=result["count"]))
            return _detail(ss)
    return render(request, "standards/import.html", ctx)


@login_required
def import_template(request):
    require_capability(request.user, "standard.manage")
    return xlsx_response(excel_io.template_bytes(), _("考评标准导入模板") + ".xlsx")


# ---- categories ---------------------------------------------------------------------------------------


@login_required
@deny_as_404
def category_create(request, pk):
    ss = _set(request, pk, "standard.manage")
    if (locked := _locked(request, ss)) is not None:
        return locked
    form = forms.CategoryForm(request.POST or None)
    del form.fields["order"]
    if request.method == "POST" and form.is_valid():
        try:
            services.add_category(request.user, ss, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新增类别。"))
            return _detail(ss)
    return render(request, "standards/form.html", {"form": form, "title": _("新增考评类别"), "ss": ss})


@login_required
@deny_as_404
def category_edit(request, pk):
    category = _category(request, pk)
    ss = category.standard_set
    if (locked := _locked(request, ss)) is not None:
        return locked
    form = forms.CategoryForm(request.POST or None,
                              initial={"code": category.code, "name": category.name, "order": category.order})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_category(request.user, category, **{k: form.cleaned_data[k] for k in form.changed_data})
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return _detail(ss)
    return render(request, "standards/form.html", {
        "form": form, "title": _("修改类别：{name}").format(name=category.name), "ss": ss})


@login_required
@require_POST
@deny_as_404
def category_delete(request, pk):
    category = _category(request, pk)
    try:
        services.delete_category(request.user, category)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除类别“{name}”。").format(name=category.name))
    return _detail(category.standard_set)


# ---- items --------------------------------------------------------------------------------------------


def _item_form(request, ss, initial=None):
    return forms.ItemForm(request.POST or None, initial=initial, standard_set=ss, types=services.form_types(ss))


def _render_item_form(request, form, ss, title, item=None):
    return render(request, "standards/item_form.html", {"form": form, "ss": ss, "title": title, "item": item})


@login_required
@deny_as_404
def item_create(request, pk):
    ss = _set(request, pk, "standard.manage")
    if (locked := _locked(request, ss)) is not None:
        return locked
    if not ss.categories.exists():
        messages.info(request, _("请先新增考评类别，再添加细则。"))
        return redirect("standards:category_create", ss.pk)
    initial = {"methods": ["report", "onsite"]}
    if request.GET.get("category", "").isdigit():
        initial["category"] = int(request.GET["category"])
    form = _item_form(request, ss, initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.add_item(request.user, ss, **form.item_data())
        except DomainError as exc:
            form_error(form, exc, {"weights": None})
        else:
            messages.success(request, _("已新增细则 {code}。").format(code=item.code))
            if "another" in request.POST:
                return redirect(reverse("standards:item_create", args=[ss.pk]) + f"?category={item.category_id}")
            return _detail(ss)
    return _render_item_form(request, form, ss, _("新增考评细则"))


@login_required
@deny_as_404
def item_edit(request, pk):
    item = _item(request, pk)
    ss = item.standard_set
    if (locked := _locked(request, ss)) is not None:
        return locked
    initial = {"category": item.category_id, "code": item.code, "text": item.text, "max_points": item.max_points,
               "rule": item.rule, "evidence": item.evidence, "methods": item.methods,
               "applies_levels": item.applies_levels, "applies_types": list(item.applies_types.all()),
               "is_veto": item.is_veto, "auto_source": item.auto_source, "auto_full_at": item.auto_full_at,
               "auto_zero_at": item.auto_zero_at, "auto_min_sample": item.auto_min_sample}
    initial.update({f"weight_{code}": w for code, w in item.weights.items()})
    form = _item_form(request, ss, initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_item(request.user, item, **form.item_data())
        except DomainError as exc:
            form_error(form, exc, {"weights": None})
        else:
            messages.success(request, _("已保存细则 {code}。").format(code=item.code))
            return _detail(ss)
    return _render_item_form(request, form, ss, _("修改细则：{code}").format(code=item.code), item)


@login_required
@require_POST
@deny_as_404
def item_delete(request, pk):
    item = _item(request, pk)
    try:
        services.delete_item(request.user, item)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除细则 {code}。").format(code=item.code))
    return _detail(item.standard_set)


@login_required
@require_POST
@deny_as_404
def item_move(request, pk):
    item = _item(request, pk)
    try:
        services.move_item(request.user, item, "up" if request.POST.get("direction") == "up" else "down")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("standards:set_detail", args=[item.standard_set_id]) + f"#item-{item.pk}")


# ---- preview ------------------------------------------------------------------------------------------

PREVIEW_CHOICES = 200


@login_required
def preview(request, pk):
    """预览: the items that apply to one organization (in the user's scope, under the set's owner)."""
    ss = _set(request, pk)
    user = request.user
    orgs = scope(user, "org.view", Organization.objects.active().filter(path__startswith=ss.owner.path))
    q = request.GET.get("q", "").strip()
    choices = orgs.filter(Q(name__contains=q) | Q(code__icontains=q)) if q else orgs
    org = None
    if request.GET.get("org", "").isdigit():
        org = get_scoped_or_404(user, "org.view", orgs.select_related("type"), pk=int(request.GET["org"]))
    choice_list = list(choices.only("id", "name", "depth", "path").order_by("path")[:PREVIEW_CHOICES])
    if org is not None and all(o.pk != org.pk for o in choice_list):
        choice_list.insert(0, org)
    for o in choice_list:
        o.indent = "\u3000" * max(0, o.depth - ss.owner.depth)
    ctx = {"ss": ss, "choices": choice_list, "q": q, "org": org, "limited": len(choice_list) >= PREVIEW_CHOICES}
    if org is not None:
        items, total = services.applicable(org, ss)
        groups = []
        for it in items:
            if not groups or groups[-1]["category"].pk != it.category_id:
                groups.append({"category": it.category, "items": [], "total": 0})
            groups[-1]["items"].append(it)
            groups[-1]["total"] += it.points
        ctx.update({"groups": groups, "total": total, "count": len(items),
                    "veto_count": sum(1 for it in items if it.is_veto),
                    "level_label": Level(org.level).label})
    return render(request, "standards/preview.html", ctx)
