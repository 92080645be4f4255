"""The demo company (`manage.py demo`), built once for this module (tests/conftest.py ``built_demo``): what it
holds, its accounts, and the generator's data beside it. Running it again and resetting it: test_demo_reset.py."""

import datetime
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.core import crypto
from dangjian.core.validators import id_birth_date
from dangjian.orgs.management.commands.demo import ACCOUNTS, DEMO_CODE, PASSWORD, SECRETARY_BRANCH
from dangjian.orgs.management.commands.generate import Generator, plan_levels
from dangjian.orgs.models import (
    CommitteeSeat,
    Duty,
    Level,
    Member,
    Organization,
    OrgChange,
    Pledge,
    Role,
    RoleGrant,
)
from tests.factories import make_member, make_org
from tests.orgs.test_demo import check_member_facts, check_tree, counts, demo_members, demo_orgs, run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_hasher")]


def test_demo_builds_a_realistic_company(built_demo):
    out = built_demo
    assert "已创建演示公司" in out
    orgs = list(demo_orgs())
    check_tree(orgs)
    root = next(o for o in orgs if o.code == DEMO_CODE)
    assert root.name == "国网示范市供电公司党委" and root.level == Level.COMMITTEE
    assert [o.name for o in orgs if o.parent_id == root.pk and o.level == Level.COMMITTEE] == ["国网示范县供电公司党委"]
    assert 4 <= sum(1 for o in orgs if o.parent_id == root.pk and o.level == Level.GENERAL_BRANCH) <= 5
    branches = [o for o in orgs if o.level == Level.BRANCH]
    assert 18 <= len(branches) <= 24
    types = Counter(o.type.code for o in branches)
    assert set(types) == {"production", "management", "business"}
    names = {o.name: o for o in branches}
    assert names["城关供电所党支部"].type.code == "production"
    assert names["东湖供电所党支部"].type.code == "production"
    assert names["机关第一党支部"].type.code == "management"
    assert names["营业厅党支部"].type.code == "business"
    assert names["客户服务中心党支部"].type.code == "business"
    today = timezone.localdate()
    soon = [o for o in orgs if o.term_ends_on and o.term_ends_on <= today + datetime.timedelta(days=90)]
    assert len(soon) >= 2
    assert all(o.established_on and o.established_on <= today for o in orgs)

    members = list(demo_members())
    assert 350 <= len(members) <= 450
    per_branch = Counter(m.org_id for m in members)
    assert all(15 <= per_branch[b.pk] <= 30 for b in branches)
    check_member_facts(members)
    assert len({m.id_number for m in members}) == len(members)
    probationary = sum(1 for m in members if m.status == "probationary")
    assert 0.05 <= probationary / len(members) <= 0.15
    assert len({m.name for m in members}) > 0.8 * len(members)
    assert {m.gender for m in members} == {"M", "F"}
    ages = [(today - m.birth_date).days / 365.25 for m in members]
    assert 23 <= min(ages) and max(ages) <= 61
    assert all(m.post for m in members)
    assert any(m.title == "所长" for m in members) and any(m.title == "班长" for m in members)
    posts = {m.post for m in members if m.org == names["营业厅党支部"]}
    assert posts & {"客户经理", "营业厅值班长", "营业员", "电费核算员"}

    pledges = Pledge.objects.filter(member__in=members, year=today.year)
    assert pledges.count() == len(members)
    texts = list(pledges.values_list("text", flat=True))
    assert len(set(texts)) > 0.9 * len(texts)
    assert all(10 < len(t) <= 500 and t.endswith("。") for t in texts)

    assert OrgChange.objects.filter(org__in=orgs, kind=OrgChange.Kind.CREATE).count() == len(orgs)
    full = Counter(m.org_id for m in members if m.status == "full")
    for b in branches:
        seats = CommitteeSeat.objects.filter(org=b, until__isnull=True)
        duties = sorted(seats.values_list("duty", flat=True))
        expected = [Duty.SECRETARY] + ([Duty.ORGANIZATION, Duty.PUBLICITY, Duty.DISCIPLINE] if full[b.pk] >= 7 else [])
        assert duties == sorted(expected)
        for seat in seats:
            assert seat.member.org_id == b.pk and seat.member.status == "full"
    for o in orgs:
        if o.level != Level.BRANCH:
            seat = CommitteeSeat.objects.get(org=o, duty=Duty.SECRETARY)
            assert seat.member.org.path.startswith(o.path)


