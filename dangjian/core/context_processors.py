import functools

from django.urls import reverse
from django.utils.translation import gettext as _

from dangjian.core.access import can, holds_at_top, roles_of
from dangjian.core.notifications import member_and_unread, unread_count
from dangjian.orgs.models import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # The bell's unread count costs no query of its own when the user's member record is still to be read: both
    # come in one query. Otherwise it is one indexed COUNT, run only if a template shows it.
    notif_unread = member_and_unread(user)
    if notif_unread is None:
        notif_unread = functools.cache(lambda: unread_count(user))
    items = [(_("首页"), reverse("home"), "house")]
    if can(user, "org.view"):
        items.append((_("组织架构"), reverse("orgs:tree"), "diagram-3"))
    if can(user, "member.view"):
        items.append((_("党员管理"), reverse("orgs:member_list"), "people"))
    if can(user, "standard.view"):
        items.append((_("考评标准"), reverse("standards:set_list"), "card-checklist"))
    if can(user, "standard.manage"):
        items.append((_("党员评价标准"), reverse("standards:member_set_list"), "list-check"))
    if can(user, "eval.view"):
        items.append((_("组织考评"), reverse("assessments:period_list"), "clipboard-check"))
    if can(user, "eval.oversee"):
        items.append((_("考评看板"), reverse("assessments:oversight"), "graph-up"))
    if can(user, "appraisal.view"):
        items.append((_("党员评价"), reverse("appraisal:period_list"), "person-check"))
    member = getattr(user, "member", None) if hasattr(user, "member") else None
    if member is not None:
        items.append((_("我的评价"), reverse("appraisal:my_month"), "ui-checks"))
    if can(user, "activity.view"):
        items.append((_("组织生活"), reverse("appraisal:activity_home"), "calendar-check"))
    elif member is not None:
        items.append((_("我的学习"), reverse("appraisal:study_mine"), "book"))
    if can(user, "wall.view"):
        items.append((_("上墙公示"), reverse("appraisal:wall_index"), "easel"))
    if member is not None or can(user, "appraisal.view"):
        items.append((_("评价手册"), reverse("appraisal:handbook_index"), "journal-bookmark"))
    if can(user, "yearend.manage"):
        items.append((_("民主评议"), reverse("appraisal:yearend_list"), "award"))
    if can(user, "service.dashboard"):
        items.append((_("服务群众"), reverse("service:dashboard"), "heart-pulse"))
    elif can(user, "team.view"):
        items.append((_("服务队"), reverse("service:team_list"), "people"))
    if member is not None:
        items.append((_("我的档案"), reverse("orgs:member_detail", args=[user.member.pk]), "person-badge"))
    if can(user, "org.import") or can(user, "member.import"):
        items.append((_("数据导入"), reverse("orgs:import_home"), "upload"))
    if can(user, "audit.view"):
        items.append((_("审计日志"), reverse("audit_list"), "journal-text"))
    if can(user, "role.manage"):
        items.append((_("账号与角色"), reverse("orgs:account_list"), "shield-lock"))
    if holds_at_top(user, "security.manage"):
        items.append((_("安全管理"), reverse("security_home"), "shield-check"))
    roles = roles_of(user)
    role_names = [str(label) for value, label in Role.choices if value in roles]
    display_name = member.name if member is not None else (user.get_full_name() or user.get_username())
    return {"nav_items": items, "nav_roles": role_names, "display_name": display_name, "notif_unread": notif_unread}
