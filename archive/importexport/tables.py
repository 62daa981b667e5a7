"""The CSV format of each curated model: its file, its columns, its natural key.

One `Table` per model. Export (admin, `export_archive`) writes `table.row(obj)` for each object of
`table.export_queryset()`; import (archive.importexport.engine) parses each cell with
`column.parse(raw)`. Keeping both directions on one column object is what makes export → import →
export give back the same bytes. docs/csv-format.md describes the columns for people.
"""

from __future__ import annotations

import datetime
import decimal
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone

from ..models import Actor, Citation, DatePrecision, Figure, Image, Incident, IncidentActor, Monument, Site, Source
from ..models.identifiers import parse_identifier

SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
LIST_SEPARATOR = ";"
# A citation's natural key in one cell: `incident slug|source slug|position_start`.
KEY_SEPARATOR = "|"
POSITION = re.compile(r"^[0-9]+\Z")


class CellError(ValueError):
    """What is wrong with one cell, in words for the person who wrote the file."""


def format_value(value) -> str:
    """A field value as written to CSV: ISO 8601 dates, plain decimals, '' for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _validation_message(error: ValidationError) -> str:
    return " ".join(error.messages)


class Column:
    """A column holding one model field's value. A `derived` column (an incident's assessment)
    is written on export and ignored on import: the archive computes it."""

    legacy = False  # a column of an earlier version of the format (LegacyColumn)

    def __init__(self, name: str, *, required: bool = False, derived: bool = False, filled: bool = False):
        self.name = name
        self.required = required  # the header must have it
        self.derived = derived
        self.filled = filled  # every cell must be filled: the field's default is not taken for an empty one
        self.field = None

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"

    def bind(self, model) -> None:
        self.field = model._meta.get_field(self.name)
        self.attname = self.field.attname
        self.parse = (lambda raw: None) if self.derived else self._parser(self.field)
        if self.filled:
            parse = self.parse

            def parse_filled(raw):
                if not raw.strip():
                    raise CellError("required; the cell is empty.")
                return parse(raw)

            self.parse = parse_filled

    def export(self, obj) -> str:
        return format_value(getattr(obj, self.attname))

    def value_of(self, obj):
        """The stored value, comparable with what `parse` returns."""
        return getattr(obj, self.attname)

    def _parser(self, field):
        """Compile the cell parser for `field` once, so a row costs a few calls."""
        default = field.get_default() if field.has_default() else None
        required = not field.blank
        validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
        max_length = getattr(field, "max_length", None)
        choices = {str(value) for value, _label in field.flatchoices} if field.choices else None
        choice_list = ", ".join(str(value) for value, _label in field.flatchoices) if field.choices else ""

        def run_validators(value):
            for validator in validators:
                try:
                    validator(value)
                except ValidationError as error:
                    raise CellError(_validation_message(error)) from None
            return value

        def missing():
            if field.has_default():
                return default
            if required:
                raise CellError("required; the cell is empty.")
            return None if field.null else ""

        if isinstance(field, (models.CharField, models.TextField)):
            strip = bool(choices) or isinstance(field, (models.SlugField, models.URLField))

            def parse_text(raw):
                value = raw.strip() if strip else raw
                if value == "":
                    return missing()
                if choices is not None and value not in choices:
                    raise CellError(f"“{value}” is not one of {choice_list}.")
                if max_length is not None and len(value) > max_length:
                    raise CellError(f"{len(value)} characters; at most {max_length}.")
                return run_validators(value)

            return parse_text

        if isinstance(field, models.BooleanField):

            def parse_boolean(raw):
                value = raw.strip()
                if value == "":
                    return missing()
                if value.lower() in ("true", "false"):
                    return value.lower() == "true"
                raise CellError(f"“{value}” is not true or false.")

            return parse_boolean

        if isinstance(field, models.DateTimeField):

            def parse_datetime(raw):
                value = raw.strip()
                if value == "":
                    return missing()
                try:
                    parsed = datetime.datetime.fromisoformat(value)
                except ValueError:
                    raise CellError(
                        f"“{value}” is not a date and time (ISO 8601, e.g. 2016-03-27T10:00:00+00:00)."
                    ) from None
                if timezone.is_naive(parsed):
                    parsed = parsed.replace(tzinfo=datetime.UTC)
                return parsed

            return parse_datetime

        if isinstance(field, models.DateField):

            def parse_date(raw):
                value = raw.strip()
                if value == "":
                    return missing()
                try:
                    if len(value) != 10:
                        raise ValueError
                    return datetime.date.fromisoformat(value)
                except ValueError:
                    raise CellError(f"“{value}” is not a date (YYYY-MM-DD).") from None

            return parse_date

        if isinstance(field, models.DecimalField):

            def parse_decimal(raw):
                value = raw.strip()
                if value == "":
                    return missing()
                try:
                    number = decimal.Decimal(value)
                except decimal.InvalidOperation:
                    raise CellError(f"“{value}” is not a number.") from None
                if not number.is_finite():
                    raise CellError(f"“{value}” is not a number.")
                return run_validators(number)

            return parse_decimal

        if isinstance(field, models.IntegerField):

            def parse_integer(raw):
                value = raw.strip()
                if value == "":
                    return missing()
                try:
                    number = int(value)
                except ValueError:
                    raise CellError(f"“{value}” is not a whole number.") from None
                return run_validators(number)

            return parse_integer

        raise TypeError(f"No CSV parser for {field!r}")


class Reference(Column):
    """A foreign key, written as the natural key (slug) of the row it points to."""

    def __init__(self, name: str, target: str, *, required: bool = False):
        super().__init__(name, required=required)
        self.target = target  # the Table key of the related model

    def bind(self, model) -> None:
        self.field = model._meta.get_field(self.name)
        self.attname = self.field.attname
        self.nullable = self.field.null

    def export(self, obj) -> str:
        related = getattr(obj, self.name)
        return related.slug if related is not None else ""

    def parse(self, raw):
        value = raw.strip()
        if value == "":
            if not self.nullable:
                raise CellError("required; the cell is empty.")
            return None
        if not SLUG.match(value):
            raise CellError(f"“{value}” is not a slug (letters, digits, hyphens, underscores).")
        return value


class SourceReference(Reference):
    """A citation's source: its slug, or the SHA-256 of its received text."""

    def parse(self, raw):
        value = raw.strip()
        if value == "":
            raise CellError("required; the cell is empty.")
        if SHA256.match(value.lower()) and len(value) == 64:
            return value.lower()
        if not SLUG.match(value):
            raise CellError(f"“{value}” is neither a source slug nor a SHA-256.")
        return value