def test_demo_accounts_have_their_roles(built_demo):
    out = built_demo
    for username, *_ in ACCOUNTS:
        assert username in out
    assert PASSWORD in out
    users = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in ACCOUNTS])}
    assert set(users) == {"admin", "dangjian", "kaoping", "shuji", "dangyuan"}
    root = Organization.objects.get(code=DEMO_CODE)
    branch = Organization.objects.get(code=SECRETARY_BRANCH)
    assert branch.name == "城关供电所党支部"
    expected = {
        "admin": (Role.ADMIN, root), "dangjian": (Role.STAFF, root), "kaoping": (Role.ASSESSOR, root),
        "shuji": (Role.SECRETARY, branch), "dangyuan": (Role.MEMBER, branch),
    }
    for username, (role, org) in expected.items():
        user = users[username]
        assert user.check_password(PASSWORD)
        assert user.is_active
        assert list(RoleGrant.objects.filter(user=user).values_list("role", "org")) == [(role, org.pk)]
        validate_password(PASSWORD, user)
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not any(users[u].is_superuser for u in ("dangjian", "kaoping", "shuji", "dangyuan"))

    shuji = Member.objects.get(user=users["shuji"])
    assert shuji.org == branch
    assert CommitteeSeat.objects.filter(org=branch, member=shuji, duty=Duty.SECRETARY, until__isnull=True).exists()
    dangyuan = Member.objects.get(user=users["dangyuan"])
    assert dangyuan.org == branch and dangyuan.status == "full"
    assert not dangyuan.seats.exists()
    assert users["shuji"].first_name == shuji.name


def test_generate_builds_consistent_data_beside_the_demo_and_clears_it(built_demo):
    demo_before = counts()
    # A member that already holds the ID number the generator would hand out first.
    gen = Generator(60, 1000, 7)
    gen.org_rows(0, {"production": 1, "management": 2, "business": 3})
    first_row = next(gen.member_rows())
    idn = crypto.decrypt(first_row[7])  # rows carry the sealed number (core.crypto)
    holder = make_member(Organization.objects.get(code="DEMO-B01"), "占号人", id_number=idn,
                         birth_date=id_birth_date(idn), gender="M" if int(idn[16]) % 2 else "F")

    out = run("generate", orgs=60, members=1000, seed=7)
    assert "行/秒" in out
    root = Organization.objects.get(code="GEN-ROOT")
    orgs = list(Organization.objects.filter(path__startswith=root.path))
    assert len(orgs) == 60 and all(o.code.startswith("GEN-") for o in orgs)
    check_tree(orgs)
    assert Counter(o.level for o in orgs)[Level.BRANCH] == plan_levels(60)[4]
    assert all(o.type_id for o in orgs if o.level == Level.BRANCH)
    members = list(Member.objects.filter(org__path__startswith=root.path))
    assert len(members) == 1000
    assert all(m.org.level == Level.BRANCH for m in members)
    check_member_facts(members)
    assert len({m.id_number for m in members} | {holder.id_number}) == 1001
    secretaries = CommitteeSeat.objects.filter(org__path__startswith=root.path, duty=Duty.SECRETARY)
    assert secretaries.count() == len({m.org_id for m in members})

    # Pinyin keys work for search by initials and by full pinyin.
    m = members[0]
    assert m in Member.objects.search(m.name_initials)
    assert m in Member.objects.search(m.name_pinyin)
    assert m in Member.objects.search(m.name)
    zhang = [x for x in members if x.name.startswith("张")]
    assert zhang and set(zhang) <= set(Member.objects.search("zh"))

    # Sequences follow the explicit ids: ordinary inserts still work.
    extra = make_org("新党支部", parent=root.children.first().children.first().children.first(), code="GEN-X1")
    assert extra.pk > max(o.pk for o in orgs)
    make_member(extra, "新党员")

    with pytest.raises(CommandError, match="--clear"):
        run("generate", orgs=60, members=1000)

    out = run("generate", clear=True)
    assert "已删除生成的数据" in out
    assert not Organization.objects.filter(code__startswith="GEN-").exists()
    assert counts() == demo_before | {"Member": demo_before["Member"] + 1}
    assert Member.objects.filter(pk=holder.pk).exists()
    assert "没有生成的数据" in run("generate", clear=True)
