"""Every operation of the JSON API × persona × expected status, read from the API's own OpenAPI document:
an operation added without a row here makes the test fail. Objects belong to branch A (tests/conftest.py)."""

import json

import pytest

from dangjian.api import api
from dangjian.core.models import ApiToken
from tests.factories import make_org, valid_id

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _all(status, anonymous=401):
    return {p: status for p in PERSONAS} | {"anonymous": anonymous}


def _new_member(w):
    return {"org_id": w.branch_a.pk, "name": "孙红", "gender": "F", "birth_date": "1992-03-04",
            "id_number": valid_id(__import__("datetime").date(1992, 3, 4), 777), "phone": "13800001111",
            "joined_on": "2016-07-01", "confirmed_on": "2017-07-01", "status": "full"}


# (method, path) -> (path kwargs, body, expected per persona)
MATRIX = {
    ("get", "/api/v1/openapi.json"): (None, None, _all(200, anonymous=200)),
    ("post", "/api/v1/auth/token"): (None, lambda w: {"username": "staff", "password": "wrong"},
                                     _all(401, anonymous=401)),
    ("get", "/api/v1/me"): (None, None, _all(200)),
    ("get", "/api/v1/orgs"): (None, None, _all(200)),
    ("post", "/api/v1/orgs"): (None, lambda w: {"parent_id": w.general.pk, "name": "新党支部", "code": "N001",
                                                "level": "branch", "type": "production"}, _only(MANAGERS, 201)),
    ("get", "/api/v1/orgs/{org_id}"): (lambda w: {"org_id": w.branch_a.pk}, None,
                                       _only(MANAGERS | {"assessor", "secretary_a", "member_user_a"})),
    ("patch", "/api/v1/orgs/{org_id}"): (lambda w: {"org_id": w.branch_a.pk}, lambda w: {"address": "二楼党员活动室"},
                                         _only(MANAGERS)),
    ("get", "/api/v1/orgs/{org_id}/children"): (lambda w: {"org_id": w.general.pk}, None,
                                                _only(MANAGERS | {"assessor"})),
    ("post", "/api/v1/orgs/{org_id}/move"): (lambda w: {"org_id": w.branch_a.pk},
                                             lambda w: {"new_parent_id": w.committee.pk}, _only(MANAGERS)),
    ("post", "/api/v1/orgs/{org_id}/merge"): (lambda w: {"org_id": w.branch_b.pk},
                                              lambda w: {"target_id": w.branch_a.pk}, _only(MANAGERS)),
    ("post", "/api/v1/orgs/{org_id}/archive"): (lambda w: {"org_id": w.empty.pk}, lambda w: {"reason": "撤并"},
                                                _only(MANAGERS)),
    ("post", "/api/v1/orgs/{org_id}/restore"): (lambda w: {"org_id": w.empty.pk}, lambda w: {},
                                                _only(MANAGERS, 400)),
    ("get", "/api/v1/members"): (None, None, _all(200)),
    ("post", "/api/v1/members"): (None, _new_member, _only(MANAGERS | {"secretary_a"}, 201)),
    ("get", "/api/v1/members/{member_id}"): (lambda w: {"member_id": w.member_a.pk}, None,
                                             _only(MANAGERS | {"assessor", "secretary_a", "member_user_a"})),
    ("patch", "/api/v1/members/{member_id}"): (lambda w: {"member_id": w.member_a.pk}, lambda w: {"post": "值班长"},
                                               _only(MANAGERS | {"secretary_a"})),
    ("post", "/api/v1/members/{member_id}/transfer"): (lambda w: {"member_id": w.member_a.pk},
                                                       lambda w: {"to_org_id": w.branch_b.pk}, _only(MANAGERS)),
    ("put", "/api/v1/members/{member_id}/pledges/{year}"): (
        lambda w: {"member_id": w.member_a.pk, "year": 2026}, lambda w: {"text": "带头做好迎峰度夏保供电。"},
        _only(MANAGERS | {"secretary_a", "member_user_a"})),
}


def _operations():
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    ops = {(m, p) for p, item in schema["paths"].items() for m in item}
    # The schema and docs pages are served by Ninja itself, outside the document.
    return ops | {("get", "/api/v1/openapi.json")}


def test_every_api_operation_has_a_row():
    ops = _operations()
    assert not (missing := sorted(ops - set(MATRIX))), f"API operations without a row: {missing}"
    assert not (stale := sorted(set(MATRIX) - ops)), f"rows for operations that no longer exist: {stale}"


@pytest.fixture
def world(company):
    company.empty = make_org("待撤销党支部", parent=company.general, code="E001")
    return company


@pytest.mark.parametrize(("op", "persona"), [(op, p) for op in sorted(MATRIX) for p in PERSONAS])
def test_api_permission_matrix(client, world, op, persona):
    method, path = op
    kwargs, body, expected = MATRIX[op]
    url = path.format(**kwargs(world)) if kwargs else path
    headers = {}
    if persona != "anonymous":
        headers["Authorization"] = f"Bearer {ApiToken.issue(getattr(world, persona))}"
    data = json.dumps(body(world)) if body else None
    resp = getattr(client, method)(url, data=data, content_type="application/json", headers=headers)
    assert resp.status_code == expected[persona], f"{method.upper()} {url} as {persona}: {resp.status_code} {resp.content[:200]}"


def test_api_docs_page_is_served_without_login_and_without_cdn(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    assert "cdn" not in resp.content.decode().lower()
