"""身份证号 and 手机号 sealed at rest (docs/security.md S6), step 1 of 3: the columns become text holding sealed
values, and the blind-index column appears (nullable until 0005 has filled it). Also the explicit permission to
export them in full (core.access.EXPLICIT)."""

from django.db import migrations, models

import dangjian.core.fields
import dangjian.core.validators


class Migration(migrations.Migration):
    dependencies = [("orgs", "0003_security_auditor_roles")]

    operations = [
        # The explicit export permission (core.access.EXPLICIT), granted per user by the 安全管理员.
        migrations.AlterModelOptions(
            name="member",
            options={"ordering": ["org__path", "name_pinyin", "id"],
                     "permissions": [("export_personal_data", "导出完整身份证号和手机号")],
                     "verbose_name": "党员", "verbose_name_plural": "党员"},
        ),
        migrations.AddField(
            model_name="member",
            name="id_number_index",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_number",
            field=dangjian.core.fields.EncryptedCharField(
                blind_index="id_number_index", max_length=18,
                validators=[dangjian.core.validators.validate_id_number], verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=dangjian.core.fields.EncryptedCharField(
                blank=True, max_length=11, validators=[dangjian.core.validators.validate_phone],
                verbose_name="手机号"),
        ),
    ]
