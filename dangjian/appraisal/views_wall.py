"""Pages of the wall (上墙): the branch's wall inside the platform, the big screen, the A3 poster, the public link
and its QR code, the public wall and feedback form (no login), and the secretary's feedback inbox.

Thin: parse, fetch through core.access (an outsider gets 404) or, on the public pages, through the enabled key
(a wrong or closed key is 404), call appraisal.wall, render. The public pages render only the wall's cards: name,
photo, post, pledge, score and (where the month's standards show ranks) rank.
"""

import dataclasses
import datetime

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.appraisal import forms_wall
from dangjian.appraisal import wall as services
from dangjian.appraisal.models import BranchAggregate, FeedbackKind, PublicWall, WallFeedback
from dangjian.core import frozen_cache
from dangjian.core import public as public_helpers
from dangjian.core.access import can, get_scoped_or_404, scope
from dangjian.core.audit import log_action
from dangjian.core.db_router import frozen_reads
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.pdf import FontMissing
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Level, Organization

SCREEN_SIZES = (6, 8, 10)
BRANCH_SELECT_MAX = 100


def _org(request, org_id, action="wall.view") -> Organization:
    return get_scoped_or_404(request.user, action, Organization.objects.select_related("parent"), pk=org_id)


def public_url(request, name: str, key: str) -> str:
    return public_helpers.public_url(request, name, key)


def _photo_response(name: str) -> FileResponse:
    from django.core.files.storage import default_storage

    try:
        fh = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    resp = FileResponse(fh, content_type="image/png" if name.lower().endswith(".png") else "image/jpeg")
    resp["Cache-Control"] = "private, max-age=300"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


def _build(request, org: Organization, month: str | None, *, public: bool = False):
    """(wall, None), or (None, the refusal page) when the month's results no longer match the digest stored at
    publication (QUALITY.md S6): then nothing of the month is shown or exported."""
    try:
        with frozen_reads():  # published months only: they may be read on a read replica
            return services.build_wall(org, month), None
    except DomainError as exc:
        return None, render(request, "appraisal/wall/refused.html",
                            {"org": org, "message": exc.message, "public": public}, status=409)


def _cards_html(view: str, template: str, wall, **extra):
    """The cards of a published (frozen) month, rendered once (core.frozen_cache): keyed by the month's stored
    digest and every value the cards show — the frozen results and the members' photo, post and pledge, which
    may change after publication — plus the page's own settings (``extra``). An empty wall is rendered as is."""
    ctx = {"wall": wall, **extra}
    if not wall.month:
        return render_to_string(template, ctx)
    parts = (wall.org.pk, wall.month, wall.digest, wall.public_ranking,
             tuple(dataclasses.astuple(c) for c in wall.cards), tuple(sorted(extra.items())))
    return frozen_cache.fragment(view, template, parts, lambda: render_to_string(template, ctx))


def _public_wall_or_none(org: Organization) -> PublicWall | None:
    return PublicWall.objects.filter(org=org).first()


# ---- the branch's wall inside the platform ------------------------------------------------------------------


@login_required
def wall_index(request):
    """The branches whose walls the user may see, with their latest published month; one branch → its wall."""
    user = request.user
    require_capability(user, "wall.view")
    if request.GET.get("org", "").isdigit():  # the branch selector of the wall page
        return redirect("appraisal:wall_detail", int(request.GET["org"]))
    f = {k: request.GET.get(k, "").strip() for k in ("q", "published")}
    has_month = Exists(BranchAggregate.objects.filter(org=OuterRef("pk")))
    latest = BranchAggregate.objects.filter(org=OuterRef("pk")).order_by("-month", "-id")
    qs = (scope(user, "wall.view", Organization.objects.filter(archived=False))
          .filter(Q(level=Level.BRANCH) | has_month)
          .annotate(latest_month=Subquery(latest.values("month")[:1]), latest_count=Subquery(latest.values("count")[:1]),
                    latest_avg=Subquery(latest.values("avg")[:1]))
          .order_by("path"))
    if f["q"]:
        qs = qs.filter(name__contains=f["q"])
    if f["published"] == "1":
        qs = qs.filter(has_month)
    if wants_xlsx(request):
        rows = ((o.name, f"{o.latest_month:%Y-%m}" if o.latest_month else "", o.latest_count,
                 round(o.latest_avg, 1) if o.latest_avg is not None else None) for o in qs.iterator(chunk_size=2000))
        return export_xlsx(request, gettext_noop("上墙支部"), [_("党组织"), _("最近公示月份"), _("参评人数"),
                                                             _("平均分")], rows, what=gettext_noop("上墙支部"))
    page, query = paginate(request, qs)
    if page.paginator.count == 1 and not any(f.values()) and page.number == 1:
        return redirect("appraisal:wall_detail", page.object_list[0].pk)
    for o in page:
        o.can_manage = can(user, "wall.manage", o.path)
    return render(request, "appraisal/wall/index.html", {"page": page, "query": query, "f": f,
                                                          "can_inbox": can(user, "wall.manage")})


