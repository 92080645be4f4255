"""Members' 身份证号 and 手机号 (QUALITY.md S6): sealed in the database, unique through the blind index with the same
Chinese messages as before, masked in lists and exports, and written in full only for a user the 安全管理员 has
explicitly granted the export permission — audited with the number of rows."""

import io
import json

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.core import crypto
from dangjian.core.access import can
from dangjian.core.models import AuditEvent
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.orgs.models import Member, Role
from dangjian.orgs.services import personal_exporters
from tests.factories import PASSWORD, make_member, make_user, valid_id
from tests.orgs.test_import import MEMBER_HEADER, assert_rejected, member_row, upload, xlsx

DUPLICATE = "该身份证号已登记，请勿重复添加；如需调入，请使用“转接”。"


def raw_members():
    with connection.cursor() as cur:
        cur.execute("SELECT id, id_number, phone, id_number_index FROM orgs_member ORDER BY id")
        return cur.fetchall()


def exported(resp):
    """{name: (ID number, phone)} from a member-roll workbook."""
    assert resp.status_code == 200, resp.content[:300]
    ws = load_workbook(io.BytesIO(resp.content), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    i, p = head.index("身份证号"), head.index("手机号")
    return {r[0]: (r[i], r[p] or "") for r in rows[1:]}


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def security_officer(company):
    return make_user("security_officer", Role.SECURITY, company.committee)


def grant(client, officer, account):
    client.force_login(officer)
    resp = client.post(reverse("security_personal_grant"), {"username": account.username})
    assert resp.status_code == 302
    return resp


# ---- at rest --------------------------------------------------------------------------------------------


def test_ids_and_phones_are_sealed_in_the_database(company):
    twin = make_member(company.branch_a, "同号", phone=company.member_a.phone)
    rows = raw_members()
    everyone = list(Member.objects.all())
    clear = {m.id_number for m in everyone} | {m.phone for m in everyone}
    for _pk, idn, phone, index in rows:
        assert crypto.is_sealed(idn) and crypto.is_sealed(phone)
        assert not any(value in idn or value in phone or value in index for value in clear)
    stored = {pk: (idn, phone, index) for pk, idn, phone, index in rows}
    # Equal phone numbers do not give equal ciphertexts.
    assert stored[twin.pk][1] != stored[company.member_a.pk][1]
    assert stored[company.member_a.pk][2] == Member.id_index(company.member_a.id_number)
    # Instances and values() read the clear values.
    assert Member.objects.get(pk=twin.pk).phone == company.member_a.phone
    assert dict(Member.objects.values_list("pk", "id_number"))[company.member_b.pk] == company.member_b.id_number


def test_a_member_is_found_by_id_number_whatever_its_case(company):
    idn = company.member_a.id_number
    assert list(Member.objects.by_id_number(f" {idn.lower()} ")) == [company.member_a]
    assert not Member.objects.by_id_number(idn[:-1] + ("0" if idn[-1] != "0" else "1")).exists()


# ---- uniqueness with the same Chinese messages ----------------------------------------------------------


def _form_data(company, m, **over):
    data = {"org": company.branch_a.pk, "name": "重号", "gender": m.gender, "birth_date": m.birth_date.isoformat(),
            "id_number": m.id_number, "phone": "13912345678", "joined_on": "2010-07-01",
            "confirmed_on": "2011-07-01", "status": "full", "post": "", "title": ""}
    data.update(over)
    return data


def test_the_form_refuses_a_registered_id_number(company, login):
    client = login(company.staff)
    before = raw_members()
    resp = client.post(reverse("orgs:member_create"), _form_data(company, company.member_b))
    assert resp.status_code == 200 and DUPLICATE in resp.content.decode()
    resp = client.post(reverse("orgs:member_create"),
                       _form_data(company, company.member_b, id_number=company.member_b.id_number.lower()))
    assert DUPLICATE in resp.content.decode()
    m = company.member_a
    resp = client.post(reverse("orgs:member_edit", args=[m.pk]), _form_data(
        company, m, name=m.name, id_number=company.member_b.id_number,
        birth_date=company.member_b.birth_date.isoformat(), gender=company.member_b.gender))
    assert "该身份证号已登记在另一名党员名下。" in resp.content.decode()
    assert raw_members() == before


def test_the_database_refuses_a_second_member_with_the_same_id_number(company):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_member(company.branch_b, "重号", id_number=company.member_a.id_number,
                    birth_date=company.member_a.birth_date)


def test_the_import_refuses_registered_and_repeated_id_numbers(company, login):
    client = login(company.staff)
    before = raw_members()
    rows = [member_row(1), member_row(2, birth=company.member_b.birth_date, id=company.member_b.id_number),
            member_row(1)]
    assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, rows)), f"第3行：{DUPLICATE}",
                    "第4行：身份证号与第2行重复。")
    assert raw_members() == before


