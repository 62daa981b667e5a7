"""Images through every door are cleaned: a file named in images.csv is checked and stripped of its
metadata exactly as an upload in the admin is, and SVG or other non-raster files are refused on
every path (CSV import, ORM save, bulk_create, admin)."""

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import ExifTags
from PIL import Image as PILImage

from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Image
from tests.factories import make_monument

pytestmark = pytest.mark.django_db

HEADER = "file,monument,caption,credit,licence\r\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/admin/')</script><rect width='10' height='10'/></svg>\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def geotagged_jpeg():
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (34.0, 33.0, 1.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (38.0, 16.0, 2.0),
    }
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (180, 140, 90)).save(buffer, "JPEG", exif=exif.tobytes(), comment=b"Someone Local")
    return buffer.getvalue()


def place(name, content):
    """Put a file in the media folder by hand, as a curator preparing an images.csv import does."""
    saved = default_storage.save(name, ContentFile(content))
    assert saved == name
    return default_storage.path(name)


def import_images(text, **options):
    return import_tables({"images": read_csv("images.csv", text.encode("utf-8"))}, **options)


def problems_of(report):
    return [str(problem) for problem in report.problems]


def assert_no_metadata(path):
    with PILImage.open(path) as image:
        assert not image.getexif(), "EXIF survived"
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "comment" not in image.info and "exif" not in image.info
    assert b"Someone Local" not in open(path, "rb").read()
    assert b"PhoneMaker" not in open(path, "rb").read()


def test_a_geotagged_jpeg_imported_through_images_csv_is_stored_without_exif(django_capture_on_commit_callbacks):
    make_monument(slug="temple-of-bel")
    path = place("images/2016/03/bel.jpg", geotagged_jpeg())
    with PILImage.open(path) as original:  # the test file really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    with django_capture_on_commit_callbacks(execute=True):
        report = import_images(HEADER + "images/2016/03/bel.jpg,temple-of-bel,Bel,AP,CC BY\r\n")
    assert report.ok, problems_of(report)

    image = Image.objects.get()
    assert image.file.name == "images/2016/03/bel.jpg"  # the natural key is kept
    assert_no_metadata(image.file.path)
    assert (image.width, image.height) == (64, 48)
    assert image.file_sha256 == hashlib.sha256(open(image.file.path, "rb").read()).hexdigest()
    assert image.thumbnail and default_storage.exists(image.thumbnail.name)
    assert image.thumbnail_sha256 == hashlib.sha256(default_storage.open(image.thumbnail.name).read()).hexdigest()
    assert image.history.get().file_sha256 == image.file_sha256

    # Importing the same file again changes nothing (no second re-encoding).
    with django_capture_on_commit_callbacks(execute=True):
        again = import_images(HEADER + "images/2016/03/bel.jpg,temple-of-bel,Bel,AP,CC BY\r\n")
    assert again.ok and again.totals() == (0, 0, 1)
    assert Image.objects.get().file_sha256 == image.file_sha256


def test_a_dry_run_leaves_the_file_as_it_was(django_capture_on_commit_callbacks):
    make_monument(slug="temple-of-bel")
    original = geotagged_jpeg()
    path = place("images/bel.jpg", original)
    with django_capture_on_commit_callbacks(execute=True):
        report = import_images(HEADER + "images/bel.jpg,temple-of-bel,Bel,AP,CC BY\r\n", dry_run=True)
    assert report.ok, problems_of(report)
    assert not Image.objects.exists()
    assert open(path, "rb").read() == original


def test_a_file_replaced_on_disk_is_cleaned_on_the_next_import(django_capture_on_commit_callbacks):
    make_monument(slug="temple-of-bel")
    place("images/bel.jpg", geotagged_jpeg())
    row = HEADER + "images/bel.jpg,temple-of-bel,Bel,AP,CC BY\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        assert import_images(row).ok
    default_storage.delete("images/bel.jpg")
    path = place("images/bel.jpg", geotagged_jpeg())
    with django_capture_on_commit_callbacks(execute=True):
        report = import_images(row)
    assert report.ok and report.totals() == (0, 1, 0), problems_of(report)
    assert_no_metadata(path)
    assert Image.objects.get().file_sha256 == hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_an_svg_with_a_script_is_refused_and_nothing_is_written():
    make_monument(slug="temple-of-bel")
    path = place("images/evil.svg", SVG)
    report = import_images(HEADER + "images/evil.svg,temple-of-bel,Evil,AP,CC BY\r\n")
    assert problems_of(report) == [
        "images.csv:2: file: “images/evil.svg” is an SVG drawing, not a raster image: "
        "SVG files can carry scripts, so only JPEG, PNG and WebP images are accepted."
    ]
    assert not Image.objects.exists()
    assert open(path, "rb").read() == SVG


def test_an_svg_renamed_jpg_and_a_text_file_are_refused_too():
    make_monument(slug="temple-of-bel")
    place("images/evil.jpg", SVG)
    place("images/notes.png", b"just some notes\n")
    report = import_images(
        HEADER + "images/evil.jpg,temple-of-bel,A,AP,CC BY\r\nimages/notes.png,temple-of-bel,B,AP,CC BY\r\n"
    )
    assert problems_of(report) == [
        "images.csv:2: file: “images/evil.jpg” is an SVG drawing, not a raster image: "
        "SVG files can carry scripts, so only JPEG, PNG and WebP images are accepted.",
        "images.csv:3: file: “images/notes.png” is not an image Pillow can read: upload a JPEG, PNG or WebP file.",
    ]
    assert not Image.objects.exists()


def test_a_png_named_jpg_is_refused():
    make_monument(slug="temple-of-bel")
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(buffer, "PNG")
    place("images/photo.jpg", buffer.getvalue())
    report = import_images(HEADER + "images/photo.jpg,temple-of-bel,A,AP,CC BY\r\n")
    assert problems_of(report) == [
        "images.csv:2: file: “images/photo.jpg” is a PNG image but its name ends in .jpg: rename it to end in .png."
    ]


def test_orm_save_and_bulk_create_refuse_an_svg_naming_the_file():
    monument = make_monument()
    place("images/evil.svg", SVG)
    values = {"monument": monument, "caption": "c", "credit": "c", "licence": "CC0", "width": 10, "height": 10}
    with pytest.raises(ValidationError) as refused:
        Image(file="images/evil.svg", **values).save()
    assert "“images/evil.svg” is an SVG drawing" in str(refused.value)
    with pytest.raises(ValidationError):
        Image.objects.bulk_create([Image(file="images/evil.svg", **values)])
    assert not Image.objects.exists()


def test_orm_save_of_a_file_placed_by_hand_strips_its_metadata(django_capture_on_commit_callbacks):
    path = place("images/bel.jpg", geotagged_jpeg())
    with django_capture_on_commit_callbacks(execute=True):
        image = Image.objects.create(
            monument=make_monument(), file="images/bel.jpg", caption="c", credit="c", licence="CC0"
        )
    assert image.file.name == "images/bel.jpg"
    assert_no_metadata(path)
    assert image.file_sha256 == hashlib.sha256(open(path, "rb").read()).hexdigest()
