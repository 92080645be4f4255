"""TOTP secrets sealed at rest (docs/security.md S6): the column becomes text holding sealed values, and the
secrets already enrolled are sealed in batches of raw SQL. Reversible (opens them again)."""

from django.db import migrations

import dangjian.core.fields
from dangjian.core import crypto


def seal(apps, schema_editor):
    table = apps.get_model("core", "TOTPDevice")._meta.db_table
    crypto.reseal_table(schema_editor.connection, table, ["secret"], mode="seal")


def open_(apps, schema_editor):
    table = apps.get_model("core", "TOTPDevice")._meta.db_table
    crypto.reseal_table(schema_editor.connection, table, ["secret"], mode="open")


class Migration(migrations.Migration):
    dependencies = [("core", "0005_worker_heartbeat")]

    operations = [
        migrations.AlterField(
            model_name="totpdevice",
            name="secret",
            field=dangjian.core.fields.EncryptedCharField(max_length=64),
        ),
        migrations.RunPython(seal, open_, elidable=False),
    ]
