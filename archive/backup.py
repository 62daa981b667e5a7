"""A full backup of the archive in one zip file, and its restore into an empty database.

Everything the CSV round trip leaves out is in it: every row of every model of every installed app
(the records, their django-simple-history tables, users, groups and their permissions, who
published, the admin log, django-axes' tables), except sessions and the two tables `migrate`
rebuilds from the code (content types and permissions); and the stored files (images and
thumbnails).

Members of the zip:
- `data/<app_label>.<model>.jsonl`: one object a line, written by Django's serializers, primary
  keys kept; references to content types and permissions are written as their natural keys
  (("archive", "incident"); ("publish_incident", "archive", "incident")), because a freshly
  migrated database numbers those rows its own way.
- `media/<path>`: each stored file, under its name in storage.
- `manifest.json`, written last: the format, when the backup was made, the applied migrations
  (a restore refuses a backup from another schema), the row count of each model, and the SHA-256
  of every other member (a restore refuses a damaged backup).

A restore reads the objects back with Django's deserializer and saves them raw (as `loaddata`
does: no `save()` method, no signal acts on them, timestamps kept), then resets the sequences.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Prefetch

FORMAT = "heritage-archive-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ExactEncoder(DjangoJSONEncoder):
    """Django's encoder keeps datetimes to the millisecond; a backup keeps them to the microsecond,
    so that a restored record is the record (and a second backup the same file)."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


# Rebuilt by `migrate` from the code (referred to by natural key instead), or not worth keeping.
NOT_BACKED_UP = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
# Made by a data migration in every new database: a restore replaces them with the backup's.
REPLACED_ON_RESTORE = {"auth.group"}
CHUNK = 2000
# Fixed member dates: two backups of the same archive hold the same bytes.
MEMBER_DATE = (1980, 1, 1, 0, 0, 0)


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


