import functools

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.core.access import AccessDenied, allowed_paths, can, holds_at_top, scope
from dangjian.core.audit import ACTION_LABELS, label, log_action
from dangjian.core.excel import export_xlsx, wants_xlsx
from dangjian.core.models import AuditEvent


def paginate(request, qs, per_page=20):
    try:
        per_page = min(max(int(request.GET.get("per_page", per_page)), 10), 200)
    except ValueError:
        pass
    page = Paginator(qs, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()

def deny_as_404(view):
    """A service's AccessDenied looks like a missing page, the same as a scoped fetch."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AccessDenied as exc:
            raise Http404(_("页面不存在，或您无权访问。")) from exc

    return wrapper


def form_error(form, exc, aliases=None):
    """Put a service's DomainError next to the field it names (``aliases`` maps service to form names)."""
    name = (aliases or {}).get(exc.field, exc.field)
    if name and name in form.fields:
        form.add_error(name, exc.message)
    else:
        form.add_error(None, exc.message)



@login_required
def home(request):
    from dangjian.orgs.models import Member, Organization

    user = request.user
    ctx = {}
    if can(user, "org.view"):
        orgs = scope(user, "org.view", Organization.objects.active())
        ctx["org_count"] = orgs.count()
        ctx["branch_count"] = orgs.filter(level="branch").count()
    if can(user, "member.view"):
        ctx["member_count"] = scope(user, "member.view", Member.objects.filter(active=True)).count()
    paths = allowed_paths(user, "org.view")
    ctx["roots"] = (Organization.objects.filter(parent__isnull=True) if paths is None
                    else Organization.objects.filter(path__in=paths))
    ctx["me"] = getattr(user, "member", None)
    return render(request, "core/home.html", ctx)


def require_capability(user, action):
    if not can(user, action):
        raise Http404(_("页面不存在，或您无权访问。"))


@login_required
def audit_list(request):
    require_capability(request.user, "audit.view")
    qs = scope(request.user, "audit.view", AuditEvent.objects.all())
    if holds_at_top(request.user, "audit.system"):
        # Logins, failures, lockouts, purges: tied to no organization, read by the audit administrator.
        qs = qs | AuditEvent.objects.filter(org_path="")
    f = {k: request.GET.get(k, "").strip() for k in ("action", "user", "object_type", "object_id", "date_from",
                                                      "date_to")}
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["user"]:
        qs = qs.filter(username=f["user"])
    if f["object_type"]:
        qs = qs.filter(object_type=f["object_type"])
    if f["object_id"]:
        qs = qs.filter(object_id=f["object_id"])
    if f["date_from"]:
        qs = qs.filter(at__date__gte=f["date_from"])
    if f["date_to"]:
        qs = qs.filter(at__date__lte=f["date_to"])
    if wants_xlsx(request):
        rows = ((e.at, e.username, e.ip, label(e.action), e.object_repr, e.data) for e in qs[:100_000].iterator())
        header = [_("时间"), _("用户"), _("IP地址"), _("操作"), _("对象"), _("变更内容")]
        return export_xlsx(request, gettext_noop("审计日志"), header,
                           ((a, b, c, d, e_, str(f_)) for a, b, c, d, e_, f_ in rows), what=gettext_noop("审计日志"))
    page, query = paginate(request, qs, 50)
    return render(request, "core/audit_list.html", {
        "page": page, "query": query, "f": f, "actions": [(code, label(code)) for code in sorted(ACTION_LABELS)],
    })


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    for field in form.fields.values():
        field.widget.attrs["class"] = "form-control"
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            log_action(user, "auth.password_changed", request=request)
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect("home")
    return render(request, "registration/password_change.html", {"form": form})


__all__ = ["User", "home", "audit_list", "password_change", "paginate"]
