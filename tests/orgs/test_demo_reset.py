"""Running the demo again changes nothing; ``--reset`` rebuilds it, keeping what points at it from outside. In a
module of its own: the reset inside the shared demo's transaction (tests/conftest.py ``built_demo``) ran 4× slower
on SQLite."""


import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from dangjian.core.audit import log_action
from dangjian.core.models import AuditEvent
from dangjian.orgs.management.commands.demo import DEMO_CODE, PASSWORD
from dangjian.orgs.models import (
    Member,
    Organization,
    Transfer,
)
from tests.factories import make_member, make_org
from tests.orgs.test_demo import check_tree, counts, demo_orgs, run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_hasher")]


def test_demo_is_idempotent_and_reset_rebuilds():
    run("demo", force=True)
    before = counts()
    first_root = Organization.objects.get(code=DEMO_CODE).pk
    out = run("demo")  # no --force needed: nothing is created
    assert "已存在" in out and "dangyuan" in out and PASSWORD in out
    assert counts() == before

    # Things that point at the demo from outside, and audit events that must survive.
    outside = make_org("外部党支部", code="OUT-1")
    demo_branch = Organization.objects.get(code="DEMO-B01")
    Organization.objects.filter(pk=outside.pk).update(merged_into=demo_branch)
    moved = make_member(outside, "外部党员")
    Transfer.objects.create(member=moved, from_org=demo_branch, to_org=outside, effective_on=timezone.localdate())
    log_action(None, "org.updated", demo_branch)
    events = AuditEvent.objects.count()
    User.objects.filter(username="shuji").update(password="changed")

    out = run("demo", reset=True, force=True)
    assert "已删除原演示数据" in out and "已创建演示公司" in out
    after = counts()
    assert after == before | {"Organization": before["Organization"] + 1, "Member": before["Member"] + 1}
    assert Organization.objects.get(code=DEMO_CODE).pk != first_root
    # The rebuild writes no audit event of its own; the demo's member months and its service pillar (needs,
    # tickets, surveys, teams, projects, the auto-scored item) go through the services, which audit what they do.
    new = AuditEvent.objects.order_by("id")[events:].values_list("action", flat=True)
    assert all(a.startswith(("appraisal.", "member_standard.", "need.", "need_channel.", "service_area.", "ticket.",
                             "survey.", "team.", "project.", "evaluation.auto_scored",
                             # the demo months are closed by the real month close
                             "period.finalized", "standard.frozen")) for a in new), list(new)
    outside.refresh_from_db()
    assert outside.merged_into_id is None
    assert not Transfer.objects.exists()
    assert Member.objects.filter(pk=moved.pk).exists()
    assert User.objects.get(username="shuji").check_password(PASSWORD)
    check_tree(list(demo_orgs()))