@login_required
def wall_detail(request, org_id):
    user = request.user
    org = _org(request, org_id)
    wall, refused = _build(request, org, request.GET.get("month"))
    if refused:
        return refused
    if wants_xlsx(request) and wall.month:
        rows = ((c.name, c.post, c.pledge, c.total, _("合格") if c.qualified else _("不合格"), c.rank)
                for c in wall.cards)
        header = [_("姓名"), _("岗位"), _("承诺"), _("月度得分"), _("是否合格"), _("支部内排名")]
        return export_xlsx(request, gettext_noop("上墙公示"), header, rows, what=gettext_noop("上墙公示"),
                           count=len(wall.cards))
    manage = can(user, "wall.manage", org.path)
    branches = list(scope(user, "wall.view", Organization.objects.filter(archived=False, level=Level.BRANCH))
                    .order_by("path").only("id", "name")[:BRANCH_SELECT_MAX + 1])
    return render(request, "appraisal/wall/detail.html", {
        "org": org, "wall": wall, "manage": manage,
        "unread": services.unread_count(user, org) if manage else 0,
        "branches": branches if len(branches) <= BRANCH_SELECT_MAX and len(branches) > 1 else None,
        "cards_html": _cards_html("wall.detail", "appraisal/wall/_cards.html", wall,
                                  photo_url_name="appraisal:wall_photo", photo_arg=org.pk, show_badge=True),
    })


@login_required
def wall_photo(request, org_id, member_id):
    org = _org(request, org_id)
    return _photo_response(services.member_photo_name(org.pk, member_id))


def _screen_context(request, wall, *, public_key: str | None, photo_url_name: str, photo_arg) -> dict:
    try:
        per_page = int(request.GET.get("per_page", 8))
    except ValueError:
        per_page = 8
    per_page = per_page if per_page in SCREEN_SIZES else 8
    try:
        interval = min(max(int(request.GET.get("interval", 10)), 5), 120)
    except ValueError:
        interval = 10
    qr = None
    if public_key:
        qr = public_helpers.qr_svg(public_url(request, "appraisal:wall_public_feedback", public_key), "wall-screen-qr-svg")
    return {"wall": wall, "per_page": per_page, "cols": per_page // 2, "interval": interval, "qr": qr,
            "photo_url_name": photo_url_name, "photo_arg": photo_arg,
            "cards_html": _cards_html("wall.screen", "appraisal/wall/_screen_cards.html", wall, per_page=per_page,
                                      photo_url_name=photo_url_name, photo_arg=photo_arg)}


@login_required
def wall_screen(request, org_id):
    """The big screen (大屏) for the office TV: dark, large type, pages of cards turning by themselves."""
    org = _org(request, org_id)
    wall, refused = _build(request, org, request.GET.get("month"))
    if refused:
        return refused
    public = _public_wall_or_none(org)
    ctx = _screen_context(request, wall, public_key=public.key if public and public.enabled else None,
                          photo_url_name="appraisal:wall_photo", photo_arg=org.pk)
    return render(request, "appraisal/wall/screen.html", ctx)


@login_required
def wall_poster(request, org_id):
    """The A3 poster (PDF) of a published month."""
    org = _org(request, org_id)
    wall, refused = _build(request, org, request.GET.get("month"))
    if refused:
        return refused
    if wall.month is None:
        messages.error(request, _("本支部还没有公示的月度评价结果，无法生成海报。"))
        return redirect("appraisal:wall_detail", org.pk)
    public = _public_wall_or_none(org)
    url = public_url(request, "appraisal:wall_public_feedback", public.key) if public and public.enabled else None
    from dangjian.appraisal.poster import render_poster

    try:
        pdf = render_poster(wall, url)
    except FontMissing as exc:
        messages.error(request, str(exc))
        return redirect("appraisal:wall_detail", org.pk)
    log_action(request.user, "export", org, request=request, what=gettext_noop("上墙海报"), month=wall.month_value,
               rows=len(wall.cards))
    resp = HttpResponse(pdf, content_type="application/pdf")
    filename = f"wall-{org.code}-{wall.month_value}.pdf"
    resp["Content-Disposition"] = f'inline; filename="{filename}"'
    resp["Cache-Control"] = "private, no-store"
    return resp


