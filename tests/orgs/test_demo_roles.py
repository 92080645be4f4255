"""A new user follows the README: logs in as each demo account and sees exactly what that role may."""

import pytest
from django.urls import reverse

from dangjian.orgs.models import Member, Organization

DEMO_PASSWORD = "Demo#2026dangjian"


@pytest.fixture
def demo(built_demo, db, demo_hasher):
    """The demo company, built once for this module (tests/conftest.py ``built_demo``)."""
    return built_demo


def _login(client, username):
    resp = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert resp.status_code == 302, f"{username} cannot log in with the README's password"
    return client


def _nav(client):
    return [label for label, _, _ in client.get(reverse("home")).context["nav_items"]]


@pytest.mark.parametrize(("username", "nav"), [
    ("admin", ["首页", "组织架构", "党员管理", "党员评价标准", "组织考评", "考评看板", "党员评价", "组织生活", "上墙公示", "评价手册",
               "民主评议", "服务群众", "数据导入", "审计日志", "账号与角色", "安全管理"]),
    ("dangjian", ["首页", "组织架构", "党员管理", "党员评价标准", "组织考评", "考评看板", "党员评价", "组织生活", "上墙公示",
                  "评价手册", "民主评议", "服务群众", "数据导入", "审计日志"]),
    ("kaoping", ["首页", "组织架构", "党员管理", "组织考评"]),
    ("shuji", ["首页", "组织架构", "党员管理", "组织考评", "党员评价", "我的评价", "组织生活", "上墙公示", "评价手册",
               "民主评议", "服务群众", "我的档案"]),
    ("dangyuan", ["首页", "组织架构", "组织考评", "我的评价", "我的学习", "上墙公示", "评价手册", "服务队", "我的档案"]),
])
def test_each_demo_role_sees_its_own_navigation(client, demo, username, nav):
    got = [x for x in _nav(_login(client, username)) if x != "考评标准"]
    assert got == nav


def test_demo_secretary_sees_only_their_branch(client, demo):
    _login(client, "shuji")
    branch = Organization.objects.get(name="城关供电所党支部")
    other = Organization.objects.filter(level="branch").exclude(pk=branch.pk).first()
    assert client.get(reverse("orgs:org_detail", args=[branch.pk])).status_code == 200
    assert client.get(reverse("orgs:org_detail", args=[other.pk])).status_code == 404
    page = client.get(reverse("orgs:member_list") + "?per_page=200")
    shown = {m.pk for m in page.context["page"]}
    assert shown == set(Member.objects.filter(org=branch, active=True).values_list("pk", flat=True))


def test_demo_member_sees_own_record_and_nobody_else(client, demo):
    _login(client, "dangyuan")
    me = Member.objects.get(user__username="dangyuan")
    assert client.get(reverse("orgs:member_detail", args=[me.pk])).status_code == 200
    colleague = Member.objects.filter(org=me.org).exclude(pk=me.pk).first()
    assert client.get(reverse("orgs:member_detail", args=[colleague.pk])).status_code == 404
    assert client.get(reverse("orgs:member_list")).status_code == 404


def test_demo_staff_sees_the_whole_company(client, demo):
    _login(client, "dangjian")
    resp = client.get(reverse("home"))
    assert resp.context["member_count"] == Member.objects.filter(active=True).count()
