"""django-import-export resources, one per curated model, keyed by natural keys (slugs).

They give the admin its import and export buttons. Both directions use the archive's own
machinery, so the admin, `export_archive`/`import_archive` and the public downloads agree:
- export writes `Table.row(obj)` for each object (the same columns and bytes as export_archive);
- import hands the uploaded table to the bulk engine (archive.importexport.engine) — all or
  nothing, every problem with its line, history attributed to the user — and turns its report
  into the Result that django-import-export's preview shows (new / update / skipped=unchanged /
  invalid rows).
"""

from collections import OrderedDict

from django.utils.html import format_html
from import_export import resources
from import_export.exceptions import ImportError as ImportExportError
from import_export.fields import Field
from import_export.results import RowResult

from ..models import Actor, Citation, Figure, Image, Incident, IncidentActor, Monument, Site, Source
from .csvfile import CSVTable
from .engine import NEW, UPDATE, Problem, import_tables
from .escaping import unescape_cell
from .tables import (
    ACTORS,
    CITATIONS,
    FIGURES,
    IMAGES,
    INCIDENT_ACTORS,
    INCIDENTS,
    MONUMENTS,
    SITES,
    SOURCES,
    Table,
    with_related,
)

PREVIEW_CHARS = 120
IMPORT_TYPES = {NEW: RowResult.IMPORT_TYPE_NEW, UPDATE: RowResult.IMPORT_TYPE_UPDATE}


class ColumnField(Field):
    """A resource field that exports one column of the archive's table."""

    def __init__(self, column):
        super().__init__(attribute=column.name, column_name=column.name)
        self.archive_column = column

    def export(self, instance, **kwargs):
        return self.archive_column.export(instance)


class ArchiveResource(resources.ModelResource):
    table: Table

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields = OrderedDict((column.name, ColumnField(column)) for column in self.table.columns)

    def get_export_order(self):
        return tuple(self.table.header)

    def get_import_order(self):
        return tuple(self.table.header)

    def get_import_fields(self):
        return list(self.fields.values())

    def filter_export(self, queryset, **kwargs):
        # The changelist's own prefetches (full monuments) would clash with the export's.
        return with_related(self.table.key, queryset.prefetch_related(None))

    def iter_queryset(self, queryset):
        # Django's iterator prefetches per chunk, so memory stays flat on large exports.
        return queryset.iterator(chunk_size=2000)

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        """Import through the bulk engine: all or nothing, whatever the flags ask."""
        file_name = kwargs.get("file_name") or self.table.file_name
        user = kwargs.get("user")
        result = self.get_result_class()()
        result.diff_headers = list(self.table.header)
        problem = getattr(dataset, "archive_problem", None)
        if problem is not None:
            report = None
            problems = [Problem(file_name, problem.line, None, problem.message)]
            table = CSVTable(name=file_name, header=[])
        else:
            table = getattr(dataset, "archive_table", None) or table_from_dataset(dataset)
            table.name = file_name
            user = user if getattr(user, "is_authenticated", False) else None
            report = import_tables(
                {self.table.key: table},
                dry_run=dry_run,
                user=user,
                reason=f"CSV import ({file_name})"[:100],
                keep_rows=True,
            )
            problems = report.problems
        result.total_rows = len(table.rows)
        if problems:
            if raise_errors:
                raise ImportExportError("\n".join(str(p) for p in problems))
            self._add_problems(result, table, problems)
            return result
        self._add_rows(result, table, report.tables[0])
        # Imported all the same, flagged (a source like one in the archive): the admin shows them.
        result.archive_warnings = [str(warning) for warning in report.warnings]
        return result

    def _add_problems(self, result, table: CSVTable, problems: list[Problem]):
        from django.core.exceptions import ValidationError

        cells = {line: dict(zip(table.header, row, strict=False)) for line, row in table.rows}
        by_line: dict = {}
        for problem in problems:
            by_line.setdefault(problem.line, {}).setdefault(problem.column or "row", []).append(problem.message)
        for line, errors in by_line.items():
            result.append_invalid_row(line or problems[0].file, cells.get(line, {}), ValidationError(errors))
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1

    def _add_rows(self, result, table: CSVTable, report):
        cells = {line: dict(zip(table.header, row, strict=False)) for line, row in table.rows}
        for outcome in report.outcomes:
            row_result = self.get_row_result_class()()
            row_result.import_type = IMPORT_TYPES.get(outcome.action, RowResult.IMPORT_TYPE_SKIP)
            row_result.instance = outcome.instance
            row_result.add_instance_info(outcome.instance)
            given = cells.get(outcome.line, {})
            before = outcome.before or {}
            row_result.diff = [_diff(before.get(name), given.get(name), outcome.action) for name in self.table.header]
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)


def _short(value: str) -> str:
    value = value or ""
    return value if len(value) <= PREVIEW_CHARS else value[:PREVIEW_CHARS] + "…"


def _diff(before: str | None, given: str | None, action: str):
    if given is None:  # a column the file does not have: the stored value stays
        return _short(before or "")
    if action == NEW:
        return format_html("<ins>{}</ins>", _short(given))
    if before is not None and before != given:
        return format_html("<del>{}</del> <ins>{}</ins>", _short(before), _short(given))
    return _short(given)


def table_from_dataset(dataset) -> CSVTable:
    """A CSVTable from a tablib Dataset read by another format; lines count the newlines in cells."""
    table = CSVTable(name="", header=[str(name or "").strip() for name in (dataset.headers or [])])
    line = 2
    for row in dataset:
        cells = [unescape_cell("" if cell is None else str(cell)) for cell in row]
        table.rows.append((line, cells))
        line += 1 + sum(cell.count("\n") for cell in cells)
    return table


class SiteResource(ArchiveResource):
    table = SITES

    class Meta:
        model = Site
        import_id_fields = ["slug"]
        fields = tuple(SITES.header)


class MonumentResource(ArchiveResource):
    table = MONUMENTS

    class Meta:
        model = Monument
        import_id_fields = ["slug"]
        fields = tuple(MONUMENTS.header)


class ActorResource(ArchiveResource):
    table = ACTORS

    class Meta:
        model = Actor
        import_id_fields = ["slug"]
        fields = tuple(ACTORS.header)


class SourceResource(ArchiveResource):
    table = SOURCES

    class Meta:
        model = Source
        import_id_fields = ["slug"]
        fields = tuple(SOURCES.header)


class IncidentResource(ArchiveResource):
    table = INCIDENTS

    class Meta:
        model = Incident
        import_id_fields = ["slug"]
        fields = tuple(INCIDENTS.header)


class IncidentActorResource(ArchiveResource):
    table = INCIDENT_ACTORS

    class Meta:
        model = IncidentActor
        import_id_fields = ["incident", "actor", "role"]
        fields = tuple(INCIDENT_ACTORS.header)


class CitationResource(ArchiveResource):
    table = CITATIONS

    class Meta:
        model = Citation
        import_id_fields = ["incident", "source", "position_start"]
        fields = tuple(CITATIONS.header)


class FigureResource(ArchiveResource):
    table = FIGURES

    class Meta:
        model = Figure
        import_id_fields = ["citation", "measure", "low"]
        fields = tuple(FIGURES.header)


class ImageResource(ArchiveResource):
    table = IMAGES

    class Meta:
        model = Image
        import_id_fields = ["file"]
        fields = tuple(IMAGES.header)
