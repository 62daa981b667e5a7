"""Loading source texts into the archive. Commands are thin wrappers around these functions."""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .duplicates import url_key
from .models import DatePrecision, Source, SourceKind
from .models.sources import DUPLICATE_TEXT, DUPLICATE_URL, duplicate_error, sha256_of
from .texts import normalise_received_text

MANIFEST_COLUMNS = (
    "file",
    "slug",
    "title",
    "kind",
    "publisher",
    "origin",
    "byline",
    "url",
    "published_on",
    "date_precision",
    "date_note",
    "language",
)
REQUIRED_VALUES = ("file", "slug", "title", "publisher", "origin", "language")
METADATA_FIELDS = (
    "title",
    "kind",
    "publisher",
    "origin",
    "byline",
    "url",
    "published_on",
    "date_precision",
    "date_note",
    "language",
)


class SeedImportError(Exception):
    """Bad seeds: `problems` lists every one as `where: what is wrong`. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class SeedImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unlisted_files: list[str] = field(default_factory=list)
    # "slug: this looks like the same article as …": created, with the resemblance recorded.
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.created and not self.updated:
            return f"Nothing to do: all {len(self.unchanged)} seed sources are already in the archive."
        summary = (
            f"{len(self.created)} source(s) created, {len(self.updated)} updated, {len(self.unchanged)} unchanged."
        )
        if self.warnings:
            flagged = "\n".join(f"  {warning}" for warning in self.warnings)
            summary += f" {len(self.warnings)} look like sources already in the archive (recorded):\n{flagged}"
        return summary


@dataclass
class _SeedRow:
    line: int
    values: dict
    text: str


def import_seeds(seeds_dir: Path, reason: str = "import_seeds") -> SeedImportReport:
    """Load every file listed in `seeds_dir/manifest.csv` as a Source, all or nothing.

    Re-running is safe: a source whose slug and text are already stored is left alone (its
    metadata is refreshed from the manifest); a stored text is never replaced.
    """
    seeds_dir = Path(seeds_dir)
    rows = _read_manifest(seeds_dir)
    report = SeedImportReport()
    listed = {row.values["file"] for row in rows}
    report.unlisted_files = sorted(
        path.name for path in seeds_dir.glob("*.txt") if path.is_file() and path.name not in listed
    )

    problems = []
    existing = {source.slug: source for source in Source.objects.filter(slug__in=[r.values["slug"] for r in rows])}
    seen_texts: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    for row in rows:
        where = f"manifest.csv:{row.line}"
        source = existing.get(row.values["slug"])
        digest = sha256_of(row.text)
        if source is not None and source.sha256 != digest:
            problems.append(
                f"{where}: file: {row.values['file']} differs from the text already stored "
                f"for source “{source.slug}”; a received text never changes — give the new version its own slug."
            )
        if digest in seen_texts:
            problems.append(f"{where}: file: {row.values['file']} has the same text as line {seen_texts[digest]}.")
        seen_texts.setdefault(digest, row.line)
        key = url_key(row.values["url"])
        if key and key in seen_urls:
            problems.append(f"{where}: url: the same URL as line {seen_urls[key]}.")
        elif key:
            seen_urls[key] = row.line
        if source is None:
            # The model's own check and message (Source.check_not_duplicate).
            twin = Source.objects.filter(sha256=digest).first()
            if twin is not None:
                problems.append(f"{where}: file: {row.values['file']}: {_message(DUPLICATE_TEXT, twin)}")
        same_url = Source.objects.with_url(row.values["url"]).exclude(slug=row.values["slug"]).first()
        if same_url is not None:
            problems.append(f"{where}: url: {_message(DUPLICATE_URL, same_url)}")
    if problems:
        raise SeedImportError(problems)

    with transaction.atomic():
        for row in rows:
            source = existing.get(row.values["slug"])
            metadata = {name: row.values[name] for name in METADATA_FIELDS}
            if source is None:
                source = Source(
                    slug=row.values["slug"], received_text=row.text, file_name=row.values["file"], **metadata
                )
                source._change_reason = reason
                findings = source.find_resemblances()
                source.record_resemblance(findings)
                source.save()
                report.created.append(source.slug)
                report.warnings += [f"{source.slug}: {finding.message}" for finding in findings[:1]]
                continue
            changed = [name for name, value in metadata.items() if getattr(source, name) != value]
            if changed:
                for name in changed:
                    setattr(source, name, metadata[name])
                source._change_reason = f"{reason}: manifest changed {', '.join(changed)}"
                source.save()
                report.updated.append(source.slug)
            else:
                report.unchanged.append(source.slug)
    return report


def _read_manifest(seeds_dir: Path) -> list[_SeedRow]:
    manifest = seeds_dir / "manifest.csv"
    if not seeds_dir.is_dir():
        raise SeedImportError([f"{seeds_dir}: the seeds folder does not exist."])
    try:
        raw = manifest.read_bytes()
    except FileNotFoundError:
        raise SeedImportError([f"{manifest}: the manifest is missing."]) from None
    except OSError as error:
        raise SeedImportError([f"{manifest}: cannot be read ({error.strerror})."]) from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SeedImportError([f"manifest.csv: not UTF-8 (byte {error.start})."]) from None

    reader = csv.DictReader(content.splitlines())
    header = reader.fieldnames or []
    missing = [column for column in MANIFEST_COLUMNS if column not in header]
    if missing:
        raise SeedImportError([f"manifest.csv:1: missing column(s): {', '.join(missing)}."])

    problems: list[str] = []
    rows: list[_SeedRow] = []
    seen_slugs: dict[str, int] = {}
    seen_files: dict[str, int] = {}
    for line, record in enumerate(reader, start=2):
        values = {key: (value or "").strip() for key, value in record.items() if key is not None}
        if None in record:
            problems.append(f"manifest.csv:{line}: the row has more cells than the header.")
            continue
        row_problems = _check_manifest_values(line, values)
        for key, seen in (("slug", seen_slugs), ("file", seen_files)):
            if values.get(key) in seen:
                row_problems.append(
                    f"manifest.csv:{line}: {key}: “{values[key]}” is already on line {seen[values[key]]}."
                )
            elif values.get(key):
                seen[values[key]] = line
        text = None
        if values.get("file"):
            path = seeds_dir / values["file"]
            if Path(values["file"]).name != values["file"]:
                row_problems.append(
                    f"manifest.csv:{line}: file: “{values['file']}” must be a file name inside the seeds folder."
                )
            elif not path.is_file():
                row_problems.append(f"manifest.csv:{line}: file: {values['file']} does not exist in {seeds_dir}.")
            else:
                try:
                    text = normalise_received_text(path.read_bytes().decode("utf-8"))
                except OSError as error:
                    row_problems.append(
                        f"manifest.csv:{line}: file: {values['file']} cannot be read ({error.strerror})."
                    )
                except UnicodeDecodeError as error:
                    row_problems.append(
                        f"manifest.csv:{line}: file: {values['file']} is not UTF-8 text (byte {error.start})."
                    )
                else:
                    if not text.strip():
                        row_problems.append(f"manifest.csv:{line}: file: {values['file']} is empty.")
        problems.extend(row_problems)
        if not row_problems:
            rows.append(_SeedRow(line=line, values=values, text=text))
    if not problems and not rows:
        problems.append("manifest.csv: lists no files.")
    if problems:
        raise SeedImportError(problems)
    return rows


def _message(template: str, existing: Source) -> str:
    return "; ".join(duplicate_error(template, existing).messages)


def _check_manifest_values(line: int, values: dict) -> list[str]:
    problems = [f"manifest.csv:{line}: {name}: required." for name in REQUIRED_VALUES if not values.get(name)]
    values["kind"] = values.get("kind") or SourceKind.NEWS_ARTICLE
    if values["kind"] not in SourceKind.values:
        problems.append(f"manifest.csv:{line}: kind: “{values['kind']}” is not one of {', '.join(SourceKind.values)}.")
    values["date_precision"] = values.get("date_precision") or DatePrecision.DAY
    if values["date_precision"] not in DatePrecision.values:
        problems.append(
            f"manifest.csv:{line}: date_precision: “{values['date_precision']}” is not one of "
            f"{', '.join(DatePrecision.values)}."
        )
    raw_date = values.get("published_on", "")
    if raw_date:
        try:
            values["published_on"] = datetime.date.fromisoformat(raw_date)
        except ValueError:
            problems.append(f"manifest.csv:{line}: published_on: “{raw_date}” is not a date (YYYY-MM-DD).")
    else:
        values["published_on"] = None
    return problems
