"""The bulk import engine: CSV tables in, every problem listed or everything written.

`import_tables` is what the admin resources, `import_archive` and the benchmark call. It works in
two phases, so that on SQLite the write lock is held only while rows are actually written:

1. Plan, outside any transaction, reading each file row by row in chunks of CHUNK_ROWS: parse
   every cell, resolve natural keys in bulk (one query per ~500 keys, never one per row), apply
   the model's rules, and decide per row whether it is new, updated or unchanged. What is to be
   written goes, chunk by chunk, to a temporary spool file on disk; memory keeps only what rules
   across rows need (each file's keys and line numbers, the texts' hashes). Every problem of every
   file is collected as `file:line: column: what`.
2. If nothing is wrong, read the spool back and write everything in ONE transaction (all or
   nothing), table by table in dependency order, in batches, with history rows (simple-history's
   bulk helpers) attributed to the user or carrying the command's change reason. Rules that need
   the written rows (a published incident has a supporting citation and an actor) are checked
   inside that transaction, with the model layer's own functions and messages; a dry run always
   rolls back.

A format-v2 incidents.csv (perpetrator, occurred_from, occurred_to, date_precision) is converted as
it is read: its dates become `occurred` (`convert_incidents`), its perpetrators rows of
incident_actors (_LegacyActors), planned and written like that file's.

Model rules are applied here, in bulk, rather than through `full_clean()`, which costs queries
per row (Incident.clean, Source.clean, every CheckConstraint). The database constraints remain the
last word: if one refuses — or a curator saved a clashing record between the two phases — the
whole import is rolled back with a message, never a traceback.
"""

from __future__ import annotations

import csv as csvlib
import pickle
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .. import search
from ..models import ActorRole, Incident, Site, Source
from ..models.identifiers import reserve_numbers
from ..models.incidents import NEEDS_ACTOR, NEEDS_CITATION, can_publish, check_published_keep_citations
from .csvfile import CSVFile, CSVFileError, CSVTable
from .rules import NEW, UNCHANGED, UPDATE, TableRules, chunks
from .tables import (
    LIST_SEPARATOR,
    SHA256,
    TABLES,
    TABLES_BY_KEY,
    V2_DATE_COLUMNS,
    CellError,
    CitationReference,
    ManyReference,
    Reference,
    Table,
)

BATCH_SIZE = 500
# Rows planned at a time: what the plan holds in memory besides the keys.
CHUNK_ROWS = 2000
# Stored rows looked up while planning are cached up to this many per table, then forgotten.
CACHE_LIMIT = 20_000
# SQLite's page cache while writing (KiB): most of the write transaction's speed-up for a fixed
# amount of memory.
WRITE_CACHE_KIB = 64 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self):
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class RowOutcome:
    """What an import did (or would do) with one row; kept for the admin's preview."""

    line: int
    action: str
    instance: object
    before: dict[str, str] | None = None


@dataclass
class TableReport:
    table: Table
    file: str
    rows: int = 0
    # Rows converted from another file (a v2 incidents.csv's perpetrators), not a file of the import.
    converted: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.file}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class ImportReport:
    tables: list[TableReport]
    problems: list[Problem]
    dry_run: bool
    # Seconds spent planning (no transaction) and writing (the one write transaction).
    timings: dict[str, float] = field(default_factory=dict)
    # What is imported all the same, with a flag recorded: a source that looks like one the
    # archive holds (the same article, the same wire copy).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def totals(self) -> tuple[int, int, int]:
        return (
            sum(t.new for t in self.tables),
            sum(t.updated for t in self.tables),
            sum(t.unchanged for t in self.tables),
        )

    def summary(self) -> str:
        files = len([t for t in self.tables if not t.converted])
        rows = sum(t.rows for t in self.tables)
        if self.problems:
            return f"Nothing imported: {len(self.problems)} problem(s)."
        new, updated, unchanged = self.totals()
        verb = "Would import" if self.dry_run else "Imported"
        tail = " Dry run: nothing was written." if self.dry_run else ""
        summary = f"{verb} {files} file(s), {rows} row(s): {new} new, {updated} updated, {unchanged} unchanged.{tail}"
        if self.warnings:
            lines = "\n".join(f"  warning: {warning}" for warning in self.warnings)
            summary += f" {len(self.warnings)} warning(s), recorded on the rows:\n{lines}"
        return summary


class _Spool:
    """Planned chunks, pickled to a temporary file and read back in order by the write phase."""

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="heritage-import-")

    def dump(self, chunk) -> int:
        offset = self.file.tell()
        pickle.dump(chunk, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        return offset

    def load(self, offset: int):
        self.file.seek(offset)
        return pickle.load(self.file)

    def close(self):
        self.file.close()


class _Texts:
    """The received texts of the sources being imported, on disk, for anchoring the citations
    of the same import (a temporary SQLite file, so that they are not all held in memory)."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory(prefix="heritage-import-")
        self.db = sqlite3.connect(Path(self.folder.name) / "texts.sqlite3")
        self.db.execute("CREATE TABLE text (slug TEXT PRIMARY KEY, body TEXT)")

    def put(self, slug: str, text: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO text VALUES (?, ?)", (slug, text))

    def get(self, slugs: Iterable[str]) -> dict[str, str]:
        found = {}
        for chunk in chunks(sorted(set(slugs))):
            marks = ", ".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT slug, body FROM text WHERE slug IN ({marks})", chunk))  # noqa: S608
        return found

    def close(self):
        self.db.close()
        self.folder.cleanup()


class _LegacyActors:
    """The incident_actors rows of a format-v2 incidents.csv: each row's perpetrator, as an actor
    with role perpetrator. Kept on disk until the incident_actors table is planned, and read then
    like a file whose lines are incidents.csv's (problems name incidents.csv and its columns)."""

    header = ["incident", "actor", "role"]
    renames = {"incident": "slug", "actor": "perpetrator", "role": "perpetrator"}

    def __init__(self, name: str):
        self.name = name
        self.report_name = f"incident_actors.csv (from the perpetrator column of {name})"
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="", prefix="heritage-import-")
        self.writer = csvlib.writer(self.file)
        self.count = 0

    def add(self, line: int, incident: str, actor: str) -> None:
        self.writer.writerow([line, incident, actor])
        self.count += 1

    @property
    def rows(self):
        self.file.flush()
        self.file.seek(0)
        for line, incident, actor in csvlib.reader(self.file):
            yield int(line), [incident, actor, ActorRole.PERPETRATOR.value]

    def close(self):
        self.file.close()


