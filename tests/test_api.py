"""The JSON API of organizations and members: tokens, scoping per persona, masking, writes, errors, audit,
query counts, and the OpenAPI contract (snapshot) with locally served docs.

Refresh the snapshot after an intended API change:  UPDATE_SNAPSHOTS=1 pytest tests/test_api.py -k openapi
"""

import datetime
import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.core.models import AuditEvent
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.orgs.models import Level, Member, Organization, OrgChange, Pledge, Transfer
from tests.factories import PASSWORD, make_member, make_org, valid_id

BASE = "/api/v1"
SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
NOT_FOUND = "未找到该对象，或您无权访问。"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Tokens are issued through the real endpoint; a cheap hasher keeps that quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Api:
    """A bearer-token client for /api/v1 on top of Django's test client (the full middleware stack)."""

    def __init__(self, client, token=None):
        self.client = client
        self.token = token

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, **params):
        return self.client.get(BASE + path, params, headers=self._headers())

    def _send(self, method, path, body):
        data = json.dumps(body if body is not None else {})
        return getattr(self.client, method)(BASE + path, data=data, content_type="application/json",
                                            headers=self._headers())

    def post(self, path, body=None):
        return self._send("post", path, body)

    def patch(self, path, body=None):
        return self._send("patch", path, body)

    def put(self, path, body=None):
        return self._send("put", path, body)


@pytest.fixture
def api(client, company):
    """``api("staff")`` is a client holding a token issued to that persona by POST /auth/token."""
    tokens = {}

    def _as(persona=None):
        if persona is None:
            return Api(client)
        if persona not in tokens:
            user = getattr(company, persona)
            resp = client.post(BASE + "/auth/token", {"username": user.username, "password": PASSWORD},
                               content_type="application/json")
            assert resp.status_code == 200, resp.content
            tokens[persona] = resp.json()["token"]
        return Api(client, tokens[persona])

    return _as


def names(resp):
    assert resp.status_code == 200, resp.content.decode()
    return sorted(item["name"] for item in resp.json()["items"])


def audit_actions(**filters):
    return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


def new_member_body(org, **kw):
    birth = kw.pop("birth_date", datetime.date(1990, 3, 1))
    body = {"org_id": org.pk, "name": "陈晓", "gender": "F", "birth_date": birth.isoformat(),
            "id_number": valid_id(birth), "phone": "13800138000", "joined_on": "2015-07-01",
            "confirmed_on": "2016-07-01", "status": "full", "post": "调度员"}
    body.update(kw)
    return body


# ---- tokens and authentication -------------------------------------------------------------------------


def test_token_issued_for_good_password_and_used(client, company):
    resp = client.post(BASE + "/auth/token", {"username": "staff", "password": PASSWORD},
                       content_type="application/json")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = Api(client, body["token"]).get("/me")
    assert me.status_code == 200
    assert me.json() == {"username": "staff", "full_name": "党建部", "roles": ["staff"], "member_id": None}
    assert "auth.token_issued" in audit_actions(username="staff")


def test_token_refused_for_bad_password(client, company):
    resp = client.post(BASE + "/auth/token", {"username": "staff", "password": "wrong"},
                       content_type="application/json")
    assert resp.status_code == 401
    assert resp.json()["detail"] == "用户名或密码错误。"


@pytest.mark.parametrize("path", ["/me", "/orgs", "/members", "/orgs/1", "/members/1"])
def test_no_token_is_401(api, path):
    assert api().get(path).status_code == 401


def test_bad_token_is_401(client, company):
    assert Api(client, "not-a-token").get("/orgs").status_code == 401


def test_me_for_member_and_secretary(api, company):
    assert api("member_user_a").get("/me").json() == {
        "username": "member_a", "full_name": "", "roles": ["member"], "member_id": company.member_a.pk}
    assert api("secretary_a").get("/me").json()["member_id"] == company.secretary_member_a.pk
    assert api("outsider").get("/me").json()["roles"] == []


# ---- scoping: what each persona sees -------------------------------------------------------------------