def citation_key(citation) -> tuple[str, str, int]:
    return (citation.incident.slug, citation.source.slug, citation.position_start)


def format_citation_key(key: tuple) -> str:
    return KEY_SEPARATOR.join(str(part) for part in key)


class CitationReference(Reference):
    """A citation (what a figure belongs to, what a citation contradicts), written as its natural
    key in one cell: `incident slug|source slug|position_start`. The engine resolves it itself
    (archive.importexport.rules): within the same import or in the archive."""

    def export(self, obj) -> str:
        related = getattr(obj, self.name)
        return format_citation_key(citation_key(related)) if related is not None else ""

    def parse(self, raw):
        value = raw.strip()
        if value == "":
            if not self.nullable:
                raise CellError("required; the cell is empty.")
            return None
        parts = value.split(KEY_SEPARATOR)
        if len(parts) != 3 or not SLUG.match(parts[0]) or not SLUG.match(parts[1]) or not POSITION.match(parts[2]):
            raise CellError(f"“{value}” is not a citation's key (incident slug|source slug|position_start).")
        return (parts[0], parts[1], int(parts[2]))


class ManyReference(Column):
    """A many-to-many relation, written as `;`-separated slugs in slug order."""

    def __init__(self, name: str, target: str):
        super().__init__(name, required=False)
        self.target = target

    def bind(self, model) -> None:
        self.field = model._meta.get_field(self.name)
        self.attname = self.name

    def export(self, obj) -> str:
        return LIST_SEPARATOR.join(sorted(related.slug for related in getattr(obj, self.name).all()))

    def parse(self, raw):
        slugs = []
        for part in raw.split(LIST_SEPARATOR):
            slug = part.strip()
            if not slug:
                continue
            if not SLUG.match(slug):
                raise CellError(f"“{slug}” is not a slug (letters, digits, hyphens, underscores).")
            if slug not in slugs:
                slugs.append(slug)
        return slugs