class _Plan:
    """One table's rows as they are planned: counts, keys, and the spooled chunks to write."""

    def __init__(self, table: Table, csv):
        self.table = table
        self.csv = csv
        self.report = TableReport(table=table, file=getattr(csv, "report_name", csv.name))
        self.report.converted = isinstance(csv, _LegacyActors)
        # Problems name the file the rows come from, and its columns (see _LegacyActors).
        self.problem_file = csv.name
        self.renames = getattr(csv, "renames", {})
        # Columns the builder sets that the file does not have: `occurred` of a v2 incidents.csv.
        self.extra_columns: list = []
        self.seen: dict = {}  # natural key -> line: every key of the file (duplicates, references)
        self.published: dict[str, int] = {}  # slug -> line of incidents that end published
        self.offsets: list[int] = []  # spooled chunks
        self.monuments: dict[int, list] = {}  # id(incident) -> monuments, when they are written
        self.touched_incidents: set[int] = set()  # incidents whose stored citations change
        # References within the file that may point further down it (a site's parent, the citation
        # a citation contradicts): (line, column, key), checked once the whole file is planned.
        self.forward: list[tuple[int, str, object]] = []
        # The natural keys of the new rows, in order, when rows of this import refer to them before
        # they are written: their pks are then reserved before the first row is (see `run`).
        self.new_keys: list | None = None
        self.ids: list[int] | None = None
        self.next_id = 0
        self.start_chunk()

    def start_chunk(self):
        self.new: list = []  # (line, values, pending references, monuments)
        self.changed: list = []
        self.changed_fields: set[str] = set()


class _NoProgress:
    def update(self, n):
        pass

    def close(self):
        pass


def import_tables(
    files: dict[str, CSVTable | CSVFile],
    *,
    dry_run: bool = False,
    user=None,
    reason: str = "CSV import",
    keep_rows: bool = False,
    progress: Callable | None = None,
) -> ImportReport:
    """Import `files` ({table key: CSVTable or CSVFile}, e.g. {"incidents": …}) all or nothing.

    `user` is who imports (None for a command: every status allowed); `reason` is the history
    change reason; `keep_rows` keeps one RowOutcome per row (the admin's preview: small files);
    `progress(description, total)` returns a tqdm-like bar.
    """
    unknown = sorted(set(files) - set(TABLES_BY_KEY))
    if unknown:
        raise ValueError(f"Unknown tables: {', '.join(unknown)}")
    run = _Import(files, dry_run=dry_run, user=user, reason=reason[:100], keep_rows=keep_rows, progress=progress)
    try:
        return run.run()
    finally:
        run.close()


def analyze(models) -> None:
    """Refresh the query planner's statistics for `models`' tables after a bulk load.

    SQLite never gathers statistics by itself: without them a download of 20,000 sources takes
    minutes instead of seconds. `analysis_limit` keeps it to a sample, so it costs well under a
    second even at a million rows (it takes the write lock, briefly, to store them)."""
    tables = sorted({model._meta.db_table for model in models} | {m._meta.db_table for m in _related_tables(models)})
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")


def _related_tables(models):
    """The history and many-to-many tables that are loaded with `models`."""
    for model in models:
        history = getattr(model, "history", None)
        if history is not None:
            yield history.model
        for many in model._meta.local_many_to_many:
            yield many.remote_field.through