ALL_ORGS = ["国网示范市供电公司党委", "变电运维党支部", "机关第一党支部", "输电运检党支部", "运维检修党总支"]
ORGS_SEEN = {
    "admin": ALL_ORGS,
    "staff": ALL_ORGS,
    "assessor": ALL_ORGS,
    "secretary_a": ["变电运维党支部"],
    "secretary_b": ["输电运检党支部"],
    "member_user_a": ["变电运维党支部"],
    "outsider": [],
}
ALL_MEMBERS = ["张三", "李建国", "王芳", "赵敏"]
MEMBERS_SEEN = {
    "admin": ALL_MEMBERS,
    "staff": ALL_MEMBERS,
    "assessor": ALL_MEMBERS,
    "secretary_a": ["张三", "李建国"],
    "secretary_b": ["王芳"],
    "member_user_a": ["张三"],
    "outsider": [],
}


@pytest.mark.parametrize("persona", list(ORGS_SEEN))
def test_org_list_and_detail_scoped_per_persona(api, company, persona):
    client = api(persona)
    assert names(client.get("/orgs")) == sorted(ORGS_SEEN[persona])
    for org in (company.committee, company.general, company.branch_a, company.branch_b, company.branch_c):
        resp = client.get(f"/orgs/{org.pk}")
        if org.name in ORGS_SEEN[persona]:
            assert resp.status_code == 200 and resp.json()["name"] == org.name
        else:
            assert resp.status_code == 404 and resp.json()["detail"] == NOT_FOUND
            assert client.get(f"/orgs/{org.pk}/children").status_code == 404


@pytest.mark.parametrize("persona", list(MEMBERS_SEEN))
def test_member_list_and_detail_scoped_per_persona(api, company, persona):
    client = api(persona)
    assert names(client.get("/members")) == sorted(MEMBERS_SEEN[persona])
    for m in (company.member_a, company.secretary_member_a, company.member_b, company.member_c):
        resp = client.get(f"/members/{m.pk}")
        assert resp.status_code == (200 if m.name in MEMBERS_SEEN[persona] else 404), (persona, m.name)


def test_secretary_b_cannot_get_member_a(api, company):
    resp = api("secretary_b").get(f"/members/{company.member_a.pk}")
    assert resp.status_code == 404
    assert resp.json() == {"detail": NOT_FOUND}


def test_unknown_ids_are_404(api):
    staff = api("staff")
    assert staff.get("/orgs/999999").status_code == 404
    assert staff.get("/members/999999").status_code == 404


def test_org_detail_fields(api, company):
    body = api("staff").get(f"/orgs/{company.branch_a.pk}").json()
    assert body["level"] == "branch" and body["level_label"] == "党支部"
    assert body["type"] == {"code": "production", "name": "生产类（含供电所类）"}
    assert body["parent"] == {"id": company.general.pk, "name": "运维检修党总支", "code": "G001"}
    assert body["member_count"] == 2 and body["children_count"] == 0
    assert body["can_manage"] is True and body["can_manage_members"] is True
    sec = api("secretary_a").get(f"/orgs/{company.branch_a.pk}").json()
    assert sec["can_manage"] is False and sec["can_manage_members"] is True


def test_org_list_filters(api, company):
    staff = api("staff")
    assert names(staff.get("/orgs", level="branch")) == ["变电运维党支部", "机关第一党支部", "输电运检党支部"]
    assert names(staff.get("/orgs", type="management")) == ["机关第一党支部"]
    assert names(staff.get("/orgs", q="B00")) == ["变电运维党支部", "机关第一党支部", "输电运检党支部"]
    assert names(staff.get("/orgs", q="运检")) == ["输电运检党支部"]
    assert names(staff.get("/orgs", parent=company.general.pk)) == ["变电运维党支部", "输电运检党支部"]
    assert names(staff.get("/orgs", archived="true")) == []
    # A parent outside the user's scope is not found, like any other object.
    assert api("secretary_a").get("/orgs", parent=company.general.pk).status_code == 404


