"""PostgreSQL: the month close's organization results (assessments_result) partitioned by period — LIST on
period_id, one partition per period and a default one (dangjian.core.partitions, docs/decisions.md). SQLite:
no change to the database.

A partitioned table can be referenced by a foreign key only through a key that contains period_id, and
assessments_adjustment refers to a result by its id alone. Its foreign key constraint goes (the model says
``db_constraint=False``) and a statement trigger takes its place: an adjustment must name an existing result.
The rest of the reference holds as before: adjustments are append-only and results are never deleted (the lock
triggers of 0003). The one-to-one evaluation becomes unique (evaluation_id, period_id) and the primary key a
unique (id, period_id) — unique indexes, not constraints, so pg_restore --clean works —; ids still come from one
sequence.

Irreversible on PostgreSQL (the partitions would have to be merged back by hand)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

TABLE = "assessments_result"

MISSING = "兑现后调整所指的兑现结果不存在 (adjustment refers to a missing result)"

ADJUSTMENT_CHECK = [
    f"""CREATE OR REPLACE FUNCTION assessments_adjustment_result_exists() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM {TABLE} r WHERE r.id = n.result_id))
         THEN
           RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = '{MISSING}';
         END IF;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER assessments_adjustment_result_exists AFTER INSERT ON assessments_adjustment "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION assessments_adjustment_result_exists()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dangjian.core.partitions import convert_to_partitioned

    convert_to_partitioned(schema_editor, TABLE, "assessments_period",
                           drop_foreign_keys_from=frozenset({"assessments_adjustment"}))
    for sql in ADJUSTMENT_CHECK:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        raise IrreversibleError("assessments 0005: the partitioned result table is not turned back automatically")


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0004_slim_evaluation_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="adjustment", name="result",
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="adjustments", to="assessments.result"),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