class Checksum(Column):
    """A source's SHA-256: written on export, checked against the received text on import."""

    def bind(self, model) -> None:
        self.field = model._meta.get_field(self.name)
        self.attname = self.field.attname

    def parse(self, raw):
        value = raw.strip().lower()
        if value and not SHA256.match(value):
            raise CellError(f"“{raw.strip()}” is not a SHA-256 (64 hexadecimal digits).")
        return value


class FilePath(Column):
    """An image's file, as its path inside the media folder (the binary is not in the CSV)."""

    def bind(self, model) -> None:
        self.field = model._meta.get_field(self.name)
        self.attname = self.field.attname
        self.max_length = self.field.max_length

    def export(self, obj) -> str:
        return getattr(obj, self.attname).name or ""

    def value_of(self, obj):
        return getattr(obj, self.attname).name or ""

    def parse(self, raw):
        value = raw.strip()
        if not value:
            raise CellError("required; the cell is empty.")
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or ".." in parts or ":" in value:
            raise CellError(f"“{value}” must be a path inside the media folder (like images/2016/03/bel.jpg).")
        if len(value) > self.max_length:
            raise CellError(f"{len(value)} characters; at most {self.max_length}.")
        return value


class IdentifierColumn(Column):
    """An incident's short identifier (PAL-0007), which is two fields (its prefix and its number).
    The engine does not set it like other columns: archive.importexport.rules.check_incidents keeps
    a new incident's identifier from the file (an empty cell: the archive gives one when it writes
    the row) and refuses a change to a stored incident's."""

    def bind(self, model) -> None:
        self.field = None
        self.attname = self.name
        self.derived = True  # apply() and create() leave it to check_incidents

    def export(self, obj) -> str:
        return obj.identifier

    def parse(self, raw):
        value = raw.strip()
        if not value:
            return None
        parsed = parse_identifier(value)
        if parsed is None:
            raise CellError(f"“{value}” is not an incident identifier (three letters, a hyphen, a number: PAL-0007).")
        return parsed


class LegacyColumn(Column):
    """A column of format v2 that v3 replaced: read on import and converted (the engine's
    `convert_<table>`), never written. `field` is how its cells are parsed, as v2 parsed them."""

    legacy = True

    def __init__(self, name: str, field, *, target: str | None = None):
        super().__init__(name)
        self.legacy_field = field
        self.target = target  # for a reference: the Table key it names

    def bind(self, model) -> None:
        self.field = self.legacy_field
        self.attname = self.name
        if self.target is None:
            self.parse = self._parser(self.field)

    def export(self, obj) -> str:  # pragma: no cover - never in a table's columns
        raise TypeError(f"{self.name} is a column of format v2; it is not written")

    def parse(self, raw):
        """A reference's slug (the parser of other legacy columns is compiled in `bind`)."""
        value = raw.strip()
        if value == "":
            raise CellError("required; the cell is empty.")
        if not SLUG.match(value):
            raise CellError(f"“{value}” is not a slug (letters, digits, hyphens, underscores).")
        return value


