"""The needs API: the list masks and filters and paginates with a query count that does not grow; one need shows
the full contact to a manager (audited); create (channel "api"), accept and decline follow the services' rules with
Chinese errors that change nothing; service areas; outsiders get 404 and the anonymous 401."""

import datetime

import pytest
from django.utils import timezone

from dangjian.core.models import ApiToken, AuditEvent
from dangjian.service import needs as services
from dangjian.service.models import Need, NeedState, ServiceArea, Ticket

N = "/api/v1/needs"


@pytest.fixture
def api(client):
    def call(user, method, path, body=None):
        headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user else {}
        return getattr(client, method)(path, data=body, content_type="application/json", headers=headers)

    return call


@pytest.fixture
def ledger(company):
    c = company
    c.area_a = services.create_area(c.staff, c.branch_a, name="城关网格")
    c.need_a = services.create_need(c.staff, c.branch_a, area=c.area_a, category="complaint", title="小区频繁停电",
                                    text="最近一周晚上停电三次。", requester="王芳", contact="13912345678",
                                    received_on=datetime.date(2026, 10, 8))
    c.need_b = services.create_need(c.staff, c.branch_b, source="12345", kind="government", title="园区用电保障",
                                    text="两家企业下月投产。", received_on=datetime.date(2026, 9, 3))
    return c


def test_the_list_masks_and_is_scoped(api, ledger):
    c = ledger
    body = api(c.staff, "get", N).json()
    assert body["count"] == 2
    item = next(i for i in body["items"] if i["id"] == c.need_a.pk)
    assert (item["contact"], item["requester"], item["number"]) == ("139****5678", "王*", c.need_a.number)
    assert item["area"] == {"id": c.area_a.pk, "name": "城关网格"} and item["ticket"] is None
    assert [i["id"] for i in api(c.secretary_b, "get", N).json()["items"]] == [c.need_b.pk]
    assert api(c.outsider, "get", N).json() == {"count": 0, "items": []}
    assert api(None, "get", N).status_code == 401


@pytest.mark.parametrize(("query", "expected"), [
    ("kind=government", ["need_b"]), ("category=complaint", ["need_a"]), ("source=12345", ["need_b"]),
    ("month=2026-10", ["need_a"]), ("q=园区", ["need_b"]), ("state=accepted", []), ("urgency=normal",
                                                                                   ["need_a", "need_b"]),
])
def test_the_list_filters(api, ledger, query, expected):
    ids = [i["id"] for i in api(ledger.staff, "get", f"{N}?{query}").json()["items"]]
    assert sorted(ids) == sorted(getattr(ledger, n).pk for n in expected)


def test_the_list_filters_by_org_and_area_and_refuses_bad_filters(api, ledger):
    c = ledger
    assert api(c.staff, "get", f"{N}?org_id={c.branch_b.pk}").json()["count"] == 1
    assert api(c.staff, "get", f"{N}?area_id={c.area_a.pk}").json()["count"] == 1
    assert api(c.secretary_b, "get", f"{N}?org_id={c.branch_a.pk}").status_code == 404
    assert api(c.staff, "get", f"{N}?month=2026-13").status_code == 400
    assert api(c.staff, "get", f"{N}?kind=spam").status_code == 422


def test_the_list_query_count_does_not_grow(api, ledger, django_assert_max_num_queries):
    c = ledger
    services.accept_need(c.staff, c.need_a)
    api(c.staff, "get", N)
    with django_assert_max_num_queries(10) as small:
        api(c.staff, "get", N)
    Need.objects.bulk_create([Need(org=c.branch_a, area=c.area_a, number=f"~{i}", title="诉求", text="内容",
                                   received_on=timezone.localdate()) for i in range(30)])
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = api(c.staff, "get", f"{N}?limit=50").json()
    assert body["count"] == 32 and len(body["items"]) == 32


def test_one_need_shows_the_full_contact_to_a_manager_and_audits_it(api, ledger):
    c = ledger
    body = api(c.secretary_a, "get", f"{N}/{c.need_a.pk}").json()
    assert (body["contact"], body["requester"]) == ("13912345678", "王芳")
    assert AuditEvent.objects.filter(action="need.contact_viewed", user=c.secretary_a).count() == 1
    for user in (c.secretary_b, c.outsider, c.member_user_a):
        assert api(user, "get", f"{N}/{c.need_a.pk}").status_code == 404
    # A need without a contact is read without an audit event.
    api(c.staff, "get", f"{N}/{c.need_b.pk}")
    assert AuditEvent.objects.filter(action="need.contact_viewed").count() == 1


