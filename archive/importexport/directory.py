"""A whole archive as a folder of CSV files plus a manifest: what export_archive writes and
import_archive reads.

The folder holds one file per table (sites.csv … figures.csv, images.csv, see archive.importexport.tables) and
`manifest.json` with the format's version and each file's row count and SHA-256. Everything is written in
natural-key order with no timestamps of its own, so exporting the same records twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .csvfile import CSVFile, CSVFileError, csv_lines
from .engine import ImportReport, Problem, analyze, import_tables
from .tables import TABLES, TABLES_BY_KEY

MANIFEST = "manifest.json"
FORMAT = "heritage-archive-csv"
# 2: claims (presentation, names_monument, origin, contradicts), figures.csv, a site's kind and
# parent, the assessment derived (ignored on import) with a curator's override.
# 3: incident_actors.csv (an incident's actors with their roles) instead of incidents.csv's
# perpetrator; incidents.csv's `occurred` (EDTF) instead of occurred_from, occurred_to and
# date_precision. A v2 folder still imports: its incidents.csv is converted (see the engine).
FORMAT_VERSION = 4
EXPORT_CHUNK = 2000


@dataclass
class ExportReport:
    directory: Path
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rows = ", ".join(f"{count} {name.removesuffix('.csv')}" for name, count in self.counts.items())
        return f"Exported {rows} to {self.directory}."


class ArchiveDirectoryError(Exception):
    """The folder cannot be imported at all; `problems` says why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def export_directory(directory: Path, progress: Callable | None = None) -> ExportReport:
    """Write every table's CSV and the manifest into `directory` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = ExportReport(directory=directory)
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "files": []}
    for table in TABLES:
        queryset = table.export_queryset()
        bar = progress(table.file_name, queryset.count()) if progress else None
        path = directory / table.file_name
        digest = hashlib.sha256()
        count = -1
        with path.open("wb") as stream:
            for count, record in enumerate(csv_lines(table.header, _rows(table, queryset, bar))):  # noqa: B007
                data = record.encode("utf-8")
                digest.update(data)
                stream.write(data)
        if bar is not None:
            bar.close()
        report.counts[table.file_name] = count
        manifest["files"].append({"name": table.file_name, "rows": count, "sha256": digest.hexdigest()})
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return report


def _rows(table, queryset, bar):
    for obj in queryset.iterator(chunk_size=EXPORT_CHUNK):
        yield table.row(obj)
        if bar is not None:
            bar.update(1)


def read_directory(directory: Path) -> dict[str, CSVFile]:
    """The archive's CSV files found in `directory`, each checked once (readable, UTF-8, matching
    its manifest if any) and then read row by row by the engine: no file is held in memory, and
    there is no size limit (CSV_IMPORT_MAX_BYTES is the admin's upload limit).

    Raises ArchiveDirectoryError with every file-level problem (missing folder, unreadable or
    not-CSV files, checksum mismatch, unknown files); row-level problems are the engine's.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ArchiveDirectoryError([Problem(str(directory), None, None, "no such folder.")])
    manifest = _read_manifest(directory)
    problems = []
    files = {}
    known = {table.file_name for table in TABLES}
    for path in sorted(directory.glob("*.csv")):
        if path.name not in known:
            problems.append(Problem(path.name, None, None, f"not a file of the archive ({', '.join(sorted(known))})."))
    for table in TABLES:
        path = directory / table.file_name
        if not path.is_file():
            if table.file_name in manifest:
                problems.append(Problem(table.file_name, None, None, f"listed in {MANIFEST} but missing."))
            continue
        expected = manifest.get(table.file_name)
        file = CSVFile(table.file_name, path, count=expected.get("rows") if expected else None)
        try:
            digest = file.scan()
        except OSError as error:
            problems.append(Problem(table.file_name, None, None, f"cannot be read ({error.strerror})."))
            continue
        except CSVFileError as error:
            problems.append(Problem(error.file, error.line, None, error.message))
            continue
        if expected is not None and digest != expected.get("sha256"):
            message = (
                f"its SHA-256 does not match {MANIFEST}: the file changed after export "
                f"(if you edited it on purpose, delete {MANIFEST})."
            )
            problems.append(Problem(table.file_name, None, None, message))
            continue
        files[table.key] = file
    if not problems and not files:
        names = ", ".join(t.file_name for t in TABLES)
        problems.append(Problem(str(directory), None, None, f"holds none of the archive's files ({names})."))
    if problems:
        raise ArchiveDirectoryError(problems)
    return files


def _read_manifest(directory: Path) -> dict[str, dict]:
    path = directory / MANIFEST
    if not path.exists():
        return {}
    try:
        with path.open(encoding="utf-8") as stream:
            manifest = json.load(stream)
        files = {entry["name"]: entry for entry in manifest["files"]}
        version = manifest.get("version")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = f"cannot be read ({error}); delete it to import without it."
        raise ArchiveDirectoryError([Problem(MANIFEST, None, None, message)]) from None
    if isinstance(version, int) and version > FORMAT_VERSION:
        message = (
            f"the files are of format version {version}, newer than this archive reads ({FORMAT_VERSION}); "
            "import them with a newer version of the archive."
        )
        raise ArchiveDirectoryError([Problem(MANIFEST, None, None, message)])
    return files


def import_directory(
    directory: Path, *, dry_run: bool = False, user=None, reason: str = "import_archive", progress=None, keep_rows=False
) -> ImportReport:
    """Read and import a folder written by export_directory (or by hand), all or nothing; then
    refresh the database's statistics of what it wrote (a bulk load leaves the planner guessing)."""
    try:
        files = read_directory(directory)
    except ArchiveDirectoryError as error:
        return ImportReport(tables=[], problems=error.problems, dry_run=dry_run)
    report = import_tables(files, dry_run=dry_run, user=user, reason=reason, progress=progress, keep_rows=keep_rows)
    if report.written:
        analyze([TABLES_BY_KEY[key].model for key in files])
    return report