def test_org_list_paginates(api):
    staff = api("staff")
    first = staff.get("/orgs", limit=2).json()
    second = staff.get("/orgs", limit=2, offset=2).json()
    assert first["count"] == second["count"] == 5
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert {o["id"] for o in first["items"]}.isdisjoint({o["id"] for o in second["items"]})
    assert staff.get("/orgs", limit=0).status_code == 422
    assert staff.get("/orgs", limit=201).status_code == 422
    assert staff.get("/orgs", level="nonsense").status_code == 422


def test_children(api, company):
    staff = api("staff")
    assert names(staff.get(f"/orgs/{company.committee.pk}/children")) == ["机关第一党支部", "运维检修党总支"]
    Organization.objects.filter(pk=company.branch_b.pk).update(archived=True)
    assert names(staff.get(f"/orgs/{company.general.pk}/children")) == ["变电运维党支部"]
    assert names(staff.get(f"/orgs/{company.general.pk}/children", archived="true")) == [
        "变电运维党支部", "输电运检党支部"]


def test_member_list_filters(api, company):
    staff = api("staff")
    assert names(staff.get("/members", q="zs")) == ["张三"]
    assert names(staff.get("/members", q="zhangsan")) == ["张三"]
    assert names(staff.get("/members", q="张")) == ["张三"]
    assert names(staff.get("/members", org=company.general.pk)) == ["张三", "李建国", "王芳"]
    assert names(staff.get("/members", gender="F")) == ["王芳", "赵敏"]
    Member.objects.filter(pk=company.member_c.pk).update(active=False, status="probationary")
    assert names(staff.get("/members", active="false")) == ["赵敏"]
    assert names(staff.get("/members", active="false", status="probationary")) == ["赵敏"]
    assert "赵敏" not in names(staff.get("/members"))
    assert api("secretary_b").get("/members", org=company.branch_a.pk).status_code == 404
    assert names(api("member_user_a").get("/members", q="李")) == []


# ---- masking -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "staff", "assessor", "secretary_a", "member_user_a"])
def test_lists_always_mask(api, company, persona):
    items = api(persona).get("/members").json()["items"]
    assert items
    by_id = {m.pk: m for m in Member.objects.all()}
    for item in items:
        m = by_id[item["id"]]
        assert item["id_number"] == mask_id_number(m.id_number) != m.id_number
        assert item["phone"] == mask_phone(m.phone) != m.phone


@pytest.mark.parametrize("persona, member, full", [
    ("admin", "member_a", True),
    ("staff", "member_b", True),
    ("assessor", "member_a", False),
    ("secretary_a", "member_a", False),
    ("secretary_a", "secretary_member_a", True),   # their own record
    ("member_user_a", "member_a", True),           # their own record
    ("secretary_b", "member_b", False),
])
def test_detail_masks_unless_own_or_pii(api, company, persona, member, full):
    m = getattr(company, member)
    body = api(persona).get(f"/members/{m.pk}").json()
    assert body["pii_visible"] is full
    assert body["id_number"] == (m.id_number if full else mask_id_number(m.id_number))
    assert body["phone"] == (m.phone if full else mask_phone(m.phone))


def test_full_pii_view_by_others_is_audited(api, company):
    api("staff").get(f"/members/{company.member_a.pk}")
    assert audit_actions(action="member.pii_viewed", object_id=str(company.member_a.pk)) == ["member.pii_viewed"]
    api("member_user_a").get(f"/members/{company.member_a.pk}")  # one's own record is not a PII view
    api("assessor").get(f"/members/{company.member_a.pk}")       # masked
    assert AuditEvent.objects.filter(action="member.pii_viewed").count() == 1


def test_member_detail_has_pledges(api, company):
    year = datetime.date.today().year
    Pledge.objects.create(member=company.member_a, year=year - 1, text="去年的承诺")
    Pledge.objects.create(member=company.member_a, year=year, text="今年的承诺")
    body = api("secretary_a").get(f"/members/{company.member_a.pk}").json()
    assert body["current_pledge"]["text"] == "今年的承诺"
    assert [p["year"] for p in body["pledges"]] == [year, year - 1]
    assert body["org"] == {"id": company.branch_a.pk, "name": "变电运维党支部", "code": "B001"}
    assert body["has_account"] is True and body["can_manage"] is True and body["can_pledge"] is True
    assert body["gender_label"] == "男" and body["status_label"] == "正式党员"
    assert body["birth_date"] == "1985-06-15"


