"""The demo company (`manage.py demo`) and the synthetic data generator (`manage.py generate`)."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.core.pinyin import name_keys
from dangjian.core.validators import id_birth_date, validate_id_number, validate_phone
from dangjian.orgs import bulk
from dangjian.orgs.demo_data import add_years
from dangjian.orgs.management.commands.demo import DEMO_CODE
from dangjian.orgs.management.commands.generate import plan_levels
from dangjian.orgs.models import (
    CommitteeSeat,
    Member,
    Organization,
    OrgChange,
    Pledge,
    RoleGrant,
    path_segment,
)
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # PBKDF2 is slow on purpose; the tests only need passwords to check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def demo_orgs():
    root = Organization.objects.get(code=DEMO_CODE)
    return Organization.objects.filter(path__startswith=root.path)


def demo_members():
    return Member.objects.filter(org__in=demo_orgs())


def counts():
    return {m.__name__: m.objects.count() for m in (Organization, Member, Pledge, CommitteeSeat, RoleGrant, User,
                                                     OrgChange)}


def check_tree(orgs):
    by_id = {o.pk: o for o in orgs}
    for o in orgs:
        if o.parent_id is None:
            assert o.path == path_segment(o.pk) and o.depth == 0
        else:
            parent = by_id.get(o.parent_id) or Organization.objects.get(pk=o.parent_id)
            assert o.path == parent.path + path_segment(o.pk)
            assert o.depth == parent.depth + 1 == o.path.count(".") - 1


def check_member_facts(members):
    for m in members:
        validate_id_number(m.id_number)
        validate_phone(m.phone)
        assert id_birth_date(m.id_number) == m.birth_date
        assert (int(m.id_number[16]) % 2 == 1) == (m.gender == "M")  # odd serial = male
        assert m.joined_on >= add_years(m.birth_date, 18)
        assert m.joined_on <= timezone.localdate()
        if m.status == "full":
            assert m.confirmed_on == add_years(m.joined_on, 1)
        else:
            assert m.confirmed_on is None
        assert (m.name_pinyin, m.name_initials) == name_keys(m.name)


# ---- demo ---------------------------------------------------------------------------------------------


def test_demo_refuses_to_create_accounts_outside_development():
    with pytest.raises(CommandError, match="DEBUG"):
        run("demo")
    assert not Organization.objects.filter(code=DEMO_CODE).exists()


# ---- generate -----------------------------------------------------------------------------------------


def test_plan_levels_adds_up():
    for n in (5, 6, 12, 60, 500, 3000, 50_000):
        levels = plan_levels(n)
        assert sum(levels) == n and levels[0] == 1 and all(x >= 1 for x in levels)
        assert levels[4] >= levels[3]
    assert plan_levels(50_000)[1] == 27
    with pytest.raises(CommandError):
        plan_levels(4)


def test_generate_with_pledges_and_small_shapes():
    run("generate", orgs=5, members=30, pledges=True, seed=3)
    root = Organization.objects.get(code="GEN-ROOT")
    assert Organization.objects.filter(path__startswith=root.path).count() == 5
    members = Member.objects.filter(org__path__startswith=root.path)
    assert members.count() == 30
    year = timezone.localdate().year
    assert Pledge.objects.filter(member__in=members, year=year).count() == 30
    assert all("\0" not in t for t in Pledge.objects.values_list("text", flat=True))
    run("generate", clear=True)
    assert not Member.objects.exists() and not Pledge.objects.exists()


def test_generate_rebuilds_the_indexes_it_drops_for_a_large_load(monkeypatch):
    from django.db import connection

    from dangjian.orgs.management.commands import generate as generate_module

    def indexes():
        with connection.cursor() as cur:
            return {
                model: {name for name, c in connection.introspection.get_constraints(cur, model._meta.db_table).items()
                        if c["index"]}
                for model in (Member, CommitteeSeat, Pledge)
            }

    before = indexes()
    assert before[Member]
    monkeypatch.setattr(generate_module, "REBUILD_INDEXES_FROM", 0)
    run("generate", orgs=20, members=300, pledges=True, verbosity=0)
    assert indexes() == before
    assert Member.objects.count() == 300 and Pledge.objects.count() == 300
    assert Member.objects.search("w").exists()
    run("generate", clear=True)


def test_bulk_helpers_allocate_ids_after_existing_rows():
    org = make_org("甲党支部", code="A-1")
    assert bulk.id_base(Organization) >= org.pk
    Organization.objects.filter(pk=org.pk).delete()
    # A deleted id is not handed out again.
    assert bulk.id_base(Organization) >= org.pk
