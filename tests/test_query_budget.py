"""Every page of the permission matrix runs at most 15 queries, the same number with more data (QUALITY.md P2).

The rows come from tests/test_permission_matrix.py, so a page added there is budgeted here too: each GET row is
requested as the first persona that may see it, once on the matrix's world and once after the company has grown
(more branches, members and activity), and the two counts must be equal and ≤ 15.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_member, make_org
from tests.test_permission_matrix import MATRIX, PERSONAS, world  # noqa: F401  (world is a fixture)

BUDGET = 15


def _viewer(expected):
    for persona in PERSONAS:
        if persona != "anonymous" and expected[persona] == 200:
            return persona
    return None


ROWS = sorted(
    (name, _viewer(expected))
    for name, (method, _kwargs, expected) in MATRIX.items()
    if method == "get" and _viewer(expected)
)


def _grow(c, tag):
    for i in range(4):
        branch = make_org(f"扩展{tag}党支部{i}", parent=c.general)
        for j in range(6):
            make_member(branch, f"扩展{tag}{i}成员{j}")
    for j in range(6):
        make_member(c.branch_a, f"甲{tag}{j}")


def _queries(ctx):
    """The statements that read or write data: SAVEPOINT/RELEASE (transaction control of atomic blocks) aside."""
    return [q for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, f"{url}: {resp.status_code}"
    return len(_queries(ctx)), ctx


def test_every_get_page_is_budgeted():
    assert len(ROWS) > 100, "the matrix should yield the platform's pages"


@pytest.mark.parametrize(("name", "persona"), ROWS)
def test_page_stays_within_the_query_budget(client, world, name, persona):  # noqa: F811
    _method, kwargs, _expected = MATRIX[name]
    url = reverse(name, kwargs=kwargs(world) if kwargs else None)
    client.force_login(getattr(world, persona))
    client.get(url)  # first request: lazily built objects, sessions, caches
    small, _ = _count(client, url)
    _grow(world, "a")
    _grow(world, "b")
    large, ctx = _count(client, url)
    detail = "\n".join(q["sql"][:160] for q in _queries(ctx))
    assert large <= BUDGET, f"{name} as {persona}: {large} queries (budget {BUDGET})\n{detail}"
    assert large == small, f"{name} as {persona}: {small} queries, {large} after the company grew\n{detail}"
