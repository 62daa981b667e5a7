"""Create the Curator and Editor groups (see archive/roles.py for what each may do)."""

from django.db import migrations


def create_groups(apps, schema_editor):
    from archive.roles import ensure_groups

    ensure_groups(apps, using=schema_editor.connection.alias)


def delete_groups(apps, schema_editor):
    from archive.roles import remove_groups

    remove_groups(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
