"""Issue 6: the audit log becomes a hash chain; retention anchors; TOTP devices.

The append-only triggers of 0002 are replaced by ones that still refuse every UPDATE, and refuse DELETE (and on
PostgreSQL TRUNCATE) unless the retention purge switched deletes on for its own transaction
(core.audit_chain.deletes_allowed): PostgreSQL reads the transaction-local setting dangjian.audit_purge,
SQLite looks for a row in the guard table core_auditpurge_guard (a plain table with no model, so no flush or
dumpdata touches it). The audit anchors get the same protection. Existing events are chained in id order.

Note for later migrations: on SQLite, altering core_auditevent or core_auditanchor rebuilds the table and
drops its triggers; such a migration must create them again (see protect()).
"""

import importlib

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLES = ("core_auditevent", "core_auditanchor")
MESSAGE = "audit log is append-only"

SQLITE_GUARD = "CREATE TABLE IF NOT EXISTS core_auditpurge_guard (reason TEXT NOT NULL)"
POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('dangjian.audit_purge', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '{MESSAGE}';
END; $$ LANGUAGE plpgsql"""


def sqlite_triggers(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            WHEN (SELECT COUNT(*) FROM core_auditpurge_guard) = 0
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]


def postgres_triggers(table):
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION core_audit_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION core_audit_append_only()""",
    ]


def _drop_all(schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        if pg:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def drop_old_triggers(apps, schema_editor):
    old = importlib.import_module("dangjian.core.migrations.0002_audit_append_only")
    pg = schema_editor.connection.vendor == "postgresql"
    for sql in old.POSTGRES_REVERSE if pg else old.SQLITE_REVERSE:
        schema_editor.execute(sql)


def create_old_triggers(apps, schema_editor):
    old = importlib.import_module("dangjian.core.migrations.0002_audit_append_only")
    old.forwards(apps, schema_editor)


def chain_existing(apps, schema_editor):
    from dangjian.core.audit_chain import CHAIN_FIELDS, GENESIS, event_hash

    AuditEvent = apps.get_model("core", "AuditEvent")
    prev = GENESIS
    batch = []
    with schema_editor.connection.cursor() as cur:
        for row in AuditEvent.objects.order_by("id").values("id", *CHAIN_FIELDS).iterator(chunk_size=5000):
            row["prev_hash"] = prev
            prev = event_hash(row)
            batch.append((row["prev_hash"], prev, row["id"]))
            if len(batch) >= 5000:
                cur.executemany("UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", batch)
                batch = []
        if batch:
            cur.executemany("UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", batch)


def protect(apps, schema_editor):
    """(Re)create the append-only triggers of both audit tables; safe to run again."""
    pg = schema_editor.connection.vendor == "postgresql"
    _drop_all(schema_editor)
    if pg:
        schema_editor.execute(POSTGRES_FUNCTION)
    else:
        schema_editor.execute(SQLITE_GUARD)
    for table in TABLES:
        for sql in postgres_triggers(table) if pg else sqlite_triggers(table):
            schema_editor.execute(sql)


def chain_and_protect(apps, schema_editor):
    chain_existing(apps, schema_editor)
    protect(apps, schema_editor)


def unprotect(apps, schema_editor):
    _drop_all(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS core_audit_append_only()")
    else:
        schema_editor.execute("DROP TABLE IF EXISTS core_auditpurge_guard")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_old_triggers, create_old_triggers),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("before", models.DateTimeField()),
                ("last_id", models.BigIntegerField(unique=True)),
                ("last_hash", models.CharField(max_length=64)),
                ("last_at", models.DateTimeField()),
                ("count", models.PositiveIntegerField()),
                ("username", models.CharField(blank=True, max_length=150)),
            ],
            options={"ordering": ["-last_id"]},
        ),
        migrations.CreateModel(
            name="TOTPDevice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("secret", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_counter", models.BigIntegerField(default=0)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("user", models.OneToOneField(on_delete=models.deletion.CASCADE, related_name="totp_device",
                                              to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(chain_and_protect, unprotect),
    ]
