"""The surveys API: the same services and permissions as the pages; Chinese 400s with the field; responses never
carry the client hash; lists filter and stay flat in queries. There is no anonymous write."""

import json

import pytest

from dangjian.core.models import ApiToken
from dangjian.service import surveys as svc
from dangjian.service.models import QKind, SatisfactionIndex, Survey, SurveyResponse, SurveyState
from tests.service.test_surveys_indices import MONTH, add_responses, make_open_survey


@pytest.fixture
def api(client):
    def call(user, method, path, body=None):
        headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user else {}
        resp = getattr(client, method)(f"/api/v1{path}", data=json.dumps(body) if body is not None else None,
                                       content_type="application/json", headers=headers)
        return resp.status_code, (resp.json() if resp.content else None)

    return call


def test_build_open_and_close_a_survey_through_the_api(api, company):
    c = company
    status, s = api(c.staff, "post", "/surveys", {"owner_id": c.committee.pk, "title": "政企座谈满意度",
                                                  "kind": "government", "threshold": "85"})
    assert status == 201 and s["state"] == "draft" and s["questions"] == []
    sid = s["id"]
    status, q = api(c.staff, "post", f"/surveys/{sid}/questions", {"kind": "scale", "text": "电力保障",
                                                                   "topic": "电力保障"})
    assert status == 201 and q["options"][0] == "满意" and len(q["options"]) == 5
    status, q2 = api(c.staff, "post", f"/surveys/{sid}/questions", {"kind": "choice", "text": "渠道",
                                                                    "options": ["座谈", "走访"]})
    status, order = api(c.staff, "post", f"/surveys/{sid}/question-order", {"ids": [q2["id"], q["id"]]})
    assert status == 200 and [x["id"] for x in order] == [q2["id"], q["id"]]
    status, body = api(c.staff, "post", f"/surveys/{sid}/question-order", {"ids": [q["id"]]})
    assert status == 400 and body["field"] == "ids"
    status, _s = api(c.staff, "post", f"/surveys/{sid}/links", {"org_ids": [c.branch_a.pk, c.branch_b.pk]})
    status, links = api(c.staff, "get", f"/surveys/{sid}/links")
    assert len(links["items"]) == 2 and "/service/p/survey/" in links["items"][0]["url"]
    status, opened = api(c.staff, "post", f"/surveys/{sid}/open")
    assert status == 200 and opened["state"] == "open"
    status, body = api(c.staff, "post", f"/surveys/{sid}/questions", {"kind": "scale", "text": "新题"})
    assert status == 400 and "题目不能再修改" in body["detail"]
    status, body = api(c.staff, "patch", f"/surveys/{sid}", {"kind": "customer"})
    assert status == 400 and body["field"] == "kind"
    status, closed = api(c.staff, "post", f"/surveys/{sid}/close")
    assert status == 200 and closed["state"] == "closed"


def test_create_from_a_template(api, company):
    c = company
    status, s = api(c.staff, "post", "/surveys", {"owner_id": c.committee.pk, "template": "customer",
                                                  "min_responses": 10})
    assert status == 201 and s["kind"] == "customer" and s["min_responses"] == 10
    assert {"供电质量", "电费电价"} <= {q["topic"] for q in s["questions"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "", "kind": "customer"}, "title"),
    ({"title": "问卷", "threshold": "101"}, "threshold"),
    ({"title": "问卷", "min_responses": 0}, "min_responses"),
])
def test_bad_input_is_a_chinese_400_and_changes_nothing(api, company, body, field):
    c = company
    status, out = api(c.staff, "post", "/surveys", {"owner_id": c.committee.pk, **body})
    assert status == 400 and out["field"] == field and out["detail"]
    assert not Survey.objects.exists()


