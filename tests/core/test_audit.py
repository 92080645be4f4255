from django.urls import reverse

from dangjian.core.models import AuditEvent
from tests.factories import PASSWORD


def test_login_and_failed_login_are_audited_with_ip(client, company):
    client.post(reverse("login"), {"username": "staff", "password": "wrong"}, REMOTE_ADDR="10.1.2.3")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.username == "staff" and failed.ip == "10.1.2.3" and failed.user_id is None
    resp = client.post(reverse("login"), {"username": "staff", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert resp.status_code == 302
    ok = AuditEvent.objects.get(action="auth.login")
    assert ok.user_id == company.staff.pk and ok.ip == "10.1.2.3"


def test_a_failed_login_shows_a_chinese_error(client, company):
    resp = client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    assert "用户名或密码错误" in resp.content.decode()


def test_an_export_is_audited(client, company):
    client.force_login(company.staff)
    resp = client.get(reverse("orgs:member_list") + "?format=xlsx&q=zs")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    event = AuditEvent.objects.get(action="export")
    assert event.user_id == company.staff.pk and event.data["what"] == "党员名册" and "q=zs" in event.data["query"]


def test_a_change_records_who_before_and_after(client, company):
    client.force_login(company.staff)
    resp = client.post(reverse("orgs:org_edit", args=[company.branch_a.pk]), {
        "name": "变电运维一班党支部", "code": "B001", "level": "branch", "type": company.branch_a.type_id,
        "order": 0})
    assert resp.status_code == 302
    event = AuditEvent.objects.get(action="org.updated")
    assert event.data == {"before": {"name": "变电运维党支部"}, "after": {"name": "变电运维一班党支部"}}
    assert event.org_path == company.branch_a.path and event.username == "staff"


def test_audit_pages_by_object_and_by_user_are_scoped(client, company):
    client.force_login(company.staff)
    client.post(reverse("orgs:org_edit", args=[company.branch_a.pk]), {
        "name": "变电运维一班党支部", "code": "B001", "level": "branch", "type": company.branch_a.type_id,
        "order": 0})
    by_object = client.get(reverse("audit_list"), {"object_type": "orgs.organization",
                                                   "object_id": company.branch_a.pk})
    assert "变电运维一班党支部" in by_object.content.decode()
    by_user = client.get(reverse("audit_list"), {"user": "staff"})
    assert "修改党组织" in by_user.content.decode()
    # A staff member of another committee sees none of it.
    from dangjian.orgs.models import Level, Role
    from tests.factories import make_org, make_user

    other = make_org("另一公司党委", level=Level.COMMITTEE, type_code=None)
    client.force_login(make_user("other_staff", Role.STAFF, other))
    assert "变电运维一班党支部" not in client.get(reverse("audit_list")).content.decode()