# ---- organization writes -------------------------------------------------------------------------------


def test_create_org(api, company):
    resp = api("staff").post("/orgs", {
        "parent_id": company.general.pk, "name": "继电保护党支部", "code": "B010", "level": "branch",
        "type": "production", "established_on": "2024-03-01", "address": "综合楼301"})
    assert resp.status_code == 201, resp.content.decode()
    body = resp.json()
    org = Organization.objects.get(pk=body["id"])
    assert org.path.startswith(company.general.path) and org.type.code == "production"
    assert body["established_on"] == "2024-03-01" and body["parent"]["id"] == company.general.pk
    assert audit_actions(action="org.created", object_id=str(org.pk)) == ["org.created"]


@pytest.mark.parametrize("body, field, message", [
    ({"code": "B001"}, "code", "组织编码“B001”已被使用，请换一个。"),
    ({"type": None}, "type", "党支部必须选择类型（生产类、管理类或经营类）。"),
    ({"type": "nonsense"}, "type", "组织类型编码“nonsense”不存在或已停用。"),
    ({"name": "  "}, "name", "请填写组织名称。"),
    ({"level": "committee", "parent": "branch_a"}, "parent_id", "党支部下不能设立党委。"),
])
def test_create_org_errors(api, company, body, field, message):
    parent = getattr(company, body.pop("parent", "general"))
    payload = {"parent_id": parent.pk, "name": "新支部", "code": "B099", "level": "branch", "type": "production"}
    payload.update(body)
    before = Organization.objects.count()
    resp = api("staff").post("/orgs", payload)
    assert resp.status_code == 400
    assert resp.json() == {"detail": message, "field": field}
    assert Organization.objects.count() == before


def test_create_org_outside_scope_is_404(api, company):
    before = Organization.objects.count()
    body = {"parent_id": company.branch_a.pk, "name": "新支部", "code": "B099", "level": "branch",
            "type": "production"}
    assert api("secretary_a").post("/orgs", body).status_code == 404       # can view, cannot manage
    assert api("outsider").post("/orgs", body).status_code == 404
    assert api("staff").post("/orgs", {**body, "parent_id": None, "level": "committee"}).status_code == 404
    assert Organization.objects.count() == before


def test_create_org_validation_is_422(api, company):
    assert api("staff").post("/orgs", {"name": "缺少编码"}).status_code == 422


def test_patch_org(api, company):
    resp = api("staff").patch(f"/orgs/{company.branch_c.pk}", {"name": "机关党支部", "address": "办公楼5层"})
    assert resp.status_code == 200
    assert resp.json()["name"] == "机关党支部"
    company.branch_c.refresh_from_db()
    assert (company.branch_c.name, company.branch_c.address, company.branch_c.code) == (
        "机关党支部", "办公楼5层", "B003")
    event = AuditEvent.objects.get(action="org.updated", object_id=str(company.branch_c.pk))
    assert event.data["after"] == {"name": "机关党支部", "address": "办公楼5层"}
    assert OrgChange.objects.filter(org=company.branch_c, kind="edit").exists()


def test_patch_org_errors(api, company):
    staff = api("staff")
    resp = staff.patch(f"/orgs/{company.branch_c.pk}", {"code": "B001"})
    assert resp.status_code == 400 and resp.json()["field"] == "code"
    resp = staff.patch(f"/orgs/{company.general.pk}", {"level": "branch"})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "党支部必须选择类型（生产类、管理类或经营类）。", "field": "type"}
    company.branch_c.refresh_from_db()
    assert company.branch_c.code == "B003"


def test_patch_org_outside_scope_is_404(api, company):
    for persona in ("secretary_a", "assessor", "secretary_b", "outsider"):
        assert api(persona).patch(f"/orgs/{company.branch_a.pk}", {"name": "改名"}).status_code == 404
    company.branch_a.refresh_from_db()
    assert company.branch_a.name == "变电运维党支部"
    assert not AuditEvent.objects.filter(action="org.updated").exists()


