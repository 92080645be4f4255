"""Step 2 of 3: seal every member's 身份证号 and 手机号 with the first configured key and fill the blind index, in
batches of raw SQL (SQLite and PostgreSQL alike). Reversible: going back opens them to clear text again."""

from django.db import migrations

from dangjian.core import crypto

COLUMNS = ["id_number", "phone"]
INDEX = ("id_number_index", "id_number")


def seal(apps, schema_editor):
    table = apps.get_model("orgs", "Member")._meta.db_table
    crypto.reseal_table(schema_editor.connection, table, COLUMNS, mode="seal", index=INDEX)


def open_(apps, schema_editor):
    table = apps.get_model("orgs", "Member")._meta.db_table
    crypto.reseal_table(schema_editor.connection, table, COLUMNS, mode="open", index=INDEX)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0004_member_encrypted_fields")]

    operations = [migrations.RunPython(seal, open_, elidable=False)]
