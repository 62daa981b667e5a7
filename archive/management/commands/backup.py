"""Write a full backup of the archive to one zip file: every record and its history, users, groups
and permissions, who published, the admin log, and the stored image files (see archive/backup.py).

It only reads the database, so it is safe to run at any time; FILE is replaced only once the new
backup is complete.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the whole archive (database rows and stored files) into one zip FILE."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The zip file to write, e.g. archive-2016-03-27.zip.")

    def handle(self, *args, **options):
        path = options["file"]
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent}: no such folder.")
        try:
            report = backup(path)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from None
        for name in report.missing_files:
            self.stderr.write(self.style.WARNING(f"{name} is referred to but not in storage; not in the backup."))
        if options["verbosity"] >= 2:
            for label, count in report.counts.items():
                self.stdout.write(f"{label}: {count}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
