"""Uploaded images are checked with Pillow and stored without their metadata. Each bad file is a real
one, built here: a text file renamed .jpg, a truncated JPEG, an oversized image, a decompression
bomb, and photographs carrying GPS coordinates."""

import io
import struct
import warnings
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, PngImagePlugin
from PIL import Image as PILImage

from archive.admin.images import ImageForm
from archive.images import check_image, clean_image
from archive.models import Image
from tests.factories import make_monument
from tests.test_admin import changeform_data

pytestmark = pytest.mark.django_db

GPS_LATITUDE = (34.0, 33.0, 1.5)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def admin_client_(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


def photo(size=(120, 80), fmt="JPEG", **options):
    buffer = io.BytesIO()
    image = PILImage.new("RGB", size, (180, 140, 90))
    image.putpixel((0, 0), (255, 0, 0))  # a marker to check orientation
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def geotagged_jpeg(orientation=None):
    """A JPEG as a phone writes it: camera make and model, GPS position, an XMP packet, a comment."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (38.0, 16.0, 2.0),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><photographer>Someone Local</photographer></x:xmpmeta>'
    return photo(exif=exif.tobytes(), xmp=xmp, comment=b"taken by Someone Local")


def upload(name, content, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def form_for(file, **data):
    values = {"monument": make_monument().pk, "kind": "after", "caption": "c", "credit": "c", "licence": "CC0"}
    values.update(data)
    return ImageForm(values, {"file": file})


def png_bomb(width=100_000, height=100_000):
    """A valid PNG header claiming 10 gigapixels, with next to no data: a decompression bomb."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


# Refusals, each naming the field and saying what is wrong


def test_a_text_file_renamed_jpg_is_refused():
    form = form_for(upload("photo.jpg", b"This is not a photograph, it is a note.\n"))
    assert not form.is_valid()
    assert form.errors["file"] == ["“photo.jpg” is not an image Pillow can read: upload a JPEG, PNG or WebP file."]


def test_an_svg_with_a_script_is_refused_naming_the_file():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    form = form_for(upload("plan.svg", svg, content_type="image/svg+xml"))
    assert not form.is_valid()
    assert form.errors["file"] == [
        "“plan.svg” is an SVG drawing, not a raster image: SVG files can carry scripts, so only JPEG, PNG and "
        "WebP images are accepted."
    ]
    assert not Image.objects.exists()


def test_a_truncated_jpeg_is_refused():
    whole = photo(size=(400, 300), quality=95)
    form = form_for(upload("cut.jpg", whole[: len(whole) // 2]))
    assert not form.is_valid()
    assert form.errors["file"][0].startswith("“cut.jpg” is damaged or incomplete (truncated?)")


def test_an_image_over_the_size_limit_is_refused(settings):
    settings.IMAGE_MAX_BYTES = 2_000
    content = photo(size=(400, 300), quality=95)
    assert len(content) > 2_000
    form = form_for(upload("big.jpg", content))
    assert not form.is_valid()
    assert form.errors["file"][0].startswith("“big.jpg” is ")
    assert "images may be at most 2.0\xa0KB" in form.errors["file"][0]


def test_an_image_over_the_pixel_cap_is_refused(settings):
    settings.IMAGE_MAX_PIXELS = 10_000
    form = form_for(upload("wide.png", photo(size=(200, 100), fmt="PNG"), "image/png"))
    assert not form.is_valid()
    assert form.errors["file"][0].startswith("“wide.png” is 200 × 100 pixels (0.0 megapixels); at most 0.0 megapixels")


def test_a_decompression_bomb_is_refused_with_a_clear_message_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Pillow DecompressionBombWarning would fail the test
        form = form_for(upload("bomb.png", png_bomb(), "image/png"))
        assert not form.is_valid()
    assert "decompression bomb" in form.errors["file"][0]


def test_a_bomb_is_refused_in_the_admin_without_a_server_error(admin_client_):
    url = reverse("admin:archive_image_add")
    data = changeform_data(admin_client_.get(url))
    data.update(monument=str(make_monument().pk), kind="after", caption="c", credit="c", licence="CC0")
    data["file"] = upload("bomb.png", png_bomb(), "image/png")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "decompression bomb" in response.context["adminform"].form.errors["file"][0]
    assert not Image.objects.exists()


def test_a_format_other_than_jpeg_png_webp_is_refused():
    form = form_for(upload("anim.gif", photo(fmt="GIF"), "image/gif"))
    assert not form.is_valid()
    assert form.errors["file"] == ["“anim.gif” is a GIF image; only JPEG, PNG and WebP are accepted."]


def test_an_image_of_nothing_is_refused():
    form = ImageForm(
        {"kind": "after", "caption": "c", "credit": "c", "licence": "CC0"}, {"file": upload("a.jpg", photo())}
    )
    assert not form.is_valid()
    assert form.errors["monument"] == ["An image shows either a monument or an incident: choose one."]


@pytest.mark.parametrize("missing", ["caption", "credit", "licence"])
def test_caption_credit_and_licence_are_required(missing):
    form = form_for(upload("a.jpg", photo()), **{missing: ""})
    assert not form.is_valid()
    assert form.errors[missing] == ["This field is required."]


# Cleaning


def test_gps_and_other_metadata_are_gone_after_saving_in_the_admin(admin_client_, media_root):
    original = geotagged_jpeg()
    assert PILImage.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file has GPS
    url = reverse("admin:archive_image_add")
    data = changeform_data(admin_client_.get(url))
    monument = make_monument()
    data.update(monument=str(monument.pk), kind="after", caption="After", credit="A. Local", licence="CC BY 4.0")
    data["file"] = upload("IMG_20150830_Someone_Local.jpg", original)
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    image = Image.objects.get()
    stored = (media_root / image.file.name).read_bytes()
    with PILImage.open(io.BytesIO(stored)) as saved:
        assert saved.format == "JPEG"
        assert dict(saved.getexif()) == {}
        assert "exif" not in saved.info and "xmp" not in saved.info and "comment" not in saved.info
        assert saved.size == (120, 80) == (image.width, image.height)
    for trace in (b"Exif", b"PhoneMaker", b"Someone Local", b"xmpmeta"):
        assert trace not in stored
    assert "Someone_Local" not in image.file.name  # camera file names can identify too
    with PILImage.open(image.thumbnail.path) as thumbnail:
        assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 480
        assert dict(thumbnail.getexif()) == {}


def test_images_uploaded_on_the_monument_page_are_cleaned_too(admin_client_, media_root):
    monument = make_monument()
    url = reverse("admin:archive_monument_change", args=[monument.pk])
    data = changeform_data(admin_client_.get(url))
    data.update(
        {
            "images-TOTAL_FORMS": "1",
            "images-0-file": upload("gps.jpg", geotagged_jpeg()),
            "images-0-kind": "before",
            "images-0-caption": "Before",
            "images-0-credit": "A. Local",
            "images-0-licence": "CC BY 4.0",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    image = monument.images.get()
    assert b"Exif" not in (media_root / image.file.name).read_bytes()
    assert image.thumbnail


def test_the_orientation_is_applied_before_exif_is_dropped():
    # Orientation 6: the camera was turned; viewers rotate the 120 × 80 pixels to stand 80 × 120.
    cleaned = clean_image(upload("turned.jpg", geotagged_jpeg(orientation=6)))
    with PILImage.open(io.BytesIO(cleaned.content)) as saved:
        assert saved.size == (80, 120)
        assert dict(saved.getexif()) == {}


def test_png_text_chunks_are_dropped_and_the_format_kept():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Local")
    info.add_text("GPS", "34.55,38.27")
    cleaned = clean_image(upload("map.png", photo(fmt="PNG", pnginfo=info), "image/png"))
    assert cleaned.name.endswith(".png")
    assert b"Someone Local" not in cleaned.content and b"34.55" not in cleaned.content
    with PILImage.open(io.BytesIO(cleaned.content)) as saved:
        assert saved.format == "PNG" and not getattr(saved, "text", {})


def test_webp_is_accepted_and_kept_as_webp():
    cleaned = clean_image(upload("sat.webp", photo(fmt="WEBP", exif=PILImage.Exif().tobytes()), "image/webp"))
    assert cleaned.name.endswith(".webp")
    assert PILImage.open(io.BytesIO(cleaned.content)).format == "WEBP"


def test_check_image_reports_format_and_size():
    assert check_image(upload("a.jpg", photo(size=(30, 20)))) == ("JPEG", 30, 20)
    with pytest.raises(ValidationError):
        check_image(upload("a.jpg", b""))


def test_an_image_saved_outside_the_admin_is_cleaned_too(media_root):
    """The model itself cleans a new file, so a shell session or an import cannot store GPS."""
    image = Image(monument=make_monument(), kind="after", caption="c", credit="c", licence="CC0")
    image.file = upload("IMG_0001.jpg", geotagged_jpeg())
    image.save()
    stored = (media_root / image.file.name).read_bytes()
    for trace in (b"Exif", b"PhoneMaker", b"Someone Local"):
        assert trace not in stored
    assert image.thumbnail and (image.width, image.height) == (120, 80)


def test_a_bad_file_saved_outside_the_admin_is_refused_and_nothing_is_stored(media_root):
    image = Image(monument=make_monument(), kind="after", caption="c", credit="c", licence="CC0")
    image.file = upload("photo.jpg", b"this is a text file, not a photograph")
    with pytest.raises(ValidationError, match="not an image"):
        image.save()
    assert not Image.objects.exists()
