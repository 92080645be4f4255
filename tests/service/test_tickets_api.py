"""The ticket API: the same permissions and rules as the pages — list with filters and the overdue count, create,
PATCH step fields with the version, transitions (history, moves, refusals), actions, evidence by content."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.core.models import ApiToken
from dangjian.service.models import Ticket, TicketEvidence, TState
from tests.service.tickets_helpers import PDF, need_ticket, staff_ticket, to_state

TODAY = datetime.date.today()
T = "/api/v1/tickets"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(client):
    class Api:
        def __init__(self):
            self.user = None

        def as_(self, user):
            self.user = user
            return self

        def _h(self):
            return {"Authorization": f"Bearer {ApiToken.issue(self.user)}"}

        def get(self, url, params=None):
            return client.get(url, params or {}, headers=self._h())

        def send(self, method, url, body=None):
            import json

            return getattr(client, method)(url, data=json.dumps(body) if body is not None else None,
                                           content_type="application/json", headers=self._h())

        def upload(self, url, files):
            return client.post(url, files, headers=self._h())

    return Api()


def test_list_filters_and_overdue(api, company):
    late = to_state(company.staff, staff_ticket(company), TState.DO)
    Ticket.objects.filter(pk=late.pk).update(due_date=TODAY - datetime.timedelta(days=1))
    b = staff_ticket(company, company.branch_b, title="输电通道隐患")
    need_ticket(company, company.branch_c)
    r = api.as_(company.staff).get(T).json()
    assert r["count"] == 3 and r["overdue_count"] == 1
    assert [i["overdue"] for i in r["items"] if i["id"] == late.pk] == [True]
    assert api.get(T, {"overdue": "true"}).json()["count"] == 1
    assert api.get(T, {"org_id": company.general.pk}).json()["count"] == 2
    assert api.get(T, {"state": "open", "origin": "need"}).json()["count"] == 1
    assert api.get(T, {"q": "通道"}).json()["items"][0]["id"] == b.pk
    assert api.get(T, {"state": "bogus"}).status_code == 422
    r = api.as_(company.secretary_b).get(T).json()
    assert [i["id"] for i in r["items"]] == [b.pk] and r["overdue_count"] == 0
    assert api.as_(company.member_user_a).get(T).status_code == 404


def test_create_and_bad_input_changes_nothing(api, company):
    r = api.as_(company.secretary_a).send("post", T, {"org_id": company.branch_a.pk, "title": "变电站周边树障",
                                                      "description": "城关变周边树木距导线过近。"})
    assert r.status_code == 201 and r.json()["state"] == "plan" and r.json()["number"].startswith("GD")
    assert [m["to_state"] for m in r.json()["available"]] == ["do"]
    r = api.send("post", T, {"org_id": company.branch_b.pk, "title": "x", "description": "y"})
    assert r.status_code == 404
    r = api.send("post", T, {"org_id": company.branch_a.pk, "title": "x", "description": "y",
                             "due_date": "2001-01-01"})
    assert r.status_code == 400 and r.json()["field"] == "due_date"
    assert Ticket.objects.count() == 1


def test_the_whole_pdca_through_the_api(api, company):
    t = need_ticket(company)
    api.as_(company.secretary_a)
    url = f"{T}/{t.pk}"
    r = api.send("patch", url, {"version": 1, "analysis": "线路老化", "measures": "更换线路",
                                "due_date": (TODAY + datetime.timedelta(days=5)).isoformat(),
                                "owner_id": company.secretary_a.pk})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["owner"]["id"] == company.secretary_a.pk
    r = api.send("post", f"{url}/transitions", {"to_state": "do", "version": 2})
    assert r.status_code == 200 and r.json()["state"] == "do"
    r = api.send("post", f"{url}/transitions", {"to_state": "check", "version": 3})
    assert r.status_code == 400 and r.json()["field"] == "actions"
    r = api.send("post", f"{url}/actions", {"date": TODAY.isoformat(), "text": "已更换线路"})
    assert r.status_code == 201
    action_id = r.json()["id"]
    r = api.upload(f"/api/v1/ticket-actions/{action_id}/evidence", {"file": SimpleUploadedFile("记录.pdf", PDF)})
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf"
    dl = api.get(r.json()["download_url"])
    assert dl.status_code == 200 and b"".join(dl.streaming_content) == PDF
    actions = api.get(f"{url}/actions").json()
    assert actions["count"] == 1 and actions["items"][0]["evidence"][0]["name"] == "记录.pdf"
    api.send("post", f"{url}/transitions", {"to_state": "check", "version": 3})
    r = api.send("patch", url, {"version": 4, "verification": "复核合格", "satisfaction": "satisfied",
                                "callback_on": TODAY.isoformat()})
    assert r.status_code == 200
    api.send("post", f"{url}/transitions", {"to_state": "act", "version": 5})
    api.send("patch", url, {"version": 6, "standardization": "纳入巡视", "recurrence": True})
    r = api.send("post", f"{url}/transitions", {"to_state": "closed", "version": 7})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["closed_at"]
    h = api.get(f"{url}/transitions").json()
    assert [(x["from_state"], x["to_state"]) for x in h["history"]] == [
        ("plan", "plan"), ("plan", "do"), ("do", "check"), ("check", "act"), ("act", "closed")]
    assert h["available"] == []
    assert api.as_(company.staff).get(f"{url}/transitions").json()["available"][0]["to_state"] == "do"


def test_patch_refusals(api, company):
    t = staff_ticket(company)
    url = f"{T}/{t.pk}"
    api.as_(company.secretary_a)
    r = api.send("patch", url, {"version": 9, "analysis": "x"})
    assert r.status_code == 400 and r.json()["field"] == "version" and "已被他人修改" in r.json()["detail"]
    r = api.send("patch", url, {"verification": "提前"})
    assert r.status_code == 400 and r.json()["field"] == "verification"
    r = api.send("patch", url, {"org_id": company.branch_b.pk})
    assert r.status_code == 400 and r.json()["field"] == "org_id"
    r = api.send("patch", url, {"owner_id": company.member_user_a.pk})
    assert r.status_code == 400 and r.json()["field"] == "owner_id"
    t.refresh_from_db()
    assert t.version == 1 and t.org == company.branch_a
    r = api.as_(company.staff).send("patch", url, {"org_id": company.branch_b.pk, "version": 1})
    assert r.status_code == 200 and r.json()["org"]["id"] == company.branch_b.pk
    assert api.as_(company.secretary_a).get(url).status_code == 404


def test_moves_refused_by_role_and_state(api, company):
    t = staff_ticket(company)
    url = f"{T}/{t.pk}/transitions"
    r = api.as_(company.secretary_a).send("post", url, {"to_state": "cancelled", "version": 1, "reason": "重复"})
    assert r.status_code == 404
    r = api.send("post", url, {"to_state": "closed", "version": 1})
    assert r.status_code == 400 and r.json()["field"] == "to_state"
    r = api.as_(company.secretary_b).send("post", url, {"to_state": "do", "version": 1})
    assert r.status_code == 404
    r = api.as_(company.staff).send("post", url, {"to_state": "cancelled", "version": 1})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    t.refresh_from_db()
    assert t.state == TState.PLAN and t.transitions.count() == 1


def test_evidence_by_content_and_withdraw(api, company):
    t = to_state(company.staff, staff_ticket(company), TState.DO)
    api.as_(company.secretary_a)
    action = api.send("post", f"{T}/{t.pk}/actions", {"date": TODAY.isoformat(), "text": "更换"}).json()
    bad = api.upload(f"/api/v1/ticket-actions/{action['id']}/evidence",
                     {"file": SimpleUploadedFile("photo.png", b"<html>not a png</html>")})
    assert bad.status_code == 400 and not TicketEvidence.objects.exists()
    ok = api.upload(f"/api/v1/ticket-actions/{action['id']}/evidence", {"file": SimpleUploadedFile("a.pdf", PDF)})
    ev = ok.json()["id"]
    assert api.as_(company.secretary_b).send("delete", f"/api/v1/ticket-evidence/{ev}").status_code == 404
    assert api.as_(company.secretary_a).send("delete", f"/api/v1/ticket-evidence/{ev}").status_code == 200
    assert api.get(f"/api/v1/ticket-evidence/{ev}/download").status_code == 404
    assert api.get(f"{T}/{t.pk}/actions").json()["items"][0]["evidence"] == []


def test_list_and_actions_queries_do_not_grow(api, company, django_assert_max_num_queries):
    from dangjian.service import tickets as services
    from tests.service.tickets_helpers import pdf

    t = to_state(company.staff, staff_ticket(company), TState.DO)
    services.add_action(company.staff, t, date=TODAY, text="第一次", files=[pdf()])
    api.as_(company.staff)
    token_queries = 3  # the bearer token's lookup and the user's grants
    with django_assert_max_num_queries(8 + token_queries) as small_list:
        api.get(T)
    with django_assert_max_num_queries(8 + token_queries) as small_actions:
        api.get(f"{T}/{t.pk}/actions")
    for i in range(8):
        need_ticket(company)
        services.add_action(company.staff, t, date=TODAY, text=f"第{i}次", files=[pdf()])
    with django_assert_max_num_queries(len(small_list.captured_queries)):
        assert api.get(T).json()["count"] == 9
    with django_assert_max_num_queries(len(small_actions.captured_queries)):
        assert api.get(f"{T}/{t.pk}/actions").json()["count"] == 9
