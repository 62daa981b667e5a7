"""Imports of any size that don't lock curators out: files streamed row by row with no size limit
on the command line, planning outside any transaction and one short write transaction, synthetic
records never exported, statistics refreshed after bulk loads, and a busy database answered with
503 and a message instead of a 500."""

import pathlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import override_settings
from django.urls import path

from archive.importexport import engine
from archive.models import Incident, Site, Source
from tests.test_csv_roundtrip import build_archive, empty_the_archive, export_bytes

SITES_HEADER = "slug,name,country\r\n"


def sites_file(directory, count):
    directory.mkdir(exist_ok=True)
    rows = "".join(f"site-{i:04d},Site number {i},Syria\r\n" for i in range(count))
    (directory / "sites.csv").write_text(SITES_HEADER + rows, encoding="utf-8")
    return directory


@pytest.mark.django_db
def test_the_command_imports_a_file_over_the_admin_upload_limit(tmp_path, settings):
    settings.CSV_IMPORT_MAX_BYTES = 200
    folder = sites_file(tmp_path / "big", 50)
    assert (folder / "sites.csv").stat().st_size > 200
    call_command("import_archive", str(folder), stdout=StringIO())
    assert Site.objects.count() == 50


@pytest.mark.django_db
def test_the_command_reads_its_files_row_by_row_never_whole(tmp_path, monkeypatch):
    folder = sites_file(tmp_path / "archive", 5)

    def whole(self, *args, **kwargs):
        raise AssertionError(f"{self.name} read whole")

    monkeypatch.setattr(pathlib.Path, "read_bytes", whole)
    monkeypatch.setattr(pathlib.Path, "read_text", whole, raising=False)
    call_command("import_archive", str(folder), stdout=StringIO())
    assert Site.objects.count() == 5


@pytest.mark.django_db
def test_planning_in_small_chunks_gives_the_same_archive(tmp_path, monkeypatch):
    """Chunk boundaries (here every row) change nothing: cross-row rules see the whole file, and
    rows refer to rows of other files planned chunks earlier."""
    build_archive()
    first = export_bytes(tmp_path / "first")
    empty_the_archive()
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)
    call_command("import_archive", str(tmp_path / "first"), stdout=StringIO())
    assert export_bytes(tmp_path / "second") == first


