"""Every operation of the JSON API × persona × expected status, read from the API's own OpenAPI document:
an operation added without a row here makes the test fail. Objects belong to branch A (tests/conftest.py)."""

import datetime
import json

import pytest
from django.core.files.base import ContentFile

from dangjian.api import api
from dangjian.assessments import services as eval_services
from dangjian.assessments.models import Evidence, Objection
from dangjian.core.models import ApiToken
from dangjian.standards.services import add_category, load_default_set
from tests.factories import make_org, valid_id

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
SEES_BRANCH_A = MANAGERS | {"assessor", "secretary_a", "member_user_a"}


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
    # Standard sets: every role reads the committee's sets; the committee's staff write them. The set is a draft
    # owned by the committee; "?" in the path kwargs is the query string.
    ("get", "/api/v1/standards"): (None, None, _all(200)),
    ("post", "/api/v1/standards"): (None, lambda w: {"owner_id": w.committee.pk, "year": 2026, "name": "新标准"},
                                     _only(MANAGERS, 201)),
    ("get", "/api/v1/standards/{set_id}"): (lambda w: {"set_id": w.std.pk}, None, _all(200) | {"outsider": 404}),
    ("patch", "/api/v1/standards/{set_id}"): (lambda w: {"set_id": w.std.pk}, lambda w: {"note": "修订说明"},
                                              _only(MANAGERS)),
    ("post", "/api/v1/standards/{set_id}/publish"): (lambda w: {"set_id": w.std.pk}, None, _only(MANAGERS)),
    ("post", "/api/v1/standards/{set_id}/archive"): (lambda w: {"set_id": w.std.pk}, None, _only(MANAGERS)),
    ("post", "/api/v1/standards/{set_id}/copy"): (lambda w: {"set_id": w.std.pk}, lambda w: {"year": 2027},
                                                  _only(MANAGERS, 201)),
    ("post", "/api/v1/standards/{set_id}/categories"): (lambda w: {"set_id": w.std.pk},
                                                        lambda w: {"code": "QT", "name": "其他"}, _only(MANAGERS, 201)),
    ("patch", "/api/v1/standards/{set_id}/categories/{category_id}"): (
        lambda w: {"set_id": w.std.pk, "category_id": w.std_category.pk}, lambda w: {"name": "组织建设（修订）"},
        _only(MANAGERS)),
    ("delete", "/api/v1/standards/{set_id}/categories/{category_id}"): (
        lambda w: {"set_id": w.std.pk, "category_id": w.std_empty.pk}, None, _only(MANAGERS, 204)),
    ("post", "/api/v1/standards/{set_id}/items"): (
        lambda w: {"set_id": w.std.pk},
        lambda w: {"category_id": w.std_category.pk, "code": "ZZ-99", "text": "新细则", "max_points": "2",
                   "rule": "每缺一次扣1分", "methods": ["report"]}, _only(MANAGERS, 201)),
    ("patch", "/api/v1/standards/{set_id}/items/{item_id}"): (
        lambda w: {"set_id": w.std.pk, "item_id": w.std_item.pk}, lambda w: {"max_points": "3"}, _only(MANAGERS)),
    ("delete", "/api/v1/standards/{set_id}/items/{item_id}"): (
        lambda w: {"set_id": w.std.pk, "item_id": w.std_item.pk}, None, _only(MANAGERS, 204)),
    ("get", "/api/v1/standards/{set_id}/applicable"): (
        lambda w: {"set_id": w.std.pk, "?": f"org_id={w.branch_a.pk}"}, None,
        _only(MANAGERS | {"assessor", "secretary_a", "member_user_a"})),
    # The monthly evaluation: branch A's month of a 2025 period (built by _month on first use), not started. Writes
    # that the month's state refuses answer 400 to those allowed to try, 404 to everyone else.
    ("get", "/api/v1/periods"): (None, None, _all(200)),
    ("post", "/api/v1/periods"): (None, lambda w: _month(w) and {
        "owner_id": w.committee.pk, "month": "2025-11", "submit_due": "2025-11-25", "self_due": "2025-11-28",
        "assess_due": "2025-12-05"}, _only(MANAGERS, 201)),
    ("get", "/api/v1/periods/{period_id}"): (lambda w: {"period_id": _month(w).period.pk}, None,
                                             _all(200) | {"outsider": 404}),
    ("post", "/api/v1/periods/{period_id}/publish"): (lambda w: {"period_id": _month(w).period.pk}, None,
                                                      _only(MANAGERS)),
    ("get", "/api/v1/org-evaluations"): (None, None, _all(200)),
    ("get", "/api/v1/org-evaluations/{evaluation_id}"): (lambda w: {"evaluation_id": _month(w).eval_a.pk}, None,
                                                         _only(SEES_BRANCH_A)),
    ("put", "/api/v1/org-evaluations/{evaluation_id}/summary"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, lambda w: {"summary": "本月召开支委会1次。"},
        _only(MANAGERS | {"secretary_a"})),
    ("put", "/api/v1/org-evaluations/{evaluation_id}/items/{item_id}/self"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk, "item_id": w.eval_item_a.pk},
        lambda w: {"score": str(w.eval_item_a.max_points)}, _only(MANAGERS | {"secretary_a"})),
    ("put", "/api/v1/org-evaluations/{evaluation_id}/items/{item_id}/assessor"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk, "item_id": w.eval_item_a.pk},
        lambda w: {"score": str(w.eval_item_a.max_points)}, _only(MANAGERS | {"assessor"}, 400)),
    ("get", "/api/v1/org-evaluations/{evaluation_id}/evidence"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, None, _only(SEES_BRANCH_A)),
    ("post", "/api/v1/org-evaluations/{evaluation_id}/evidence"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, None, _only(MANAGERS | {"secretary_a"}, 400)),
    ("get", "/api/v1/evidence/{evidence_id}/download"): (lambda w: {"evidence_id": _month(w).evidence_a.pk}, None,
                                                         _only(SEES_BRANCH_A)),
    ("delete", "/api/v1/evidence/{evidence_id}"): (lambda w: {"evidence_id": _month(w).evidence_a.pk}, None,
                                                   _only(MANAGERS | {"secretary_a"})),
    ("get", "/api/v1/org-evaluations/{evaluation_id}/transitions"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, None, _only(SEES_BRANCH_A)),
    ("post", "/api/v1/org-evaluations/{evaluation_id}/transitions"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, lambda w: {"to_state": "submitted"},
        _only(MANAGERS | {"secretary_a"}, 400)),
    ("post", "/api/v1/org-evaluations/{evaluation_id}/objections"): (
        lambda w: {"evaluation_id": _month(w).eval_a.pk}, lambda w: {"text": "第一项已按期召开。"},
        _only(MANAGERS | {"secretary_a"}, 400)),
    ("post", "/api/v1/objections/{objection_id}/answer"): (
        lambda w: {"objection_id": _month(w).objection_a.pk}, lambda w: {"answer": "维持原评分。", "upheld": False},
        _only(MANAGERS, 400)),
}