# ---- the public link ------------------------------------------------------------------------------------------


@login_required
def wall_manage(request, org_id):
    org = _org(request, org_id, "wall.manage")
    public = _public_wall_or_none(org)
    ctx = {"org": org, "public": public, "unread": services.unread_count(request.user, org)}
    if public and public.enabled:
        ctx["feedback_url"] = public_url(request, "appraisal:wall_public_feedback", public.key)
        ctx["public_wall_url"] = public_url(request, "appraisal:wall_public", public.key)
        ctx["qr"] = public_helpers.qr_svg(ctx["feedback_url"], "wall-manage-qr")
    return render(request, "appraisal/wall/manage.html", ctx)


@login_required
@require_POST
@deny_as_404
def wall_link(request, org_id):
    org = _org(request, org_id, "wall.manage")
    action = request.POST.get("action", "")
    ops = {
        "enable": (services.enable_public_wall, _("公众链接已开放，可打印二维码张贴。")),
        "disable": (services.disable_public_wall, _("公众链接已关闭，原链接和二维码暂停使用。")),
        "renew": (services.renew_public_wall, _("已更换公众链接，旧链接和旧二维码立即失效，请重新打印。")),
    }
    if action not in ops:
        messages.error(request, _("无效的操作。"))
        return redirect("appraisal:wall_manage", org.pk)
    func, done = ops[action]
    try:
        func(request.user, org)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("appraisal:wall_manage", org.pk)


@login_required
def wall_qr(request, org_id):
    """The QR code of the public feedback form as a PNG, to download and print."""
    org = _org(request, org_id, "wall.manage")
    public = _public_wall_or_none(org)
    if public is None or not public.enabled:
        raise Http404(_("公众链接没有开放。"))
    img = qrcode.make(public_url(request, "appraisal:wall_public_feedback", public.key), box_size=12, border=4)
    resp = HttpResponse(content_type="image/png")
    img.save(resp, "PNG")
    resp["Content-Disposition"] = f'attachment; filename="wall-qr-{org.code}.png"'
    resp["Cache-Control"] = "private, no-store"
    return resp


# ---- the public pages (no login) --------------------------------------------------------------------------------


def wall_public(request, key):
    public = services.public_wall_for(key)
    wall, refused = _build(request, public.org, request.GET.get("month"), public=True)
    if refused:
        return refused
    cards_html = _cards_html("wall.public", "appraisal/wall/_cards.html", wall,
                             photo_url_name="appraisal:wall_public_photo", photo_arg=key, show_badge=False)
    return render(request, "appraisal/wall/public.html", {"wall": wall, "key": key, "cards_html": cards_html})


def wall_public_screen(request, key):
    public = services.public_wall_for(key)
    wall, refused = _build(request, public.org, request.GET.get("month"), public=True)
    if refused:
        return refused
    ctx = _screen_context(request, wall, public_key=key, photo_url_name="appraisal:wall_public_photo",
                          photo_arg=key)
    ctx["public"] = True
    return render(request, "appraisal/wall/screen.html", ctx)


def wall_public_photo(request, key, member_id):
    public = services.public_wall_for(key)
    return _photo_response(services.member_photo_name(public.org_id, member_id))


def wall_public_feedback(request, key):
    public = services.public_wall_for(key)
    wall, refused = _build(request, public.org, None, public=True)
    if refused:
        return refused
    members = wall.member_choices()
    status = 200
    if request.method == "POST":
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = public_helpers.MAX_PUBLIC_BODY + 1
        if size > public_helpers.MAX_PUBLIC_BODY:
            form = forms_wall.FeedbackForm(wall_key=key, members=members)
            return render(request, "appraisal/wall/feedback_form.html", {
                "form": form, "wall": wall, "key": key, "error": _("提交的内容过长，请精简后再提交。")}, status=413)
        form = forms_wall.FeedbackForm(request.POST, wall_key=key, members=members)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.submit_feedback(key, kind=d["kind"], text=d["text"], contact=d["contact"],
                                         member_id=d["member"], client=services.client_hash(request),
                                         request=request)
            except services.RateLimited as exc:
                form.add_error(None, exc.message)
                status = 429
            except DomainError as exc:
                form_error(form, exc)
                status = 400
            else:
                return redirect("appraisal:wall_public_thanks", key)
        else:
            status = 400
        # A fresh token: the next try waits its own few seconds, not the first form's.
        form.data = form.data.copy()
        form.data["ts"] = form.fresh_token()
    else:
        form = forms_wall.FeedbackForm(wall_key=key, members=members)
    return render(request, "appraisal/wall/feedback_form.html", {"form": form, "wall": wall, "key": key},
                  status=status)


