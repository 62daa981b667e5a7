"""Record the SHA-256 of every stored image file and thumbnail, so that verify_fixity can check them.

Existing rows are hashed from storage; a file that is missing gets an empty hash, which
verify_fixity reports. (Named 0002 as agreed; it follows 0002_curator_editor_groups so that the
graph keeps a single leaf.)
"""

import hashlib

from django.db import migrations, models


def _sha256(field_file):
    if not field_file or not field_file.name:
        return ""
    try:
        with field_file.storage.open(field_file.name, "rb") as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    except (FileNotFoundError, OSError):
        return ""
    return digest.hexdigest()


def hash_existing_files(apps, schema_editor):
    Image = apps.get_model("archive", "Image")
    for image in Image.objects.using(schema_editor.connection.alias).iterator():
        Image.objects.using(schema_editor.connection.alias).filter(pk=image.pk).update(
            file_sha256=_sha256(image.file), thumbnail_sha256=_sha256(image.thumbnail)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0002_curator_editor_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalimage",
            name="file_sha256",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the stored file, recorded when it is stored; verify_fixity checks it.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="historicalimage",
            name="thumbnail_sha256",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the stored thumbnail, recorded when it is stored; verify_fixity checks it.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="image",
            name="file_sha256",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the stored file, recorded when it is stored; verify_fixity checks it.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="image",
            name="thumbnail_sha256",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the stored thumbnail, recorded when it is stored; verify_fixity checks it.",
                max_length=64,
            ),
        ),
        migrations.RunPython(hash_existing_files, migrations.RunPython.noop),
    ]
