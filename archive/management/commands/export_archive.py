"""Write the whole archive as CSV files (one per table) and a manifest into a folder, in the
current format (version 3: incident_actors.csv, incidents.csv's EDTF `occurred`; docs/csv-format.md).

Safe to re-run: the files are rewritten from the database, in natural-key order, so exporting the
same records twice gives byte-identical files. Synthetic (benchmark) records are never exported:
each table starts from its model's `curated()`.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.importexport.directory import export_directory


def terminal_progress(stdout):
    """A tqdm progress bar factory when attached to a terminal, else None."""
    if not getattr(stdout, "isatty", lambda: False)():
        return None
    from tqdm import tqdm

    return lambda description, total: tqdm(total=total, desc=description, unit="rows", file=sys.stderr, leave=False)


class Command(BaseCommand):
    help = "Export every table of the archive as CSV (with manifest.json) into DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Folder to write the CSV files into (created if needed).")

    def handle(self, *args, **options):
        directory = options["directory"]
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} exists and is not a folder.")
        try:
            report = export_directory(directory, progress=terminal_progress(self.stdout))
        except OSError as error:
            raise CommandError(f"Cannot write into {directory}: {error.strerror}.") from None
        if options["verbosity"] >= 2:
            for name, count in report.counts.items():
                self.stdout.write(f"{name}: {count} rows")
        self.stdout.write(self.style.SUCCESS(report.summary()))
