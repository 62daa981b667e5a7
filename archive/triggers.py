"""The database's own guard on evidence: a trigger that refuses to change a cited source's
received text (or its hash), whatever the path — QuerySet.update(), loaddata, raw SQL. The model
layer gives the same refusal in words (archive.models.sources.CITED_TEXT_IS_EVIDENCE) first.

On SQLite a migration that rebuilds archive_citation (most AlterField operations do) must drop
the trigger first and create it again after (`drop_trigger`, `create_trigger`): SQLite refuses to
rename a table a trigger refers to.
"""

TRIGGER_MESSAGE = "archive: the received text of a cited source is evidence and cannot be changed"
SQLITE_CREATE = f"""
CREATE TRIGGER archive_source_cited_text_immutable
BEFORE UPDATE OF received_text, sha256 ON archive_source
FOR EACH ROW
WHEN (NEW.received_text IS NOT OLD.received_text OR NEW.sha256 IS NOT OLD.sha256)
     AND EXISTS (SELECT 1 FROM archive_citation WHERE source_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS archive_source_cited_text_immutable;"
POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION archive_source_cited_text_immutable() RETURNS trigger AS $$
BEGIN
    IF (NEW.received_text IS DISTINCT FROM OLD.received_text OR NEW.sha256 IS DISTINCT FROM OLD.sha256)
       AND EXISTS (SELECT 1 FROM archive_citation WHERE source_id = OLD.id) THEN
        RAISE EXCEPTION '{TRIGGER_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER archive_source_cited_text_immutable
BEFORE UPDATE OF received_text, sha256 ON archive_source
FOR EACH ROW EXECUTE FUNCTION archive_source_cited_text_immutable();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS archive_source_cited_text_immutable ON archive_source;
DROP FUNCTION IF EXISTS archive_source_cited_text_immutable();
"""


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