def test_move_org(api, company):
    resp = api("staff").post(f"/orgs/{company.branch_c.pk}/move", {
        "new_parent_id": company.general.pk, "effective_on": "2025-01-01", "reason": "机构调整"})
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["parent"]["id"] == company.general.pk
    company.branch_c.refresh_from_db()
    assert company.branch_c.path.startswith(company.general.path) and company.branch_c.depth == 2
    change = OrgChange.objects.get(org=company.branch_c, kind="move")
    assert change.effective_on == datetime.date(2025, 1, 1) and change.reason == "机构调整"
    assert audit_actions(action="org.moved") == ["org.moved"]


def test_move_org_under_own_child_is_400(api, company):
    path = company.general.path
    resp = api("staff").post(f"/orgs/{company.general.pk}/move", {"new_parent_id": company.branch_a.pk})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "不能把组织调整到它自己或它的下级组织之下。", "field": "new_parent_id"}
    company.general.refresh_from_db()
    assert company.general.path == path


def test_move_org_outside_scope_is_404(api, company):
    other = make_org("外单位党委", level=Level.COMMITTEE, type_code=None, code="X001")
    staff = api("staff")
    assert staff.post(f"/orgs/{company.branch_c.pk}/move", {"new_parent_id": other.pk}).status_code == 404
    assert api("secretary_a").post(f"/orgs/{company.branch_a.pk}/move",
                                   {"new_parent_id": company.committee.pk}).status_code == 404
    company.branch_c.refresh_from_db()
    assert company.branch_c.parent_id == company.committee.pk
    assert not OrgChange.objects.filter(kind="move").exists()


def test_merge_org(api, company):
    resp = api("staff").post(f"/orgs/{company.branch_b.pk}/merge", {"target_id": company.branch_a.pk,
                                                                    "reason": "合并设置"})
    assert resp.status_code == 200, resp.content.decode()
    body = resp.json()
    assert body["archived"] is True and body["merged_into_id"] == company.branch_a.pk
    company.member_b.refresh_from_db()
    assert company.member_b.org_id == company.branch_a.pk
    assert Transfer.objects.filter(member=company.member_b, to_org=company.branch_a).exists()
    assert "org.merged" in audit_actions()


def test_merge_org_errors(api, company):
    staff = api("staff")
    resp = staff.post(f"/orgs/{company.branch_c.pk}/merge", {"target_id": company.general.pk})
    assert resp.status_code == 400 and resp.json()["field"] == "target_id"
    resp = staff.post(f"/orgs/{company.branch_c.pk}/merge", {"target_id": company.branch_c.pk})
    assert resp.json() == {"detail": "不能把组织与它自己合并。", "field": None}
    assert api("secretary_b").post(f"/orgs/{company.branch_b.pk}/merge",
                                   {"target_id": company.branch_a.pk}).status_code == 404
    assert not Organization.objects.filter(archived=True).exists()


def test_archive_and_restore_org(api, company):
    staff = api("staff")
    resp = staff.post(f"/orgs/{company.branch_c.pk}/archive", {"reason": "撤销"})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "该组织还有在册党员，请先转接党员组织关系，或使用“合并”。"
    empty = make_org("临时党支部", parent=company.general, code="B050")
    resp = staff.post(f"/orgs/{empty.pk}/archive", {"effective_on": "2025-06-30", "reason": "任务结束"})
    assert resp.status_code == 200
    assert resp.json()["archived"] is True and resp.json()["archived_on"] == "2025-06-30"
    assert names(staff.get("/orgs", archived="true")) == ["临时党支部"]
    # The body is optional: a bare POST restores too.
    resp = staff.client.generic("POST", f"{BASE}/orgs/{empty.pk}/restore", b"", headers=staff._headers())
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["archived"] is False
    resp = staff.post(f"/orgs/{empty.pk}/restore", {"reason": "再次恢复"})
    assert resp.status_code == 400 and resp.json()["detail"] == "该组织未撤销。"
    assert audit_actions(object_id=str(empty.pk)) == ["org.restored", "org.archived"]


