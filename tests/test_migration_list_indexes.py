"""Migration 0014 adds the indexes the lists need at a hundred thousand incidents — the admin's
status filter in key order, the few citations that contradict others, the source filters'
values, the public source list's order (written per database: SQLite has no NULLS LAST in an
index) — without touching a row, refreshes the planner's statistics, and takes them away again
when reversed."""

import pytest
from django.db import connection

from tests.migrating import assert_cited_text_trigger_kept, migrate, migrate_to_latest

BEFORE = [("archive", "0013_cache_tables")]
AFTER = [("archive", "0014_list_indexes")]
ADDED = {
    "archive_incident": {"archive_inc_status_pk_idx"},
    "archive_citation": {"archive_citation_contra_idx"},
    "archive_source": {
        "archive_source_origin_idx",
        "archive_source_publisher_idx",
        "archive_source_language_idx",
        "archive_source_list_idx",
    },
}


def indexes(table):
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)
def test_the_list_indexes_come_and_go_and_no_row_changes():
    try:
        old = migrate(BEFORE)
        for table, names in ADDED.items():
            assert not names & indexes(table), table
        Source = old.get_model("archive", "Source")
        Source.objects.create(slug="undated", title="Undated", kind="news_article", received_text="A.", sha256="0" * 64)
        before = list(Source.objects.values_list("slug", "title", "published_on", "sha256"))

        new = migrate(AFTER)
        for table, names in ADDED.items():
            assert names <= indexes(table), table
        assert list(
            new.get_model("archive", "Source").objects.values_list("slug", "title", "published_on", "sha256")
        ) == (before)
        assert_cited_text_trigger_kept()
        if connection.vendor == "sqlite":  # the statistics were refreshed (a sample, as after a bulk load)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                assert cursor.fetchone()[0] == 1

        migrate(BEFORE)
        for table, names in ADDED.items():
            assert not names & indexes(table), table
    finally:
        migrate_to_latest()
    for table, names in ADDED.items():
        assert names <= indexes(table), table


@pytest.mark.django_db
def test_the_public_source_list_reads_its_index_in_order():
    """The list's query (newest first, undated last, then slug) walks archive_source_list_idx
    instead of sorting every source."""
    from django.db.models import F

    from archive.models import Source

    query = Source.objects.order_by(F("published_on").desc(nulls_last=True), "slug")
    sql, params = query.values("pk")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET enable_seqscan = off")  # a tiny test table: ask whether the index can serve
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
    assert "archive_source_list_idx" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
