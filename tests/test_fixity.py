"""Fixity: every source text and every stored file is checked against its recorded SHA-256.

The migration that introduced the image hashes is tested here too: it hashes files already stored.
"""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image as PILImage

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


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


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
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