def test_archive_outside_scope_is_404(api, company):
    empty = make_org("临时党支部", parent=company.general, code="B050")
    assert api("secretary_a").post(f"/orgs/{empty.pk}/archive", {}).status_code == 404
    assert api("assessor").post(f"/orgs/{empty.pk}/archive", {}).status_code == 404
    empty.refresh_from_db()
    assert not empty.archived


# ---- member writes -------------------------------------------------------------------------------------


def test_create_member(api, company):
    body = new_member_body(company.branch_a)
    resp = api("staff").post("/members", body)
    assert resp.status_code == 201, resp.content.decode()
    data = resp.json()
    member = Member.objects.get(pk=data["id"])
    assert (member.name, member.org_id, member.id_number) == ("陈晓", company.branch_a.pk, body["id_number"])
    assert member.name_initials == "cx"
    assert data["id_number"] == body["id_number"] and data["pii_visible"] is True
    assert audit_actions(action="member.created", object_id=str(member.pk)) == ["member.created"]


def test_secretary_creates_member_and_sees_it_masked(api, company):
    idn = valid_id(datetime.date(1990, 3, 1))
    resp = api("secretary_a").post("/members", new_member_body(company.branch_a, id_number=f" {idn} "))
    assert resp.status_code == 201
    assert resp.json()["pii_visible"] is False
    assert resp.json()["id_number"] == mask_id_number(idn)
    assert Member.objects.get(pk=resp.json()["id"]).id_number == idn


BAD_CHECKSUM = object()


@pytest.mark.parametrize("change, field, message", [
    ({"id_number": BAD_CHECKSUM}, "id_number", "身份证号校验位不正确，请核对后重新输入。"),
    ({"id_number": "1101011990"}, "id_number", "身份证号应为18位，前17位为数字，最后一位为数字或X。"),
    ({"phone": "12345"}, "phone", "手机号应为以1开头的11位数字。"),
    ({"birth_date": "1990-03-02"}, "birth_date", "出生日期与身份证号中的出生日期不一致。"),
    ({"status": "full", "confirmed_on": None}, "confirmed_on", "正式党员须填写转正日期。"),
    ({"name": " "}, "name", "请填写姓名。"),
])
def test_create_member_errors(api, company, change, field, message):
    body = new_member_body(company.branch_a)
    if change.get("id_number") is BAD_CHECKSUM:
        good = body["id_number"]
        change = {"id_number": good[:17] + ("0" if good[17] != "0" else "1")}
    body.update(change)
    before = Member.objects.count()
    resp = api("staff").post("/members", body)
    assert resp.status_code == 400, resp.content.decode()
    assert resp.json() == {"detail": message, "field": field}
    assert Member.objects.count() == before


def test_create_member_duplicate_id_number(api, company):
    body = new_member_body(company.branch_a, id_number=company.member_b.id_number,
                           birth_date=company.member_b.birth_date)
    resp = api("staff").post("/members", body)
    assert resp.status_code == 400
    assert resp.json() == {"detail": "该身份证号已登记，请勿重复添加；如需调入，请使用“转接”。",
                           "field": "id_number"}


def test_create_member_only_in_branch(api, company):
    resp = api("staff").post("/members", new_member_body(company.general))
    assert resp.status_code == 400
    assert resp.json() == {"detail": "党员应登记在党支部，请选择党支部。", "field": "org_id"}


def test_create_member_outside_scope_is_404(api, company):
    before = Member.objects.count()
    for persona in ("secretary_b", "assessor", "member_user_a", "outsider"):
        assert api(persona).post("/members", new_member_body(company.branch_a)).status_code == 404
    assert Member.objects.count() == before
    assert not AuditEvent.objects.filter(action="member.created").exists()


def test_patch_member(api, company):
    resp = api("secretary_a").patch(f"/members/{company.member_a.pk}", {"post": "变电站站长", "phone": ""})
    assert resp.status_code == 200
    assert resp.json()["post"] == "变电站站长" and resp.json()["phone"] == ""
    company.member_a.refresh_from_db()
    assert company.member_a.post == "变电站站长" and company.member_a.phone == ""
    event = AuditEvent.objects.get(action="member.updated")
    assert event.data["after"] == {"post": "变电站站长", "phone": ""}