@pytest.mark.django_db
def test_cross_row_rules_hold_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)
    (tmp_path / "sources.csv").write_text(
        "slug,title,publisher,origin,received_text\r\na,T,P,O,Same text\r\nb,T,P,O,Other\r\n"
        "a,T,P,O,Third\r\nc,T,P,O,Same text\r\n",
        encoding="utf-8",
    )
    with pytest.raises(Exception) as raised:
        call_command("import_archive", str(tmp_path), stdout=StringIO())
    assert str(raised.value).splitlines()[1:] == [
        "  sources.csv:4: slug: “a” is already on line 2.",
        "  sources.csv:5: received_text: the same text as line 2 (“a”).",
    ]
    assert not Source.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_planning_runs_outside_any_transaction_and_writing_in_one(tmp_path):
    """What keeps curators' saves going on SQLite: the write lock is taken only for the writes."""
    build_archive()
    export_bytes(tmp_path)
    empty_the_archive()
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((connection.in_atomic_block, sql.split(None, 1)[0].upper(), sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call_command("import_archive", str(tmp_path), stdout=StringIO())
    assert Incident.objects.count() == 5
    inside = [index for index, (atomic, _verb, _sql) in enumerate(statements) if atomic]
    # One write transaction: the statements inside it are one unbroken run …
    assert inside == list(range(inside[0], inside[-1] + 1))
    # … that every insert and update is part of, …
    writes = [i for i, (_a, verb, _s) in enumerate(statements) if verb in {"INSERT", "UPDATE", "DELETE"}]
    assert writes and set(writes) <= set(inside)
    # … after the whole plan: every file's rows were looked up before it began.
    for table in ("site", "actor", "source", "monument", "incident", "image"):
        name = f'"archive_{table}"'
        lookups = [i for i, (_a, verb, sql) in enumerate(statements) if verb == "SELECT" and name in sql]
        assert lookups and lookups[0] < inside[0], table


@pytest.mark.django_db
def test_synthetic_records_never_reach_an_export(tmp_path):
    build_archive()
    call_command("generate_synthetic", "--incidents", "30", stdout=StringIO())
    assert Source.objects.filter(slug__startswith="synthetic-").exists()
    files = export_bytes(tmp_path)
    for name, data in files.items():
        assert b"synthetic" not in data.lower(), name
    assert b"bel-destroyed" in files["incidents.csv"]
    assert b"palmyra" in files["sites.csv"] and b"tricky" in files["sources.csv"]


def analysed(command, *args):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql.strip().upper())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call_command(command, *args, stdout=StringIO())
    return any(sql.startswith("ANALYZE") or sql.startswith("PRAGMA OPTIMIZE") for sql in statements)


@pytest.mark.django_db
def test_bulk_loads_refresh_the_database_statistics(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    empty_the_archive()
    assert not analysed("import_archive", str(tmp_path), "--dry-run")
    assert analysed("import_archive", str(tmp_path))
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'archive_incident'")
            assert cursor.fetchone()[0] > 0
    empty_the_archive()
    assert analysed("import_seeds")
    assert analysed("load_curated_record")
    assert analysed("generate_synthetic", "--incidents", "10")


def locked_view(request):
    raise OperationalError("database is locked")


def other_error_view(request):
    raise OperationalError("no such table: archive_incident")


urlpatterns = [path("locked/", locked_view), path("broken/", other_error_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_locked_database_answers_503_saying_the_archive_is_busy(client):
    assert "archive.busy.DatabaseBusyMiddleware" in __import__("django.conf").conf.settings.MIDDLEWARE
    response = client.post("/locked/")
    assert response.status_code == 503
    assert response["Retry-After"]
    text = response.content.decode()
    assert "busy" in text and "try again" in text
    client.raise_request_exception = False
    assert client.get("/broken/").status_code == 500


def test_model_rule_messages_are_the_importers():
    """The engine words no publication rule of its own (one rule, one place)."""
    source = pathlib.Path(engine.__file__).with_name("rules.py").read_text(encoding="utf-8")
    source += pathlib.Path(engine.__file__).read_text(encoding="utf-8")
    for own_wording in ("say why the incident is withdrawn", "is published but has no citation", "is evidence and"):
        assert own_wording not in source


@pytest.mark.django_db
def test_an_update_can_refer_to_a_row_new_in_the_same_import(tmp_path, monkeypatch):
    """A stored incident relinked to a monument and given an actor that only this import brings:
    their pks are known only in the write phase."""
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)
    build_archive()
    export_bytes(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with (tmp_path / "monuments.csv").open("a", encoding="utf-8", newline="") as stream:
        stream.write("new-arch,palmyra,New arch,,arch" + "," * 8 + "\r\n")
    with (tmp_path / "actors.csv").open("a", encoding="utf-8", newline="") as stream:
        stream.write("new-actor,New actor,militia,,\r\n")
    with (tmp_path / "incident_actors.csv").open("a", encoding="utf-8", newline="") as stream:
        stream.write("bel-destroyed,new-actor,supporting\r\n")
    path = tmp_path / "incidents.csv"
    data = path.read_bytes().replace(b"roman-theatre;temple-of-bel,", b"new-arch;temple-of-bel,")
    assert b"new-arch" in data
    path.write_bytes(data)
    out = StringIO()
    call_command("import_archive", str(tmp_path), stdout=out)
    incident = Incident.objects.get(slug="bel-destroyed")
    assert sorted(incident.monuments.values_list("slug", flat=True)) == ["new-arch", "temple-of-bel"]
    # Added after the actors it had, in the file's order.
    assert [(link.actor.slug, link.role) for link in incident.actor_links.order_by("pk")][-2:] == [
        ("russia", "accused"),
        ("new-actor", "supporting"),
    ]
    assert incident.actor_links.get(actor__slug="new-actor").history.get().history_type == "+"
    latest = incident.history.first()
    assert latest.history_type == "~"
    assert sorted(m.monument.slug for m in latest.monuments.all()) == ["new-arch", "temple-of-bel"]
