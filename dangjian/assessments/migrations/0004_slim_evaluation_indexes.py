"""Drop four indexes of the evaluation table that no query needs: the single-column ones on period and org_type
(the unique (period, org) and the (period, level, org_type) index serve lookups by period; org types are never
deleted while in use) and both indexes on state (a handful of values, always read with the period). The month
close rewrites every evaluation of the month to 已兑现 and pays for each index on that UPDATE (PostgreSQL: ~245 ms
of ~480 ms at 3,000 organizations, docs/benchmarks.md). Done with DROP INDEX: on SQLite an AlterField would
rebuild the table and lose the lock triggers of 0003.

On PostgreSQL the table also gets fillfactor 70: a row's updates during the month (state, totals, version — none
indexed now) then fit on its own page as heap-only tuples, without a new entry in every index; the close's UPDATE
of a month to 已兑现 halves (45 → 20 ms at 3,000 organizations)."""

import django.db.models.deletion
from django.db import migrations, models

# (index name, column): the names Django gave them in 0001/0002, identical on SQLite and PostgreSQL; the
# "_like" index (varchar_pattern_ops) exists on PostgreSQL only.
INDEXES = [
    ("assessments_evaluation_period_id_8d5f402f", "period_id"),
    ("assessments_evaluation_org_type_id_c294eac4", "org_type_id"),
    ("assessments_evaluation_state_cd1d79d7", "state"),
    ("assessments_evaluation_state_cd1d79d7_like", None),
]


def _drop(name, column):
    reverse = f'CREATE INDEX "{name}" ON "assessments_evaluation" ("{column}")' if column else migrations.RunSQL.noop
    return migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', reverse_sql=reverse)


def _fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE assessments_evaluation SET (fillfactor = {int(value)})")
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0003_results_and_lock"),
        ("orgs", "0003_security_auditor_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="evaluation", name="org_type",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, to="orgs.orgtype",
                                            verbose_name="类型"),
                ),
                migrations.AlterField(
                    model_name="evaluation", name="period",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="evaluations", to="assessments.period"),
                ),
                migrations.AlterField(
                    model_name="evaluation", name="state",
                    field=models.CharField(choices=[("not_started", "未开始"), ("submitted", "已报送"),
                                                    ("self_assessed", "已自评"), ("assessed", "已考评"),
                                                    ("published", "已公示"), ("objected", "有异议"),
                                                    ("finalized", "已兑现")],
                                           default="not_started", max_length=15, verbose_name="状态"),
                ),
            ],
            database_operations=[_drop(name, column) for name, column in INDEXES],
        ),
        migrations.RunPython(_fillfactor(70), _fillfactor(100)),
    ]