def _month(w):
    """Branch A's month of a 2025 period, with an evidence file and an objection; built the first time a row asks
    for it, so the other rows do not pay for it."""
    if not hasattr(w, "eval_a"):
        load_default_set(w.staff, w.committee, 2025, publish=True)
        w.period = eval_services.open_period(w.staff, w.committee, "2025-10", submit_due=datetime.date(2025, 10, 25),
                                             self_due=datetime.date(2025, 10, 28),
                                             assess_due=datetime.date(2025, 11, 5))
        w.eval_a = w.period.evaluations.get(org=w.branch_a)
        w.eval_item_a = w.eval_a.items.order_by("id").first()
        w.evidence_a = Evidence(evaluation=w.eval_a, eval_item=w.eval_item_a, name="记录.pdf",
                                content_type="application/pdf", size=9)
        w.evidence_a.file.save("记录.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        w.objection_a = Objection.objects.create(evaluation=w.eval_a, text="第一项已按期召开。")
    return w


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
    company.std = load_default_set(company.staff, company.committee, 2026)
    company.std_category = company.std.categories.order_by("order").first()
    company.std_item = company.std_category.items.order_by("order").last()
    company.std_empty = add_category(company.staff, company.std, code="KB", name="空类别")
    return company


@pytest.mark.parametrize(("op", "persona"), [(op, p) for op in sorted(MATRIX) for p in PERSONAS])
def test_api_permission_matrix(client, world, op, persona):
    method, path = op
    kwargs, body, expected = MATRIX[op]
    params = kwargs(world) if kwargs else {}
    query = params.pop("?", "")
    url = path.format(**params) + (f"?{query}" if query else "")
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