def wall_public_thanks(request, key):
    public = services.public_wall_for(key)
    return render(request, "appraisal/wall/thanks.html", {"org": public.org, "key": key})


# ---- the secretary's inbox ----------------------------------------------------------------------------------------

STATUSES = [("unread", gettext_noop("未读")), ("open", gettext_noop("未处理")), ("handled", gettext_noop("已处理"))]


def _status_label(fb: WallFeedback) -> str:
    if fb.handled_at:
        return _("已处理")
    return _("未读") if fb.read_at is None else _("未处理")


@login_required
def wall_feedback_list(request):
    user = request.user
    require_capability(user, "wall.manage")
    base = services.inbox(user)
    qs = base.select_related("org", "member", "handled_by")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "kind", "status", "q", "date_from", "date_to")}
    org = None
    if f["org"].isdigit():
        org = _org(request, int(f["org"]), "wall.manage")
        qs = qs.filter(org=org)
    if f["kind"] in FeedbackKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["status"] == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif f["status"] == "open":
        qs = qs.filter(handled_at__isnull=True)
    elif f["status"] == "handled":
        qs = qs.filter(handled_at__isnull=False)
    if f["q"]:
        qs = qs.filter(Q(text__contains=f["q"]) | Q(member__name__contains=f["q"]) | Q(org__name__contains=f["q"]))
    for key, lookup in (("date_from", "created_at__date__gte"), ("date_to", "created_at__date__lte")):
        try:
            qs = qs.filter(**{lookup: datetime.date.fromisoformat(f[key])}) if f[key] else qs
        except ValueError:
            messages.error(request, _("日期格式应为 YYYY-MM-DD。"))
            f[key] = ""
    if wants_xlsx(request):
        rows = ((fb.created_at, fb.org.name, str(fb.get_kind_display()), fb.member.name if fb.member else "",
                 fb.text, services.mask_contact(fb.contact), _status_label(fb), fb.read_at,
                 fb.reply, (fb.handled_by.get_full_name() or fb.handled_by.get_username())
                 if fb.handled_by else "", fb.handled_at) for fb in qs.iterator(chunk_size=2000))
        header = [_("留言时间"), _("党组织"), _("类型"), _("涉及党员"), _("留言内容"), _("联系方式"), _("状态"),
                  _("阅读时间"), _("处理情况"), _("处理人"), _("处理时间")]
        return export_xlsx(request, gettext_noop("群众监督留言"), header, rows, what=gettext_noop("群众监督留言"))
    page, query = paginate(request, qs)
    for fb in page:
        fb.masked_contact = services.mask_contact(fb.contact)
        fb.status_label = _status_label(fb)
    return render(request, "appraisal/wall/feedback_list.html", {
        "page": page, "query": query, "f": f, "org": org, "kinds": FeedbackKind.choices,
        "statuses": [(v, _(label)) for v, label in STATUSES],
        "unread": base.filter(read_at__isnull=True).count(),
    })


def _feedback(request, pk) -> WallFeedback:
    return get_scoped_or_404(request.user, "wall.manage",
                             WallFeedback.objects.select_related("org", "member", "handled_by"), pk=pk)


@login_required
@deny_as_404
def wall_feedback_detail(request, pk):
    fb = _feedback(request, pk)
    form = forms_wall.ReplyForm(request.POST or None, initial={"reply": fb.reply})
    if request.method == "POST" and form.is_valid():
        try:
            services.handle_feedback(request.user, fb, form.cleaned_data["reply"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已记录处理情况。"))
            return redirect("appraisal:wall_feedback_detail", fb.pk)
    fb.status_label = _status_label(fb)
    return render(request, "appraisal/wall/feedback_detail.html", {"fb": fb, "form": form})


@login_required
@require_POST
@deny_as_404
def wall_feedback_read(request, pk):
    fb = _feedback(request, pk)
    services.mark_feedback_read(request.user, fb)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return redirect(nxt)
    return redirect("appraisal:wall_feedback_list")