def test_patch_member_errors(api, company):
    staff = api("staff")
    resp = staff.patch(f"/members/{company.member_a.pk}", {"id_number": company.member_b.id_number})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "该身份证号已登记在另一名党员名下。", "field": "id_number"}
    resp = staff.patch(f"/members/{company.member_a.pk}", {"status": "probationary"})
    assert resp.json()["field"] == "status"
    resp = staff.patch(f"/members/{company.member_a.pk}", {"joined_on": None})
    assert resp.json() == {"detail": "入党日期不能为空。", "field": "joined_on"}
    company.member_a.refresh_from_db()
    assert company.member_a.status == "full"


def test_patch_member_outside_scope_is_404(api, company):
    for persona in ("secretary_b", "assessor", "member_user_a", "outsider"):
        resp = api(persona).patch(f"/members/{company.member_a.pk}", {"post": "改了"})
        assert resp.status_code == 404, persona
    company.member_a.refresh_from_db()
    assert company.member_a.post == "运维检修班班长"


def test_transfer_member(api, company):
    resp = api("staff").post(f"/members/{company.member_a.pk}/transfer", {
        "to_org_id": company.branch_b.pk, "effective_on": "2025-03-01", "reason": "岗位调动"})
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["org"]["id"] == company.branch_b.pk
    t = Transfer.objects.get(member=company.member_a)
    assert (t.from_org_id, t.to_org_id, t.effective_on) == (company.branch_a.pk, company.branch_b.pk,
                                                           datetime.date(2025, 3, 1))
    assert audit_actions(action="member.transferred") == ["member.transferred"] * 2
    # Now the member is in branch_b: secretary_b sees them, secretary_a no longer does.
    assert api("secretary_b").get(f"/members/{company.member_a.pk}").status_code == 200
    assert api("secretary_a").get(f"/members/{company.member_a.pk}").status_code == 404


def test_transfer_member_errors(api, company):
    staff = api("staff")
    resp = staff.post(f"/members/{company.member_a.pk}/transfer", {"to_org_id": company.branch_a.pk})
    assert resp.json() == {"detail": "目标组织与当前所在组织相同。", "field": "to_org_id"}
    resp = staff.post(f"/members/{company.member_a.pk}/transfer", {"to_org_id": company.general.pk})
    assert resp.json() == {"detail": "党员组织关系应转入党支部。", "field": "to_org_id"}


def test_transfer_member_outside_scope_is_404(api, company):
    # secretary_a manages member_a but not branch_b; secretary_b manages branch_b but cannot see member_a.
    body = {"to_org_id": company.branch_b.pk}
    assert api("secretary_a").post(f"/members/{company.member_a.pk}/transfer", body).status_code == 404
    assert api("secretary_b").post(f"/members/{company.member_a.pk}/transfer", body).status_code == 404
    company.member_a.refresh_from_db()
    assert company.member_a.org_id == company.branch_a.pk
    assert not Transfer.objects.exists()


def test_member_saves_own_pledge(api, company):
    resp = api("member_user_a").put(f"/members/{company.member_a.pk}/pledges/2026", {"text": "  带头安全生产  "})
    assert resp.status_code == 200
    assert resp.json()["year"] == 2026 and resp.json()["text"] == "带头安全生产"
    resp = api("member_user_a").put(f"/members/{company.member_a.pk}/pledges/2026", {"text": "带头节能降耗"})
    assert resp.status_code == 200
    assert Pledge.objects.get(member=company.member_a, year=2026).text == "带头节能降耗"
    assert audit_actions(action="pledge.saved") == ["pledge.saved"] * 2


def test_pledge_errors_and_scope(api, company):
    url = f"/members/{company.member_a.pk}/pledges/2026"
    resp = api("secretary_a").put(url, {"text": "   "})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "承诺内容不能为空。", "field": "text"}
    assert api("secretary_a").put(url, {"text": "好"}).status_code == 200
    assert api("assessor").put(url, {"text": "代写"}).status_code == 404          # may view, not manage
    assert api("secretary_b").put(url, {"text": "代写"}).status_code == 404
    assert api("member_user_a").put(f"/members/{company.member_b.pk}/pledges/2026",
                                    {"text": "代写"}).status_code == 404
    assert api("secretary_a").put(f"/members/{company.member_a.pk}/pledges/1999", {"text": "x"}).status_code == 422
    assert Pledge.objects.get(member=company.member_a).text == "好"
    assert not Pledge.objects.filter(member=company.member_b).exists()


