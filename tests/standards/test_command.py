"""`manage.py load_standards` and the demo company's published standard set."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Organization
from dangjian.standards.models import SetStatus, StandardSet


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_load_standards_creates_a_draft_and_can_publish(company):
    out = run("load_standards", owner="C001", year=2026)
    ss = StandardSet.objects.get()
    assert ss.status == SetStatus.DRAFT and ss.items.count() == 52 and "草稿" in out
    run("load_standards", owner="C001", year=2026, publish=True)
    assert list(StandardSet.objects.order_by("version").values_list("version", "status")) == [
        (1, "draft"), (2, "published")]
    event = AuditEvent.objects.filter(action="standard.defaults_loaded").first()
    assert event.user_id is None and event.org_path == company.committee.path


def test_load_standards_if_missing_changes_nothing_the_second_time(company):
    run("load_standards", owner="C001", year=2026, if_missing=True)
    out = run("load_standards", owner="C001", year=2026, if_missing=True)
    assert "未做修改" in out and StandardSet.objects.count() == 1


def test_load_standards_refuses_unknown_owners_and_non_committees(company):
    with pytest.raises(CommandError, match="不存在"):
        run("load_standards", owner="NOPE", year=2026)
    with pytest.raises(CommandError, match="考评标准由党委制定"):
        run("load_standards", owner="G001", year=2026)


@pytest.mark.django_db
def test_the_demo_publishes_the_default_set_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    run("demo", force=True)
    owner = Organization.objects.get(code="DEMO-C")
    year = timezone.localdate().year
    # (the demo's closed months may reach into last year, which then has its own set)
    ss = StandardSet.objects.get(owner=owner, year=year)
    assert (ss.year, ss.status, ss.items.count()) == (year, SetStatus.PUBLISHED, 52)
    run("demo")
    assert StandardSet.objects.filter(owner=owner, year=year).count() == 1
    out = run("demo", reset=True, force=True)  # the reset removes the demo company with its sets, then rebuilds
    assert "已发布演示考评标准" in out
    assert StandardSet.objects.filter(owner__code="DEMO-C", status="published", year=year).count() == 1
