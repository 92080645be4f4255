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
from dangjian.standards.member_services import load_default_member_set
from dangjian.standards.services import add_category, load_default_set
from tests.appraisal.test_activities_permissions import API as ACTIVITY_API
from tests.assessments import matrix_benchmark, matrix_oversight, matrix_results
from tests.core import matrix_notifications
from tests.factories import make_org, valid_id
from tests.service import (
    matrix_dashboards,
    matrix_needs,
    matrix_projects,
    matrix_surveys,
    matrix_teams,
    matrix_tickets,
)

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
SEES_BRANCH_A = MANAGERS | {"assessor", "secretary_a", "member_user_a"}
MEMBER_A_MONTH = MANAGERS | {"secretary_a", "member_user_a"}


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
    # Member standard sets: the committee's default member set, a draft.
    ("get", "/api/v1/member-standards"): (None, None, _all(200)),
    ("post", "/api/v1/member-standards"): (None, lambda w: {"owner_id": w.committee.pk, "year": 2026,
                                                           "name": "新党员评价标准"}, _only(MANAGERS, 201)),
    ("get", "/api/v1/member-standards/{set_id}"): (lambda w: {"set_id": _member_std(w).member_std.pk}, None, _all(200) | {"outsider": 404}),
    ("patch", "/api/v1/member-standards/{set_id}"): (lambda w: {"set_id": _member_std(w).member_std.pk}, lambda w: {"pass_mark": "55"}, _only(MANAGERS)),
    ("post", "/api/v1/member-standards/{set_id}/publish"): (lambda w: {"set_id": _member_std(w).member_std.pk}, None, _only(MANAGERS)),
    ("post", "/api/v1/member-standards/{set_id}/archive"): (lambda w: {"set_id": _member_std(w).member_std.pk}, None, _only(MANAGERS)),
    ("post", "/api/v1/member-standards/{set_id}/copy"): (lambda w: {"set_id": _member_std(w).member_std.pk}, lambda w: {"year": 2027}, _only(MANAGERS, 201)),
    ("post", "/api/v1/member-standards/{set_id}/items"): (lambda w: {"set_id": _member_std(w).member_std.pk}, lambda w: {"code": "JL-99", "part": "bonus", "dimension": "central",
                                                "text": "新细则", "points": "2"}, _only(MANAGERS, 201)),
    ("patch", "/api/v1/member-standards/{set_id}/items/{item_id}"): (lambda w: {"set_id": _member_std(w).member_std.pk, "item_id": w.member_item.pk}, lambda w: {"text": "修订后的内容"}, _only(MANAGERS)),
    ("delete", "/api/v1/member-standards/{set_id}/items/{item_id}"): (lambda w: {"set_id": _member_std(w).member_std.pk, "item_id": w.member_item.pk}, None, _only(MANAGERS, 204)),
    # Year end and handbooks: branch A's 2025 review with member A's appraisal.
    ("get", "/api/v1/appraisals"): (None, None, _all(200)),
    ("get", "/api/v1/appraisals/{appraisal_id}"): (lambda w: {"appraisal_id": _year_review(w).appraisal_a.pk}, None,
                                                   _only(MEMBER_A_MONTH)),
    ("post", "/api/v1/appraisals/{appraisal_id}/votes"): (
        lambda w: {"appraisal_id": _year_review(w).appraisal_a.pk},
        lambda w: {"votes_qualified": 1, "final_grade": "qualified"}, _only(MANAGERS | {"secretary_a"})),
    ("get", "/api/v1/handbooks/{member_id}"): (lambda w: {"member_id": w.member_a.pk}, None, _only(MEMBER_A_MONTH)),
    ("get", "/api/v1/handbooks/branch/{org_id}"): (lambda w: {"org_id": w.branch_a.pk}, None,
                                                   _only(MANAGERS | {"secretary_a"})),
    # The wall (上墙): branch A's October published with member A on it.
    ("get", "/api/v1/walls/{org_id}"): (lambda w: {"org_id": _wall(w).branch_a.pk}, None,
                                       _only(MANAGERS | {"secretary_a", "member_user_a"})),
    ("get", "/api/v1/wall-feedback"): (None, None, _all(200)),
    ("get", "/api/v1/wall-feedback/{feedback_id}"): (lambda w: {"feedback_id": _wall(w).feedback_a.pk}, None,
                                                     _only(MANAGERS | {"secretary_a"})),
    ("post", "/api/v1/wall-feedback/{feedback_id}/read"): (lambda w: {"feedback_id": _wall(w).feedback_a.pk}, None,
                                                           _only(MANAGERS | {"secretary_a"})),
    ("post", "/api/v1/wall-feedback/{feedback_id}/handle"): (
        lambda w: {"feedback_id": _wall(w).feedback_a.pk}, lambda w: {"reply": "已核实并回复。"},
        _only(MANAGERS | {"secretary_a"})),
    # The monthly member evaluation: member A's month of a 2026-10 period opened for the committee under the test
    # member set (built by _members on first use), not started; J1 is a bonus item. Writes that the month's state
    # refuses answer 400 to those allowed to try, 404 to everyone else.
    ("get", "/api/v1/appraisal-periods"): (None, None, _all(200)),
    ("post", "/api/v1/appraisal-periods"): (None, lambda w: _members(w) and {
        "owner_id": w.committee.pk, "month": "2026-11", "self_due": "2026-11-25", "determine_due": "2026-11-28"},
        _only(MANAGERS, 201)),
    ("get", "/api/v1/appraisal-periods/{period_id}"): (lambda w: {"period_id": _members(w).appraisal_period.pk},
                                                        None, _all(200) | {"assessor": 404, "outsider": 404}),
    ("post", "/api/v1/appraisal-periods/{period_id}/publish-ready"): (
        lambda w: {"period_id": _members(w).appraisal_period.pk}, None, _only(MANAGERS)),
    ("post", "/api/v1/appraisal-periods/{period_id}/close"): (
        lambda w: {"period_id": _members(w).appraisal_period.pk}, None, _only(MANAGERS, 400)),
    ("post", "/api/v1/appraisal-periods/{period_id}/branches/{org_id}/publish"): (
        lambda w: {"period_id": _members(w).appraisal_period.pk, "org_id": w.branch_a.pk}, None,
        _only(MANAGERS | {"secretary_a"}, 400)),
    ("get", "/api/v1/member-evaluations"): (None, None, _all(200)),
    ("get", "/api/v1/member-evaluations/{evaluation_id}"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk}, None, _only(MEMBER_A_MONTH)),
    ("get", "/api/v1/member-evaluations/{evaluation_id}/items"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk}, None, _only(MEMBER_A_MONTH)),
    ("put", "/api/v1/member-evaluations/{evaluation_id}/items/{line_id}/self"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk, "line_id": w.member_line_a.pk},
        lambda w: {"count": 1, "claim": "讲授微党课一次"}, _only(MEMBER_A_MONTH)),
    ("put", "/api/v1/member-evaluations/{evaluation_id}/items/{line_id}/determination"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk, "line_id": w.member_line_a.pk},
        lambda w: {"count": 0}, _only(MANAGERS | {"secretary_a"})),
    ("get", "/api/v1/member-evaluations/{evaluation_id}/transitions"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk}, None, _only(MEMBER_A_MONTH)),
    ("post", "/api/v1/member-evaluations/{evaluation_id}/transitions"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk}, lambda w: {"to_state": "self_evaluated"},
        _only(MEMBER_A_MONTH)),
    ("post", "/api/v1/member-evaluations/{evaluation_id}/exempt"): (
        lambda w: {"evaluation_id": _members(w).member_eval_a.pk},
        lambda w: {"exempt": True, "reason": "长期外出务工的流动党员"}, _only(MANAGERS | {"secretary_a"})),
    ("get", "/api/v1/member-results"): (None, None, _all(200)),
}