class Table:
    """One CSV file of the archive: one model, its columns, its natural key. `legacy` columns
    are those of an earlier format version, still read on import (and converted)."""

    def __init__(
        self,
        key: str,
        model,
        columns: list[Column],
        *,
        natural_key: tuple[str, ...] = ("slug",),
        legacy: list[LegacyColumn] = (),
    ):
        self.key = key
        self.file_name = f"{key}.csv"
        self.model = model
        self.columns = columns
        self.natural_key = natural_key
        for column in [*columns, *legacy]:
            column.bind(model)
        self.by_name = {column.name: column for column in columns}
        self.legacy = {column.name: column for column in legacy}

    def __repr__(self):
        return f"<Table {self.file_name}>"

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    def row(self, obj) -> list[str]:
        return [column.export(obj) for column in self.columns]

    def export_queryset(self):
        """Everything this table exports, in natural-key order, with what `row` needs."""
        return EXPORT_QUERYSETS[self.key]()


def _located_columns() -> list[Column]:
    return [
        Column("latitude"),
        Column("longitude"),
        Column("coordinate_precision"),
        Column("coordinate_source"),
        Column("wikidata"),
        Column("pleiades"),
    ]


SITES = Table(
    "sites",
    Site,
    [
        Column("slug", required=True),
        Column("name", required=True),
        Column("aliases"),
        Column("country", required=True),
        Column("kind"),
        Reference("parent", "sites"),
        Column("unesco_status"),
        *_located_columns(),
        Column("description"),
    ],
)

ACTORS = Table(
    "actors",
    Actor,
    [
        Column("slug", required=True),
        Column("name", required=True),
        Column("kind", required=True),
        Column("aliases"),
        Column("description"),
    ],
)

SOURCES = Table(
    "sources",
    Source,
    [
        Column("slug", required=True),
        Column("kind"),
        Column("title", required=True),
        Column("publisher", required=True),
        Column("origin", required=True),
        Column("byline"),
        Column("url"),
        Column("published_on"),
        Column("date_precision"),
        Column("date_note"),
        Column("language"),
        Column("file_name"),
        Checksum("sha256"),
        Column("received_text", required=True),
    ],
)

MONUMENTS = Table(
    "monuments",
    Monument,
    [
        Column("slug", required=True),
        Reference("site", "sites", required=True),
        Column("name", required=True),
        Column("aliases"),
        Column("kind", required=True),
        Column("period"),
        *_located_columns(),
        Column("description"),
    ],
)

INCIDENTS = Table(
    "incidents",
    Incident,
    [
        Column("slug", required=True),
        IdentifierColumn("identifier"),
        Column("title", required=True),
        Column("kind", required=True),
        Reference("site", "sites", required=True),
        ManyReference("monuments", "monuments"),
        Column("victims"),
        Column("occurred"),
        Column("date_wording"),
        Column("assessment", derived=True),
        Column("assessment_override"),
        Column("override_reason"),
        Column("status"),
        Column("withdrawn_reason"),
        Column("published_at"),
        Column("withdrawn_at"),
        Column("description"),
    ],
    # Format v2 (before actors had roles and dates were EDTF): converted on import, see
    # docs/csv-format.md. The perpetrator becomes an incident_actors row with role perpetrator;
    # the dates become `occurred` (archive.dates.edtf_of_bounds).
    legacy=[
        LegacyColumn("perpetrator", None, target="actors"),
        LegacyColumn("occurred_from", models.DateField(name="occurred_from")),
        LegacyColumn("occurred_to", models.DateField(name="occurred_to")),
        LegacyColumn(
            "date_precision",
            models.CharField(name="date_precision", max_length=10, choices=DatePrecision, default=DatePrecision.DAY),
        ),
    ],
)
# The v2 columns of incidents.csv that `occurred` replaces.
V2_DATE_COLUMNS = ("occurred_from", "occurred_to", "date_precision")

INCIDENT_ACTORS = Table(
    "incident_actors",
    IncidentActor,
    [
        Reference("incident", "incidents", required=True),
        Reference("actor", "actors", required=True),
        # No default role: an empty cell is not taken for “perpetrator”.
        Column("role", required=True, filled=True),
    ],
    natural_key=("incident", "actor", "role"),
)

