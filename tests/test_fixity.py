"""Fixity: every source text and every stored file is checked against its recorded SHA-256.

The migration that introduced the image hashes is tested here too: it hashes files already stored.
"""

import hashlib
import io
import json

import pytest
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from archive.models import Image, Source
from tests.factories import make_source
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db

BEFORE = [("archive", "0002_curator_editor_groups")]
AFTER = [("archive", "0002_image_file_sha256")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg_bytes(colour=(120, 90, 60)):
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migration_hashes_existing_files_and_leaves_missing_ones_empty():
    old_apps = migrate(BEFORE)
    try:
        Site = old_apps.get_model("archive", "Site")
        Monument = old_apps.get_model("archive", "Monument")
        Image = old_apps.get_model("archive", "Image")
        site = Site.objects.create(name="Palmyra", slug="palmyra", country="Syria")
        monument = Monument.objects.create(name="Temple of Bel", slug="temple-of-bel", kind="temple", site=site)
        content = jpeg_bytes()
        stored = default_storage.save("images/2016/03/bel.jpg", ContentFile(content))
        thumb = default_storage.save("thumbnails/2016/03/bel.jpg", ContentFile(b"thumbnail bytes"))
        present = Image.objects.create(
            monument=monument, file=stored, thumbnail=thumb, caption="c", credit="c", licence="CC0", kind="after"
        )
        gone = default_storage.save("images/2016/03/gone.jpg", ContentFile(jpeg_bytes((1, 2, 3))))
        missing = Image.objects.create(
            monument=monument, file=gone, caption="c", credit="c", licence="CC0", kind="after"
        )
        default_storage.delete(gone)

        new_apps = migrate(AFTER)
        Image = new_apps.get_model("archive", "Image")
        present = Image.objects.get(pk=present.pk)
        assert present.file_sha256 == hashlib.sha256(content).hexdigest()
        assert present.thumbnail_sha256 == hashlib.sha256(b"thumbnail bytes").hexdigest()
        missing = Image.objects.get(pk=missing.pk)
        assert missing.file_sha256 == ""
        assert missing.thumbnail_sha256 == ""
    finally:
        migrate_to_latest()


def make_image(**overrides):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import make_monument

    values = {"monument": make_monument(), "caption": "c", "credit": "c", "licence": "CC0", "kind": "after"}
    values.update(overrides)
    return Image.objects.create(file=SimpleUploadedFile("bel.jpg", jpeg_bytes(), "image/jpeg"), **values)


def verify():
    """Run verify_fixity; return (exit status, stdout, stderr) as the shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_fixity", stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_all_match_exits_zero_with_a_summary():
    make_source()
    make_source()
    make_image()
    status, out, err = verify()
    assert status == 0, err
    assert "2 source texts and 2 files" in out
    assert "all match" in out


def test_image_hashes_are_recorded_when_the_file_is_stored():
    image = make_image()
    assert image.file_sha256 == hashlib.sha256(default_storage.open(image.file.name).read()).hexdigest()
    assert image.thumbnail_sha256 == hashlib.sha256(default_storage.open(image.thumbnail.name).read()).hexdigest()


def test_uncited_source_text_changed_by_queryset_update_is_reported():
    # The defect: update() bypasses Source.save(), so the recorded SHA-256 goes stale silently.
    source = make_source(slug="afp-bel")
    make_source()
    expected = source.sha256
    Source.objects.filter(pk=source.pk).update(received_text="A different text entirely.")
    status, out, err = verify()
    assert status != 0
    found = hashlib.sha256(b"A different text entirely.").hexdigest()
    assert f"source afp-bel: expected SHA-256 {expected}, found {found}" in err
    assert "1 mismatch" in err


def test_source_text_overwritten_by_loaddata_is_reported(tmp_path):
    source = make_source(slug="guardian-palmyra")
    fixture = tmp_path / "overwrite.json"
    record = json.loads(serializers.serialize("json", [source]))
    record[0]["fields"]["received_text"] = "Overwritten by a fixture."
    fixture.write_text(json.dumps(record))
    call_command("loaddata", str(fixture), stdout=io.StringIO())
    assert Source.objects.get(pk=source.pk).received_text == "Overwritten by a fixture."
    status, _, err = verify()
    assert status != 0
    assert "source guardian-palmyra: expected SHA-256" in err


def test_file_changed_on_disk_is_reported():
    image = make_image()
    expected = image.file_sha256
    with open(image.file.path, "ab") as handle:
        handle.write(b"tampered")
    status, _, err = verify()
    assert status != 0
    found = hashlib.sha256(open(image.file.path, "rb").read()).hexdigest()
    assert f"file {image.file.name}: expected SHA-256 {expected}, found {found}" in err


def test_missing_file_and_missing_hash_are_reported():
    image = make_image()
    other = make_image()
    default_storage.delete(image.thumbnail.name)
    Image.objects.filter(pk=other.pk).update(file_sha256="")
    status, _, err = verify()
    assert status != 0
    assert f"file {image.thumbnail.name}: expected SHA-256 {image.thumbnail_sha256}, found no file" in err
    assert f"file {other.file.name}: no SHA-256 recorded" in err
    assert "2 mismatches" in err
