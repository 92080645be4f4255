"""安全管理员 and 审计管理员 join the role choices (issue 6: separable 三员 duties)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_seed_org_types")]

    operations = [
        migrations.AlterField(
            model_name="rolegrant",
            name="role",
            field=models.CharField(
                choices=[("admin", "系统管理员"), ("staff", "党建管理员"), ("assessor", "考评员"),
                         ("secretary", "支部书记/支委"), ("member", "党员"), ("security", "安全管理员"),
                         ("auditor", "审计管理员")],
                max_length=12, verbose_name="角色"),
        ),
    ]
