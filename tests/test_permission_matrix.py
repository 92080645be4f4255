"""Every URL name × persona × expected status. A URL added without a row here makes the test fail.

Personas (tests/conftest.py): admin and staff on the committee, an assessor on the committee, the secretary of
branch A and of sibling branch B, an ordinary member of branch A, an outsider with no role, and the anonymous
public. Objects in the URLs belong to branch A, so secretary B and the outsider must get 404.
"""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from dangjian.orgs.models import CommitteeSeat, RoleGrant

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]

# Namespaces tested elsewhere: Django's admin is for superusers only (Django's own check, see
# test_django_admin_is_for_superusers_only); the JSON API has its own matrix in tests/test_api_matrix.py.
EXCLUDED_NAMESPACES = {"admin", "api"}


def _all(status, **overrides):
    row = {p: status for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


MANAGERS = {"admin", "staff"}
SEES_BRANCH_A = {"admin", "staff", "assessor", "secretary_a", "member_user_a"}
VIEWS_MEMBERS = {"admin", "staff", "assessor", "secretary_a", "secretary_b"}
MANAGES_MEMBERS_A = {"admin", "staff", "secretary_a"}

# url name -> (method, kwargs builder, expected status per persona)
MATRIX = {
    "home": ("get", None, _all(200, outsider=200)),
    "login": ("get", None, _all(302, anonymous=200)),
    "logout": ("get", None, _all(405, anonymous=405)),
    "password_change": ("get", None, _all(200)),
    "set_language": ("post", None, _all(302, anonymous=302)),
    "audit_list": ("get", None, _only(MANAGERS)),
    "orgs:tree": ("get", None, _all(200, outsider=404)),
    "orgs:tree_children": ("get", lambda c: {"pk": c.general.pk}, _only({"admin", "staff", "assessor"})),
    "orgs:org_list": ("get", None, _all(200, outsider=404)),
    "orgs:org_create": ("get", None, _only(MANAGERS)),
    "orgs:org_detail": ("get", lambda c: {"pk": c.branch_a.pk}, _only(SEES_BRANCH_A)),
    "orgs:org_edit": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_move": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_merge": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_archive": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_restore": ("post", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS, ok=302)),
    "orgs:seat_add": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:seat_end": ("post", lambda c: {"pk": c.seat_a.pk}, _only(MANAGERS, ok=302)),
    "orgs:member_list": ("get", None, _only(VIEWS_MEMBERS)),
    "orgs:member_search": ("get", None, _only(VIEWS_MEMBERS)),
    "orgs:member_create": ("get", None, _only({"admin", "staff", "secretary_a", "secretary_b"})),
    "orgs:member_detail": ("get", lambda c: {"pk": c.member_a.pk},
                           _only({"admin", "staff", "assessor", "secretary_a", "member_user_a"})),
    "orgs:member_edit": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A)),
    "orgs:member_transfer": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A)),
    "orgs:member_pledge": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A | {"member_user_a"})),
    "orgs:member_photo": ("get", lambda c: {"pk": c.member_a.pk},
                          _only({"admin", "staff", "assessor", "secretary_a", "member_user_a"})),
    "orgs:account_list": ("get", None, _only({"admin"})),
    "orgs:account_create": ("get", None, _only({"admin"})),
    "orgs:account_detail": ("get", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"})),
    "orgs:account_status": ("post", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"}, ok=302)),
    "orgs:account_password": ("get", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"})),
    "orgs:grant_revoke": ("post", lambda c: {"pk": c.grant_b.pk}, _only({"admin"}, ok=302)),
    "orgs:type_list": ("get", None, _all(200, outsider=404)),
    "orgs:type_create": ("get", None, _only(MANAGERS)),
    "orgs:type_edit": ("get", lambda c: {"pk": c.branch_a.type_id}, _only(MANAGERS)),
    "orgs:import_home": ("get", None, _only(MANAGERS)),
    "orgs:import_template": ("get", lambda c: {"kind": "members"}, _only(MANAGERS)),
    "orgs:import_upload": ("get", lambda c: {"kind": "members"}, _only(MANAGERS)),
}


def _url_names(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            if ns in EXCLUDED_NAMESPACES:
                continue
            yield from _url_names(p, f"{prefix}{ns}:" if ns else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_url_name_has_a_row():
    names = set(_url_names())
    missing = sorted(names - set(MATRIX))
    assert not missing, f"URL names without a row in the permission matrix: {missing}"
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"rows for URL names that no longer exist: {stale}"


@pytest.fixture
def world(company):
    c = company
    c.seat_a = CommitteeSeat.objects.create(org=c.branch_a, member=c.secretary_member_a, duty="secretary",
                                            since="2024-01-01")
    c.grant_b = RoleGrant.objects.get(user=c.secretary_b)
    buf = io.BytesIO()
    Image.new("RGB", (30, 40), "red").save(buf, "JPEG")
    c.member_a.photo.save("a.jpg", ContentFile(buf.getvalue()))
    return c


CASES = [(name, persona) for name in sorted(MATRIX) for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_permission_matrix(client, world, name, persona):
    method, kwargs, expected = MATRIX[name]
    user = None if persona == "anonymous" else getattr(world, persona)
    if user is not None:
        client.force_login(user)
    url = reverse(name, kwargs=kwargs(world) if kwargs else None)
    resp = getattr(client, method)(url)
    assert resp.status_code == expected[persona], f"{name} as {persona}: {resp.status_code}"
    if expected[persona] == 302 and persona == "anonymous" and name not in ("set_language",):
        assert resp.url.startswith(reverse("login"))


def test_django_admin_is_for_superusers_only(client, company):
    client.force_login(company.staff)
    resp = client.get("/django-admin/")
    assert resp.status_code == 302 and "/django-admin/login/" in resp.url
