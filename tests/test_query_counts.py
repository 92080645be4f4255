"""Every page runs a constant number of queries whatever the data size (QUALITY.md P2)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.orgs import services
from tests.factories import make_member, make_org


def _grow(company, branches, members_per_branch):
    for i in range(branches):
        b = make_org(f"扩展党支部{i}", parent=company.general)
        for j in range(members_per_branch):
            make_member(b, f"成员{i}{j}")
    for i in range(members_per_branch):
        make_member(company.branch_a, f"甲{i}")
        services.update_org(company.staff, company.branch_a, address=f"活动室{i}")


PAGES = [
    ("home", None),
    ("orgs:tree", None),
    ("orgs:org_list", None),
    ("orgs:member_list", None),
    ("audit_list", None),
    ("orgs:account_list", None),
    ("orgs:org_detail", "branch_a"),
    ("orgs:tree_children", "general"),
    ("orgs:member_detail", "member_a"),
]


def _count(client, company, name, obj):
    url = reverse(name, kwargs={"pk": getattr(company, obj).pk} if obj else None)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("name", "obj"), PAGES)
def test_page_queries_do_not_grow_with_data(client, company, name, obj):
    client.force_login(company.admin)
    _grow(company, 2, 3)
    small = _count(client, company, name, obj)
    _grow(company, 6, 12)
    large = _count(client, company, name, obj)
    assert large == small, f"{name}: {small} queries with little data, {large} with more"
    assert large <= 15, f"{name}: {large} queries"


def test_exports_run_a_constant_number_of_queries(client, company):
    client.force_login(company.admin)
    _grow(company, 2, 3)
    counts = []
    for extra in (0, 1):
        if extra:
            _grow(company, 5, 10)
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(reverse("orgs:member_list") + "?format=xlsx")
        assert resp.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