class _Import(TableRules):
    def __init__(self, files, *, dry_run, user, reason, keep_rows, progress):
        self.files = files
        self.dry_run = dry_run
        self.user = user
        self.reason = reason
        self.keep_rows = keep_rows
        self.progress = progress or (lambda description, total: _NoProgress())
        self.can_publish = user is None or can_publish(user)
        self.now = timezone.now()  # the import's time: created_at of its new rows, their history_date
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        # Stored rows looked up by natural key (a cache, bounded by CACHE_LIMIT).
        self.objects: dict[str, dict[str, object]] = {table.key: {} for table in TABLES}
        # The import's own rows by natural key: their pk, or None while they are new.
        self.imported: dict[str, dict[str, int | None]] = {table.key: {} for table in TABLES}
        self.imported_digests: dict[str, str] = {}  # SHA-256 of an imported source's text -> its slug
        # Written rows' pks by natural key, for the tables later files of this import refer to.
        self.written: dict[str, dict[str, int]] = {table.key: {} for table in TABLES}
        self.broken: set[str] = set()
        self.assess: set[int] = set()  # incidents whose assessment is derived again after writing
        # Incidents whose search documents are rebuilt after writing (bulk writes send no signals),
        # and the sites, monuments and actors updated (their names may have changed).
        self.search_ids: set[int] = set()
        self.renamed: dict[str, set[int]] = {}
        self.stored_monuments: dict[int, set[int]] | None = None
        self.stored_monument_slugs: dict[int, list[str]] = {}
        self.spool = _Spool()
        self.texts = _Texts() if "citations" in files and "sources" in files else None
        # Tables later files refer to (an empty file, as its manifest says, refers to nothing).
        self.referred = {
            column.target
            for key, csv in files.items()
            if csv.count != 0
            for column in TABLES_BY_KEY[key].columns
            if isinstance(column, (Reference, ManyReference))
        }
        # A format-v2 incidents.csv: its perpetrators become incident_actors rows (_LegacyActors).
        incidents = files.get("incidents")
        self.legacy_actors = None
        if incidents is not None and "perpetrator" in incidents.header and "incident_actors" not in files:
            self.legacy_actors = _LegacyActors(incidents.name)
            self.referred |= {"incidents", "actors"}
        # EDTF value -> (value, earliest, latest, problem): Incident.set_bounds once per distinct value.
        self.bounds: dict[str, tuple] = {}

    def close(self):
        self.spool.close()
        if self.texts is not None:
            self.texts.close()
        if self.legacy_actors is not None:
            self.legacy_actors.close()

    # -- entry point ---------------------------------------------------------------------------

    def run(self) -> ImportReport:
        started = time.perf_counter()
        plans = []
        counts = [csv.count for csv in self.files.values()]
        bar = self.progress("Checking", None if None in counts else sum(counts))
        for table in TABLES:
            csv = self.files.get(table.key)
            if csv is None and table.key == "incident_actors" and self.legacy_actors and self.legacy_actors.count:
                csv = self.legacy_actors
            if csv is not None:
                plans.append(self.plan(table, csv, bar))
        bar.close()
        # Each file's problems in line order (stable: a line's cell problems before its rules').
        order = {}
        for index, plan in enumerate(plans):
            order.setdefault(plan.problem_file, index)
        self.problems.sort(key=lambda problem: (order.get(problem.file, -1), problem.line or 0))
        report = ImportReport(
            tables=[plan.report for plan in plans], problems=self.problems, dry_run=self.dry_run, warnings=self.warnings
        )
        report.timings["plan"] = time.perf_counter() - started
        if self.problems:
            return report
        # What only planning needed goes before writing, which keeps pks of its own.
        for plan in plans:
            plan.seen = {}
        self.imported, self.imported_digests, self.objects = {}, {}, {}
        bar = self.progress("Writing", sum(plan.report.rows for plan in plans))
        started = time.perf_counter()
        try:
            with _large_cache(), transaction.atomic():
                for plan in plans:
                    self.reserve(plan)
                    for offset in plan.offsets:
                        self.write(plan, self.spool.load(offset))
                    bar.update(plan.report.rows)
                self.refresh_assessments()
                self.reindex_search()
                self.store_sketches()
                self.check_published(plans)
                if self.problems or self.dry_run:
                    transaction.set_rollback(True)
        except DatabaseError as error:
            self.problems.append(
                Problem(
                    ", ".join(p.report.file for p in plans), None, None, f"the database refused the import ({error})."
                )
            )
        finally:
            bar.close()
        report.timings["write"] = time.perf_counter() - started
        return report

    def reserve(self, plan: _Plan) -> None:
        """The pks of a table's new rows, before any is written, when rows refer to rows further
        down the same file (or a later table to rows without a slug): the references are then
        written with the rows, and their history rows record them."""
        if plan.new_keys is None or not plan.new_keys or not self.fast(plan):
            return
        plan.ids = _reserve_ids(plan.table.model, len(plan.new_keys))
        self.written[plan.table.key].update(zip(plan.new_keys, plan.ids, strict=True))
        plan.new_keys = None

    def refresh_assessments(self) -> None:
        """Derive the assessments of the incidents whose citations this import wrote and of the
        incidents it updated (new incidents were derived while planning, from no citations), in
        the write transaction: a few queries per 1,000 incidents."""
        ids = sorted(self.assess)
        for chunk in chunks(ids, 1000):
            Incident.objects.filter(pk__in=chunk).refresh_assessments()

    def reindex_search(self) -> None:
        """Rebuild the search documents (archive.search) of the incidents this import wrote, whose
        citations or actors it wrote, or whose site, monuments or actors it updated."""
        ids = set(self.search_ids)
        for key, relation in (("sites", "site"), ("monuments", "monuments"), ("actors", "actor_links__actor")):
            for chunk in chunks(sorted(self.renamed.get(key, ()))):
                referring = Incident._base_manager.filter(**{f"{relation}__in": chunk}).values_list("pk", flat=True)
                ids.update(referring)
        search.reindex(ids)

    def note_for_search(self, key: str, incident_ids: Iterable[int]) -> None:
        if key in SEARCHED_TABLES:
            self.search_ids.update(incident_ids)

    def problem(self, plan: _Plan, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(plan.problem_file, line, plan.renames.get(column, column), message))

    def warning(self, plan: _Plan, line: int | None, column: str | None, message: str) -> None:
        self.warnings.append(Problem(plan.problem_file, line, plan.renames.get(column, column), message))

    # -- phase 1: plan ---------------------------------------------------------------------------

    def plan(self, table: Table, csv, bar) -> _Plan:
        plan = _Plan(table, csv)
        columns = self.check_header(plan)
        if columns is None:
            self.broken.add(table.key)
            return plan
        builder = getattr(self, f"build_{table.key}", self.build_by_slug)
        begin, finish = getattr(self, f"begin_{table.key}", None), getattr(self, f"finish_{table.key}", None)
        convert = getattr(self, f"convert_{table.key}", None) if any(c.legacy for c in columns) else None
        if begin is not None:
            begin(plan)
        width = len(columns)
        built = [column for column in columns if not column.legacy] + plan.extra_columns
        rows = []
        try:
            for line, cells in csv.rows:
                plan.report.rows += 1
                if len(cells) != width:
                    self.problem(plan, line, None, f"the row has {len(cells)} cells; the header has {width}.")
                    continue
                values = {}
                for column, raw in zip(columns, cells, strict=True):
                    try:
                        values[column.name] = column.parse(raw)
                    except CellError as error:
                        self.problem(plan, line, column.name, str(error))
                if convert is not None:
                    convert(plan, line, values)
                rows.append((line, values))
                if len(rows) >= CHUNK_ROWS:
                    self.plan_chunk(plan, builder, built, rows, bar)
                    rows = []
        except CSVFileError as error:
            self.problems.append(Problem(error.file, error.line, None, error.message))
            self.broken.add(table.key)
            return plan
        self.plan_chunk(plan, builder, built, rows, bar)
        if finish is not None:
            finish(plan)
        return plan

    def plan_chunk(self, plan: _Plan, builder, columns, rows, bar) -> None:
        for cache in self.objects.values():
            if len(cache) > CACHE_LIMIT:
                cache.clear()
        builder(plan, columns, rows)
        if plan.new or plan.changed:
            if not self.problems:  # once anything is wrong, nothing will be written
                plan.offsets.append(self.spool.dump((plan.new, plan.changed, sorted(plan.changed_fields))))
            plan.start_chunk()
        bar.update(len(rows))

    def check_header(self, plan: _Plan):
        header = plan.csv.header
        table = plan.table
        ok = True
        seen = set()
        for name in header:
            if name in seen:
                self.problem(plan, 1, name, "the column appears twice in the header.")
                ok = False
            seen.add(name)
            if name in table.legacy:
                ok = self.check_legacy_column(plan, name) and ok
            elif name not in table.by_name:
                self.problem(
                    plan, 1, name or "(blank)", f"unknown column; {plan.table.file_name} has {', '.join(table.header)}."
                )
                ok = False
        for name in table.required_columns:
            if name not in seen:
                self.problem(plan, 1, name, "missing column (required).")
                ok = False
        if ok and plan.table.key == "images" and not {"monument", "incident"} & seen:
            self.problem(plan, 1, "monument", "missing column: an image needs a monument or an incident column.")
            ok = False
        if ok and plan.table.key == "incidents" and seen & set(V2_DATE_COLUMNS):
            plan.extra_columns = [table.by_name["occurred"]]  # converted from the v2 dates
        return [table.by_name.get(name) or table.legacy[name] for name in header] if ok else None

    def check_legacy_column(self, plan: _Plan, name: str) -> bool:
        """A column of format v2 (incidents.csv's perpetrator and dates) is read and converted,
        unless the import also has what replaced it."""
        header = plan.csv.header
        if name == "perpetrator" and "incident_actors" in self.files:
            message = (
                "a column of format v2; this import has incident_actors.csv, where format v3 names an "
                "incident's actors with their roles: give the perpetrator there, with role perpetrator."
            )
        elif name in V2_DATE_COLUMNS and "occurred" in header:
            message = "a column of format v2, which “occurred” (EDTF) replaces in v3: give one or the other."
        elif name in V2_DATE_COLUMNS and "occurred_from" not in header:
            message = "a column of format v2 that needs occurred_from beside it (or give “occurred”, in EDTF)."
        else:
            return True
        self.problem(plan, 1, name, message)
        return False

    def fetch(self, model, lookup: str, keys: Iterable[str], **related) -> dict:
        found = {}
        keys = sorted(set(keys))
        queryset = model._default_manager.all()
        if related.get("select_related"):
            queryset = queryset.select_related(*related["select_related"])
        for chunk in chunks(keys):
            for obj in queryset.filter(**{f"{lookup}__in": chunk}):
                found[getattr(obj, lookup)] = obj
        return found

    def resolve(self, target: str, keys: Iterable[str]) -> None:
        """Cache in self.objects the stored rows of `target` that `keys` name and the import does not hold."""
        known, imported = self.objects[target], self.imported[target]
        missing = {
            key
            for key in keys
            if key is not None and key not in known and key not in imported and key not in self.imported_digests
        }
        if not missing:
            return
        model = TABLES_BY_KEY[target].model
        if target == "sources":
            found = self.fetch(Source, "sha256", [key for key in missing if SHA256.match(key)])
            for digest, source in found.items():
                known.setdefault(digest, source)
            missing -= set(found)
        known.update(self.fetch(model, "slug", missing))

    def lookup(self, plan: _Plan, line: int, column: Reference, key: str | None):
        """The row `key` names: stored, or of this import (then a stand-in holding its slug and,
        once stored, its pk; the write phase fills in the pks of new rows)."""
        if key is None:
            return None
        target = column.target
        slug = self.imported_digests.get(key, key) if target == "sources" else key
        if slug in self.imported[target]:
            return TABLES_BY_KEY[target].model(pk=self.imported[target][slug], slug=slug)
        obj = self.objects[target].get(key)
        if obj is None and target == plan.table.key and plan.table.natural_key == ("slug",):
            # A row further down the same file (a site's parent): a stand-in, checked at the end.
            plan.forward.append((line, column.name, key))
            return TABLES_BY_KEY[target].model(slug=key)
        if obj is None and target not in self.broken:
            table = TABLES_BY_KEY[target]
            what = "slug or SHA-256" if target == "sources" else "slug"
            self.problem(
                plan,
                line,
                column.name,
                f"no {table.model._meta.verbose_name} with {what} “{key}” in the archive or in {table.file_name}.",
            )
        return obj

    def outcome(self, plan: _Plan, line: int, obj, action: str, before: dict | None = None) -> None:
        report = plan.report
        if action == NEW:
            report.new += 1
        elif action == UPDATE:
            report.updated += 1
        else:
            report.unchanged += 1
        if self.keep_rows:
            report.outcomes.append(RowOutcome(line=line, action=action, instance=obj, before=before))

    def snapshot(self, plan: _Plan, obj) -> dict[str, str] | None:
        """The stored row as exported, before the import changes it (for the admin's preview)."""
        if not self.keep_rows or obj.pk is None:
            return None
        values = {}
        for column in plan.table.columns:
            if isinstance(column, ManyReference):
                values[column.name] = LIST_SEPARATOR.join(sorted(self.stored_monument_slugs.get(obj.pk, ())))
            else:
                values[column.name] = column.export(obj)
        return values

    def apply(self, plan: _Plan, line: int, obj, columns, values, *, skip=()) -> list[str]:
        """Set the row's values on `obj`; return the attnames that changed."""
        changed = []
        new = obj.pk is None
        for column in columns:
            name = column.name
            if name in skip or name not in values or isinstance(column, (ManyReference, CitationReference)):
                continue
            if column.derived or column.legacy:
                continue
            if isinstance(column, Reference):
                target = self.lookup(plan, line, column, values[name])
                target_pk = target.pk if target is not None else None
                if target is None and values[name] is None and not new and getattr(obj, column.attname) is None:
                    continue  # an empty cell, and none stored
                if new or target_pk is None or getattr(obj, column.attname) != target_pk:
                    if target is not None or column.nullable:
                        setattr(obj, column.field.name, target)
                    changed.append(column.attname)
            else:
                value = values[name]
                if new or column.value_of(obj) != value:
                    setattr(obj, column.attname, value)
                    changed.append(column.attname)
        return changed

    def create(self, plan: _Plan, line: int, model, columns, values, *, skip=()):
        """A new instance from the row's values (one constructor call: imports are mostly new rows)."""
        fields = {}
        for column in columns:
            name = column.name
            if name in skip or name not in values or isinstance(column, (ManyReference, CitationReference)):
                continue
            if column.derived or column.legacy:
                continue
            if isinstance(column, Reference):
                target = self.lookup(plan, line, column, values[name])
                if target is not None:
                    fields[column.field.name] = target
            else:
                fields[column.attname] = values[name]
        return model(**fields), list(fields)

    def settle(
        self, plan: _Plan, line: int, obj, changed: list[str], before, *, extra_change: bool = False, key=None
    ) -> None:
        """Count the row, and queue what is to be written: every field's value, the natural keys of
        the rows of this import it refers to that have no pk yet, and its monuments. `key` is the
        row's natural key when it is not its slug (a citation's)."""
        monuments = plan.monuments.pop(id(obj), None)
        if obj.pk is None:
            if plan.new_keys is not None:
                plan.new_keys.append(obj.slug if key is None else key)
            values = self.values_of(obj)
            if self.fast(plan):  # converted here, so that the write transaction only inserts
                values = _RowSpec.of(type(obj)).database_row(values, self.now)
            plan.new.append((line, values, self.pending_of(obj), self.monument_keys(monuments)))
            self.outcome(plan, line, obj, NEW)
        elif changed or extra_change:
            # Like a save: the record's version goes up, and the write checks that nobody saved it
            # since this plan read it (check_versions). A figure has no version of its own.
            if hasattr(obj, "version"):
                obj.version += 1
                changed = [*changed, "version"]
            plan.changed.append((line, self.values_of(obj), self.pending_of(obj), self.monument_keys(monuments)))
            plan.changed_fields.update(changed)
            self.outcome(plan, line, obj, UPDATE, before)
        else:
            self.outcome(plan, line, obj, UNCHANGED)

    @staticmethod
    def fast(plan: _Plan) -> bool:
        return plan.table.key in FAST_TABLES and connection.vendor in ("sqlite", "postgresql")

    @staticmethod
    def values_of(obj) -> tuple:
        values = []
        for concrete in obj._meta.concrete_fields:
            value = getattr(obj, concrete.attname)
            values.append(value.name if isinstance(value, FieldFile) else value)
        return tuple(values)

    @staticmethod
    def pending_of(obj) -> dict | None:
        pending = None
        for concrete in obj._meta.concrete_fields:
            if concrete.is_relation and getattr(obj, concrete.attname) is None and concrete.is_cached(obj):
                related = concrete.get_cached_value(obj)
                if related is not None and related.pk is None:
                    pending = pending or {}
                    key = getattr(related, "import_key", None) or related.slug
                    pending[concrete.attname] = (TABLES_BY_MODEL_KEY[type(related)], key)
        return pending

    @staticmethod
    def monument_keys(monuments) -> list | None:
        if monuments is None:
            return None
        return [monument.pk if monument.pk is not None else monument.slug for monument in monuments]

    def prefetch_references(self, columns, rows) -> None:
        for column in columns:
            if isinstance(column, (Reference, ManyReference)) and not isinstance(column, CitationReference):
                keys = set()
                for _line, values in rows:
                    value = values.get(column.name)
                    if isinstance(value, list):
                        keys.update(value)
                    elif value is not None:
                        keys.add(value)
                self.resolve(column.target, keys)

    def build_by_slug(self, plan: _Plan, columns, rows) -> None:
        """Sites, actors, sources, monuments, incidents: rows keyed by slug."""
        table = plan.table
        key = table.key
        slugs = [values["slug"] for _line, values in rows if values.get("slug")]
        references = [column.name for column in table.columns if isinstance(column, Reference)]
        existing = self.fetch(table.model, "slug", slugs, select_related=references)
        self.prefetch_references(columns, rows)
        hook = getattr(self, f"check_{key}", None)
        prepare = getattr(self, f"prepare_{key}", None)
        if prepare is not None:
            prepare(plan, rows, existing)
        seen = plan.seen
        imported = self.imported[key]
        for line, values in rows:
            slug = values.get("slug")
            if slug is None:
                continue
            if slug in seen:
                self.problem(plan, line, "slug", f"“{slug}” is already on line {seen[slug]}.")
                continue
            seen[slug] = line
            obj = existing.get(slug)
            if obj is None:
                before = original = None
                obj, changed = self.create(plan, line, table.model, columns, values, skip=("sha256",))
            else:
                before = self.snapshot(plan, obj)
                original = {"status": obj.status} if key == "incidents" else None
                changed = self.apply(plan, line, obj, columns, values, skip=("slug", "sha256"))
            if key in self.referred:
                imported[slug] = obj.pk
            extra = hook(plan, line, obj, values, changed, original) if hook else False
            self.settle(plan, line, obj, changed, before, extra_change=bool(extra))

    # -- phase 2: write --------------------------------------------------------------------------

    def instances(self, plan: _Plan, records, *, stored: bool) -> list:
        """Model instances from spooled records, with the pks of the rows they refer to that
        this import has just written."""
        model = plan.table.model
        objs = []
        for _line, values, pending, monuments in records:
            obj = model(*values)
            if stored:
                obj._state.adding = False
                obj._state.db = connection.alias
            if pending:
                for attname, (target, slug) in pending.items():
                    setattr(obj, attname, self.written[target][slug])
            if monuments is not None:
                written = self.written["monuments"]
                plan.monuments[id(obj)] = [key if isinstance(key, int) else written[key] for key in monuments]
            objs.append(obj)
        return objs

    def write(self, plan: _Plan, chunk) -> None:
        new_records, changed_records, changed_fields = chunk
        model = plan.table.model
        key = plan.table.key
        if new_records and self.fast(plan):
            self.insert_new(plan, new_records)
        elif new_records:
            new = self.instances(plan, new_records, stored=False)
            if key == "incidents":
                self.write_incidents(plan, new, [], [])
            else:
                bulk_create_with_history(
                    new, model, batch_size=BATCH_SIZE, default_user=self.user, default_change_reason=self.reason
                )
            if key in self.referred and plan.table.natural_key == ("slug",):
                self.written[key].update((obj.slug, obj.pk) for obj in new)
            self.note_for_search(key, (obj.pk if key == "incidents" else obj.incident_id for obj in new))
        changed = self.instances(plan, changed_records, stored=True)
        self.note_for_search(key, (obj.pk if key == "incidents" else obj.incident_id for obj in changed))
        if key in ("sites", "monuments", "actors"):
            self.renamed.setdefault(key, set()).update(obj.pk for obj in changed)
        self.check_versions(plan, changed_records, changed)
        if key == "incidents":
            self.assess.update(obj.pk for obj in changed)
        if changed and key == "incidents":
            self.write_incidents(plan, [], changed, changed_fields)
        elif changed:
            bulk_update_with_history(
                changed,
                model,
                changed_fields,
                batch_size=BATCH_SIZE,
                default_user=self.user,
                default_change_reason=self.reason,
            )
        if key == "citations":
            plan.touched_incidents.update(obj.incident_id for obj in changed)
            self.assess.update(obj.incident_id for obj in changed)

    def check_versions(self, plan: _Plan, records, changed: list) -> None:
        """No lost edits: a row this import updates must still be at the version its plan read
        (planning runs outside the write transaction, so a curator may have saved it since)."""
        if not hasattr(plan.table.model, "version"):
            return
        planned = {obj.pk: (record[0], obj.version - 1) for record, obj in zip(records, changed, strict=True)}
        for chunk in chunks(sorted(planned)):
            stored = plan.table.model._base_manager.filter(pk__in=chunk).values_list("pk", "version")
            for pk, version in stored:
                line, expected = planned[pk]
                if version != expected:
                    self.problems.append(
                        Problem(
                            plan.report.file,
                            line,
                            None,
                            f"this record was saved by someone else while the import was being checked "
                            f"(version {expected} → {version}); nothing was written: import again to apply "
                            "the file to the current record.",
                        )
                    )

    def insert_new(self, plan: _Plan, records) -> None:
        """New rows, their history rows (and an incident's monument links and their history) as
        plain rows: pks reserved here, then COPY on PostgreSQL and executemany on SQLite. The same
        rows `bulk_create_with_history` would write, at a fraction of its per-row cost, which is
        what the write transaction (on SQLite, the write lock) lasts."""
        model = plan.table.model
        spec = _RowSpec.of(model)
        if plan.ids is not None:  # reserved for the whole file (`reserve`)
            ids = plan.ids[plan.next_id : plan.next_id + len(records)]
            plan.next_id += len(records)
        else:
            ids = _reserve_ids(model, len(records))
        rows, links = [], []
        written = self.written
        for (_line, values, pending, monuments), pk in zip(records, ids, strict=True):
            row = list(values)
            row[spec.pk] = pk
            if pending:
                for attname, (target, slug) in pending.items():
                    row[spec.index[attname]] = written[target][slug]
            rows.append(row)
            if monuments:
                stored = written["monuments"]
                links += [(pk, key if isinstance(key, int) else stored[key]) for key in monuments]
        if model is Incident:
            _number_incident_rows(rows, spec, getattr(self, "highest_identifiers", {}))
        _insert(model._meta.db_table, spec.columns, rows)
        if plan.table.key in SEARCHED_TABLES:
            column = spec.pk if model is Incident else spec.index["incident_id"]
            self.note_for_search(plan.table.key, (row[column] for row in rows))
        if plan.table.key == "citations":
            incident = spec.index["incident_id"]
            self.assess.update(row[incident] for row in rows)
        if plan.table.key in self.referred and plan.table.natural_key == ("slug",):
            slug = spec.index["slug"]
            written[plan.table.key].update((row[slug], row[spec.pk]) for row in rows)

        history = spec.history
        constants = {
            "history_date": connection.ops.adapt_datetimefield_value(self.now),
            "history_change_reason": self.reason,
            "history_type": "+",
            "history_user_id": self.user.pk if self.user is not None else None,
        }
        picks = [index if index is not None else (constants[name],) for name, index in history.picks]
        history_rows = [[row[p] if type(p) is int else p[0] for p in picks] for row in rows]
        columns = history.columns
        if links:  # the monuments' history rows point at the incident's history row
            history_ids = _reserve_ids(history.model, len(rows), column="history_id")
            for history_row, history_id in zip(history_rows, history_ids, strict=True):
                history_row.append(history_id)
            columns = [*columns, "history_id"]
        _insert(history.model._meta.db_table, columns, history_rows)
        if not links:
            return
        Through = Incident.monuments.through
        link_ids = _reserve_ids(Through, len(links))
        _insert(
            Through._meta.db_table,
            ["id", "incident_id", "monument_id"],
            [(link_id, incident, monument) for link_id, (incident, monument) in zip(link_ids, links, strict=True)],
        )
        history_of = dict(zip(ids, history_ids, strict=True))
        _insert(
            Incident.history.model.monuments.model._meta.db_table,
            ["id", "incident_id", "monument_id", "history_id"],
            [
                (link_id, incident, monument, history_of[incident])
                for link_id, (incident, monument) in zip(link_ids, links, strict=True)
            ],
        )

    def write_incidents(self, plan: _Plan, new: list, changed: list, changed_fields: list[str]) -> None:
        """Incidents, their monuments, and history rows that record the monuments too.

        simple-history's bulk helpers skip many-to-many fields, and the incident's history tracks
        its monuments (HistoricalRecords(m2m_fields=…)); so the rows are written here the way
        `bulk_create_with_history` writes them, plus the historical monument rows.
        """
        history = Incident.history
        Through = Incident.monuments.through
        if new:
            Incident.objects.bulk_create(new, batch_size=BATCH_SIZE)
        if changed and changed_fields:
            Incident.objects.bulk_update(changed, changed_fields, batch_size=BATCH_SIZE)
        relinked = [obj for obj in changed if id(obj) in plan.monuments]
        relinked_ids = {id(obj) for obj in relinked}
        for chunk in chunks([obj.pk for obj in relinked]):
            Through.objects.filter(incident_id__in=chunk).delete()
        links = [
            Through(incident_id=obj.pk, monument_id=monument)
            for obj in [*new, *relinked]
            for monument in plan.monuments.pop(id(obj), ())
        ]
        Through.objects.bulk_create(links, batch_size=BATCH_SIZE)

        records = []
        for objs, update in ((new, False), (changed, True)):
            if objs:
                records += history.bulk_history_create(
                    objs,
                    batch_size=BATCH_SIZE,
                    update=update,
                    default_user=self.user,
                    default_change_reason=self.reason,
                )
        # The historical rows record each incident's monuments as written: the links just made,
        # and the stored links of updated incidents whose monuments did not change.
        unlinked = [obj.pk for obj in changed if id(obj) not in relinked_ids]
        for chunk in chunks(unlinked):
            links += list(Through.objects.filter(incident_id__in=chunk))
        by_incident: dict[int, list] = {}
        for link in links:
            by_incident.setdefault(link.incident_id, []).append(link)
        # Two or three of these per incident: plain rows through executemany, since building a
        # model instance for each would cost more than the rest of the import's history.
        m2m_model = history.model.monuments.model
        columns = ["history_id", "id", "incident_id", "monument_id"]
        rows = [
            (record.pk, link.id, link.incident_id, link.monument_id)
            for record in records
            for link in by_incident.get(record.id, ())
        ]
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(m2m_model._meta.db_table), ", ".join(quote(m2m_model._meta.get_field(c).column) for c in columns),
            ", ".join(["%s"] * len(columns)),
        )  # fmt: skip
        with connection.cursor() as cursor:
            for chunk in chunks(rows, 5000):
                cursor.executemany(sql, chunk)

    def check_published(self, plans: list[_Plan]) -> None:
        """Once everything is written: every incident the import publishes has a supporting
        citation, and no citation the import changed leaves a published incident without one
        (the model layer's rules and messages)."""
        for plan in plans:
            if plan.table.key == "incidents" and plan.published:
                bare, unattributed = [], []
                for chunk in chunks(sorted(plan.published)):
                    published = Incident.objects.filter(slug__in=chunk).published()
                    bare += published.uncited().values_list("slug", flat=True)
                    unattributed += published.without_actors().values_list("slug", flat=True)
                problems = [(slug, NEEDS_CITATION, "citations (citations.csv)") for slug in bare]
                problems += [(slug, NEEDS_ACTOR, "actors (incident_actors.csv)") for slug in unattributed]
                for slug, message, what in sorted(problems, key=lambda problem: plan.published[problem[0]]):
                    message = f"“{slug}”: {message} Add its {what} or import it as draft."
                    self.problem(plan, plan.published[slug], "status", message)
            if plan.table.key == "citations" and plan.touched_incidents:
                try:
                    check_published_keep_citations(plan.touched_incidents)
                except ValidationError as error:
                    for message in error.messages:
                        self.problem(plan, None, "stance", message)