CITATIONS = Table(
    "citations",
    Citation,
    [
        Reference("incident", "incidents", required=True),
        SourceReference("source", "sources", required=True),
        Column("position_start"),
        Column("position_end"),
        Column("quote", required=True),
        Column("claimant"),
        Column("evidence_kind"),
        Column("stance"),
        Column("presentation"),
        Column("names_monument"),
        Column("origin"),
        CitationReference("contradicts", "citations"),
        Column("note"),
    ],
    natural_key=("incident", "source", "position_start"),
)

FIGURES = Table(
    "figures",
    Figure,
    [
        CitationReference("citation", "citations", required=True),
        Column("measure", required=True),
        Column("low", required=True),
        Column("high"),
        Column("counted"),
        Column("wording"),
    ],
    natural_key=("citation", "measure", "low"),
)

IMAGES = Table(
    "images",
    Image,
    [
        FilePath("file", required=True),
        Reference("monument", "monuments"),
        Reference("incident", "incidents"),
        Column("kind"),
        Column("caption", required=True),
        Column("credit", required=True),
        Column("licence", required=True),
        Column("taken_on"),
        Column("width"),
        Column("height"),
    ],
    natural_key=("file",),
)


# Dependency order: a table only refers to tables before it.
TABLES = [SITES, ACTORS, SOURCES, MONUMENTS, INCIDENTS, INCIDENT_ACTORS, CITATIONS, FIGURES, IMAGES]
TABLES_BY_KEY = {table.key: table for table in TABLES}
TABLES_BY_MODEL = {table.model: table for table in TABLES}


# A source's texts, never needed to write a citation's row.
TEXTS = ("source__received_text", "source__reading_text")


def with_related(key: str, queryset):
    """`queryset` with what `Table.row` reads, so that a row costs no query of its own."""
    if key == "sites":
        return queryset.select_related("parent")
    if key == "monuments":
        return queryset.select_related("site")
    if key == "incidents":
        return queryset.select_related("site").prefetch_related(
            Prefetch("monuments", queryset=Monument.objects.only("pk", "slug"))
        )
    if key == "incident_actors":
        return queryset.select_related("incident", "actor")
    if key == "citations":
        return queryset.select_related("incident", "source", "contradicts__incident", "contradicts__source").defer(
            *TEXTS, *(f"contradicts__{text}" for text in TEXTS)
        )
    if key == "figures":
        return queryset.select_related("citation__incident", "citation__source").defer(
            *(f"citation__{text}" for text in TEXTS)
        )
    if key == "images":
        return queryset.select_related("monument", "incident")
    return queryset


# Synthetic rows (generate_synthetic's benchmark filler) are never part of the archive: every
# table starts from its model's `curated()`.
EXPORT_QUERYSETS = {
    "sites": lambda: with_related("sites", Site.objects.curated().order_by("slug")),
    "actors": lambda: Actor.objects.curated().order_by("slug"),
    "sources": lambda: Source.objects.curated().order_by("slug"),
    "monuments": lambda: with_related("monuments", Monument.objects.curated().order_by("slug")),
    "incidents": lambda: with_related("incidents", Incident.objects.curated().order_by("slug")),
    "incident_actors": lambda: with_related(
        "incident_actors",
        IncidentActor.objects.filter(
            incident__in=Incident.objects.curated(), actor__in=Actor.objects.curated()
        ).order_by("incident__slug", "pk"),
    ),
    "citations": lambda: with_related(
        "citations",
        Citation.objects.filter(incident__in=Incident.objects.curated(), source__in=Source.objects.curated()).order_by(
            "incident__slug", "source__slug", "position_start", "pk"
        ),
    ),
    "figures": lambda: with_related(
        "figures",
        Figure.objects.filter(
            citation__incident__in=Incident.objects.curated(), citation__source__in=Source.objects.curated()
        ).order_by(
            "citation__incident__slug", "citation__source__slug", "citation__position_start", "measure", "low", "pk"
        ),
    ),
    "images": lambda: with_related(
        "images",
        Image.objects.filter(Q(incident=None) | Q(incident__in=Incident.objects.curated()))
        .filter(Q(monument=None) | Q(monument__in=Monument.objects.curated()))
        .order_by("file", "pk"),
    ),
}
