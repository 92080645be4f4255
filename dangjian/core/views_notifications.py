"""Pages of the in-app messages (站内消息): a user's own messages only — the list (unread / all, by kind,
paginated, Excel), opening one (marks it read and follows its link inside the platform), marking read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.core import notifications
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.models import Notification
from dangjian.core.views import paginate

STATUSES = {"unread", "read"}


def own(user):
    """Every message page reads through this: a user's own messages, nobody else's."""
    return Notification.objects.filter(user_id=user.pk)


def _filters(request):
    f = {"status": request.GET.get("status", "").strip(), "kind": request.GET.get("kind", "").strip()}
    if f["status"] not in STATUSES:
        f["status"] = ""
    if f["kind"] not in notifications.KINDS:
        f["kind"] = ""
    return f


@login_required
def notification_list(request):
    f = _filters(request)
    qs = own(request.user)
    if f["status"] == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif f["status"] == "read":
        qs = qs.filter(read_at__isnull=False)
    if f["kind"]:
        qs = qs.filter(kind=f["kind"])
    if wants_xlsx(request):
        rows = ((n.created_at, notifications.kind_label(n.kind), n.title, n.body,
                 n.read_at or _("未读")) for n in qs[:100_000].iterator())
        return export_xlsx(request, gettext_noop("站内消息"), [_("时间"), _("类别"), _("标题"), _("内容"), _("已读时间")],
                           rows, what=gettext_noop("站内消息"))
    page, query = paginate(request, qs, 20)
    for n in page:
        n.kind_label = notifications.kind_label(n.kind)
    return render(request, "core/notifications/list.html", {
        "page": page, "query": query, "f": f,
        "kinds": [(code, _(label)) for code, label in notifications.KINDS.items()],
    })


def _back(request):
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}) and nxt.startswith("/"):
        return redirect(nxt)
    return redirect("notifications:list")


@login_required
def notification_open(request, pk):
    """Open one message: it is marked read and its link is followed — only a path inside the platform."""
    n = own(request.user).filter(pk=pk).first()
    if n is None:
        raise Http404(_("未找到该消息，或您无权访问。"))
    notifications.mark_read(request.user, [n.pk])
    if not n.url:
        return redirect("notifications:list")
    if not notifications.is_safe_url(n.url):
        messages.error(request, _("该消息的链接不是平台内的地址，已拒绝打开。"))
        return redirect("notifications:list")
    return redirect(n.url)


@login_required
@require_POST
def notification_read(request, pk):
    if not own(request.user).filter(pk=pk).exists():
        raise Http404(_("未找到该消息，或您无权访问。"))
    notifications.mark_read(request.user, [pk])
    return _back(request)


@login_required
@require_POST
def notification_read_all(request):
    n = notifications.mark_read(request.user, "all")
    if n:
        messages.success(request, _("已将 {n} 条消息标记为已读。").format(n=n))
    return _back(request)
