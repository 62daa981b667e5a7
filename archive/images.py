"""Checking and cleaning uploaded images with Pillow.

An upload must be a sound JPEG, PNG or WebP file within `IMAGE_MAX_BYTES` and
`IMAGE_MAX_PIXELS`. What is stored is not the upload but a re-encoding of its pixels: EXIF
(camera, time, GPS position), XMP, IPTC and comments are dropped, because in a war zone a
photograph's metadata can endanger the person who took it. The file is renamed after its
content for the same reason (camera file names carry dates and sometimes names). The colour
profile is kept: it describes colours, not people. A JPEG thumbnail is made for lists.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

# Pillow's format name → the extension stored. MPO is the multi-picture JPEG some cameras write.
ALLOWED_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
ENCODER = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
THUMBNAIL_SIZE = (480, 480)
# What a stored file's name may end in, by the extension its format is stored under.
SUFFIXES = {"jpg": {"jpg", "jpeg"}, "png": {"png"}, "webp": {"webp"}}
SNIFF_BYTES = 1024


@dataclass(frozen=True)
class CleanImage:
    name: str
    content: bytes
    width: int
    height: int
    thumbnail_name: str
    thumbnail: bytes


def check_image(upload, name: str | None = None) -> tuple[str, int, int]:
    """Return (format, width, height) of a sound, allowed image; raise ValidationError otherwise.

    `upload` is any file object with `size` (an UploadedFile, a File). Its position is reset.
    Messages name the file: `name`, or the upload's own name.
    """
    name = name or getattr(upload, "name", None)
    subject = f"“{name}”" if name else "The file"
    max_bytes = settings.IMAGE_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            f"{subject} is {filesizeformat(size)}; images may be at most {filesizeformat(max_bytes)}.",
            code="too_large",
        )
    max_pixels = settings.IMAGE_MAX_PIXELS
    too_many_pixels = (
        subject + " is {width} × {height} pixels ({megapixels:.1f} megapixels); at most "
        f"{max_pixels / 1_000_000:.1f} megapixels are accepted. Files like this can be decompression "
        "bombs; scale it down and upload it again."
    )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if _is_markup(head):
        # Pillow would not open it either, but say why: SVG is XML that browsers run scripts in.
        raise ValidationError(
            f"{subject} is {'an SVG drawing' if b'<svg' in head.lower() else 'an XML or HTML document'}, not a "
            "raster image: SVG files can carry scripts, so only JPEG, PNG and WebP images are accepted.",
            code="not_raster",
        )
    try:
        # Pillow warns (and past twice its own limit, refuses) on huge images: treat both as refusals.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(upload) as image:
                kind, (width, height) = image.format, image.size
                if kind not in ALLOWED_FORMATS:
                    raise ValidationError(
                        f"{subject} is a {kind} image; only JPEG, PNG and WebP are accepted.", code="format"
                    )
                if width * height > max_pixels:
                    raise ValidationError(
                        too_many_pixels.format(width=width, height=height, megapixels=width * height / 1e6),
                        code="too_many_pixels",
                    )
                # Decode every pixel: a truncated or corrupt file fails here, not later.
                image.load()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ValidationError(
            f"{subject}'s dimensions are far beyond the {max_pixels / 1_000_000:.1f}-megapixel limit: "
            "it looks like a decompression bomb and was refused.",
            code="too_many_pixels",
        ) from None
    except UnidentifiedImageError:
        raise ValidationError(
            f"{subject} is not an image Pillow can read: upload a JPEG, PNG or WebP file.", code="not_an_image"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ValidationError(
            f"{subject} is damaged or incomplete (truncated?) and cannot be read: {error}.", code="damaged"
        ) from None
    finally:
        upload.seek(0)
    return kind, width, height


def check_stored_image(storage, name: str) -> str:
    """Check a file already in storage (put in the media folder for a CSV import, or named by
    code) as an upload is checked; return the extension it is stored under. Its name is its key,
    so it must end in the extension of what it really is."""
    with storage.open(name, "rb") as handle:
        kind, _, _ = check_image(handle, name)
    extension = ALLOWED_FORMATS[kind]
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if suffix not in SUFFIXES[extension]:
        raise ValidationError(
            f"“{name}” is a {kind} image but its name ends in .{suffix}: rename it to end in .{extension}.",
            code="extension",
        )
    return extension


def stored_sha256(field_file) -> str | None:
    """The SHA-256 of a stored file, read in chunks; None when it is not in storage."""
    return file_sha256(field_file.storage, field_file.name)


def file_sha256(storage, name: str) -> str | None:
    """The SHA-256 of the file `name` in `storage`, read in chunks; None when it is missing."""
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        return None
    digest = hashlib.sha256()
    with handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def needs_cleaning(image) -> bool:
    """Whether `image`'s file is not (or no longer) the cleaned copy recorded: a new upload, or a
    file in storage whose bytes are not those of its recorded SHA-256 (placed in the media folder
    for a CSV import, named by code, or replaced on disk). A file that is not in storage has
    nothing to publish and is left alone (verify_fixity reports it)."""
    if not image.file:
        return False
    if not image.file._committed:
        return True
    found = stored_sha256(image.file)
    return found is not None and found != image.file_sha256


def clean_image(upload) -> CleanImage:
    """Check `upload`, then re-encode its pixels without metadata and make a thumbnail."""
    kind, _, _ = check_image(upload)
    extension = ALLOWED_FORMATS[kind]
    with PILImage.open(upload) as original:
        icc_profile = original.info.get("icc_profile")
        # The orientation lives in EXIF, which is dropped: apply it to the pixels first.
        pixels = ImageOps.exif_transpose(original)
        if pixels.mode == "P":
            pixels = pixels.convert("RGBA" if "transparency" in pixels.info else "RGB")
        if extension == "jpg" and pixels.mode not in ("RGB", "L", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels = pixels.copy()
    upload.seek(0)
    # Encoders fall back on `info` for XMP, comments and more: start from nothing.
    pixels.info = {}

    options = {"icc_profile": icc_profile} if icc_profile else {}
    if extension == "jpg":
        options.update(quality=90, optimize=True)
    elif extension == "webp":
        options.update(quality=90)
    else:
        options.update(optimize=True)
    content = _encode(pixels, ENCODER[extension], **options)

    thumbnail = pixels.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    thumbnail = _flatten(thumbnail)
    thumbnail_content = _encode(thumbnail, "JPEG", quality=80, optimize=True)

    digest = hashlib.sha256(content).hexdigest()[:24]
    return CleanImage(
        name=f"{digest}.{extension}",
        content=content,
        width=pixels.width,
        height=pixels.height,
        thumbnail_name=f"{digest}.jpg",
        thumbnail=thumbnail_content,
    )


def store_clean_image(image) -> None:
    """Store the cleaned copy of an `archive.Image`'s file, set its thumbnail, width, height and
    SHA-256s. Every path calls this (the admin, `Image.save`, `Image.objects.bulk_create` and so
    the CSV import); call it before saving the instance.

    A new upload is stored under a name made from its content. A file already in storage keeps its
    name (a CSV import refers to it by that name) and is replaced by its cleaned copy once the
    transaction commits, so that a dry run or a refused import leaves the media folder as it was.
    """
    if not image.file._committed:
        cleaned = clean_image(image.file.file)
        image.file.save(cleaned.name, ContentFile(cleaned.content), save=False)
    else:
        name, storage = image.file.name, image.file.storage
        try:
            check_stored_image(storage, name)
            with storage.open(name, "rb") as handle:
                cleaned = clean_image(handle)
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from None
        transaction.on_commit(partial(_replace_stored, storage, name, cleaned.content))
    image.thumbnail.save(cleaned.thumbnail_name, ContentFile(cleaned.thumbnail), save=False)
    image.width, image.height = cleaned.width, cleaned.height
    # Recorded from the bytes written, so verify_fixity can later tell a file changed on disk.
    image.file_sha256 = hashlib.sha256(cleaned.content).hexdigest()
    image.thumbnail_sha256 = hashlib.sha256(cleaned.thumbnail).hexdigest()


def _replace_stored(storage, name: str, content: bytes) -> None:
    storage.delete(name)
    storage.save(name, ContentFile(content))


def _is_markup(head: bytes) -> bool:
    """Whether a file starts like XML, SVG or HTML (after a byte-order mark and blank space)."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _encode(image, encoder: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, encoder, **options)
    return buffer.getvalue()


def _flatten(image):
    """RGB for JPEG: transparency over white."""
    if image.mode in ("RGB", "L"):
        return image
    if "A" in image.getbands():
        background = PILImage.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
