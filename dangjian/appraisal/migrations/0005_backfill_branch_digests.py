"""Digests for the branch months published before the member close wrote them (QUALITY.md S6): the wall and the
handbook refuse a month without one. Each is computed from the month's stored results, as the close does
(appraisal.close), and written into its aggregate with the aggregate's UPDATE trigger (migration 0003) lifted
for this one statement: on SQLite the trigger is dropped and created again with 0003's own SQL, on PostgreSQL it
is disabled and enabled again, inside the migration's transaction. No schema change, so no table rebuild."""

import importlib

from django.db import migrations

TRIGGER = "appraisal_branchaggregate_locked_update"


def _sqlite_trigger() -> str:
    lock = importlib.import_module("dangjian.appraisal.migrations.0003_lock_published_months")
    return next(sql for sql in lock.SQLITE if f"TRIGGER {TRIGGER} " in sql)


def forwards(apps, schema_editor):
    from dangjian.appraisal.close import _digest_select, _digests

    conn = schema_editor.connection
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT period_id FROM appraisal_branchaggregate WHERE digest = ''")
        periods = [row[0] for row in cur.fetchall()]
        if not periods:
            return
        updates = []
        for period_id in periods:
            cur.execute(_digest_select("period_id = %s AND org_id IN (SELECT org_id FROM appraisal_branchaggregate "
                                       "WHERE period_id = %s AND digest = '')"), [period_id, period_id])
            updates += [(digest, p, o) for (p, o), (digest, _figures) in _digests(cur.fetchall()).items()]
        if conn.vendor == "postgresql":
            cur.execute(f"ALTER TABLE appraisal_branchaggregate DISABLE TRIGGER {TRIGGER}")
        else:
            cur.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        cur.executemany("UPDATE appraisal_branchaggregate SET digest = %s WHERE period_id = %s AND org_id = %s "
                        "AND digest = ''", updates)
        if conn.vendor == "postgresql":
            cur.execute(f"ALTER TABLE appraisal_branchaggregate ENABLE TRIGGER {TRIGGER}")
        else:
            cur.execute(_sqlite_trigger())


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0004_result_fewer_indexes"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
