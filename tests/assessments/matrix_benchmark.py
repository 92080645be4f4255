"""Rows of the benchmark part for tests/test_permission_matrix.py (PAGES: url name → (method, kwargs, {persona: status}))
and tests/test_api_matrix.py (API: (method, path) → (kwargs, body, {persona: status})), in their formats; the two
matrices import them and run them. See tests/service/matrix_dashboards.py for an example.

对标 of branch A (``eval.view`` on it: the committee's people, its secretary and member; secretary B and the outsider
get 404), and the annual view (everyone holding ``eval.view`` somewhere; the outsider 404)."""

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
SEES_BRANCH_A = {"admin", "staff", "assessor", "secretary_a", "member_user_a"}
EVAL_VIEW = SEES_BRANCH_A | {"secretary_b"}


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _branch_a(c):
    return {"org_pk": c.branch_a.pk}


PAGES = {
    "assessments:org_benchmark": ("get", _branch_a, _only(SEES_BRANCH_A)),
    "assessments:org_benchmark_data": ("get", _branch_a, _only(SEES_BRANCH_A)),
    "assessments:annual": ("get", None, _only(EVAL_VIEW)),
}

API = {
    ("get", "/api/v1/orgs/{org_id}/benchmark"): (lambda w: {"org_id": w.branch_a.pk}, None, _api(SEES_BRANCH_A)),
    ("get", "/api/v1/annual"): (None, None, _api(EVAL_VIEW)),
}
