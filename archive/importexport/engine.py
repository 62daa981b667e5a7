"""The bulk import engine: parsed CSV tables in, every problem listed or everything written.

`import_tables` is what the admin resources, `import_archive` and the benchmark call. It works in
two phases:

1. Plan, without writing: parse every cell, resolve natural keys in bulk (one query per ~500
   keys, never one per row), apply the model's rules, and decide per row whether it is new,
   updated or unchanged. Every problem of every file is collected as `file:line: column: what`.
2. If nothing is wrong, write everything in one transaction, table by table in dependency order,
   in batches, with history rows (simple-history's bulk helpers) attributed to the user or
   carrying the command's change reason. Rules that need the written rows (a published incident
   has a citation) are checked inside that transaction; a dry run always rolls back.

Model rules are applied here, in bulk, rather than through `full_clean()`, which costs queries
per row (Incident.clean, Source.clean, every CheckConstraint). The database constraints remain the
last word: if one refuses, the whole import is rolled back with a message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..models import Incident, Source
from .csvfile import CSVTable
from .rules import PUBLISH_PERMISSION, TableRules, chunks
from .tables import LIST_SEPARATOR, SHA256, TABLES, TABLES_BY_KEY, CellError, ManyReference, Reference, Table

BATCH_SIZE = 500

NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"


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
        files = len(self.tables)
        rows = sum(t.rows for t in self.tables)
        if self.problems:
            return f"Nothing imported: {len(self.problems)} problem(s)."
        new, updated, unchanged = self.totals()
        verb = "Would import" if self.dry_run else "Imported"
        tail = " Dry run: nothing was written." if self.dry_run else ""
        return f"{verb} {files} file(s), {rows} row(s): {new} new, {updated} updated, {unchanged} unchanged.{tail}"


class _Plan:
    """The rows of one table, validated and turned into model instances, not yet written."""

    def __init__(self, table: Table, csv: CSVTable):
        self.table = table
        self.csv = csv
        self.report = TableReport(table=table, file=csv.name, rows=len(csv.rows))
        self.new: list = []
        self.changed: list = []
        self.changed_fields: set[str] = set()
        self.lines: dict[int, int] = {}  # id(instance) -> line
        self.monuments: dict[int, list] = {}  # id(incident) -> monuments, when they are written
        self.published: list = []  # incidents that end published


class _NoProgress:
    def update(self, n):
        pass

    def close(self):
        pass


def import_tables(
    files: dict[str, CSVTable],
    *,
    dry_run: bool = False,
    user=None,
    reason: str = "CSV import",
    keep_rows: bool = False,
    progress: Callable | None = None,
) -> ImportReport:
    """Import `files` ({table key: parsed CSV}, e.g. {"incidents": …}) all or nothing.

    `user` is who imports (None for a command: every status allowed); `reason` is the history
    change reason; `keep_rows` keeps one RowOutcome per row (the admin's preview);
    `progress(description, total)` returns a tqdm-like bar.
    """
    unknown = sorted(set(files) - set(TABLES_BY_KEY))
    if unknown:
        raise ValueError(f"Unknown tables: {', '.join(unknown)}")
    return _Import(files, dry_run=dry_run, user=user, reason=reason[:100], keep_rows=keep_rows, progress=progress).run()


class _Import(TableRules):
    def __init__(self, files, *, dry_run, user, reason, keep_rows, progress):
        self.files = files
        self.dry_run = dry_run
        self.user = user
        self.reason = reason
        self.keep_rows = keep_rows
        self.progress = progress or (lambda description, total: _NoProgress())
        self.can_publish = user is None or user.has_perm(PUBLISH_PERMISSION)
        self.problems: list[Problem] = []
        self.objects: dict[str, dict[str, object]] = {table.key: {} for table in TABLES}
        self.broken: set[str] = set()
        self.stored_monuments: dict[int, set[int]] | None = None
        self.stored_monument_slugs: dict[int, list[str]] = {}

    # -- entry point ---------------------------------------------------------------------------

    def run(self) -> ImportReport:
        plans = []
        total = sum(len(csv.rows) for csv in self.files.values())
        bar = self.progress("Checking", total)
        for table in TABLES:
            csv = self.files.get(table.key)
            if csv is not None:
                plans.append(self.plan(table, csv, bar))
        bar.close()
        # Each file's problems in line order (stable: a line's cell problems before its rules').
        order = {plan.report.file: index for index, plan in enumerate(plans)}
        self.problems.sort(key=lambda problem: (order.get(problem.file, -1), problem.line or 0))
        report = ImportReport(tables=[plan.report for plan in plans], problems=self.problems, dry_run=self.dry_run)
        if self.problems:
            return report
        bar = self.progress("Writing", total)
        try:
            with transaction.atomic():
                for plan in plans:
                    self.write(plan)
                    bar.update(plan.report.rows)
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
        return report

    def problem(self, plan: _Plan, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(plan.report.file, line, column, message))

    # -- phase 1: plan ---------------------------------------------------------------------------

    def plan(self, table: Table, csv: CSVTable, bar) -> _Plan:
        plan = _Plan(table, csv)
        columns = self.check_header(plan)
        if columns is None:
            self.broken.add(table.key)
            bar.update(len(csv.rows))
            return plan
        rows = []
        width = len(columns)
        for line, cells in csv.rows:
            if len(cells) != width:
                self.problem(plan, line, None, f"the row has {len(cells)} cells; the header has {width}.")
                continue
            values = {}
            for column, raw in zip(columns, cells, strict=True):
                try:
                    values[column.name] = column.parse(raw)
                except CellError as error:
                    self.problem(plan, line, column.name, str(error))
            rows.append((line, values))
        builder = getattr(self, f"build_{table.key}", self.build_by_slug)
        builder(plan, columns, rows)
        bar.update(len(csv.rows))
        return plan

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
            if name not in table.by_name:
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
        return [table.by_name[name] for name in header] if ok else None

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
        """Load into self.objects the rows of `target` that `keys` name and the import does not hold."""
        known = self.objects[target]
        missing = {key for key in keys if key is not None and key not in known}
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
        if key is None:
            return None
        obj = self.objects[column.target].get(key)
        if obj is None and column.target not in self.broken:
            target = TABLES_BY_KEY[column.target]
            what = "slug or SHA-256" if column.target == "sources" else "slug"
            self.problem(
                plan,
                line,
                column.name,
                f"no {target.model._meta.verbose_name} with {what} “{key}” in the archive or in {target.file_name}.",
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
            if name in skip or name not in values or isinstance(column, ManyReference):
                continue
            if isinstance(column, Reference):
                target = self.lookup(plan, line, column, values[name])
                target_pk = target.pk if target is not None else None
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
            if name in skip or name not in values or isinstance(column, ManyReference):
                continue
            if isinstance(column, Reference):
                target = self.lookup(plan, line, column, values[name])
                if target is not None:
                    fields[column.field.name] = target
            else:
                fields[column.attname] = values[name]
        return model(**fields), list(fields)

    def settle(self, plan: _Plan, line: int, obj, changed: list[str], before, *, extra_change: bool = False) -> None:
        plan.lines[id(obj)] = line
        if obj.pk is None:
            plan.new.append(obj)
            self.outcome(plan, line, obj, NEW)
        elif changed or extra_change:
            plan.changed.append(obj)
            plan.changed_fields.update(changed)
            self.outcome(plan, line, obj, UPDATE, before)
        else:
            self.outcome(plan, line, obj, UNCHANGED)

    def prefetch_references(self, columns, rows) -> None:
        for column in columns:
            if isinstance(column, (Reference, ManyReference)):
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
        seen: dict[str, int] = {}
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
            self.objects[key][slug] = obj
            extra = hook(plan, line, obj, values, changed, original) if hook else False
            self.settle(plan, line, obj, changed, before, extra_change=bool(extra))

    # -- phase 2: write --------------------------------------------------------------------------

    def write(self, plan: _Plan) -> None:
        model = plan.table.model
        if plan.table.key == "incidents":
            self.write_incidents(plan)
            return
        if plan.new:
            bulk_create_with_history(
                plan.new, model, batch_size=BATCH_SIZE, default_user=self.user, default_change_reason=self.reason
            )
        if plan.changed:
            bulk_update_with_history(
                plan.changed,
                model,
                sorted(plan.changed_fields),
                batch_size=BATCH_SIZE,
                default_user=self.user,
                default_change_reason=self.reason,
            )

    def write_incidents(self, plan: _Plan) -> None:
        """Incidents, their monuments, and history rows that record the monuments too.

        simple-history's bulk helpers skip many-to-many fields, and the incident's history tracks
        its monuments (HistoricalRecords(m2m_fields=…)); so the rows are written here the way
        `bulk_create_with_history` writes them, plus the historical monument rows.
        """
        history = Incident.history
        Through = Incident.monuments.through
        if plan.new:
            Incident.objects.bulk_create(plan.new, batch_size=BATCH_SIZE)
        if plan.changed:
            fields = sorted(plan.changed_fields)
            if fields:
                Incident.objects.bulk_update(plan.changed, fields, batch_size=BATCH_SIZE)
        relinked = [obj for obj in plan.changed if id(obj) in plan.monuments]
        for chunk in chunks([obj.pk for obj in relinked]):
            Through.objects.filter(incident_id__in=chunk).delete()
        links = [
            Through(incident_id=obj.pk, monument_id=monument.pk)
            for obj in [*plan.new, *relinked]
            for monument in plan.monuments.get(id(obj), ())
        ]
        Through.objects.bulk_create(links, batch_size=BATCH_SIZE)

        records = []
        for objs, update in ((plan.new, False), (plan.changed, True)):
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
        unlinked = [obj.pk for obj in plan.changed if id(obj) not in plan.monuments]
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
        """A published incident needs a citation: checked once its citations are written."""
        for plan in plans:
            if plan.table.key != "incidents" or not plan.published:
                continue
            by_pk = {obj.pk: obj for obj in plan.published}
            bare = []
            for chunk in chunks(sorted(by_pk)):
                bare += (
                    Incident.objects.filter(pk__in=chunk)
                    .annotate(n=Count("citations"))
                    .filter(Q(n=0))
                    .values_list("pk", flat=True)
                )
            for pk in sorted(bare, key=lambda pk: plan.lines[id(by_pk[pk])]):
                obj = by_pk[pk]
                self.problem(
                    plan,
                    plan.lines[id(obj)],
                    "status",
                    f"“{obj.slug}” is published but has no citation; add its citations (citations.csv) "
                    "or import it as draft.",
                )
