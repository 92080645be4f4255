"""`manage.py load_member_standards`: the default member set for a committee, as a draft or published."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dangjian.core.models import AuditEvent
from dangjian.standards.models import MemberStandardSet, SetStatus


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_load_member_standards_creates_a_draft_and_can_publish(company):
    out = run("load_member_standards", owner="C001", year=2026)
    ms = MemberStandardSet.objects.get()
    assert ms.status == SetStatus.DRAFT and ms.items.count() == 42 and "草稿" in out and "42 项细则" in out
    out = run("load_member_standards", owner="C001", year=2026, publish=True)
    assert "并已发布" in out
    assert list(MemberStandardSet.objects.order_by("version").values_list("version", "status")) == [
        (1, "draft"), (2, "published")]
    run("load_member_standards", "--owner", "C001", "--year", "2026", "--publish")
    assert list(MemberStandardSet.objects.order_by("version").values_list("version", "status")) == [
        (1, "draft"), (2, "archived"), (3, "published")]
    event = AuditEvent.objects.filter(action="member_standard.defaults_loaded").first()
    assert event.user_id is None and event.org_path == company.committee.path


def test_load_member_standards_if_missing_changes_nothing_the_second_time(company):
    run("load_member_standards", owner="C001", year=2026, if_missing=True)
    out = run("load_member_standards", owner="C001", year=2026, if_missing=True)
    assert "未做修改" in out and MemberStandardSet.objects.count() == 1


def test_load_member_standards_refuses_unknown_owners_non_committees_and_bad_years(company):
    with pytest.raises(CommandError, match="组织编码“NOPE”不存在"):
        run("load_member_standards", owner="NOPE", year=2026)
    with pytest.raises(CommandError, match="党员评价标准由党委制定"):
        run("load_member_standards", owner="B001", year=2026)
    with pytest.raises(CommandError, match="年度应为2000至2100"):
        run("load_member_standards", owner="C001", year=3000)
    assert not MemberStandardSet.objects.exists()