TABLES_BY_MODEL_KEY = {table.model: table.key for table in TABLES}
# Tables whose rows are part of an incident's search document (archive.search), by incident.
SEARCHED_TABLES = ("incidents", "citations", "incident_actors")


# New rows written as plain rows (images go through Image.objects.bulk_create, which cleans files).
FAST_TABLES = {"sites", "actors", "sources", "monuments", "incidents", "incident_actors", "citations", "figures"}


class _RowSpec:
    """How a model's planned values become database rows, and its history rows."""

    _cache: dict = {}

    @classmethod
    def of(cls, model):
        key = (model, connection.vendor)
        if key not in cls._cache:
            cls._cache[key] = cls(model)
        return cls._cache[key]

    def __init__(self, model):
        fields = model._meta.concrete_fields
        self.columns = [concrete.column for concrete in fields]
        self.index = {concrete.attname: index for index, concrete in enumerate(fields)}
        self.pk = self.index[model._meta.pk.attname]
        self.auto_now = [
            index
            for index, concrete in enumerate(fields)
            if getattr(concrete, "auto_now", False) or getattr(concrete, "auto_now_add", False)
        ]
        self.convert = [
            (index, adapt)
            for index, concrete in enumerate(fields)
            if (adapt := _adapter(concrete)) and index not in self.auto_now
        ]
        self.history = _HistorySpec(model.history.model, self.index)

    def database_row(self, values: tuple, now) -> tuple:
        """`values` (one per concrete field) as the database takes them; auto_now fields `now`."""
        row = list(values)
        if self.auto_now:
            stamp = connection.ops.adapt_datetimefield_value(now)
            for index in self.auto_now:
                row[index] = stamp
        for index, adapt in self.convert:
            if row[index] is not None:
                row[index] = adapt(row[index])
        return tuple(row)


