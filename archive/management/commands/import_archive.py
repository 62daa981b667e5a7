"""Import a folder of archive CSV files (as written by export_archive), all or nothing.

Files are read in dependency order (sites, actors, sources, monuments, incidents, incident_actors,
citations, figures, images); rows are matched by natural key, so re-running with the same files
changes nothing. An incident's assessment is derived, never read: the import derives it again from
the citations it writes; so are the bounds of when it happened, from its EDTF `occurred`. A folder
of format v2 (incidents.csv with perpetrator and occurred_from/occurred_to/date_precision) is
converted as it is read (docs/csv-format.md, "Files of format v2"). If any row of any file is
wrong, nothing is written and every problem is listed as `file:line: column: what is wrong`.
`--dry-run` reports what would change and writes nothing.

Files of any size: they are read row by row (CSV_IMPORT_MAX_BYTES limits admin uploads only), and
everything is checked before the one write transaction begins, so on SQLite curators are kept
waiting only while rows are written (see archive.importexport.engine). Statistics are refreshed
after writing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.importexport.directory import import_directory

from .export_archive import terminal_progress


class Command(BaseCommand):
    help = "Import the archive's CSV files from DIR (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Folder holding sites.csv, incidents.csv … (any subset).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report what would change; write nothing.")

    def handle(self, *args, **options):
        report = import_directory(
            options["directory"],
            dry_run=options["dry_run"],
            reason="import_archive" + (" --dry-run" if options["dry_run"] else ""),
            progress=terminal_progress(self.stdout),
            keep_rows=options["verbosity"] >= 2,
        )
        if report.problems:
            raise CommandError("Nothing was imported:\n" + "\n".join(f"  {problem}" for problem in report.problems))
        if options["dry_run"] or options["verbosity"] >= 2:
            for table in report.tables:
                self.stdout.write(table.summary())
                for outcome in table.outcomes:
                    if outcome.action != "unchanged":
                        self.stdout.write(f"  {outcome.action} {table.file}:{outcome.line} {outcome.instance}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
