"""Backup and restore: everything (records, history, users, groups and permissions, who published,
the admin log, image files) into one file, restored identically into a new, empty database.

"A new database" is made here as `migrate` makes one: the tables emptied (flush), the content types
and permissions created again by post_migrate — deliberately numbered differently from the
original ones — and the Curator and Editor groups created again by their data migration."""

import datetime
import io
import json
import shutil
import zipfile

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from PIL import Image as PILImage

from archive.models import Citation, Image, Incident, Site, Source
from archive.roles import ensure_groups
from tests.factories import make_citation, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg_bytes():
    buffer = io.BytesIO()
    PILImage.new("RGB", (30, 20), (200, 100, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


def make_archive():
    """A small archive with one of everything a backup must keep."""
    ensure_groups()  # a transactional test starts from flushed tables, without the migration's groups
    editor = User.objects.create_user("edna", password="edna-pw", is_staff=True, first_name="Edna")
    editor.groups.add(Group.objects.get(name="Editor"))
    curator = User.objects.create_user("cora", password="cora-pw", is_staff=True)
    curator.groups.add(Group.objects.get(name="Curator"))
    curator.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_historicalincident"))
    curator.groups.add(auditors)

    palmyra = make_site(slug="palmyra", name="Palmyra")
    bel = make_monument(slug="temple-of-bel", site=palmyra)
    incident = make_incident(slug="bel-destroyed", site=palmyra, monuments=[bel], citations=1)
    incident.publish(editor)
    incident.title = "Temple of Bel destroyed"
    incident._change_reason = "clearer title"
    incident.save()
    make_citation(incident=incident, source=make_source(slug="guardian"))
    gone = make_site(slug="aleppo-draft")
    gone.delete()  # its history stays
    Image.objects.create(
        monument=bel,
        file=SimpleUploadedFile("bel.jpg", jpeg_bytes()),
        caption="Bel",
        credit="AP",
        licence="CC BY",
    )
    LogEntry.objects.log_actions(editor.pk, [incident], CHANGE, change_message="Published")
    return incident


def new_database():
    """Empty every table and rebuild what `migrate` makes, with other ids for content types and permissions."""
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    shifted = ContentType.objects.create(app_label="aaa", model="shift")
    Permission.objects.create(codename="shift", name="shift", content_type=shifted)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    ensure_groups()


def members(path):
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(contents.pop("manifest.json"))
    manifest.pop("created_at")
    return manifest, contents


def test_backup_restore_backup_compares_equal(tmp_path, media_root):
    incident = make_archive()
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    call_command("backup", str(first), stdout=io.StringIO())
    original_ids = dict(Permission.objects.values_list("codename", "pk"))

    new_database()
    assert dict(Permission.objects.values_list("codename", "pk")) != original_ids
    assert not Incident.objects.exists()
    shutil.rmtree(media_root)  # the files must come back from the backup
    out = io.StringIO()
    call_command("restore", str(first), stdout=out)
    assert "Restored" in out.getvalue()
    call_command("backup", str(second), stdout=io.StringIO())

    manifest_1, contents_1 = members(first)
    manifest_2, contents_2 = members(second)
    assert contents_1.keys() == contents_2.keys()
    for name in contents_1:
        if name.startswith("data/"):
            lines_1, lines_2 = contents_1[name].splitlines(), contents_2[name].splitlines()
            assert len(lines_1) == len(lines_2), name
            for line_1, line_2 in zip(lines_1, lines_2, strict=True):
                assert json.loads(line_1) == json.loads(line_2), name  # a readable diff first
        assert contents_1[name] == contents_2[name], name
    assert manifest_1 == manifest_2

    # And the restored archive works as the original did.
    restored = Incident.objects.get(slug="bel-destroyed")
    assert restored.pk == incident.pk
    assert restored.published_by.username == "edna"
    assert restored.history.count() == incident.history.count() >= 3
    assert restored.history.filter(history_change_reason="clearer title").exists()
    assert Site.history.filter(slug="aleppo-draft", history_type="-").exists()
    cora = User.objects.get(username="cora")
    assert cora.check_password("cora-pw")
    assert cora.has_perm("admin.view_logentry")  # a user permission
    assert cora.has_perm("archive.view_historicalincident")  # through a group the backup made
    assert cora.has_perm("archive.add_incident")  # through the Curator group
    assert not cora.has_perm("archive.publish_incident")
    assert User.objects.get(username="edna").has_perm("archive.publish_incident")
    entry = LogEntry.objects.get()
    assert entry.content_type == ContentType.objects.get_for_model(Incident)
    image = Image.objects.get()
    assert image.file.read() and (media_root / image.file.name).is_file()
    call_command("verify_fixity", stdout=io.StringIO())
    # Sequences follow the restored ids: new rows get new pks.
    site_pks = list(Site.objects.values_list("pk", flat=True))
    assert make_site().pk not in site_pks
    assert make_incident(citations=1).pk > restored.pk
    assert Citation.objects.count() == 3 and Source.objects.count() == 3


def test_times_are_kept_to_the_microsecond(tmp_path):
    # Django's JSON encoder keeps milliseconds: a time 123 µs past the second came back as the
    # second itself, and the second backup differed from the first (seen once in CI).
    incident = make_incident(citations=1, status="published")
    moment = datetime.datetime(2016, 3, 27, 10, 30, 5, 123, tzinfo=datetime.UTC)
    Incident.objects.filter(pk=incident.pk).update(published_at=moment)
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    call_command("backup", str(first), stdout=io.StringIO())
    new_database()
    call_command("restore", str(first), stdout=io.StringIO())
    assert Incident.objects.get(pk=incident.pk).published_at == moment
    call_command("backup", str(second), stdout=io.StringIO())
    assert members(first)[1] == members(second)[1]


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    make_archive()
    path = tmp_path / "backup.zip"
    call_command("backup", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="This database is not empty") as refused:
        call_command("restore", str(path), stdout=io.StringIO())
    assert "archive.Incident: 1" in str(refused.value)
    assert Incident.objects.count() == 1


def test_restore_refuses_a_backup_of_another_schema(tmp_path):
    make_archive()
    path, other = tmp_path / "backup.zip", tmp_path / "other.zip"
    call_command("backup", str(path), stdout=io.StringIO())
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(other, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"].append("archive.9999_from_the_future")
                data = json.dumps(manifest)
            target.writestr(name, data)
    new_database()
    with pytest.raises(CommandError, match="another database schema") as refused:
        call_command("restore", str(other), stdout=io.StringIO())
    assert "applied in the backup, not in this database: archive.9999_from_the_future" in str(refused.value)
    assert not User.objects.exists()


def test_restore_refuses_a_damaged_backup(tmp_path):
    make_archive()
    path, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    call_command("backup", str(path), stdout=io.StringIO())
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "data/archive.incident.jsonl":
                data = data.replace(b"Temple of Bel destroyed", b"Temple of Bel restored")
            target.writestr(name, data)
    new_database()
    with pytest.raises(CommandError, match="is damaged; nothing was restored") as refused:
        call_command("restore", str(damaged), stdout=io.StringIO())
    assert "data/archive.incident.jsonl: expected SHA-256" in str(refused.value)
    assert not Incident.objects.exists()
