"""Drop MemberResult's single-column indexes on period and member (the unique (period, member) and the
(member, month) index serve those lookups; each index costs the close). Done with DROP INDEX: on SQLite an
AlterField would rebuild the table and lose the lock triggers of 0003."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = ["appraisal_memberresult_period_id_8dcb0bb2", "appraisal_memberresult_member_id_62e9b688"]


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0003_lock_published_months"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="memberresult", name="member",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="results",
                                            to="orgs.member"),
                ),
                migrations.AlterField(
                    model_name="memberresult", name="period",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE, related_name="results",
                                            to="appraisal.appraisalperiod"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"',
                                  reverse_sql=f'CREATE INDEX "{name}" ON "appraisal_memberresult" '
                                              f'("{name.split("_")[2]}_id")')
                for name in INDEXES
            ],
        ),
    ]
