"""The shared cache's tables (settings.CACHES: `archive_cache` unless Redis is configured, and the
whole-archive summaries' `archive_summaries`), created by `migrate` itself, so that a deployment
that only migrates (as every setup here does) does not answer 500 for want of them. Idempotent: it
is `createcachetable`, which leaves existing tables alone; nothing to undo."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0012_full_text_search"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
    ]
