"""Rows of this part for tests/test_permission_matrix.py (PAGES: url name → (method, kwargs, {persona: status}))
and tests/test_api_matrix.py (API: (method, path) → (kwargs, body, {persona: status})), in their formats; the two
matrices import them and run them. See tests/service/matrix_dashboards.py for an example."""

PAGES = {}

API = {}
