"""Add sources from article files: HTML pages, PDFs, UTF-8 text files, or folders of them.

    python manage.py add_source page.html [--url https://…]
    python manage.py add_source downloads/            # every file in the folder

Each file is read as the admin's "Add from a file" reads it (archive.intake), checked as every new
source is (the same file, text or URL is refused; the same article or wire copy stops the batch
unless --save-anyway, and is then recorded on the source), and saved with its original bytes
kept under their SHA-256 (archive.originals). All or nothing: one bad file and nothing is added;
the summary names every problem and its file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from tqdm import tqdm

from archive import intake
from archive.importexport.engine import analyze
from archive.models import Source
from archive.originals import KIND_OF_FILE

OPTION_FOR = {"publisher": "--publisher", "origin": "--origin", "url": "--url"}


@dataclass
class Read:
    path: Path
    data: bytes
    extracted: intake.Extracted


class Command(BaseCommand):
    help = "Add sources from HTML, PDF or UTF-8 text files (or folders of them), keeping the original files."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files, or folders whose files are all added.")
        parser.add_argument("--url", default="", help="The page's address (one file only).")
        parser.add_argument("--publisher", default="", help="The outlet, when the file does not name it.")
        parser.add_argument(
            "--origin", default="", help="Who wrote it (a wire agency: AFP, Reuters…). Default: the publisher."
        )
        parser.add_argument(
            "--save-anyway",
            action="store_true",
            help="Add files that look like a source in the archive (the same article, the same wire copy); "
            "the resemblance is recorded on each.",
        )

    def handle(self, *args, **options):
        files = self.files_of(options["paths"])
        if options["url"] and len(files) != 1:
            raise CommandError(f"--url names one page, but {len(files)} files were given.")
        progress = options["verbosity"] >= 1 and sys.stderr.isatty()
        problems: list[str] = []
        read = self.read_all(files, problems, progress)
        added: list[Source] = []
        if not problems:
            added = self.add_all(read, options, problems, progress)
        if problems:
            raise CommandError(
                f"Nothing was added: {len(problems)} problem{'s' if len(problems) != 1 else ''} in "
                f"{len(files)} file{'s' if len(files) != 1 else ''}.\n" + "\n".join(f"  {p}" for p in problems)
            )
        analyze([Source])
        if options["verbosity"] >= 2:
            for source in added:
                flag = ""
                if source.resembles:
                    flag = f" — {source.get_resemblance_display().lower()} as {source.resembles.slug}"
                self.stdout.write(f"added {source.slug} from {source.file_name}{flag}")
        flagged = sum(1 for source in added if source.resembles_id)
        kinds = {}
        for item in read:
            kinds[item.extracted.media_type] = kinds.get(item.extracted.media_type, 0) + 1
        described = ", ".join(f"{n} {intake_kind(kind, n)}" for kind, n in sorted(kinds.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {len(added)} source{'s' if len(added) != 1 else ''} ({described}), "
                f"{sum(len(item.data) for item in read):,} bytes kept as originals; "
                f"{flagged} flagged as resembling a source in the archive. Each origin was proposed as its "
                "publisher unless --origin was given: check them in the admin."
            )
        )

    @staticmethod
    def files_of(paths):
        files = []
        for path in paths:
            if path.is_dir():
                files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder.")
        if not files:
            raise CommandError("No files to add.")
        return files

    @staticmethod
    def read_all(files, problems, progress):
        """Read and extract every file (outside any transaction: this is the slow part)."""
        read = []
        limit = settings.SOURCE_FILE_MAX_BYTES
        for path in tqdm(files, desc="Reading", unit="file", disable=not progress):
            size = path.stat().st_size
            if size > limit:  # refused before it is read
                problems.append(
                    f"{path}: “{path.name}” is {filesizeformat(size)}; source files may be at most "
                    f"{filesizeformat(limit)}."
                )
                continue
            data = path.read_bytes()
            try:
                read.append(Read(path, data, intake.extract(data, path.name)))
            except ValidationError as error:
                problems.extend(f"{path}: {message}" for message in error.messages)
        return read

    @staticmethod
    def add_all(read, options, problems, progress):
        """Check and save every source in one transaction; any problem rolls them all back. Each
        source is compared with those before it in the batch too (they are saved as it goes)."""
        added = []
        with transaction.atomic():
            for item in tqdm(read, desc="Adding", unit="source", disable=not progress):
                source = Source.from_file(item.extracted, item.path.name, options["url"])
                if options["publisher"]:
                    source.publisher = options["publisher"]
                    source.origin = options["publisher"]
                if options["origin"]:
                    source.origin = options["origin"]
                try:
                    source.full_clean()
                except ValidationError as error:
                    for field, errors in error.error_dict.items():
                        where = "" if field == NON_FIELD_ERRORS else f"{field}: "
                        for each in errors:
                            # A field the file did not fill: the option that gives it.
                            missing = each.code in ("blank", "required") and field in OPTION_FOR
                            hint = f" (the file does not say: give {OPTION_FOR[field]})" if missing else ""
                            problems.extend(f"{item.path}: {where}{message}{hint}" for message in each.messages)
                    continue
                findings = source.find_resemblances()
                if findings and not options["save_anyway"]:
                    problems.extend(
                        f"{item.path}: {finding.message} Add it with --save-anyway to record the resemblance."
                        for finding in findings
                    )
                    continue
                source.record_resemblance(findings)
                source.keep_original(item.data, item.extracted.extension)
                source.save()
                added.append(source)
            if problems:
                transaction.set_rollback(True)
        return added


def intake_kind(media_type, n):
    word = KIND_OF_FILE[media_type]
    return word + ("s" if n != 1 else "")
