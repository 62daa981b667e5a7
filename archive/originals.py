"""The original files sources come from: kept as evidence, content-addressed, never modified.

A source added from a file (the admin's "Add from a file", `manage.py add_source`) keeps the
file's bytes exactly as received, under a name made from their SHA-256:
`originals/<first two hex digits>/<sha256>.<html|pdf|txt>`. A name is its content, so a file is
written once and never overwritten; the SHA-256 is recorded on the source, and `verify_fixity`
checks the bytes against it. Originals are served to staff only (an HTML original can carry
scripts: it is sent as a download, sandboxed), never to the public.

Between the upload and the curator's review, the bytes wait in `intake/<sha256>` with a small JSON
note of the file's name and the URL given; a review abandoned for a day is cleared at the next
upload. A file refused at upload (malformed, a duplicate) is never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

ORIGINALS = "originals"
STAGING = "intake"
STAGED_FOR_SECONDS = 24 * 3600
MEDIA_TYPES = {"html": "text/html", "pdf": "application/pdf", "txt": "text/plain"}
KIND_OF_FILE = {"text/html": "HTML page", "application/pdf": "PDF", "text/plain": "text file"}
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def original_name(sha256: str, extension: str) -> str:
    return f"{ORIGINALS}/{sha256[:2]}/{sha256}.{extension}"


def store_original(data: bytes, extension: str, storage=default_storage) -> str:
    """Write the bytes under their content's name unless they are there already; return the name.

    A file already stored under that name is left alone if its bytes are the same; different
    bytes under a content name mean the stored file was damaged, which is refused, not repaired."""
    sha256 = sha256_of_bytes(data)
    name = original_name(sha256, extension)
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            if sha256_of_bytes(handle.read()) != sha256:
                raise OSError(f"The stored original {name} does not match its SHA-256: run verify_fixity.")
        return name
    stored = storage.save(name, ContentFile(data))
    if stored != name:  # another writer won a race with the same bytes: keep one copy
        storage.delete(stored)
    return name


@dataclass(frozen=True)
class Staged:
    """An uploaded file waiting for the curator's review."""

    token: str
    data: bytes
    file_name: str
    url: str


def stage(data: bytes, file_name: str, url: str = "", storage=default_storage) -> str:
    """Keep an accepted upload until the curator saves or abandons the review; return its token."""
    clear_stale(storage)
    token = sha256_of_bytes(data)
    if not storage.exists(f"{STAGING}/{token}"):
        storage.save(f"{STAGING}/{token}", ContentFile(data))
    note = json.dumps({"file_name": file_name, "url": url}).encode()
    storage.delete(f"{STAGING}/{token}.json")
    storage.save(f"{STAGING}/{token}.json", ContentFile(note))
    return token


def staged(token: str, storage=default_storage) -> Staged | None:
    """The staged upload named by `token`, or None (unknown, cleared, or not a token at all)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    try:
        with storage.open(f"{STAGING}/{token}", "rb") as handle:
            data = handle.read()
        with storage.open(f"{STAGING}/{token}.json", "rb") as handle:
            note = json.loads(handle.read())
    except (FileNotFoundError, OSError, ValueError):
        return None
    if sha256_of_bytes(data) != token:
        return None
    return Staged(token, data, note.get("file_name", ""), note.get("url", ""))


def discard(token: str, storage=default_storage) -> None:
    if _TOKEN.match(token or ""):
        storage.delete(f"{STAGING}/{token}")
        storage.delete(f"{STAGING}/{token}.json")


def clear_stale(storage=default_storage, now: float | None = None) -> None:
    """Remove uploads whose review was abandoned more than a day ago."""
    now = time.time() if now is None else now
    try:
        _dirs, files = storage.listdir(STAGING)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        try:
            modified = storage.get_modified_time(f"{STAGING}/{name}").timestamp()
        except (FileNotFoundError, OSError):
            continue
        if now - modified > STAGED_FOR_SECONDS:
            storage.delete(f"{STAGING}/{name}")
