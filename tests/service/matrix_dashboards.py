"""Rows of the dashboards part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

``service.dashboard``: admin, staff and secretaries (each in their own subtree); an organization outside the
scope in the filter is 404. 按服务数据计分 of an organization evaluation month: ``eval.manage`` on its committee."""

import datetime

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
DASHBOARD = {"admin", "staff", "secretary_a", "secretary_b"}
DASHBOARD_A = {"admin", "staff", "secretary_a"}


def _only(allowed, ok=200, other=404, **overrides):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


MANAGERS = {"admin", "staff"}


def _dash_month(c):
    """An organization evaluation month of 2024-09 (its own year, so it never meets the other rows' months)."""
    if not hasattr(c, "dash_period"):
        from dangjian.assessments import services as eval_services
        from dangjian.standards.services import load_default_set

        load_default_set(c.staff, c.committee, 2024, publish=True)
        c.dash_period = eval_services.open_period(
            c.staff, c.committee, "2024-09", submit_due=datetime.date(2024, 9, 25),
            self_due=datetime.date(2024, 9, 28), assess_due=datetime.date(2024, 10, 5))
    return c


PAGES = {
    "service:dashboard": ("get", None, _only(DASHBOARD)),
    "service:dashboard_auto_score": ("post", lambda c: {"period_id": _dash_month(c).dash_period.pk},
                                     _only(MANAGERS, ok=302)),
}

API = {
    ("get", "/api/v1/dashboards/service"): (None, None, _api(DASHBOARD)),
    ("post", "/api/v1/periods/{period_id}/auto-score"): (lambda w: {"period_id": _dash_month(w).dash_period.pk},
                                                        None, _api(MANAGERS)),
}
