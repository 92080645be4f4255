"""Rows of the projects part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

Objects belong to branch A: a project with a milestone, an indicator and one value. ``project.view``: admin,
staff, secretaries and members in their subtree; ``project.manage``: admin, staff, secretaries. Secretary B, the
assessor and the outsider get 404."""

import datetime

from tests.service.matrix_teams import ALL_PERSONAS, MANAGE, MANAGE_A, VIEW, VIEW_A, _api, _only


def project_world(c):
    if not hasattr(c, "project_a"):
        from dangjian.service import projects

        c.project_a = projects.create_project(c.secretary_a, c.branch_a, name="城关便民服务点", kind="service_point",
                                              goal="为社区居民提供用电业务代办", starts_on=datetime.date(2025, 3, 1))
        c.milestone_a = projects.add_milestone(c.secretary_a, c.project_a, title="服务点挂牌",
                                               due_on=datetime.date(2025, 4, 1))
        c.indicator_a = projects.add_indicator(c.secretary_a, c.project_a, name="代办业务量", unit="件",
                                               baseline="0", target="500")
        c.value_a = projects.add_value(c.secretary_a, c.indicator_a, on=datetime.date(2025, 5, 1), value="120")
    return c


def _project(c):
    return {"pk": project_world(c).project_a.pk}


PAGES = {
    "service:project_list": ("get", None, _only(VIEW)),
    "service:project_values_export": ("get", None, _only(VIEW)),
    "service:project_create": ("get", None, _only(MANAGE)),
    "service:project_detail": ("get", _project, _only(VIEW_A)),
    "service:project_edit": ("get", _project, _only(MANAGE_A)),
    "service:project_milestone_add": ("post", _project, _only(MANAGE_A, ok=400)),
    "service:project_milestone_done": ("post", lambda c: {"pk": project_world(c).milestone_a.pk},
                                       _only(MANAGE_A, ok=302)),
    "service:project_milestone_delete": ("post", lambda c: {"pk": project_world(c).milestone_a.pk},
                                         _only(MANAGE_A, ok=302)),
    "service:project_indicator_add": ("post", _project, _only(MANAGE_A, ok=400)),
    "service:project_value_add": ("post", lambda c: {"pk": project_world(c).indicator_a.pk}, _only(MANAGE_A, ok=400)),
    "service:project_value_delete": ("post", lambda c: {"pk": project_world(c).value_a.pk}, _only(MANAGE_A, ok=302)),
}

P = "/api/v1/projects"


def _p(w):
    return {"project_id": project_world(w).project_a.pk}


def _i(w):
    return {"project_id": project_world(w).project_a.pk, "indicator_id": w.indicator_a.pk}


API = {
    ("get", P): (None, None, _api(ALL_PERSONAS)),  # a list: empty for those without the role, as elsewhere
    ("post", P): (None, lambda w: {"org_id": w.branch_a.pk, "name": "小小新闻发言人", "kind": "spokesperson",
                                   "goal": "培养小小新闻发言人", "starts_on": "2025-09-01"}, _api(MANAGE_A, 201)),
    ("get", f"{P}/{{project_id}}"): (_p, None, _api(VIEW_A)),
    ("patch", f"{P}/{{project_id}}"): (_p, lambda w: {"state": "running"}, _api(MANAGE_A)),
    ("get", f"{P}/{{project_id}}/milestones"): (_p, None, _api(VIEW_A)),
    ("post", f"{P}/{{project_id}}/milestones"): (_p, lambda w: {"title": "首期培训", "due_on": "2025-06-01"},
                                                 _api(MANAGE_A, 201)),
    ("post", f"{P}/{{project_id}}/milestones/{{milestone_id}}/done"): (
        lambda w: {**_p(w), "milestone_id": w.milestone_a.pk}, lambda w: {"done_on": "2025-04-03"}, _api(MANAGE_A)),
    ("get", f"{P}/{{project_id}}/indicators"): (_p, None, _api(VIEW_A)),
    ("post", f"{P}/{{project_id}}/indicators"): (_p, lambda w: {"name": "服务人次", "unit": "人次", "target": "3000"},
                                                 _api(MANAGE_A, 201)),
    ("get", f"{P}/{{project_id}}/indicators/{{indicator_id}}/values"): (_i, None, _api(VIEW_A)),
    ("post", f"{P}/{{project_id}}/indicators/{{indicator_id}}/values"): (
        _i, lambda w: {"on": "2025-06-01", "value": "180"}, _api(MANAGE_A, 201)),
}