# ---- query counts --------------------------------------------------------------------------------------


def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        resp = call()
    assert resp.status_code == 200
    return len(ctx.captured_queries), resp.json()["count"]


def test_member_list_queries_do_not_grow_with_rows(api, company):
    branch = make_org("大数据党支部", parent=company.committee, code="B100")
    staff = api("staff")
    staff.get("/me")  # the token is issued outside the measured calls

    def call():
        return staff.get("/members", org=branch.pk, limit=200)

    for i in range(5):
        make_member(branch, f"测试{i}")
    small, n_small = _queries(call)
    for i in range(5, 30):
        make_member(branch, f"测试{i}")
    large, n_large = _queries(call)
    assert (n_small, n_large) == (5, 30)
    assert small == large, f"5 members took {small} queries, 30 took {large}"


def test_org_list_queries_do_not_grow_with_rows(api, company):
    staff = api("staff")
    staff.get("/me")
    small, n_small = _queries(lambda: staff.get("/orgs", limit=200))
    for i in range(25):
        make_org(f"新党支部{i}", parent=company.general, code=f"N{i:03d}")
    large, n_large = _queries(lambda: staff.get("/orgs", limit=200))
    assert (n_small, n_large) == (5, 30)
    assert small == large, f"5 orgs took {small} queries, 30 took {large}"


# ---- OpenAPI contract and docs -------------------------------------------------------------------------


def _differences(old, new, where="$"):
    """Where two JSON documents differ, as readable one-line descriptions."""
    if type(old) is not type(new):
        yield f"{where}: {type(old).__name__} → {type(new).__name__}"
    elif isinstance(old, dict):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                yield f"{where}.{key}: removed"
            elif key not in old:
                yield f"{where}.{key}: added"
            else:
                yield from _differences(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _differences(a, b, f"{where}[{i}]")
    elif old != new:
        yield f"{where}: {json.dumps(old, ensure_ascii=False)[:120]} → {json.dumps(new, ensure_ascii=False)[:120]}"


def test_openapi_matches_snapshot(client, db):
    resp = client.get(BASE + "/openapi.json")
    assert resp.status_code == 200
    current = resp.json()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
        return
    assert SNAPSHOT.exists(), f"{SNAPSHOT.name} is missing; create it with UPDATE_SNAPSHOTS=1"
    saved = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if current != saved:
        pytest.fail(
            "The OpenAPI document differs from tests/openapi_snapshot.json — the API contract changed.\n"
            "Differences (snapshot → now):\n  " + "\n  ".join(list(_differences(saved, current))[:15]) + "\n"
            "If the change is intended, refresh the snapshot: "
            "UPDATE_SNAPSHOTS=1 DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/pytest tests/test_api.py -k openapi",
            pytrace=False,
        )


def test_openapi_describes_resources_in_chinese(client, db):
    doc = client.get(BASE + "/openapi.json").json()
    tags = {tag for op in doc["paths"].values() for o in op.values() for tag in o.get("tags", [])}
    assert {"组织", "党员"} <= tags
    for path in ("/api/v1/orgs", "/api/v1/orgs/{org_id}/move", "/api/v1/members",
                 "/api/v1/members/{member_id}/pledges/{year}"):
        assert path in doc["paths"]
    assert doc["components"]["schemas"]["DomainErrorOut"]["properties"]["detail"]["title"] == "错误说明"


def test_docs_served_from_local_static_files(client, db):
    resp = client.get(BASE + "/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert not re.search(r"https?://", html), "the docs page must not load anything from other hosts"
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(ref.endswith(".js") for ref in refs) and any(ref.endswith(".css") for ref in refs)
    for ref in refs:
        assert ref.startswith("/static/") and not ref.startswith("//"), ref
        assert finders.find(ref.removeprefix("/static/")), f"{ref} is not a local static file"
