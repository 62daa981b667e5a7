"""Fixity: is what the archive holds still what it recorded?

Every source's received text is hashed again and compared with its recorded SHA-256, and every
stored file (each image's file and thumbnail, each source's original file) with the SHA-256 recorded when it was stored.
`Source.save()` keeps the hash in step, but `QuerySet.update()`, `loaddata` and raw SQL bypass it,
and a file can change or vanish on disk without the database knowing: this is what notices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .images import file_sha256
from .models import Image, Source
from .models.sources import sha256_of


@dataclass(frozen=True)
class Mismatch:
    kind: str  # "source" or "file"
    name: str  # the source's slug or the file's path in storage
    expected: str
    found: str | None  # None: the file is missing

    def __str__(self) -> str:
        if not self.expected:
            return f"{self.kind} {self.name}: no SHA-256 recorded" + (
                ", and no file found" if self.found is None else f" (found {self.found})"
            )
        found = "no file" if self.found is None else self.found
        return f"{self.kind} {self.name}: expected SHA-256 {self.expected}, found {found}"


@dataclass
class FixityReport:
    sources: int = 0
    files: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        checked = f"Checked {self.sources} source texts and {self.files} files"
        if self.ok:
            return f"{checked}: all match their recorded SHA-256."
        count = len(self.mismatches)
        return f"{checked}: {count} mismatch{'es' if count != 1 else ''}."


def source_mismatches(report: FixityReport) -> Iterator[Mismatch]:
    rows = Source.objects.order_by("slug").values_list("slug", "received_text", "sha256")
    for slug, text, recorded in rows.iterator(chunk_size=500):
        report.sources += 1
        found = sha256_of(text)
        if found != recorded:
            yield Mismatch("source", slug, recorded, found)


def file_mismatches(report: FixityReport) -> Iterator[Mismatch]:
    rows = Image.objects.order_by("pk").values_list("file", "file_sha256", "thumbnail", "thumbnail_sha256")
    storage_of = {name: Image._meta.get_field(name).storage for name in ("file", "thumbnail")}
    for file_name, file_hash, thumbnail_name, thumbnail_hash in rows.iterator(chunk_size=500):
        for which, name, recorded in (("file", file_name, file_hash), ("thumbnail", thumbnail_name, thumbnail_hash)):
            if not name:
                continue
            report.files += 1
            found = file_sha256(storage_of[which], name)
            if found is None or found != recorded:
                yield Mismatch("file", name, recorded, found)
    # The original files sources were added from (archive.originals).
    storage = Source._meta.get_field("original").storage
    originals = Source.objects.exclude(original="").order_by("pk").values_list("original", "original_sha256")
    for name, recorded in originals.iterator(chunk_size=500):
        report.files += 1
        found = file_sha256(storage, name)
        if found is None or found != recorded:
            yield Mismatch("file", name, recorded, found)


def verify_fixity() -> FixityReport:
    report = FixityReport()
    report.mismatches.extend(source_mismatches(report))
    report.mismatches.extend(file_mismatches(report))
    return report
