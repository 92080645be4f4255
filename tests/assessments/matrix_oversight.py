"""Rows of this part for tests/test_permission_matrix.py (PAGES: url name → (method, kwargs, {persona: status}))
and tests/test_api_matrix.py (API: (method, path) → (kwargs, body, {persona: status})), in their formats; the two
matrices import them and run them. See tests/service/matrix_dashboards.py for an example.

The committee oversight dashboard (``eval.oversee``): administrators and staff of the committee; everyone else
gets 404 (the assessor, secretaries and members included), the anonymous public the login page (pages) or 401."""

import datetime

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
OVERSEERS = {"admin", "staff"}


def _page(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _oversight_month(c):
    """An organization evaluation month of 2023-05 (its own year, so it never meets the other rows' months)."""
    if not hasattr(c, "oversight_period"):
        from dangjian.assessments import services as eval_services
        from dangjian.standards.services import load_default_set

        load_default_set(c.staff, c.committee, 2023, publish=True)
        c.oversight_period = eval_services.open_period(
            c.staff, c.committee, "2023-05", submit_due=datetime.date(2023, 5, 25),
            self_due=datetime.date(2023, 5, 28), assess_due=datetime.date(2023, 6, 5))
    return c


def _no_kwargs(c):
    _oversight_month(c)
    return {}


PAGES = {
    "assessments:oversight": ("get", _no_kwargs, _page(OVERSEERS)),
    "assessments:oversight_data": ("get", _no_kwargs, _page(OVERSEERS)),
}

API = {
    ("get", "/api/v1/dashboards/org-evaluations"): (
        lambda w: {"?": f"period_id={_oversight_month(w).oversight_period.pk}"}, None, _api(OVERSEERS)),
}
