"""Step 3 of 3: the blind index is required and unique — one member per ID number, enforced by the database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orgs", "0005_member_encrypt_rows")]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="id_number_index",
            field=models.CharField(editable=False, max_length=32, unique=True),
        ),
    ]
