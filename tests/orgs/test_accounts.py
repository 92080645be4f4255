from django.urls import reverse

from dangjian.core.models import ApiToken, AuditEvent
from dangjian.orgs.models import Member, RoleGrant


def test_admin_opens_an_account_for_a_member(client, company):
    client.force_login(company.admin)
    m = company.member_b
    resp = client.post(reverse("orgs:account_create") + f"?member={m.pk}",
                       {"username": "wangfang", "full_name": "王芳", "password": "Wangfang#2026x"})
    assert resp.status_code == 302
    m.refresh_from_db()
    assert m.user.username == "wangfang"
    assert RoleGrant.objects.filter(user=m.user, role="member", org=company.branch_b).exists()
    assert AuditEvent.objects.filter(action="account.created").exists()


def test_a_weak_initial_password_is_refused_in_chinese(client, company):
    client.force_login(company.admin)
    resp = client.post(reverse("orgs:account_create"), {"username": "weak1", "full_name": "弱", "password": "abcdefghijkl"})
    assert resp.status_code == 200
    assert "至少三类" in resp.content.decode()
    assert not Member.objects.filter(user__username="weak1").exists()


def test_disabling_an_account_blocks_login_and_voids_tokens(client, company, password):
    ApiToken.issue(company.member_user_a)
    client.force_login(company.admin)
    client.post(reverse("orgs:account_status", args=[company.member_user_a.pk]), {"active": "0"})
    company.member_user_a.refresh_from_db()
    assert not company.member_user_a.is_active
    assert not ApiToken.objects.filter(user=company.member_user_a).exists()
    client.logout()
    resp = client.post(reverse("login"), {"username": "member_a", "password": password})
    assert resp.status_code == 200 and "用户名或密码错误" in resp.content.decode()


def test_admin_cannot_disable_themself(client, company):
    client.force_login(company.admin)
    client.post(reverse("orgs:account_status", args=[company.admin.pk]), {"active": "0"})
    company.admin.refresh_from_db()
    assert company.admin.is_active


def test_admin_resets_a_password_under_the_rules(client, company):
    client.force_login(company.admin)
    url = reverse("orgs:account_password", args=[company.member_user_a.pk])
    resp = client.post(url, {"password": "short", "password2": "short"})
    assert "至少" in resp.content.decode()
    resp = client.post(url, {"password": "Newpass#2026abc", "password2": "Newpass#2026abc"})
    assert resp.status_code == 302
    company.member_user_a.refresh_from_db()
    assert company.member_user_a.check_password("Newpass#2026abc")
    assert AuditEvent.objects.filter(action="account.password_reset").count() == 1