def test_imported_members_are_sealed(company, login):
    client = login(company.staff)
    resp = upload(client, "members", xlsx(MEMBER_HEADER, [member_row(7, phone="13700000007")]))
    assert resp.status_code == 200
    new = Member.objects.get(name="李四")
    assert new.phone == "13700000007" and Member.objects.by_id_number(new.id_number).get() == new
    (row,) = [r for r in raw_members() if r[0] == new.pk]
    assert crypto.is_sealed(row[1]) and crypto.is_sealed(row[2]) and "13700000007" not in row[2]


# ---- lists and exports ------------------------------------------------------------------------------------


def test_the_member_list_masks_and_shows_no_ciphertext(company, login):
    html = login(company.staff).get(reverse("orgs:member_list")).content.decode()
    m = company.member_a
    assert mask_phone(m.phone) in html and m.phone not in html and m.id_number not in html
    assert crypto.current_prefix() not in html
    assert "pii=1" not in html  # no full export offered without the explicit permission


@pytest.mark.parametrize("persona", ["admin", "staff"])
def test_roles_alone_export_masked_numbers(company, login, persona):
    resp = login(getattr(company, persona)).get(reverse("orgs:member_list") + "?format=xlsx&pii=1")
    rows = exported(resp)
    m = company.member_a
    assert rows[m.name] == (mask_id_number(m.id_number), mask_phone(m.phone))
    assert not can(getattr(company, persona), "member.export_personal")
    assert events("member.personal_exported") == []


def test_the_security_officer_grants_and_revokes_the_export_permission(company, client, security_officer):
    client.force_login(security_officer)
    page = client.get(reverse("security_home"))
    assert "还没有账号被授予该权限" in page.content.decode()
    grant(client, security_officer, company.staff)
    assert list(personal_exporters()) == [company.staff]
    assert [e.data["after"] for e in events("security.personal_export_granted")] == [{"account": "staff"}]
    assert "staff" in client.get(reverse("security_home")).content.decode()
    # Granting twice, to oneself, or to nobody changes nothing.
    for username in ("staff", "security_officer", "", "nobody"):
        client.post(reverse("security_personal_grant"), {"username": username})
    assert list(personal_exporters()) == [company.staff]
    assert len(events("security.personal_export_granted")) == 1
    assert client.post(reverse("security_personal_revoke", args=[company.staff.pk])).status_code == 302
    assert not personal_exporters().exists()
    assert len(events("security.personal_export_revoked")) == 1


def test_other_duties_cannot_grant_it(company, client):
    for user in (company.admin, company.staff, make_user("auditor", Role.AUDITOR, company.committee)):
        client.force_login(user)
        assert client.post(reverse("security_personal_grant"), {"username": "staff"}).status_code == 404
    assert not personal_exporters().exists()