def _member_std(w):
    """The committee's default member standard set (a draft) and its last item, built on first use."""
    if not hasattr(w, "member_std"):
        w.member_std = load_default_member_set(w.staff, w.committee, 2026)
        w.member_item = w.member_std.items.order_by("order").last()
    return w


def _year_review(w):
    """Branch A's 2025 民主评议 with member A's appraisal, built on first use."""
    if not hasattr(w, "review_a"):
        from decimal import Decimal

        from dangjian.appraisal.models import YearAppraisal, YearReview

        w.review_a = YearReview.objects.create(org=w.branch_a, year=2025)
        w.appraisal_a = YearAppraisal.objects.create(
            review=w.review_a, member=w.member_a, member_name=w.member_a.name, months=12,
            annual_total=Decimal("1020.0"), average=Decimal("85.0"), rank=1, suggested_grade="qualified")
    return w


def _wall(w):
    """Branch A's September 2026 published with member A on it, its public link open, one message from the public."""
    if not hasattr(w, "wall_key"):
        from dangjian.appraisal import wall as wall_services
        from dangjian.appraisal.models import WallFeedback
        from tests.appraisal.test_wall import publish_month

        publish_month(w, w.branch_a, [w.member_a], datetime.date(2026, 9, 1))
        w.wall_key = wall_services.enable_public_wall(w.staff, w.branch_a).key
        w.feedback_a = WallFeedback.objects.create(org=w.branch_a, kind="praise", text="抢修及时，点赞。",
                                                   client_hash="0" * 64)
    return w


def _members(w):
    """Member A's month of a 2026-10 member evaluation under the test member set; built the first time a row
    asks for it."""
    if not hasattr(w, "member_eval_a"):
        from dangjian.appraisal import services as appraisal_services
        from tests.appraisal.conftest import make_member_set

        make_member_set(w.committee)
        w.appraisal_period = appraisal_services.open_period(
            w.staff, w.committee, "2026-10", self_due=datetime.date(2026, 10, 25),
            determine_due=datetime.date(2026, 10, 28))
        w.member_eval_a = w.appraisal_period.evaluations.get(member=w.member_a)
        w.member_line_a = w.member_eval_a.lines.get(item__code="J1")
    return w


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


# Activity records: their rows live beside their tests.
MATRIX.update(ACTIVITY_API)
# Pillar 3 (service): one file of rows per part, beside its tests.
for _part in (matrix_needs, matrix_tickets, matrix_surveys, matrix_teams, matrix_projects, matrix_dashboards,
              matrix_results, matrix_oversight, matrix_benchmark, matrix_notifications):
    MATRIX.update(_part.API)


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