def test_links_outside_the_owner_are_refused(api, company):
    c = company
    s = svc.create_survey(c.staff, c.general, title="总支问卷")
    status, out = api(c.staff, "post", f"/surveys/{s.pk}/links", {"org_ids": [c.branch_c.pk]})
    assert status == 400 and out["field"] == "org_ids"
    status, out = api(c.staff, "post", f"/surveys/{s.pk}/links", {"org_ids": [999999]})
    assert status == 400
    assert not s.links.exists()


def test_responses_are_for_survey_managers_and_anonymous(api, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 1), (2, 2)])
    add_responses(s, c.branch_b, [(0, 0)], month=MONTH.replace(month=9))
    SurveyResponse.objects.update(client_hash="a" * 64)
    status, page = api(c.staff, "get", "/survey-responses")
    assert status == 200 and page["count"] == 3
    assert "a" * 64 not in json.dumps(page) and "client" not in json.dumps(page)
    assert page["items"][0]["answers"][0]["label"] in ("满意", "比较满意", "不太满意")
    assert api(c.staff, "get", f"/survey-responses?org_id={c.branch_a.pk}")[1]["count"] == 2
    assert api(c.staff, "get", "/survey-responses?month=2026-09")[1]["count"] == 1
    assert api(c.staff, "get", f"/survey-responses?survey_id={s.pk}&month=2026-10")[1]["count"] == 2
    assert api(c.staff, "get", "/survey-responses?month=2026-9")[0] == 400
    assert api(c.secretary_a, "get", "/survey-responses")[1]["count"] == 0
    assert api(None, "get", "/survey-responses")[0] == 401


def test_indices_list_filters_and_scope(api, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(2, 2)] * 3)
    add_responses(s, c.branch_b, [(0, 0)] * 3)
    svc.refresh(MONTH)
    status, page = api(c.staff, "get", "/satisfaction-indices")
    assert status == 200 and page["count"] == 2
    low = api(c.staff, "get", "/satisfaction-indices?low=true")[1]
    assert low["count"] == 1 and low["items"][0]["ticket_number"].startswith("GD")
    assert low["items"][0]["mean_score"] == "40.0"
    assert api(c.secretary_a, "get", "/satisfaction-indices")[1]["count"] == 1
    assert api(c.secretary_a, "get", f"/satisfaction-indices?org_id={c.branch_b.pk}")[0] == 404
    assert api(c.staff, "get", "/satisfaction-indices?kind=government")[1]["count"] == 0


def test_recompute_through_the_api_is_idempotent(api, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(3, 3)] * 3)
    assert api(c.staff, "post", f"/surveys/{s.pk}/recompute")[1] == {"indices": 1, "tickets": 1}
    assert api(c.staff, "post", f"/surveys/{s.pk}/recompute")[1] == {"indices": 1, "tickets": 0}
    assert SatisfactionIndex.objects.get().ticket is not None
    assert api(c.secretary_a, "post", f"/surveys/{s.pk}/recompute")[0] == 404


def test_a_secretary_reads_a_survey_about_the_branch_but_cannot_change_it(api, company):
    c = company
    s = make_open_survey(c, orgs=[c.branch_a])
    assert api(c.secretary_a, "get", f"/surveys/{s.pk}")[0] == 200
    assert api(c.secretary_b, "get", f"/surveys/{s.pk}")[0] == 404
    assert api(c.secretary_a, "post", f"/surveys/{s.pk}/close")[0] == 404
    s.refresh_from_db()
    assert s.state == SurveyState.OPEN


def test_survey_list_is_flat_in_queries(api, company, django_assert_max_num_queries):
    c = company
    for _i in range(6):
        s = svc.create_survey(c.staff, c.committee, title="问卷")
        svc.add_question(c.staff, s, kind=QKind.SCALE, text="总体")
    token = ApiToken.issue(c.staff)
    from django.test import Client

    client = Client()
    with django_assert_max_num_queries(8):
        resp = client.get("/api/v1/surveys?limit=50", headers={"Authorization": f"Bearer {token}"})
    assert resp.json()["count"] == 6
