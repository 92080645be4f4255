"""The JSON API of member standard sets: reading per persona, writes through the services with Chinese errors,
decimals as strings, constant query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.core.models import ApiToken, AuditEvent
from dangjian.standards import member_services as svc
from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus

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


@pytest.fixture
def published(company):
    return svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def draft(company):
    ms = svc.create_member_set(company.staff, owner=company.committee, year=2027, name="2027年度测试标准")
    svc.add_member_item(company.staff, ms, code="B-1", part="base", dimension="politics", text="组织生活",
                        points="10", per_miss="2", source="meeting_absent")
    return ms


def test_list_filters_and_detail(api, company, published, draft):
    staff = api("staff")
    data = staff.get("/member-standards").json()
    assert data["count"] == 2
    assert {(s["name"], s["status"], s["item_count"]) for s in data["items"]} == {
        ("2026年度党员量化评价标准", "published", 42), ("2027年度测试标准", "draft", 1)}
    assert staff.get("/member-standards", status="draft").json()["count"] == 1
    assert staff.get("/member-standards", year=2026).json()["count"] == 1
    assert staff.get("/member-standards", q="测试").json()["count"] == 1
    assert staff.get("/member-standards", owner=company.branch_a.pk).json()["count"] == 0
    assert staff.get("/member-standards", limit=1, offset=1).json()["count"] == 2
    detail = staff.get(f"/member-standards/{published.pk}").json()
    assert detail["can_manage"] and not detail["editable"] and detail["status_label"] == "已发布"
    assert (detail["bonus_cap"], detail["deduction_cap"], detail["floor"], detail["pass_mark"]) == (
        "20.0", "40.0", "0.0", "60.0")
    assert detail["dimension_caps"]["dedication"] == "10.0" and detail["veto_effect"] == "month"
    assert (detail["weight_self"], detail["weight_branch"], detail["public_ranking"]) == ("0.0", "100.0", False)
    assert len(detail["items"]) == 42 and detail["max_total"] == "100.0"
    item = next(i for i in detail["items"] if i["code"] == "JL-04")
    assert item == {**item, "part": "bonus", "dimension": "dedication", "points": "0.5", "per_miss": None,
                    "month_cap": "3.0", "year_cap": "15.0", "source": "service_hours", "evidence_required": False}
    veto = next(i for i in detail["items"] if i["code"] == "FJ-01")
    assert veto["points"] == "0.0" and veto["source"] == ""
    assert {t["part"]: (t["count"], t["points"], t["month_max"]) for t in detail["totals"]} == {
        "base": (10, "80.0", "80.0"), "bonus": (15, "42.5", "20.0"), "deduction": (12, "56.0", "40.0"),
        "veto": (5, "0.0", None)}


def test_every_role_reads_the_committees_sets_and_the_outsider_none(api, company, published):
    for persona in ("admin", "assessor", "secretary_a", "secretary_b", "member_user_a"):
        who = api(persona)
        assert who.get("/member-standards").json()["count"] == 1, persona
        detail = who.get(f"/member-standards/{published.pk}").json()
        assert detail["can_manage"] == (persona == "admin"), persona
    out = api("outsider")
    assert out.get("/member-standards").json() == {"count": 0, "items": []}
    assert out.get(f"/member-standards/{published.pk}").status_code == 404
    assert api("staff").get("/member-standards/999999").status_code == 404


def test_only_the_committees_staff_write(api, company, draft):
    item = draft.items.get()
    for persona in ("secretary_a", "assessor", "member_user_a", "outsider"):
        who = api(persona)
        assert who.send("patch", f"/member-standards/{draft.pk}", {"bonus_cap": "5"}).status_code == 404
        assert who.send("post", f"/member-standards/{draft.pk}/publish").status_code == 404
        assert who.send("post", f"/member-standards/{draft.pk}/items", {
            "code": "X", "part": "bonus", "dimension": "central", "text": "x", "points": "1"}).status_code == 404
        assert who.send("delete", f"/member-standards/{draft.pk}/items/{item.pk}").status_code == 404
        assert who.send("post", "/member-standards", {"owner_id": company.committee.pk, "year": 2026,
                                                      "name": "甲"}).status_code == 404
    assert MemberStandardSet.objects.count() == 1 and draft.items.count() == 1


def test_create_set_settings_items_publish_and_copy(api, company):
    staff = api("staff")
    resp = staff.send("post", "/member-standards", {"owner_id": company.committee.pk, "year": 2026,
                                                    "name": "接口标准", "bonus_cap": "20", "pass_mark": 6})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    sid = body["id"]
    assert (body["version"], body["status"], body["bonus_cap"], body["pass_mark"]) == (1, "draft", "20.0", "6.0")
    resp = staff.send("patch", f"/member-standards/{sid}", {
        "weight_self": 40, "weight_branch": "60", "dimension_caps": {"central": "8"}, "public_ranking": True,
        "bonus_cap": None, "veto_effect": "year_zero"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["weight_self"], body["weight_branch"], body["bonus_cap"], body["veto_effect"]) == (
        "40.0", "60.0", None, "year_zero")
    assert body["dimension_caps"] == {"central": "8.0"} and body["public_ranking"] is True
    resp = staff.send("post", f"/member-standards/{sid}/items", {
        "code": "JC-01", "part": "base", "dimension": "rules", "text": "按月交纳党费", "points": "8",
        "source": "dues_missing"})
    assert resp.status_code == 201, resp.content
    item = resp.json()
    assert (item["points"], item["source"], item["order"], item["per_miss"]) == ("8.0", "dues_missing", 1, None)
    resp = staff.send("patch", f"/member-standards/{sid}/items/{item['id']}", {"per_miss": 4, "rule": None})
    assert resp.status_code == 200 and resp.json()["per_miss"] == "4.0"
    resp = staff.send("post", f"/member-standards/{sid}/items", {
        "code": "FJ-01", "part": "veto", "dimension": "rules", "text": "受到党纪处分"})
    assert resp.status_code == 201 and resp.json()["points"] == "0.0"
    resp = staff.send("post", f"/member-standards/{sid}/publish")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    resp = staff.send("post", f"/member-standards/{sid}/copy", {"year": 2027})
    assert resp.status_code == 201
    copy = resp.json()
    assert (copy["year"], copy["version"], copy["name"], copy["based_on_id"]) == (2027, 1, "接口标准", sid)
    assert copy["weight_self"] == "40.0" and len(copy["items"]) == 2 and copy["editable"]
    resp = staff.send("post", f"/member-standards/{copy['id']}/archive")
    assert resp.status_code == 200 and resp.json()["status"] == "archived"
    assert resp.json()["editable"] is False
    delete = staff.send("delete", f"/member-standards/{sid}/items/{item['id']}")
    assert delete.status_code == 400 and "已发布的党员评价标准不能直接修改" in delete.json()["detail"]
    actions = set(AuditEvent.objects.filter(action__startswith="member_standard.").values_list("action", flat=True))
    assert actions == {"member_standard.created", "member_standard.updated", "member_standard.item_added",
                       "member_standard.item_updated", "member_standard.published", "member_standard.copied",
                       "member_standard.archived"}


@pytest.mark.parametrize(("method", "path", "body", "field", "message"), [
    ("patch", "", {"weight_self": "30"}, "weight_self", "自评权重与支部评定权重之和应为100"),
    ("patch", "", {"weight_self": None}, "weight_self", "该字段不能为空"),
    ("patch", "", {"dimension_caps": {"sports": 3}}, "dimension_caps", "未知的维度"),
    ("patch", "", {"bonus_cap": "0.05"}, "bonus_cap", "奖励分上限应为大于0"),
    ("post", "/items", {"code": "B-1", "part": "bonus", "dimension": "central", "text": "x", "points": 1}, "code",
     "编码“B-1”在本标准中已被使用"),
    ("post", "/items", {"code": "J-1", "part": "bonus", "dimension": "central", "text": "x", "points": 0}, "points",
     "分值应为大于0"),
    ("post", "/items", {"code": "J-1", "part": "bonus", "dimension": "central", "text": "x", "points": 2,
                        "month_cap": 6, "year_cap": 4}, "year_cap", "全年上限（4.0）不能小于每月上限（6.0）"),
    ("post", "/items", {"code": "F-1", "part": "veto", "dimension": "rules", "text": "x", "points": 3}, "points",
     "一票否决项不计分"),
    ("patch", "/items/{item}", {"per_miss": 20}, "per_miss", "每缺一次扣分（20.0）不能大于本项分值（10.0）"),
    ("patch", "/items/{item}", {"code": None}, "code", "该字段不能为空"),
])
def test_bad_input_gives_a_chinese_400_and_changes_nothing(api, company, draft, method, path, body, field,
                                                           message):
    item = draft.items.get()
    before_set = MemberStandardSet.objects.filter(pk=draft.pk).values().get()
    before_items = list(MemberItem.objects.values())
    resp = api("staff").send(method, f"/member-standards/{draft.pk}" + path.format(item=item.pk), body)
    assert resp.status_code == 400, resp.content
    assert message in resp.json()["detail"] and resp.json()["field"] == field
    assert MemberStandardSet.objects.filter(pk=draft.pk).values().get() == before_set
    assert list(MemberItem.objects.values()) == before_items


def test_an_item_of_another_set_is_404(api, company, draft, published):
    other = published.items.first()
    resp = api("staff").send("patch", f"/member-standards/{draft.pk}/items/{other.pk}", {"text": "x"})
    assert resp.status_code == 404
    assert MemberItem.objects.get(pk=other.pk).text != "x"


def test_list_and_detail_use_a_constant_number_of_queries(api, company, draft):
    staff = api("staff")

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(path).status_code == 200
        return len(ctx.captured_queries)

    few_list, small_detail = count("/member-standards"), count(f"/member-standards/{draft.pk}")
    big = svc.load_default_member_set(company.staff, company.committee, 2026)
    for year in range(2011, 2016):
        svc.load_default_member_set(company.staff, company.committee, year)
    assert count("/member-standards") == few_list
    assert count(f"/member-standards/{big.pk}") == small_detail
    assert MemberStandardSet.objects.filter(status=SetStatus.DRAFT).count() == 7
