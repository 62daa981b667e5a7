"""Curators and editors may add, change and remove a citation's figures (archive/roles.py)."""

from django.db import migrations


def update_groups(apps, schema_editor):
    from archive.roles import ensure_groups

    ensure_groups(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("archive", "0005_claims_figures_derived_assessment_site_kind")]

    operations = [migrations.RunPython(update_groups, update_groups)]
