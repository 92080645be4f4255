"""The JSON API of standard sets: reading per persona, writes through the services, Chinese errors, decimals as
strings, applicability for an organization, constant query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.core.models import ApiToken, AuditEvent
from dangjian.standards import services
from dangjian.standards.models import Item, SetStatus, StandardSet

BASE = "/api/v1"


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"}

    def get(self, path, **params):
        return self.client.get(BASE + path, params, headers=self.headers)

    def send(self, method, path, body=None):
        return getattr(self.client, method)(BASE + path, data=json.dumps(body or {}),
                                            content_type="application/json", headers=self.headers)


@pytest.fixture
def api(client, company):
    return lambda persona: Api(client, getattr(company, persona))


def test_list_and_detail(api, company, published, small_set):
    staff = api("staff")
    resp = staff.get("/standards")
    assert resp.status_code == 200
    data = resp.json()
    assert data["count"] == 2
    assert {(s["name"], s["status"], s["item_count"]) for s in data["items"]} == {
        ("2026年度党组织量化考评标准", "published", 52), ("2026年度测试标准", "draft", 3)}
    assert staff.get("/standards", status="draft").json()["count"] == 1
    detail = staff.get(f"/standards/{published.pk}").json()
    assert detail["can_manage"] and not detail["editable"] and detail["status_label"] == "已发布"
    assert [c["name"] for c in detail["categories"]] == ["组织建设", "组织生活", "党员教育管理", "作用发挥", "基础工作"]
    item = next(i for c in detail["categories"] for i in c["items"] if i["code"] == "ZY-02")
    assert item["max_points"] == "4.0" and item["weights"] == {"business": "1.5", "management": "0.5"}
    assert item["common"] and item["applies_levels"] == ["branch"] and item["methods"] == ["report", "self", "onsite"]
    veto = next(i for c in detail["categories"] for i in c["items"] if i["code"] == "ZY-11")
    assert veto["is_veto"] and veto["applies_types"] == ["production"] and not veto["common"]
    assert {(r["level"], r["type"]): r["total"] for r in detail["summary"]} == {
        ("committee", None): "100.0", ("general", None): "100.0", ("branch", "production"): "100.0",
        ("branch", "management"): "100.0", ("branch", "business"): "100.0"}


def test_secretary_reads_but_cannot_write_and_outsider_sees_nothing(api, company, small_set):
    sec = api("secretary_a")
    assert sec.get(f"/standards/{small_set.pk}").json()["can_manage"] is False
    assert sec.send("patch", f"/standards/{small_set.pk}", {"name": "x"}).status_code == 404
    assert sec.send("post", f"/standards/{small_set.pk}/publish").status_code == 404
    out = api("outsider")
    assert out.get("/standards").json() == {"count": 0, "items": []}
    assert out.get(f"/standards/{small_set.pk}").status_code == 404


def test_create_add_items_publish_and_copy(api, company):
    staff = api("staff")
    resp = staff.send("post", "/standards", {"owner_id": company.committee.pk, "year": 2026, "name": "接口标准"})
    assert resp.status_code == 201
    sid = resp.json()["id"]
    cat = staff.send("post", f"/standards/{sid}/categories", {"code": "ZY", "name": "作用发挥"}).json()
    resp = staff.send("post", f"/standards/{sid}/items", {
        "category_id": cat["id"], "code": "ZY-11", "text": "安全生产", "max_points": "8", "rule": "事故一票否决",
        "methods": ["report", "onsite"], "applies_levels": ["branch"], "applies_types": ["production"],
        "is_veto": True})
    assert resp.status_code == 201, resp.content
    item = resp.json()
    assert item["max_points"] == "8.0" and item["applies_types"] == ["production"]
    resp = staff.send("patch", f"/standards/{sid}/items/{item['id']}", {"max_points": 6.5, "weights": {}})
    assert resp.status_code == 200 and resp.json()["max_points"] == "6.5"
    assert staff.send("post", f"/standards/{sid}/publish").json()["status"] == "published"
    resp = staff.send("patch", f"/standards/{sid}/items/{item['id']}", {"text": "改"})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "已发布的标准不能直接修改，请复制为新版本。", "field": None}
    resp = staff.send("post", f"/standards/{sid}/copy", {"year": 2027})
    assert resp.status_code == 201
    copy = resp.json()
    assert (copy["version"], copy["year"], copy["status"], copy["based_on_id"]) == (1, 2027, "draft", sid)
    assert copy["categories"][0]["items"][0]["code"] == "ZY-11"
    assert AuditEvent.objects.filter(action="standard.copied").exists()


def test_errors_name_the_field(api, company, small_set):
    staff = api("staff")
    zz = small_set.categories.get(code="ZZ")
    body = {"category_id": zz.pk, "code": "ZZ-01", "text": "x", "max_points": "1", "rule": "r", "methods": ["self"]}
    resp = staff.send("post", f"/standards/{small_set.pk}/items", body)
    assert resp.status_code == 400 and resp.json()["field"] == "code" and "已被使用" in resp.json()["detail"]
    resp = staff.send("post", f"/standards/{small_set.pk}/items", body | {"code": "ZZ-09", "category_id": 999999})
    assert resp.json()["field"] == "category_id"
    resp = staff.send("post", f"/standards/{small_set.pk}/items", body | {"code": "ZZ-09", "applies_types": ["x"]})
    assert resp.json()["field"] == "applies_types"
    resp = staff.send("post", f"/standards/{small_set.pk}/items", body | {"code": "ZZ-09", "max_points": "1.25"})
    assert resp.status_code == 422  # the schema refuses two decimals before the service sees it
    resp = staff.send("post", "/standards", {"owner_id": company.general.pk, "year": 2026, "name": "x"})
    assert resp.status_code == 400 and resp.json()["field"] == "owner_id"


def test_delete_item_and_category(api, company, small_set):
    staff = api("staff")
    item = small_set.items.get(code="ZY-01")
    assert staff.send("delete", f"/standards/{small_set.pk}/items/{item.pk}").status_code == 204
    zy = small_set.categories.get(code="ZY")
    assert staff.send("delete", f"/standards/{small_set.pk}/categories/{zy.pk}").status_code == 204
    zz = small_set.categories.get(code="ZZ")
    resp = staff.send("delete", f"/standards/{small_set.pk}/categories/{zz.pk}")
    assert resp.status_code == 400 and "下还有考评细则" in resp.json()["detail"]
    other = services.create_set(company.staff, owner=company.committee, year=2026, name="另一版")
    other_item = Item.objects.filter(standard_set=small_set).first()
    assert staff.send("delete", f"/standards/{other.pk}/items/{other_item.pk}").status_code == 404


def test_applicable_for_an_organization(api, company, published):
    sec = api("secretary_a")
    resp = sec.get(f"/standards/{published.pk}/applicable", org_id=company.branch_a.pk)
    assert resp.status_code == 200
    data = resp.json()
    assert (data["count"], data["total"], data["veto"], data["type"]) == (31, "100.0", 3, "production")
    assert sec.get(f"/standards/{published.pk}/applicable", org_id=company.branch_b.pk).status_code == 404
    staff = api("staff")
    data = staff.get(f"/standards/{published.pk}/applicable", org_id=company.branch_c.pk).json()
    zy02 = next(i for i in data["items"] if i["code"] == "ZY-02")
    assert (zy02["points"], zy02["max_points"], data["total"]) == ("2.0", "4.0", "100.0")


def test_applicable_refuses_an_organization_outside_the_owner(api, company):
    from dangjian.orgs.models import Level
    from tests.factories import make_org

    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    county_set = services.load_default_set(company.staff, county, 2026)
    resp = api("staff").get(f"/standards/{county_set.pk}/applicable", org_id=company.branch_a.pk)
    assert resp.status_code == 400 and resp.json()["field"] == "org_id"


def test_publish_archives_the_previous_version(api, company, published):
    staff = api("staff")
    new = staff.send("post", f"/standards/{published.pk}/copy").json()
    assert new["version"] == 2
    staff.send("post", f"/standards/{new['id']}/publish")
    assert StandardSet.objects.get(pk=published.pk).status == SetStatus.ARCHIVED


def test_detail_queries_do_not_grow_with_items(api, company, small_set):
    staff = api("staff")
    staff.get("/standards")
    zz = small_set.categories.get(code="ZZ")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(f"/standards/{small_set.pk}").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(30):
        services.add_item(company.staff, small_set, category=zz, code=f"T-{i}", text="x", max_points=1, rule="r",
                          methods=["report"])
    assert count() == small
