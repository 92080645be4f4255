"""The database's own lock on a published member month (QUALITY.md R4), on SQLite and PostgreSQL:

- appraisal_memberline: no INSERT, UPDATE or DELETE of a line whose evaluation is published;
- appraisal_memberevaluation: no UPDATE of a published evaluation, and no DELETE of one;
- appraisal_memberresult, appraisal_branchaggregate: written once by the close (INSERT…SELECT); no UPDATE, and
  no DELETE.

DELETE is let through only under the audit retention switch (core.audit_chain: the setting
dangjian.audit_purge on PostgreSQL, a row in core_auditpurge_guard on SQLite), which test databases use to
flush between transactional tests and which no application path sets.
"""

from django.db import migrations

LOCKED = "该月党员评价已公示并锁定，不能修改 (published member month is locked)"
RESULTS = "党员月度结果写入后不能修改 (member results are written once)"

GUARD_SQLITE = "EXISTS (SELECT 1 FROM core_auditpurge_guard)"
GUARD_PG = "COALESCE(current_setting('dangjian.audit_purge', true) = 'on', false)"
PUBLISHED = "state = 'published'"


def _line_published(ref):
    return f"EXISTS (SELECT 1 FROM appraisal_memberevaluation e WHERE e.id = {ref}.evaluation_id AND e.{PUBLISHED})"


_SQLITE_RULES = [
    ("memberline_locked_insert", "INSERT", "appraisal_memberline", _line_published("NEW"), LOCKED),
    ("memberline_locked_update", "UPDATE", "appraisal_memberline", _line_published("OLD"), LOCKED),
    ("memberline_locked_delete", "DELETE", "appraisal_memberline",
     f"{_line_published('OLD')} AND NOT {GUARD_SQLITE}", LOCKED),
    ("memberevaluation_locked_update", "UPDATE", "appraisal_memberevaluation", f"OLD.{PUBLISHED}", LOCKED),
    ("memberevaluation_locked_delete", "DELETE", "appraisal_memberevaluation",
     f"OLD.{PUBLISHED} AND NOT {GUARD_SQLITE}", LOCKED),
    ("memberresult_locked_update", "UPDATE", "appraisal_memberresult", "1", RESULTS),
    ("memberresult_locked_delete", "DELETE", "appraisal_memberresult", f"NOT {GUARD_SQLITE}", RESULTS),
    ("branchaggregate_locked_update", "UPDATE", "appraisal_branchaggregate", "1", RESULTS),
    ("branchaggregate_locked_delete", "DELETE", "appraisal_branchaggregate", f"NOT {GUARD_SQLITE}", RESULTS),
]

SQLITE = [
    f"CREATE TRIGGER appraisal_{name} BEFORE {event} ON {table} FOR EACH ROW WHEN {cond} "
    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    for name, event, table, cond, message in _SQLITE_RULES
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS appraisal_{name}" for name, *_ in _SQLITE_RULES]


def _pg_line_published(rows):
    return (f"EXISTS (SELECT 1 FROM {rows} r JOIN appraisal_memberevaluation e ON e.id = r.evaluation_id "
            f"WHERE e.{PUBLISHED})")


# Statement-level AFTER triggers with transition tables: a set-based statement is checked with one join.
# The close's own UPDATE (determined → published) passes: the old rows were not published.
_PG_RULES = [
    ("memberline_locked_insert", "INSERT", "appraisal_memberline", _pg_line_published("new_rows"), LOCKED),
    ("memberline_locked_update", "UPDATE", "appraisal_memberline",
     f"EXISTS (SELECT 1 FROM old_rows o WHERE o.evaluation_id IN "
     f"(SELECT id FROM appraisal_memberevaluation WHERE {PUBLISHED}))", LOCKED),
    ("memberline_locked_delete", "DELETE", "appraisal_memberline",
     f"NOT {GUARD_PG} AND {_pg_line_published('old_rows')}", LOCKED),
    ("memberevaluation_locked_update", "UPDATE", "appraisal_memberevaluation",
     f"EXISTS (SELECT 1 FROM old_rows WHERE {PUBLISHED})", LOCKED),
    ("memberevaluation_locked_delete", "DELETE", "appraisal_memberevaluation",
     f"NOT {GUARD_PG} AND EXISTS (SELECT 1 FROM old_rows WHERE {PUBLISHED})", LOCKED),
    ("memberresult_locked_update", "UPDATE", "appraisal_memberresult", "EXISTS (SELECT 1 FROM old_rows)", RESULTS),
    ("memberresult_locked_delete", "DELETE", "appraisal_memberresult",
     f"NOT {GUARD_PG} AND EXISTS (SELECT 1 FROM old_rows)", RESULTS),
    ("branchaggregate_locked_update", "UPDATE", "appraisal_branchaggregate", "EXISTS (SELECT 1 FROM old_rows)",
     RESULTS),
    ("branchaggregate_locked_delete", "DELETE", "appraisal_branchaggregate",
     f"NOT {GUARD_PG} AND EXISTS (SELECT 1 FROM old_rows)", RESULTS),
]


def _pg_referencing(event):
    return {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows"}[event]


POSTGRES = []
for _name, _event, _table, _cond, _message in _PG_RULES:
    POSTGRES += [
        f"""CREATE OR REPLACE FUNCTION appraisal_{_name}() RETURNS trigger AS $$
           BEGIN
             IF {_cond} THEN
               RAISE EXCEPTION USING ERRCODE = '23000', MESSAGE = '{_message}';
             END IF;
             RETURN NULL;
           END; $$ LANGUAGE plpgsql""",
        f"CREATE TRIGGER appraisal_{_name} AFTER {_event} ON {_table} REFERENCING {_pg_referencing(_event)} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION appraisal_{_name}()",
    ]
POSTGRES_REVERSE = []
for _name, _event, _table, *_rest in _PG_RULES:
    POSTGRES_REVERSE += [f"DROP TRIGGER IF EXISTS appraisal_{_name} ON {_table}",
                         f"DROP FUNCTION IF EXISTS appraisal_{_name}()"]


def forwards(apps, schema_editor):
    for sql in POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    for sql in POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0002_initial"),
        ("core", "0003_audit_hash_chain"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
