"""Adding a source from a file (issue 10, item 1): in the admin (upload → review → save) and with
`manage.py add_source`. The original bytes are kept under their SHA-256, never modified, served
to staff only; a malformed or duplicate file gets a clear message and leaves nothing behind."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from archive import originals
from archive.fixity import verify_fixity
from archive.models import Source
from tests.intake_files import (
    article_pdf,
    latin1_text,
    news_page,
    news_pages,
    scanned_pdf,
)

pytestmark = pytest.mark.django_db

PAGE_URL = "https://www.independent.co.uk/news/world/middle-east/palmyra-syria-isis-assad-a6948141.html"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media):
    return sorted(str(p.relative_to(media)) for p in Path(media).rglob("*") if p.is_file())


@pytest.fixture
def curator(client):
    user = User.objects.create_user("curator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Curator"))
    client.force_login(user)
    return user


def add_source(*args, **options):
    """The command, with what it does when its transaction commits (writing the originals)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("add_source", *args, **options)


def upload(client, data, name="palmyra.html", url=""):
    return client.post(
        reverse("admin:archive_source_add_from_file"),
        {"file": SimpleUploadedFile(name, data), "url": url},
    )


def review_form_data(response):
    """What the curator's browser posts back from the review form, untouched."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or field.disabled:
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    return data


def add_from_file(client, data, name="palmyra.html", url="", **changes):
    """Upload, open the review, post it: the response of the save."""
    response = upload(client, data, name, url)
    assert response.status_code == 302, response.context["form"].errors
    review = client.get(response["Location"])
    assert review.status_code == 200
    return client.post(response["Location"], {**review_form_data(review), **changes})


# -- the admin: upload, review, save ---------------------------------------------------------------


def test_an_uploaded_page_is_read_reviewed_and_kept_with_its_original(
    client, curator, media, django_capture_on_commit_callbacks
):
    page = news_page()
    response = upload(client, page, url=PAGE_URL)
    assert response.status_code == 302
    review_url = response["Location"]
    assert review_url.startswith(reverse("admin:archive_source_add") + "?intake=")
    assert stored_files(media) == sorted(
        [f"intake/{hashlib.sha256(page).hexdigest()}", f"intake/{hashlib.sha256(page).hexdigest()}.json"]
    )  # waiting for review: not yet an original

    review = client.get(review_url)
    form = review.context["adminform"].form
    assert form.initial["title"] == "Syria civil war: Government troops set to retake ancient city of Palmyra from Isis"
    assert form.initial["publisher"] == "The Independent"
    assert form.initial["origin"] == "The Independent"  # proposed; the help text says to check it
    assert form.initial["url"] == PAGE_URL
    assert str(form.initial["published_on"]) == "2016-03-23"
    assert form.initial["slug"].startswith("2016-03-23-syria-civil-war-government-troops-set-to-retake")
    assert form.fields["received_text"].disabled  # the text is the file's, not the form's
    assert form.initial["received_text"].startswith(form.initial["title"] + "\n\n")
    page_text = review.content.decode()
    assert "Check the title, publisher, origin, byline and date" in page_text
    assert "Great article" not in form.initial["received_text"]  # the comments stay out

    data = review_form_data(review)
    data["origin"] = "The Independent's own reporting"
    data["received_text"] = "A forged text."  # ignored: the field is disabled
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(review_url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    source = Source.objects.get()
    assert source.received_text == form.initial["received_text"]
    assert source.origin == "The Independent's own reporting"
    assert source.file_name == "palmyra.html"
    assert source.original_sha256 == hashlib.sha256(page).hexdigest()
    assert (source.original_media_type, source.original_size) == ("text/html", len(page))
    assert source.original.name == f"originals/{source.original_sha256[:2]}/{source.original_sha256}.html"
    assert (Path(media) / source.original.name).read_bytes() == page  # kept exactly
    assert stored_files(media) == [source.original.name]  # the staged upload is cleared
    assert source.history.first().history_user == curator
    assert verify_fixity().ok

    change = client.get(reverse("admin:archive_source_change", args=[source.pk]))
    assert "Download the original" in change.content.decode()
    assert source.original_sha256 in change.content.decode()


def test_the_original_is_served_to_staff_as_a_sandboxed_download_and_to_nobody_else(
    client, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_from_file(client, news_page())
    source = Source.objects.get()
    url = reverse("admin:archive_source_original", args=[source.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == news_page()
    assert response["Content-Disposition"].startswith('attachment; filename="palmyra.html"')
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"

    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(f"/media/{source.original.name}").status_code == 404  # not through the public media route


def test_a_pasted_source_has_no_original_to_download(client, curator):
    from tests.factories import make_source

    source = make_source()
    assert client.get(reverse("admin:archive_source_original", args=[source.pk])).status_code == 404


def test_the_same_file_uploaded_twice_is_refused_with_a_link_and_nothing_staged(
    client, curator, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_from_file(client, news_page())
    first = Source.objects.get()
    before = stored_files(media)

    response = upload(client, news_page(), name="copy.html")
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert any(e.startswith(f"This file is already in the archive as the source “{first.title}”") for e in errors)
    assert reverse("admin:archive_source_change", args=[first.pk]) in " ".join(errors)
    assert stored_files(media) == before
    assert Source.objects.count() == 1


def test_the_same_page_with_its_headline_removed_is_flagged_and_saved_only_when_the_curator_says_so(
    client, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_from_file(client, news_page())
    first = Source.objects.get()
    response = upload(client, news_page(with_headline=False, canonical_url=""), name="no-headline.html")
    assert response.status_code == 302
    review = client.get(response["Location"])
    warnings = [str(m) for m in review.context["messages"]]
    assert any(f"This looks like the same article as “{first.title}”" in w for w in warnings)

    refused = client.post(response["Location"], review_form_data(review))
    assert refused.status_code == 200
    assert "Save anyway" in " ".join(refused.context["adminform"].form.errors["received_text"])
    assert Source.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(response["Location"], {**review_form_data(review), "save_anyway": "on"})
    assert saved.status_code == 302
    second = Source.objects.exclude(pk=first.pk).get()
    assert (second.resembles, second.resemblance) == (first, "same_article")


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("page.html", b"\x89PNG\r\n\x1a\n" + bytes(200), "“page.html”"),
        ("page.html", b"<html><head><title>Menu</title></head><body></body></html>", "“page.html”"),
        ("scan.pdf", None, "scanned"),
        ("notes.txt", None, "byte"),
        ("empty.txt", b"", "“empty.txt”"),
        ("report.docx", b"PK\x03\x04" + bytes(100), "“report.docx”"),
    ],
    ids=["not-html", "empty-body", "pdf-without-text", "wrong-encoding", "empty", "unsupported"],
)
def test_a_malformed_file_gets_a_clear_message_and_leaves_nothing_behind(client, curator, media, name, data, message):
    data = {"scan.pdf": scanned_pdf, "notes.txt": latin1_text}.get(name, lambda: data)()
    response = upload(client, data, name=name)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert message in errors, errors
    assert Source.objects.count() == 0
    assert stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, curator, media, settings):
    settings.SOURCE_FILE_MAX_BYTES = 10_000
    response = upload(client, news_page())
    errors = " ".join(response.context["form"].errors["file"])
    assert "“palmyra.html” is" in errors and "at most 9.8" in errors, errors
    assert stored_files(media) == []


def test_a_review_that_is_gone_sends_the_curator_back_to_the_upload(client, curator):
    response = client.get(reverse("admin:archive_source_add") + "?intake=" + "0" * 64)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:archive_source_add_from_file")
    assert client.get(reverse("admin:archive_source_add") + "?intake=../../etc/passwd").status_code == 302


def test_an_abandoned_review_is_cleared_a_day_later(client, curator, media):
    upload(client, news_page())
    assert len(stored_files(media)) == 2
    originals.clear_stale(now=__import__("time").time() + originals.STAGED_FOR_SECONDS + 60)
    assert stored_files(media) == []


def test_a_pdf_is_read_from_its_text_layer(client, curator, django_capture_on_commit_callbacks):
    pdf = article_pdf()
    with django_capture_on_commit_callbacks(execute=True):
        response = add_from_file(client, pdf, name="report.pdf", publisher="The Independent", origin="The Independent")
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    assert source.original_media_type == "application/pdf"
    assert "Forces loyal to President Bashar al-Assad" in source.received_text


def test_a_staff_user_who_may_not_add_sources_cannot_upload(client):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:archive_source_add_from_file")).status_code == 403


# -- the command ------------------------------------------------------------------------------------


def test_add_source_keeps_the_file_and_reports(tmp_path, media):
    path = tmp_path / "palmyra.html"
    path.write_bytes(news_page())
    out = StringIO()
    add_source(str(path), "--url", PAGE_URL, "--origin", "The Independent", stdout=out)
    source = Source.objects.get()
    assert source.url == PAGE_URL
    assert source.original_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (Path(media) / source.original.name).read_bytes() == path.read_bytes()
    assert out.getvalue().startswith("Added 1 source (1 HTML page)")


def test_add_source_imports_a_folder_of_100_pages_with_a_summary(tmp_path, media):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, data in news_pages(100):
        (folder / name).write_bytes(data)
    out = StringIO()
    add_source(str(folder), stdout=out)
    assert Source.objects.count() == 100
    assert Source.objects.exclude(original="").count() == 100
    assert len(stored_files(media)) == 100
    assert "Added 100 sources (100 HTML pages)" in out.getvalue()
    assert "0 flagged" in out.getvalue()


def test_add_source_is_all_or_nothing_and_names_each_bad_file(tmp_path, media):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, data in news_pages(3):
        (folder / name).write_bytes(data)
    (folder / "zz-notes.txt").write_bytes(latin1_text())
    (folder / "zz-scan.pdf").write_bytes(scanned_pdf())
    with pytest.raises(CommandError) as raised:
        add_source(str(folder), stdout=StringIO())
    message = str(raised.value)
    assert message.startswith("Nothing was added: 2 problems in 5 files.")
    assert "zz-notes.txt" in message and "line 3" in message
    assert "zz-scan.pdf" in message
    assert Source.objects.count() == 0
    assert stored_files(media) == []


def test_add_source_refuses_a_file_the_archive_holds_and_a_batch_that_repeats_itself(tmp_path, media):
    path = tmp_path / "palmyra.html"
    path.write_bytes(news_page())
    add_source(str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="This file is already in the archive"):
        add_source(str(path), stdout=StringIO())
    twice = tmp_path / "twice"
    twice.mkdir()
    (twice / "a.html").write_bytes(news_pages(1)[0][1])
    (twice / "b.html").write_bytes(news_pages(1)[0][1])
    with pytest.raises(CommandError, match="already in the archive"):
        add_source(str(twice), stdout=StringIO())
    assert Source.objects.count() == 1


def test_add_source_stops_at_a_lookalike_unless_told_to_save_anyway(tmp_path, media):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    first.write_bytes(news_page())
    second.write_bytes(news_page(with_headline=False, canonical_url=""))
    add_source(str(first), stdout=StringIO())
    with pytest.raises(CommandError, match="looks like the same article"):
        add_source(str(second), stdout=StringIO())
    add_source(str(second), "--save-anyway", stdout=StringIO())
    assert Source.objects.get(file_name="b.html").resemblance == "same_article"


def test_add_source_refuses_url_for_several_files(tmp_path):
    for name, data in news_pages(2):
        (tmp_path / name).write_bytes(data)
    with pytest.raises(CommandError, match="--url names one page, but 2 files were given"):
        add_source(str(tmp_path), "--url", PAGE_URL, stdout=StringIO())


def test_fixity_notices_a_changed_original(tmp_path, media):
    path = tmp_path / "palmyra.html"
    path.write_bytes(news_page())
    add_source(str(path), stdout=StringIO())
    source = Source.objects.get()
    (Path(media) / source.original.name).write_bytes(b"tampered")
    report = verify_fixity()
    assert [m.name for m in report.mismatches] == [source.original.name]


# -- the CSV round trip of a source added from a file --------------------------------------------------


def test_sources_added_from_files_round_trip_byte_identically_also_after_a_spreadsheet_resave(
    client, curator, tmp_path, media, django_capture_on_commit_callbacks
):
    from archive.importexport.csvfile import read_csv
    from archive.importexport.engine import import_tables

    with django_capture_on_commit_callbacks(execute=True):  # one through the admin…
        assert add_from_file(client, news_page()).status_code == 302
    path = tmp_path / "report.pdf"  # …one from the command line
    path.write_bytes(article_pdf(seed_file="004_5aee65c7423a5a45.txt", title="Palmyra retaken"))
    add_source(str(path), "--publisher", "ABC News (Australia)", "--origin", "Reuters/AP", stdout=StringIO())
    fields = ("slug", "sha256", "received_text", "title", "publisher", "origin", "url", "published_on")
    before = sorted(Source.objects.values_list(*fields))
    assert len(before) == 2
    call_command("export_archive", str(tmp_path / "first"), stdout=StringIO())
    exported = (tmp_path / "first" / "sources.csv").read_bytes()
    resaved = exported.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # a spreadsheet's line ends

    Source.objects.all().delete()
    report = import_tables({"sources": read_csv("sources.csv", resaved)})
    assert report.problems == []
    assert sorted(Source.objects.values_list(*fields)) == before
    call_command("export_archive", str(tmp_path / "second"), stdout=StringIO())
    assert (tmp_path / "second" / "sources.csv").read_bytes() == exported


# -- migration 0010 ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_0010_keeps_every_source_and_gives_it_no_original():

    from archive.boilerplate import reading_text
    from archive.models.sources import sha256_of
    from tests.migrating import assert_cited_text_trigger_kept, migrate, migrate_to_latest

    old = migrate([("archive", "0009_incident_merged_into")])
    try:
        OldSource = old.get_model("archive", "Source")
        text = "Palmyra\n\nThe temple was destroyed.\n"
        OldSource.objects.create(
            slug="pasted", title="Pasted", publisher="P", origin="O", received_text=text,
            sha256=sha256_of(text), reading_text=reading_text(text), file_name="pasted.txt",
        )  # fmt: skip
        new = migrate([("archive", "0010_source_originals")])
        source = new.get_model("archive", "Source").objects.get(slug="pasted")
        assert (source.received_text, source.sha256, source.file_name) == (text, sha256_of(text), "pasted.txt")
        assert (source.original.name, source.original_sha256, source.original_media_type) in (
            ("", "", ""),
            (None, "", ""),
        )
        assert source.original_size is None
        assert_cited_text_trigger_kept()
    finally:
        migrate_to_latest()
