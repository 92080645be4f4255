from django.db import migrations

TYPES = [("production", "生产类（含供电所类）", 1), ("management", "管理类", 2), ("business", "经营类", 3)]


def seed(apps, schema_editor):
    OrgType = apps.get_model("orgs", "OrgType")
    for code, name, order in TYPES:
        OrgType.objects.get_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