def test_with_the_permission_the_export_is_full_and_audited(company, client, security_officer):
    grant(client, security_officer, company.staff)
    client.force_login(company.staff)
    assert "pii=1" in client.get(reverse("orgs:member_list")).content.decode()
    rows = exported(client.get(reverse("orgs:member_list") + "?format=xlsx&pii=1"))
    m = company.member_a
    assert rows[m.name] == (m.id_number, m.phone)
    (event,) = events("member.personal_exported")
    assert event.user == company.staff and event.data["rows"] == Member.objects.filter(active=True).count()
    assert event.org_path == company.committee.path
    # The ordinary export stays masked and writes no such event.
    rows = exported(client.get(reverse("orgs:member_list") + "?format=xlsx"))
    assert rows[m.name] == (mask_id_number(m.id_number), mask_phone(m.phone))
    assert len(events("member.personal_exported")) == 1


def test_the_permission_covers_only_the_members_the_user_sees(company, client, security_officer):
    grant(client, security_officer, company.secretary_a)
    client.force_login(company.secretary_a)
    rows = exported(client.get(reverse("orgs:member_list") + "?format=xlsx&pii=1"))
    assert set(rows) == {company.member_a.name, company.secretary_member_a.name}
    assert rows[company.member_a.name][0] == company.member_a.id_number
    (event,) = events("member.personal_exported")
    assert event.data["rows"] == 2 and event.org_path == company.branch_a.path


def test_a_revoked_or_inactive_account_exports_masked(company, client, security_officer):
    grant(client, security_officer, company.staff)
    client.post(reverse("security_personal_revoke", args=[company.staff.pk]))
    client.force_login(company.staff)
    rows = exported(client.get(reverse("orgs:member_list") + "?format=xlsx&pii=1"))
    assert rows[company.member_a.name][0] == mask_id_number(company.member_a.id_number)
    assert events("member.personal_exported") == []


# ---- the API ----------------------------------------------------------------------------------------------


def _token(client, user):
    resp = client.post("/api/v1/auth/token", json.dumps({"username": user.username, "password": PASSWORD}),
                       content_type="application/json")
    assert resp.status_code == 200, resp.content
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def test_the_api_list_is_masked_unless_the_permission_is_granted(company, client, security_officer):
    m = company.member_a
    headers = _token(client, company.staff)
    for params in ({}, {"personal": "true"}):
        items = {i["name"]: i for i in client.get("/api/v1/members", params, headers=headers).json()["items"]}
        assert (items[m.name]["id_number"], items[m.name]["phone"]) == (mask_id_number(m.id_number),
                                                                        mask_phone(m.phone))
    assert events("member.personal_exported") == []
    grant(client, security_officer, company.staff)
    body = client.get("/api/v1/members", {"personal": "true", "limit": 3}, headers=headers).json()
    assert len(body["items"]) == 3
    for item in body["items"]:
        member = Member.objects.get(pk=item["id"])
        assert (item["id_number"], item["phone"]) == (member.id_number, member.phone)
    (event,) = events("member.personal_exported")
    assert event.data["rows"] == 3 and event.user == company.staff
    # Without personal=true the list stays masked even for a holder of the permission.
    items = client.get("/api/v1/members", headers=headers).json()["items"]
    assert all("*" in i["id_number"] for i in items)
    assert len(events("member.personal_exported")) == 1


# ---- the audit log itself holds no full numbers ---------------------------------------------------------------


def test_member_changes_are_audited_with_masked_numbers(company, login):
    client = login(company.staff)
    m = company.member_a
    resp = client.post(reverse("orgs:member_edit", args=[m.pk]), _form_data(
        company, m, name=m.name, id_number=m.id_number, phone="13611112222", gender=m.gender))
    assert resp.status_code == 302
    event = AuditEvent.objects.filter(action="member.updated").latest("id")
    assert event.data["before"]["phone"] == mask_phone(m.phone)
    assert event.data["after"]["phone"] == mask_phone("13611112222")
    idn = valid_id(m.birth_date, 321)
    resp = client.post(reverse("orgs:member_create"), _form_data(company, m, name="新人", id_number=idn))
    assert resp.status_code == 302
    created = AuditEvent.objects.filter(action="member.created").latest("id")
    assert created.data["after"]["id_number"] == mask_id_number(idn)
    assert created.data["after"]["phone"] == mask_phone("13912345678")