@dataclass
class BackupReport:
    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rows = sum(self.counts.values())
        return f"{self.path}: {rows} rows of {len(self.counts)} models and {self.files} files."


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete model of every installed app, in dependency order."""
    chosen = [
        (config, [model for model in config.get_models() if _included(model)]) for config in apps.get_app_configs()
    ]
    return serializers.sort_dependencies([(config, found) for config, found in chosen if found])


def _included(model) -> bool:
    meta = model._meta
    return meta.managed and not meta.proxy and meta.label_lower not in NOT_BACKED_UP


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    recorder = MigrationRecorder(connections[using])
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


# -- backup --------------------------------------------------------------------------------------


def backup(path: Path, using: str = DEFAULT_DB_ALIAS) -> BackupReport:
    """Write the whole archive to the zip file `path` (replaced only once complete)."""
    report = BackupReport(path)
    digests: dict[str, str] = {}
    partial = path.with_name(path.name + ".partial")
    natural = _natural_keys(using)
    # One transaction: on PostgreSQL a consistent snapshot of every table.
    with transaction.atomic(using=using), zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for model in backed_up_models():
            name = f"data/{model._meta.label_lower}.jsonl"
            lines = (
                json.dumps(record, cls=ExactEncoder, sort_keys=True) + "\n"
                for record in _records(model, natural, using)
            )
            report.counts[model._meta.label] = _write_lines(archive, name, lines, digests)
        for file_name in _stored_files(using):
            try:
                with default_storage.open(file_name, "rb") as handle:
                    content = handle.read()
            except (FileNotFoundError, OSError):
                report.missing_files.append(file_name)
                continue
            member = f"media/{file_name}"
            archive.writestr(zipfile.ZipInfo(member, MEMBER_DATE), content, zipfile.ZIP_DEFLATED)
            digests[member] = hashlib.sha256(content).hexdigest()
            report.files += 1
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "migrations": applied_migrations(using),
            "counts": report.counts,
            "missing_files": report.missing_files,
            "members": digests,
        }
        archive.writestr(
            zipfile.ZipInfo(MANIFEST, MEMBER_DATE), json.dumps(manifest, indent=1, sort_keys=True), zipfile.ZIP_DEFLATED
        )
    partial.replace(path)
    return report


def _natural_keys(using) -> dict:
    """pk → natural key of every content type and permission."""
    types = {ct.pk: list(ct.natural_key()) for ct in ContentType.objects.using(using).all()}
    permissions = {
        pk: [codename, *types[ct]]
        for pk, codename, ct in Permission.objects.using(using).values_list("pk", "codename", "content_type")
    }
    return {ContentType: types, Permission: permissions}


def _records(model, natural, using) -> Iterator[dict]:
    m2m = [f for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
    queryset = model._base_manager.using(using).order_by("pk")
    if m2m:
        queryset = queryset.prefetch_related(
            *(Prefetch(f.name, queryset=f.remote_field.model._base_manager.only("pk")) for f in m2m)
        )
    for obj in queryset.iterator(chunk_size=CHUNK):
        (record,) = serializers.serialize("python", [obj])
        fields = record["fields"]
        for f in model._meta.concrete_fields:
            target = f.related_model
            if target in natural and fields.get(f.name) is not None:
                fields[f.name] = natural[target][fields[f.name]]
        for f in m2m:
            target = f.related_model
            values = fields[f.name]
            fields[f.name] = sorted(natural[target][pk] for pk in values) if target in natural else sorted(values)
        yield record


def _write_lines(archive, name, lines: Iterable[str], digests) -> int:
    digest, count = hashlib.sha256(), 0
    with archive.open(zipfile.ZipInfo(name, MEMBER_DATE), "w") as member:
        for line in lines:
            data = line.encode("utf-8")
            member.write(data)
            digest.update(data)
            count += 1
    digests[name] = digest.hexdigest()
    return count


def _stored_files(using) -> list[str]:
    """The name of every file a row refers to, through any FileField of any backed-up model."""
    names = set()
    for model in backed_up_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.FileField):
                names.update(
                    model._base_manager.using(using).exclude(**{f.attname: ""}).values_list(f.attname, flat=True)
                )
    return sorted(name for name in names if name)


# -- restore -------------------------------------------------------------------------------------


def restore(path: Path, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Restore the backup `path` into this database, which must be freshly migrated and empty.
    All or nothing. Returns the number of rows restored per model."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise BackupError(f"{path}: not a backup of the archive ({error}).") from None
    with archive:
        manifest = _read_manifest(path, archive)
        _check_schema(manifest, using)
        _check_empty(using)
        counts = {}
        connection = connections[using]
        restored = []
        with transaction.atomic(using=using):
            Group.objects.using(using).all().delete()
            with connection.constraint_checks_disabled():
                for model in backed_up_models():
                    name = f"data/{model._meta.label_lower}.jsonl"
                    if name not in manifest["members"]:
                        continue
                    counts[model._meta.label] = _load(archive, name, using)
                    restored.append(model)
            connection.check_constraints(table_names=[model._meta.db_table for model in restored])
            statements = connection.ops.sequence_reset_sql(no_style(), restored)
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
            for member in sorted(manifest["members"]):
                if member.startswith("media/"):
                    _restore_file(member.removeprefix("media/"), archive.read(member))
    return counts


def _read_manifest(path, archive) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise BackupError(f"{path}: not a backup of the archive (no readable {MANIFEST}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: not a backup of the archive ({MANIFEST} is not one of ours).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path}: backup format version {manifest.get('format_version')}; this version restores "
            f"format {FORMAT_VERSION} only."
        )
    damaged = []
    for member, expected in sorted(manifest["members"].items()):
        try:
            found = _member_sha256(archive, member)
        except KeyError:
            damaged.append(f"{member} is missing")
            continue
        if found != expected:
            damaged.append(f"{member}: expected SHA-256 {expected}, found {found}")
    if damaged:
        raise BackupError(f"{path} is damaged; nothing was restored:\n  " + "\n  ".join(damaged))
    return manifest


def _member_sha256(archive, member) -> str:
    digest = hashlib.sha256()
    with archive.open(member) as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_schema(manifest, using) -> None:
    theirs, ours = set(manifest["migrations"]), set(applied_migrations(using))
    if theirs == ours:
        return
    lines = []
    if theirs - ours:
        lines.append("applied in the backup, not in this database: " + ", ".join(sorted(theirs - ours)))
    if ours - theirs:
        lines.append("applied in this database, not in the backup: " + ", ".join(sorted(ours - theirs)))
    raise BackupError(
        "The backup was made with another database schema, so it cannot be restored here; nothing was "
        "restored. Restore it with the version of the archive that made it (the same migrations).\n  "
        + "\n  ".join(lines)
    )


def _check_empty(using) -> None:
    occupied = []
    for model in backed_up_models():
        if model._meta.label_lower in REPLACED_ON_RESTORE:
            continue
        count = model._base_manager.using(using).count()
        if count:
            occupied.append(f"{model._meta.label}: {count}")
    if occupied:
        raise BackupError(
            "This database is not empty, so nothing was restored (a restore never mixes two archives). "
            "Restore into a new database: create it, run `manage.py migrate`, then `manage.py restore`. "
            "Rows found:\n  " + "\n  ".join(occupied)
        )


def _load(archive, name, using) -> int:
    count = 0
    with archive.open(name) as handle:
        try:
            for batch in _batches(json.loads(line) for line in handle):
                links = defaultdict(list)
                for deserialized in serializers.deserialize("python", batch, using=using):
                    m2m = deserialized.m2m_data or {}  # save() forgets it
                    deserialized.save(save_m2m=False, using=using)
                    for name, targets in m2m.items():
                        links[name].extend((deserialized.object.pk, target) for target in targets)
                    count += 1
                _link(batch_model(batch), links, using)
        except (DeserializationError, DatabaseError) as error:
            raise BackupError(f"{name}: row {count + 1} cannot be restored ({error}); nothing was restored.") from None
    return count


def batch_model(batch):
    return apps.get_model(batch[0]["model"])


def _link(model, links, using) -> None:
    """Many-to-many rows, written without the m2m_changed signal (django-simple-history would add a
    history row for each, and a restore adds no history)."""
    for name, pairs in links.items():
        field = model._meta.get_field(name)
        through = field.remote_field.through
        source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        through._base_manager.using(using).bulk_create(
            [through(**{source: left, target: right}) for left, right in pairs], batch_size=CHUNK
        )


def _batches(records: Iterable[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _restore_file(name: str, content: bytes) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:
        raise BackupError(f"the file {name} could not be restored under its own name (stored as {saved}).")