def test_create_through_the_api(api, ledger):
    c = ledger
    resp = api(c.secretary_a, "post", N, {"org_id": c.branch_a.pk, "area_id": c.area_a.pk, "source": "12398",
                                          "category": "complaint", "urgency": "urgent", "text": "电压偏低，空调无法启动。",
                                          "contact": "13800001111", "received_on": "2026-11-01"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    need = Need.objects.get(pk=body["id"])
    assert need.channel == "api" and body["number"] == need.number and body["contact"] == "13800001111"
    assert need.title == "电压偏低，空调无法启动"


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "短"}, "text"), ({"text": "电压偏低。", "contact": "abc"}, "contact"),
    ({"text": "电压偏低。", "received_on": "2999-01-01"}, "received_on"),
])
def test_bad_input_is_a_400_with_the_field_and_changes_nothing(api, ledger, body, field):
    resp = api(ledger.staff, "post", N, {"org_id": ledger.branch_a.pk, **body})
    assert resp.status_code == 400 and resp.json()["field"] == field and resp.json()["detail"]
    assert Need.objects.count() == 2


def test_an_area_of_another_branch_is_refused(api, ledger):
    c = ledger
    area_b = services.create_area(c.staff, c.branch_b, name="西城网格")
    resp = api(c.staff, "post", N, {"org_id": c.branch_a.pk, "area_id": area_b.pk, "text": "电压偏低。"})
    assert resp.status_code == 400 and resp.json()["field"] == "area_id"
    resp = api(c.secretary_a, "post", N, {"org_id": c.branch_a.pk, "area_id": area_b.pk, "text": "电压偏低。"})
    assert resp.status_code == 404
    assert api(c.secretary_b, "post", N, {"org_id": c.branch_a.pk, "text": "电压偏低。"}).status_code == 404
    assert Need.objects.count() == 2


def test_accept_and_decline_through_the_api(api, ledger):
    c = ledger
    resp = api(c.secretary_a, "post", f"{N}/{c.need_a.pk}/accept", {"title": "查明停电原因"})
    assert resp.status_code == 200
    body = resp.json()
    ticket = Ticket.objects.get()
    assert body["state"] == "accepted" and body["ticket"] == {"id": ticket.pk, "number": ticket.number,
                                                               "state": "plan"}
    resp = api(c.secretary_a, "post", f"{N}/{c.need_a.pk}/decline", {"reason": "重复诉求，已并入。"})
    assert resp.status_code == 400 and "只有待受理的需求" in resp.json()["detail"]
    resp = api(c.staff, "post", f"{N}/{c.need_b.pk}/decline", {"reason": ""})
    assert resp.status_code == 400 and resp.json()["field"] == "reason"
    assert Need.objects.get(pk=c.need_b.pk).state == NeedState.RECEIVED
    resp = api(c.staff, "post", f"{N}/{c.need_b.pk}/decline", {"reason": "属政府统筹事项，已转县发改局。"})
    assert resp.status_code == 200 and resp.json()["state"] == "declined"
    assert api(c.secretary_a, "post", f"{N}/{c.need_b.pk}/accept", {}).status_code == 404


def test_service_areas_through_the_api(api, ledger):
    c = ledger
    resp = api(c.secretary_a, "post", "/api/v1/service-areas", {"org_id": c.branch_a.pk, "name": "东城网格",
                                                                "grid_manager": "王建华"})
    assert resp.status_code == 201 and resp.json()["name"] == "东城网格"
    resp = api(c.secretary_a, "post", "/api/v1/service-areas", {"org_id": c.branch_a.pk, "name": "东城网格"})
    assert resp.status_code == 400 and resp.json()["field"] == "name"
    assert api(c.secretary_b, "post", "/api/v1/service-areas",
               {"org_id": c.branch_a.pk, "name": "北郊网格"}).status_code == 404
    assert ServiceArea.objects.count() == 2
    body = api(c.secretary_b, "get", "/api/v1/service-areas").json()
    assert body == {"count": 0, "items": []}
    body = api(c.staff, "get", f"/api/v1/service-areas?org_id={c.branch_a.pk}&archived=false").json()
    assert sorted(a["name"] for a in body["items"]) == sorted(["东城网格", "城关网格"])
