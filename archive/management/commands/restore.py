"""Restore a backup written by `manage.py backup` into an empty, freshly migrated database.

Refuses (and changes nothing) when the database already holds records, when the backup was made
with other migrations, or when a member of the backup does not match its SHA-256. All or nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup FILE (from `manage.py backup`) into an empty, freshly migrated database."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            counts = restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if options["verbosity"] >= 2:
            for label, count in counts.items():
                self.stdout.write(f"{label}: {count}")
        self.stdout.write(
            self.style.SUCCESS(f"Restored {sum(counts.values())} rows of {len(counts)} models from {path}.")
        )
