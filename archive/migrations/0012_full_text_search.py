"""The full-text search index (archive.search): one document per incident, filled here for the
incidents already recorded. PostgreSQL: a GIN index on the stored tsvector. SQLite: an FTS5 table
whose content is the documents' table, kept in step by triggers on it. Neither is in the model
state (a GIN index cannot be created on SQLite, an FTS5 table is no table Django can alter)."""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

import archive.models.search

FTS = archive.models.search.FTS_TABLE
DOCS = "archive_incidentsearchdocument"
COLUMNS = "title, names, body, quotes"
SQLITE = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='{DOCS}', content_rowid='incident_id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {DOCS} BEGIN "
    f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.incident_id, new.title, new.names, new.body, new.quotes); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON {DOCS} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.incident_id, old.title, old.names, old.body, "
    "old.quotes); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE ON {DOCS} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.incident_id, old.title, old.names, old.body, "
    "old.quotes); "
    f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.incident_id, new.title, new.names, new.body, new.quotes); END",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {FTS}_{name}" for name in ("insert", "delete", "update")] + [
    f"DROP TABLE IF EXISTS {FTS}"
]
# The public list's and the admin's searches: `vector @@ query`.
POSTGRESQL = [f"CREATE INDEX archive_searchdoc_vector_idx ON {DOCS} USING gin (vector)"]
POSTGRESQL_REVERSE = ["DROP INDEX IF EXISTS archive_searchdoc_vector_idx"]


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else POSTGRESQL if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_REVERSE if vendor == "sqlite" else POSTGRESQL_REVERSE if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def fill(apps, schema_editor):
    from archive import search

    search.reindex_all(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0011_incident_identifier"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentSearchDocument",
            fields=[
                (
                    "incident",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="archive.incident",
                    ),
                ),
                ("title", models.TextField(blank=True)),
                ("names", models.TextField(blank=True)),
                ("body", models.TextField(blank=True)),
                ("quotes", models.TextField(blank=True)),
                (
                    "vector",
                    django.contrib.postgres.search.SearchVectorField(
                        editable=False, help_text="PostgreSQL only; unused on SQLite.", null=True
                    ),
                ),
            ],
            options={
                "verbose_name": "incident search document",
            },
        ),
        migrations.CreateModel(
            name="IncidentFullText",
            fields=[
                (
                    "incident",
                    models.OneToOneField(
                        db_column="rowid",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="full_text",
                        serialize=False,
                        to="archive.incident",
                    ),
                ),
                ("fts", archive.models.search.FullTextColumn(db_column="archive_incident_fts")),
            ],
            options={
                "db_table": "archive_incident_fts",
                "managed": False,
            },
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
