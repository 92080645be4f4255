"""Pages of the needs part: the needs list (filters, pages, Excel), staff entry, the detail with its history and
triage, the Excel import, the service areas, the public form's channels (link, QR code, printable poster), and the
public need form itself (no login, by key).

Thin: parse, fetch through core.access (an outsider gets 404) or, on the public pages, through the open key (a
wrong, renewed or closed key is 404), call service.needs, render. The requester's name and contact are masked
everywhere but on the detail page, where a ``need.manage`` holder may reveal them (audited).
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core import public as public_helpers
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.audit import label
from dangjian.core.dates import month_start, next_month
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx, xlsx_response
from dangjian.core.models import AuditEvent
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Organization
from dangjian.service import forms_needs as forms
from dangjian.service import imports_needs as imports
from dangjian.service import needs as services
from dangjian.service.models import (
    Channel,
    Need,
    NeedCategory,
    NeedChannel,
    NeedKind,
    NeedSource,
    NeedState,
    ServiceArea,
    Urgency,
)

THANKS_SALT = "dangjian.service.needs.thanks"
THANKS_MAX_AGE = 24 * 3600
FILTERS = ("org", "kind", "category", "source", "urgency", "state", "area", "month", "q")


def _safe_cell(text: str) -> str:
    """Text typed by the public or pasted from a work order, made inert for spreadsheets (no formula)."""
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def _render(request, template: str, ctx: dict, status: int = 200):
    ctx["can_manage_needs"] = can(request.user, "need.manage")
    return render(request, template, ctx, status=status)


def _data(request):
    """The posted data (even when empty, so an empty post is a bound form that says what is missing)."""
    return request.POST if request.method == "POST" else None


def _managed_orgs(user):
    return scope(user, "need.manage", Organization.objects.filter(archived=False)).order_by("path")


# ---- the needs list -----------------------------------------------------------------------------------------


def _filtered(request):
    user = request.user
    f = {k: request.GET.get(k, "").strip() for k in FILTERS}
    qs = services.needs_visible(user).select_related("org", "area", "ticket")
    org = None
    if f["org"].isdigit():
        org = get_scoped_or_404(user, "need.view", Organization.objects.all(), pk=int(f["org"]))
        qs = qs.filter(org__path__startswith=org.path)
    for key, choices in (("kind", NeedKind), ("category", NeedCategory), ("source", NeedSource),
                         ("urgency", Urgency), ("state", NeedState)):
        if f[key] in choices.values:
            qs = qs.filter(**{key: f[key]})
        else:
            f[key] = ""
    if f["area"].isdigit():
        qs = qs.filter(area_id=int(f["area"]))
    if f["month"]:
        try:
            month = month_start(f["month"])
        except DomainError as exc:
            messages.error(request, exc.message)
            f["month"] = ""
        else:
            qs = qs.filter(received_on__gte=month, received_on__lt=next_month(month))
    if f["q"]:
        qs = qs.filter(Q(title__contains=f["q"]) | Q(text__contains=f["q"]) | Q(number__contains=f["q"])
                       | Q(address__contains=f["q"]))
    return qs, f, org


@login_required
def need_list(request):
    user = request.user
    require_capability(user, "need.view")
    qs, f, org = _filtered(request)
    if wants_xlsx(request):
        rows = ((n.number, n.received_on, n.org.name, n.area.name if n.area else "", str(n.get_kind_display()),
                 str(n.get_category_display()), str(n.get_source_display()), str(n.get_urgency_display()),
                 _safe_cell(n.title), _safe_cell(n.text), services.mask_name(n.requester),
                 services.mask_contact(n.contact), _safe_cell(n.address), str(n.get_channel_display()),
                 str(n.get_state_display()), _safe_cell(n.decline_reason),
                 getattr(getattr(n, "ticket", None), "number", "")) for n in qs.iterator(chunk_size=2000))
        header = [_("编号"), _("受理日期"), _("受理单位"), _("服务区域"), _("类型"), _("类别"), _("来源"),
                  _("紧急程度"), _("标题"), _("内容"), _("诉求人"), _("联系方式"), _("地址"), _("渠道"), _("状态"),
                  _("不予受理理由"), _("工单编号")]
        return export_xlsx(request, gettext_noop("需求台账"), header, rows, what=gettext_noop("需求台账"))
    page, query = paginate(request, qs)
    for n in page:
        n.masked_requester = services.mask_name(n.requester)
        n.masked_contact = services.mask_contact(n.contact)
    areas = services.areas_visible(user).filter(org__path__startswith=org.path) if org else \
        services.areas_visible(user)
    return _render(request, "service/needs/list.html", {
        "page": page, "query": query, "f": f, "org": org, "can_manage": can(user, "need.manage"),
        "kinds": NeedKind.choices, "categories": NeedCategory.choices, "sources": NeedSource.choices,
        "urgencies": Urgency.choices, "states": NeedState.choices,
        "areas": list(areas.select_related("org").order_by("org__path", "name")[:300]),
        "orgs": list(scope(user, "need.view", Organization.objects.filter(archived=False)).order_by("path")
                     .only("id", "name")[:300]),
        "received": services.needs_visible(user).filter(state=NeedState.RECEIVED).count(),
    })


@login_required
@deny_as_404
def need_create(request):
    user = request.user
    require_capability(user, "need.manage")
    orgs = _managed_orgs(user)
    areas = scope(user, "need.manage", ServiceArea.objects.filter(archived=False)).order_by("org__path", "name")
    initial = {}
    if request.GET.get("org", "").isdigit():
        initial["org"] = request.GET["org"]
    form = forms.NeedForm(_data(request), orgs=orgs, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            need = services.create_need(user, d["org"], kind=d["kind"], category=d["category"], source=d["source"],
                                        urgency=d["urgency"], area=d["area"], title=d["title"], text=d["text"],
                                        requester=d["requester"], contact=d["contact"], address=d["address"],
                                        received_on=d["received_on"], request=request)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已登记需求 {number}。").format(number=need.number))
            return redirect("service:need_detail", need.pk)
    return _render(request, "service/needs/form.html", {"form": form})


def _need(request, pk, action="need.view") -> Need:
    return get_scoped_or_404(request.user, action, Need.objects.select_related("org", "area", "created_by"), pk=pk)


def _ticket_of(need: Need):
    try:
        return need.ticket
    except Need.ticket.RelatedObjectDoesNotExist:
        return None


@login_required
def need_detail(request, pk):
    user = request.user
    need = _need(request, pk)
    manage = can(user, "need.manage", need.org.path)
    reveal = manage and request.GET.get("reveal") == "1" and bool(need.requester or need.contact)
    if reveal:
        services.log_contact_viewed(user, need, request)
    history = [
        {"at": e.at, "who": e.username or _("群众（在线提交）"), "what": label(e.action), "data": e.data}
        for e in AuditEvent.objects.filter(object_type="service.need", object_id=str(need.pk)).order_by("at", "id")
        if e.action != "need.contact_viewed"
    ]
    return _render(request, "service/needs/detail.html", {
        "need": need, "manage": manage, "reveal": reveal, "ticket": _ticket_of(need),
        "masked_requester": services.mask_name(need.requester), "masked_contact": services.mask_contact(need.contact),
        "history": history, "can_triage": manage and need.state == NeedState.RECEIVED,
        "accept_form": forms.AcceptForm(initial={"title": need.title,
                                                 "due_date": services.default_due_date(need)}),
        "decline_form": forms.DeclineForm(),
    })


@login_required
@deny_as_404
def need_accept(request, pk):
    need = _need(request, pk, "need.manage")
    form = forms.AcceptForm(_data(request), initial={"title": need.title,
                                                           "due_date": services.default_due_date(need)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ticket = services.accept_need(request.user, need, title=d["title"], description=d["description"],
                                          due_date=d["due_date"], request=request)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已受理，整改工单 {number} 已建立。").format(number=ticket.number))
            return redirect("service:need_detail", need.pk)
    return _render(request, "service/needs/triage.html", {"need": need, "form": form, "accept": True},
                  status=400 if request.method == "POST" else 200)


@login_required
@deny_as_404
def need_decline(request, pk):
    need = _need(request, pk, "need.manage")
    form = forms.DeclineForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.decline_need(request.user, need, form.cleaned_data["reason"], request=request)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已记录不予受理。"))
            return redirect("service:need_detail", need.pk)
    return _render(request, "service/needs/triage.html", {"need": need, "form": form, "accept": False},
                  status=400 if request.method == "POST" else 200)


# ---- import ---------------------------------------------------------------------------------------------------


@login_required
def need_import_template(request):
    require_capability(request.user, "need.manage")
    return xlsx_response(imports.template_bytes(), _("需求导入模板.xlsx"))


@login_required
def need_import(request):
    require_capability(request.user, "need.manage")
    ctx = {"columns": imports.KIND.columns}
    if request.method == "POST":
        upload = request.FILES.get("file")
        ctx["filename"] = getattr(upload, "name", "")
        if upload is None:
            ctx["file_error"] = _("请选择要上传的 Excel（.xlsx）文件。")
        elif not upload.size:
            ctx["file_error"] = _("上传的文件是空的，请选择按模板填写的 Excel（.xlsx）文件。")
        else:
            try:
                result = imports.run_import(request.user, upload, request)
            except DomainError as exc:
                ctx["file_error"] = exc.message
            else:
                if "problems" in result:
                    ctx["problems"] = result["problems"][:imports.MAX_SHOWN_ERRORS]
                    ctx["problem_total"] = len(result["problems"])
                    ctx["row_total"] = result["rows"]
                    ctx["truncated"] = len(result["problems"]) > imports.MAX_SHOWN_ERRORS
                else:
                    ctx["success"] = _("已导入 {count} 条需求。").format(count=result["count"])
    return _render(request, "service/needs/import.html", ctx)


# ---- service areas --------------------------------------------------------------------------------------------


@login_required
def area_list(request):
    user = request.user
    require_capability(user, "need.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "q", "status")}
    qs = services.areas_visible(user).select_related("org").order_by("org__path", "name")
    if f["org"].isdigit():
        org = get_scoped_or_404(user, "need.view", Organization.objects.all(), pk=int(f["org"]))
        qs = qs.filter(org__path__startswith=org.path)
    if f["q"]:
        qs = qs.filter(Q(name__contains=f["q"]) | Q(grid_manager__contains=f["q"]) | Q(org__name__contains=f["q"]))
    if f["status"] == "active":
        qs = qs.filter(archived=False)
    elif f["status"] == "archived":
        qs = qs.filter(archived=True)
    if wants_xlsx(request):
        rows = ((a.org.name, a.name, a.grid_manager, a.note, _("已停用") if a.archived else _("使用中"))
                for a in qs.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("服务区域"), [_("所属单位"), _("服务区域"), _("网格经理"),
                                                            _("说明"), _("状态")], rows, what=gettext_noop("服务区域"))
    page, query = paginate(request, qs)
    for a in page:
        a.can_manage = can(user, "need.manage", a.org.path)
    return _render(request, "service/needs/areas.html", {
        "page": page, "query": query, "f": f, "can_manage": can(user, "need.manage"),
        "orgs": list(scope(user, "need.view", Organization.objects.filter(archived=False)).order_by("path")
                     .only("id", "name")[:300]),
    })


@login_required
@deny_as_404
def area_create(request):
    user = request.user
    require_capability(user, "need.manage")
    initial = {"org": request.GET["org"]} if request.GET.get("org", "").isdigit() else {}
    form = forms.AreaForm(_data(request), orgs=_managed_orgs(user), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            area = services.create_area(user, d["org"], name=d["name"], grid_manager=d["grid_manager"],
                                        note=d["note"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已新建服务区域“{name}”。").format(name=area.name))
            return redirect("service:area_list")
    return _render(request, "service/needs/area_form.html", {"form": form})


def _area(request, pk) -> ServiceArea:
    return get_scoped_or_404(request.user, "need.manage", ServiceArea.objects.select_related("org"), pk=pk)


@login_required
@deny_as_404
def area_edit(request, pk):
    area = _area(request, pk)
    form = forms.AreaForm(_data(request), initial={"name": area.name, "grid_manager": area.grid_manager,
                                                          "note": area.note})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_area(request.user, area, name=d["name"], grid_manager=d["grid_manager"], note=d["note"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存服务区域。"))
            return redirect("service:area_list")
    return _render(request, "service/needs/area_form.html", {"form": form, "area": area})


@login_required
@require_POST
@deny_as_404
def area_toggle(request, pk):
    area = _area(request, pk)
    try:
        services.set_area_archived(request.user, area, not area.archived)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已停用服务区域，其二维码同时关闭。") if not area.archived
                         else _("已启用服务区域。"))
    return redirect("service:area_list")


# ---- public channels (managers) -------------------------------------------------------------------------------


@login_required
def need_channel_list(request):
    user = request.user
    require_capability(user, "need.manage")
    qs = services.channels_visible(user).select_related("org", "area").order_by("org__path", "area__name", "id")
    page, query = paginate(request, qs)
    for ch in page:
        ch.url = public_helpers.public_url(request, "service:public_need", ch.key) if ch.enabled else ""
    places = []
    for org in _managed_orgs(user).only("id", "name")[:300]:
        places.append((f"o{org.pk}", org.name))
    for area in (scope(user, "need.manage", ServiceArea.objects.filter(archived=False, org__archived=False))
                 .select_related("org").order_by("org__path", "name")[:300]):
        places.append((f"a{area.pk}", f"{area.org.name} · {area.name}"))
    return _render(request, "service/needs/channels.html", {"page": page, "query": query, "places": places})


@login_required
@require_POST
@deny_as_404
def need_channel_enable(request):
    user = request.user
    require_capability(user, "need.manage")
    place = request.POST.get("place", "")
    area = None
    if place.startswith("a") and place[1:].isdigit():
        area = _area(request, int(place[1:]))
        org = area.org
    elif place.startswith("o") and place[1:].isdigit():
        org = get_scoped_or_404(user, "need.manage", Organization.objects.all(), pk=int(place[1:]))
    else:
        messages.error(request, _("请选择要开放二维码的单位或服务区域。"))
        return redirect("service:need_channel_list")
    try:
        channel = services.enable_channel(user, org, area)
    except DomainError as exc:
        messages.error(request, exc.message)
        existing = NeedChannel.objects.filter(org=org, area=area).first()
        return redirect("service:need_channel_detail", existing.pk) if existing else \
            redirect("service:need_channel_list")
    messages.success(request, _("需求征集二维码已开放，可打印海报张贴。"))
    return redirect("service:need_channel_detail", channel.pk)


def _channel(request, pk) -> NeedChannel:
    return get_scoped_or_404(request.user, "need.manage", NeedChannel.objects.select_related("org", "area"), pk=pk)


@login_required
def need_channel_detail(request, pk):
    channel = _channel(request, pk)
    ctx = {"channel": channel}
    if channel.enabled:
        ctx["url"] = public_helpers.public_url(request, "service:public_need", channel.key)
        ctx["qr"] = public_helpers.qr_svg(ctx["url"], "need-qr")
    ctx["received"] = Need.objects.filter(org=channel.org, channel=Channel.PUBLIC,
                                          **({"area": channel.area} if channel.area_id else {})).count()
    return _render(request, "service/needs/channel.html", ctx)


@login_required
@require_POST
@deny_as_404
def need_channel_action(request, pk):
    channel = _channel(request, pk)
    ops = {
        "enable": (services.reopen_channel, _("二维码已重新开放。")),
        "disable": (services.disable_channel, _("二维码已关闭，原链接和已张贴的二维码暂停使用。")),
        "renew": (services.renew_channel, _("已更换链接，旧链接和旧二维码立即失效，请重新打印海报。")),
    }
    action = request.POST.get("action", "")
    if action not in ops:
        messages.error(request, _("无效的操作。"))
        return redirect("service:need_channel_detail", channel.pk)
    func, done = ops[action]
    try:
        func(request.user, channel)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("service:need_channel_detail", channel.pk)


@login_required
def need_channel_poster(request, pk):
    """A poster to print (A4 or A5) and put up in the 供电所's hall: the QR code, what to send, where it goes."""
    channel = _channel(request, pk)
    if not channel.enabled:
        raise Http404(_("该二维码没有开放。"))
    url = public_helpers.public_url(request, "service:public_need", channel.key)
    size = "a5" if request.GET.get("size") == "a5" else "a4"
    return _render(request, "service/needs/poster.html", {
        "channel": channel, "url": url, "qr": public_helpers.qr_svg(url, "need-poster-qr", border=1), "size": size,
    })


