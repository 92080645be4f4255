"""The audit log is a hash chain: verify_audit finds an altered, deleted or inserted event; the retention purge
keeps at least 180 days and leaves a chain that still verifies (QUALITY.md S4)."""

import datetime
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from dangjian.core.audit import log_action
from dangjian.core.audit_chain import GENESIS, deletes_allowed, event_hash, verify_chain
from dangjian.core.models import AuditAnchor, AuditEvent
from dangjian.orgs import services


def _events(company, n=5):
    for i in range(n):
        services.update_org(company.staff, company.branch_a, address=f"活动室{i}")
    return list(AuditEvent.objects.order_by("id"))


def _verify(*args):
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def _lift_update_trigger():
    """Simulate someone with raw database access: drop the UPDATE guard inside the test's transaction (the
    rollback at the end of the test brings it back)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER core_auditevent_append_only ON core_auditevent")
        else:
            cur.execute("DROP TRIGGER core_auditevent_no_update")


def test_each_event_links_to_the_one_before(company):
    events = _events(company)
    assert events[0].prev_hash == GENESIS or AuditAnchor.objects.exists() or events[0].prev_hash
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    row = AuditEvent.objects.filter(pk=events[-1].pk).values().get()
    assert event_hash(row) == events[-1].hash
    assert "审计日志哈希链完整" in _verify()


def test_verify_audit_finds_an_altered_event(company):
    events = _events(company)
    _lift_update_trigger()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET object_repr = %s WHERE id = %s", ["篡改", events[2].pk])
    with pytest.raises(CommandError) as exc:
        _verify()
    assert f"编号 {events[2].pk} 的事件" in str(exc.value) and "内容与其哈希不符" in str(exc.value)
    assert exc.value.returncode == 2


def test_verify_audit_finds_a_rewritten_event_by_its_broken_link(company):
    events = _events(company)
    _lift_update_trigger()
    row = AuditEvent.objects.filter(pk=events[2].pk).values().get()
    row["username"] = "someone_else"
    forged = event_hash(row)  # a careful forger recomputes the event's own hash ...
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET username = %s, hash = %s WHERE id = %s",
                    ["someone_else", forged, events[2].pk])
    report = verify_chain()
    assert not report.ok and report.bad_id == events[3].pk and report.problem == "link"  # ... the next link breaks


def test_verify_audit_finds_a_deleted_event(company):
    events = _events(company)
    with transaction.atomic(), deletes_allowed(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError) as exc:
        _verify()
    assert f"编号 {events[2].pk} 的事件" in str(exc.value) and "链接不符" in str(exc.value)


def test_verify_audit_checks_a_head_recorded_elsewhere(company):
    events = _events(company)
    head = f"{events[-1].pk}:{events[-1].hash}"
    assert "审计日志哈希链完整" in _verify("--expect", head)
    with transaction.atomic(), deletes_allowed(), connection.cursor() as cur:  # the tail cut off
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [events[-1].pk])
    assert "审计日志哈希链完整" in _verify()  # the chain alone cannot see a cut tail ...
    with pytest.raises(CommandError, match="链尾"):
        _verify("--expect", head)  # ... the head kept elsewhere does


def test_outside_the_purge_the_database_refuses_deletes(company):
    event = _events(company, 1)[0]
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):  # and only log_action writes events: it computes the chain
        AuditEvent.objects.create(action="auth.login")


def test_ip_addresses_hash_the_same_however_the_database_spells_them(company, rf):
    request = rf.get("/", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
    log_action(company.staff, "export", request=request, what="x")
    event = AuditEvent.objects.latest("id")
    assert event_hash(AuditEvent.objects.filter(pk=event.pk).values().get()) == event.hash
    assert verify_chain().ok


def _log_at(when, n, company):
    with mock.patch("django.utils.timezone.now", return_value=when):
        for i in range(n):
            log_action(company.staff, "org.updated", company.branch_a, after={"i": i})


def _purge(*args):
    from io import StringIO

    out = StringIO()
    call_command("purge_audit", *args, stdout=out)
    return out.getvalue()


def test_purge_keeps_180_days_and_the_chain_still_verifies(company):
    now = timezone.now()
    _log_at(now - datetime.timedelta(days=400), 3, company)
    _log_at(now - datetime.timedelta(days=200), 2, company)
    recent = AuditEvent.objects.count() - 5
    _log_at(now - datetime.timedelta(days=10), 2, company)
    too_new = (timezone.localdate() - datetime.timedelta(days=179)).isoformat()
    with pytest.raises(CommandError, match="至少保留 180 天"):
        _purge("--before", too_new)

    cut = (timezone.localdate() - datetime.timedelta(days=300)).isoformat()
    old_ids = list(AuditEvent.objects.filter(at__lt=now - datetime.timedelta(days=300)).values_list("id", flat=True))
    total = AuditEvent.objects.count()
    assert "可清理" in _purge("--before", cut)  # without --yes: only counted
    assert AuditEvent.objects.count() == total

    out = _purge("--before", cut, "--yes")
    assert "已清理" in out
    assert not AuditEvent.objects.filter(id__in=old_ids).exists()
    anchor = AuditAnchor.objects.get()
    assert anchor.last_id == max(old_ids) and anchor.count == len(old_ids) + recent
    purged_event = AuditEvent.objects.latest("id")
    assert purged_event.action == "audit.purged" and purged_event.data["count"] == anchor.count
    assert AuditEvent.objects.filter(at__gte=now - datetime.timedelta(days=201)).count() == 4 + 1
    assert "审计日志哈希链完整" in _verify()
    # New events go on linking to the chain.
    services.update_org(company.staff, company.branch_a, address="新活动室")
    assert verify_chain().ok
    # Anchors are append-only as well.
    with pytest.raises(PermissionError):
        anchor.delete()


def test_a_broken_chain_is_never_purged(company):
    _log_at(timezone.now() - datetime.timedelta(days=400), 3, company)
    events = list(AuditEvent.objects.order_by("id"))
    _lift_update_trigger()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET username = 'x' WHERE id = %s", [events[0].pk])
    cut = (timezone.localdate() - datetime.timedelta(days=300)).isoformat()
    with pytest.raises(CommandError, match="拒绝清理"):
        _purge("--before", cut, "--yes")
    assert AuditEvent.objects.count() == len(events)
