"""The tabs of the service pages (service/_tabs.html), each shown only to those who may open it."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.core.access import can

TABS = [
    ("dashboard", "service.dashboard", "service:dashboard", "bar-chart-line", gettext_noop("服务看板")),
    ("needs", "need.view", "service:need_list", "inbox", gettext_noop("需求征集")),
    ("tickets", "ticket.view", "service:ticket_list", "arrow-repeat", gettext_noop("整改工单")),
    ("surveys", "survey.view", "service:survey_list", "emoji-smile", gettext_noop("满意度调查")),
    ("teams", "team.view", "service:team_list", "people", gettext_noop("服务队")),
    ("projects", "project.view", "service:project_list", "flag", gettext_noop("责任项目")),
]


def service_tabs(user) -> list[tuple[str, str, str, str]]:
    """(key, label, url, icon) of the tabs the user may open."""
    return [(key, _(label), reverse(name), icon) for key, action, name, icon, label in TABS if can(user, action)]


def tabs(request):
    """Template context processor: ``service_tabs`` on the service pages only (other pages pay nothing)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "service" or not request.user.is_authenticated:
        return {}
    return {"service_tabs": service_tabs(request.user)}