# ---- the public form (no login) -------------------------------------------------------------------------------


def _too_big(request) -> bool:
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return size > public_helpers.MAX_PUBLIC_BODY


def public_need(request, key):
    channel = services.public_channel(key)
    areas = services.public_areas(channel)
    status = 200
    ctx = {"channel": channel, "key": key}
    if request.method == "POST":
        if _too_big(request):  # refused before Django parses the body
            ctx["form"] = forms.PublicNeedForm(channel_key=key, areas=areas)
            ctx["error"] = _("提交的内容过长，请精简后再提交。")
            return render(request, "service/public_need/form.html", ctx, status=413)
        form = forms.PublicNeedForm(request.POST, channel_key=key, areas=areas)
        if form.is_valid():
            d = form.cleaned_data
            try:
                need = services.submit_public_need(
                    key, category=d["category"], text=d["text"], title=d["title"], area_id=d.get("area"),
                    requester=d["requester"], contact=d["contact"], client=public_helpers.client_hash(request),
                    request=request)
            except services.RateLimited as exc:
                form.add_error(None, exc.message)
                status = 429
            except DomainError as exc:
                form_error(form, exc)
                status = 400
            else:
                token = signing.dumps(need.number, salt=THANKS_SALT)
                return redirect("service:public_need_thanks", key, token)
        else:
            status = 400
        form.data = form.data.copy()
        form.data["ts"] = form.fresh_token()  # the next try waits its own few seconds
    else:
        form = forms.PublicNeedForm(channel_key=key, areas=areas)
    ctx["form"] = form
    return render(request, "service/public_need/form.html", ctx, status=status)


def public_need_thanks(request, key, token):
    channel = services.public_channel(key)
    try:
        number = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404(_("页面不存在。")) from exc
    if not isinstance(number, str):
        raise Http404(_("页面不存在。"))
    return render(request, "service/public_need/thanks.html", {"channel": channel, "key": key, "number": number,
                                                               "today": datetime.date.today()})
