"""The full-text search index of incidents: one stored document per incident (archive.search
builds it and keeps it current; read that module first).

PostgreSQL searches `vector`, a weighted tsvector with a GIN index (created in the migration
only on PostgreSQL). SQLite searches an FTS5 table, `archive_incident_fts`, whose content is this
table and which triggers on this table keep in step (created in the migration only on SQLite);
`IncidentFullText` maps it so that a query can join it.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Lookup

FTS_TABLE = "archive_incident_fts"


class IncidentSearchDocument(models.Model):
    """What a search reads of an incident, normalised (archive.search.normalise), in four parts
    ranked from most to least telling: its title; the names and other names of its site,
    monuments and actors; its description and victims; its citations' quotes."""

    # The primary key is the incident's: FTS5's content_rowid must be the table's rowid.
    incident = models.OneToOneField(
        "archive.Incident", primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    title = models.TextField(blank=True)
    names = models.TextField(blank=True)
    body = models.TextField(blank=True)
    quotes = models.TextField(blank=True)
    vector = SearchVectorField(null=True, editable=False, help_text="PostgreSQL only; unused on SQLite.")

    class Meta:
        verbose_name = "incident search document"

    def __str__(self):
        return self.title


class FullTextColumn(models.TextField):
    """FTS5's hidden column named after its table: `<table> MATCH ?` and bm25()/snippet() take it."""


@FullTextColumn.register_lookup
class Match(Lookup):
    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class IncidentFullText(models.Model):
    """SQLite's FTS5 table (rowid = the incident's id), for joins; written only by its triggers."""

    incident = models.OneToOneField(
        "archive.Incident",
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="full_text",
    )
    fts = FullTextColumn(db_column=FTS_TABLE)

    class Meta:
        managed = False
        db_table = FTS_TABLE

    def __str__(self):
        return str(self.incident_id)


from ..search import connect_signals  # noqa: E402  (the receivers need the models above)

connect_signals()
