"""PostgreSQL: the members' monthly results (appraisal_memberresult) partitioned by period — LIST on period_id,
one partition per period and a default one (dangjian.core.partitions, docs/decisions.md). SQLite: no change.

Nothing refers to a member result by foreign key. The one-to-one evaluation becomes unique
(evaluation_id, period_id) and the primary key a unique (id, period_id) (unique indexes, not constraints, so
pg_restore --clean works); ids still come from one sequence; the lock
triggers of 0003 are created again on the new table and on each partition.

Irreversible on PostgreSQL (the partitions would have to be merged back by hand)."""

from django.db import migrations
from django.db.migrations.exceptions import IrreversibleError


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from dangjian.core.partitions import convert_to_partitioned

    convert_to_partitioned(schema_editor, "appraisal_memberresult", "appraisal_appraisalperiod")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        raise IrreversibleError("appraisal 0006: the partitioned member result table is not turned back automatically")


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0005_backfill_branch_digests"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