class _HistorySpec:
    """A history row: the tracked row's values and simple-history's own columns (its pk,
    history_id, is left to the database unless the monuments' history rows need it)."""

    OWN = ("history_date", "history_change_reason", "history_type", "history_user_id")

    def __init__(self, model, index):
        self.model = model
        self.columns, self.picks = [], []
        for concrete in model._meta.concrete_fields:
            if concrete.attname == "history_id":
                continue
            if concrete.attname not in index and concrete.attname not in self.OWN:
                raise TypeError(f"{model.__name__}.{concrete.attname}: a history column the import does not fill")
            self.columns.append(concrete.column)
            self.picks.append((concrete.attname, index.get(concrete.attname)))


def _adapter(field):
    """The conversion Django's insert would apply to a value of `field` (None: as it is)."""
    ops = connection.ops
    internal = field.get_internal_type()
    if internal == "DateField":
        return ops.adapt_datefield_value
    if internal == "DateTimeField":
        return ops.adapt_datetimefield_value
    if internal == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    if internal in {"CharField", "TextField", "SlugField", "URLField", "EmailField", "BooleanField"}:
        return None
    if internal.endswith("IntegerField") or internal in {"ForeignKey", "BigAutoField", "AutoField"}:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@contextmanager
def _large_cache():
    """On SQLite, a page cache that holds the indexes being filled: with the default 2 MB, each of
    an incident's ~25 index entries misses it once the tables outgrow it, and the write
    transaction (the write lock) lasts about twice as long. Bounded, whatever the rows."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _reserve_ids(model, count: int, column: str | None = None) -> list[int]:
    """`count` new primary keys for `model`'s table, inside the write transaction."""
    if not count:
        return []
    table = model._meta.db_table
    column = column or model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes these meanwhile; an
        # AUTOINCREMENT table never reuses the pk of a deleted row (sqlite_sequence).
        cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
    start = max(top, row[0] if row else 0) + 1
    return list(range(start, start + count))


def _number_incident_rows(rows: list, spec: _RowSpec, given: dict[str, int]) -> None:
    """New incidents' rows the file gives no identifier: their site's prefix and fresh numbers
    (archive.models.identifiers), in the write transaction, as Incident.objects.bulk_create does;
    above the highest number the file gives under that prefix (`given`), which may come later."""
    number, prefix, site = (spec.index[name] for name in ("identifier_number", "identifier_prefix", "site_id"))
    missing = [row for row in rows if row[number] is None]
    if not missing:
        return
    sites = Site.objects.filter(pk__in={row[site] for row in missing}).select_related("parent")
    prefixes = {obj.pk: obj.identifier_prefix for obj in sites}
    by_prefix: dict[str, list] = {}
    for row in missing:
        row[prefix] = row[prefix] or prefixes[row[site]]
        by_prefix.setdefault(row[prefix], []).append(row)
    for name, group in by_prefix.items():
        for row, value in zip(group, reserve_numbers(name, len(group), above=given.get(name, 0)), strict=True):
            row[number] = value


def _insert(table: str, columns: list[str], rows: list) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            for chunk in chunks(rows, 5000):
                cursor.executemany(sql, chunk)
