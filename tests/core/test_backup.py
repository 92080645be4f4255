"""Backup and restore (QUALITY.md R5) on the engine the suite runs on: back up, change data, restore, and the
data is what it was; the audit chain still verifies. Plus the audit chain under concurrent writers (PostgreSQL,
where writers really run in parallel; SQLite serializes them with BEGIN IMMEDIATE).

Transactional tests: the backup and restore run outside the test's transaction, as in production."""

import shutil
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from dangjian.core.audit import log_action
from dangjian.core.audit_chain import verify_chain
from dangjian.core.models import AuditEvent
from dangjian.orgs import services
from dangjian.orgs.models import Member, Organization, OrgType, RoleGrant
from tests.factories import make_member

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


def state():
    """What must come back: the rows of the main tables and the audit chain."""
    return {
        "orgs": list(Organization.objects.order_by("pk").values()),
        "types": list(OrgType.objects.order_by("pk").values()),
        "members": list(Member.objects.order_by("pk").values()),
        "grants": list(RoleGrant.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values("pk", "username", "password", "is_active")),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "hash")),
    }


def run(*args, **kwargs):
    out = StringIO()
    call_command(*args, stdout=out, stderr=out, **kwargs)
    return out.getvalue()


def drill(company, tmp_path, suffix):
    services.update_org(company.staff, company.branch_a, address="备份前的活动室")
    out = run("backup", "--dir", str(tmp_path))
    path = Path(out.strip().splitlines()[-1])
    assert path.parent == tmp_path and path.name.startswith("dangjian-") and path.suffix == suffix
    before = state()
    assert before["audit"][-1][1] == "system.backup"  # the backup holds the record of its making

    services.update_org(company.staff, company.branch_a, name="备份后改名", address="备份后的活动室")
    make_member(company.branch_b, "备份后新党员")
    services.revoke_role(company.admin, RoleGrant.objects.get(user=company.secretary_b))
    assert state() != before

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(path))
    assert Organization.objects.get(pk=company.branch_a.pk).name == "备份后改名"  # refused: nothing happened

    out = run("restore", str(path), "--yes")
    assert "已从" in out and "哈希链完整" in out
    after = state()
    restored = after["audit"].pop()
    assert restored[1] == "system.restored"  # the restore is recorded as the next event of the restored chain
    assert after == before
    assert verify_chain().ok
    return path


def test_sqlite_backup_and_restore(company, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite drill")
    path = drill(company, tmp_path, ".sqlite3")
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_postgresql_backup_and_restore(company, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL drill (run the suite with DATABASE_URL=postgres://...)")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed (Debian: postgresql-client)")
    path = drill(company, tmp_path, ".pgdump")
    assert path.read_bytes()[:5] == b"PGDMP"


def test_restore_refuses_a_file_of_the_other_kind(company, tmp_path):
    bogus = tmp_path / "x.sqlite3"
    bogus.write_bytes(b"not a backup at all")
    with pytest.raises(CommandError, match="备份文件"):
        run("restore", str(bogus), "--yes")
    with pytest.raises(CommandError, match="找不到备份文件"):
        run("restore", str(tmp_path / "missing"), "--yes")


def test_backup_without_pg_dump_names_the_debian_package(company, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CommandError, match="postgresql-client"):
        run("backup", "--dir", str(tmp_path))


def test_concurrent_writers_keep_one_chain(company):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")
    start = threading.Barrier(4)
    errors = []

    def writer(n):
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():
                    log_action(None, "export", username=f"w{n}", what=str(i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify_chain()
    assert report.ok and AuditEvent.objects.filter(action="export").count() == 60


def test_restore_drill_reruns_the_close_with_identical_results(company, tmp_path):
    """R5's drill: back up a database whose month is published but not finalized, restore the backup into a fresh,
    empty database (as onto a new server, with `manage.py restore` in its own process), close the month in both
    and compare: every result row (ordered by organization id, a stable key — the month has a tie), the peer
    group figures, the states and the digest are identical."""
    import datetime
    from decimal import Decimal

    from dangjian.assessments import services as assessments
    from dangjian.assessments.close import finalize_period
    from dangjian.standards.services import SYSTEM, load_default_set
    from tests.assessments.test_close import drive_to_published
    from tests.faults.child import close_state
    from tests.faults.harness import empty_database, pg_drop, run_child

    if connection.vendor == "postgresql" and not shutil.which("pg_restore"):
        pytest.skip("pg_restore not installed (Debian: postgresql-client)")
    c = company
    load_default_set(c.staff, c.committee, 2026, publish=True)
    period = assessments.open_period(c.staff, c.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
                                     self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
    # branch_a and branch_b tie; branch_c is vetoed.
    drive_to_published(c, period, {c.branch_a.pk: (Decimal("2.5"), False), c.branch_b.pk: (Decimal("2.5"), False),
                                   c.branch_c.pk: (Decimal(1), True), c.general.pk: (Decimal(4), False)})
    out = run("backup", "--dir", str(tmp_path / "backups"))
    path = Path(out.strip().splitlines()[-1])

    url = empty_database(tmp_path, "restore")
    try:
        restored = run_child(url, tmp_path, "manage", "restore", path, "--yes")
        assert restored.returncode == 0 and restored.report["ok"], restored.stderr[-3000:]
        assert "已从" in restored.report["output"] and "哈希链完整" in restored.report["output"]
        closed = run_child(url, tmp_path, "manage", "finalize_month", "--period", period.pk)
        assert closed.returncode == 0 and closed.report["ok"], closed.stderr[-3000:]
        there = run_child(url, tmp_path, "close-state", period.pk)
        assert there.returncode == 0, there.stderr[-3000:]
        there = there.report
    finally:
        if connection.vendor == "postgresql":
            pg_drop("f1_restore")

    # The close here runs in a transaction rolled back afterwards: a finalized month refuses the DELETEs of the
    # flush that ends a transactional test (its triggers, QUALITY.md R4).
    with transaction.atomic():
        finalize_period(SYSTEM, period)
        here = close_state(period.pk)
        transaction.set_rollback(True)
    assert here["status"] == "finalized" and here["digest_ok"] and len(here["results"]) == 4
    rank = {int(r["org_id"]): r["overall_rank"] for r in here["results"]}
    assert rank[c.branch_a.pk] == rank[c.branch_b.pk]  # the tie
    for mine, theirs in zip(here["results"], there["results"], strict=True):
        assert mine == theirs
    assert here == there
