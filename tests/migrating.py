"""Moving the test database between migrations, for the tests of data migrations."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to `targets` and return the app registry of that state (its historical models)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def assert_cited_text_trigger_kept():
    """After a migration that rebuilt archive_source on SQLite: its cited-text trigger is back."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'archive_source'")
        assert [row[0] for row in cursor.fetchall()] == ["archive_source_cited_text_immutable"]
