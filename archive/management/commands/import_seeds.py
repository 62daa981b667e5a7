"""Load the source articles listed in seeds/manifest.csv as sources.

Safe to re-run: sources already stored with the same text are left alone, and a second run says
that it created nothing. All or nothing: any bad row or file stops the import before it writes.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from archive.importers import SeedImportError, import_seeds
from archive.importexport.engine import analyze
from archive.models import Source


class Command(BaseCommand):
    help = "Load the seed articles (seeds/manifest.csv) as sources. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seeds-dir", type=Path, default=Path(settings.BASE_DIR) / "seeds", help="Folder holding manifest.csv."
        )

    def handle(self, *args, **options):
        try:
            report = import_seeds(options["seeds_dir"])
        except SeedImportError as error:
            raise CommandError(
                "Nothing was imported:\n" + "\n".join(f"  {problem}" for problem in error.problems)
            ) from None
        if options["verbosity"] >= 2:
            for slug in report.created:
                self.stdout.write(f"created {slug}")
            for slug in report.updated:
                self.stdout.write(f"updated {slug}")
        if report.created or report.updated:
            analyze([Source])
        for name in report.unlisted_files:
            self.stderr.write(self.style.WARNING(f"{name} is in the seeds folder but not in manifest.csv; skipped."))
        self.stdout.write(self.style.SUCCESS(report.summary()))
