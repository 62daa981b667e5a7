"""Duplicates are caught before a source is saved (issue 10): the same text or the same URL is
refused, naming the source the archive holds; the same article (without its headline, its
whitespace reflowed) or the same wire copy from another outlet is flagged, and the curator may
proceed with the flag recorded. Tested on the seeds."""

import csv
import io
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.duplicates import SKETCH_SIZE, url_key
from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Source
from archive.models.sources import Resemblance, SourceShingle
from tests.factories import make_source

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
PAGE = "https://www.example.org/news/palmyra-temple"


@pytest.fixture
def seeds():
    call_command("import_seeds", stdout=StringIO())
    return {source.file_name: source for source in Source.objects.all()}


def without_headline(text):
    """The article as another copy prints it: its first line (the headline) gone."""
    return text.split("\n", 1)[1].lstrip("\n")


def reflowed(text):
    """The same words, every run of whitespace and line break made one space (a copy from a PDF)."""
    return " ".join(text.split())


def new_source(text, **fields):
    values = {"slug": "incoming", "title": "Incoming", "publisher": "The Irish Times", "origin": "Unknown"}
    values.update(fields)
    return Source(received_text=text, **values)


# -- the same URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        PAGE,
        "https://www.example.org/news/palmyra-temple/",
        "HTTPS://WWW.Example.ORG/news/palmyra-temple",
        "http://example.org/news/palmyra-temple",
        "https://example.org:443/news/palmyra-temple#comments",
        "https://www.example.org/news/palmyra-temple?utm_source=twitter&utm_medium=social",
        "https://www.example.org/news/palmyra-temple?fbclid=abc123",
    ],
)
def test_addresses_of_one_page_share_a_key(other):
    assert url_key(other) == url_key(PAGE)


@pytest.mark.parametrize(
    "other",
    [
        "https://www.example.org/news/palmyra-theatre",
        "https://www.example.org/News/palmyra-temple",  # paths are case-sensitive
        "https://www.example.org/news/palmyra-temple?page=2",
        "https://www.example.com/news/palmyra-temple",
    ],
)
def test_other_pages_have_other_keys(other):
    assert url_key(other) != url_key(PAGE)


def test_query_parameters_that_matter_are_kept_in_any_order():
    assert url_key("https://x.org/a?b=2&a=1&utm_campaign=z") == url_key("https://x.org/a?a=1&b=2")
    assert url_key("") == ""


@pytest.mark.parametrize("url", [PAGE, f"{PAGE}/?utm_source=newsletter", f"{PAGE}#top"])
def test_an_identical_url_is_refused_naming_the_source(url):
    stored = make_source(url=PAGE, title="Temple destroyed")
    with pytest.raises(ValidationError) as raised:
        new_source("A different text.\n", url=url).full_clean()
    assert raised.value.message_dict["url"] == [
        f"This URL is already in the archive as the source “Temple destroyed” ({stored.slug})."
    ]


def test_a_source_keeps_its_own_url():
    stored = make_source(url=PAGE)
    stored.title = "Renamed"
    stored.full_clean()


def test_an_identical_url_is_refused_in_the_csv_import_and_twice_in_one_file():
    stored = make_source(url=PAGE, title="Temple destroyed")
    csv = (
        "slug,title,publisher,origin,url,received_text\r\n"
        f"a,T,P,O,{PAGE}?utm_source=x,Text a\r\n"
        "b,T,P,O,https://other.org/x,Text b\r\n"
        "c,T,P,O,https://other.org/x/,Text c\r\n"
    )
    report = import_tables({"sources": read_csv("sources.csv", csv.encode())})
    assert [str(p) for p in report.problems] == [
        f"sources.csv:2: url: This URL is already in the archive as the source “Temple destroyed” ({stored.slug}). "
        "Use that slug.",
        "sources.csv:4: url: the same URL as line 3 (“b”).",
    ]
    assert Source.objects.count() == 1


def test_an_identical_url_is_refused_by_import_seeds(seeds, tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    stored = make_source(url=PAGE, title="Temple destroyed")
    manifest = folder / "manifest.csv"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[7] == "url"
    # The first seed, under another name, with the stored source's URL (and a tracking parameter).
    extra = folder / "005_copy.txt"
    extra.write_text("A text of its own, never stored.\n", encoding="utf-8")
    lines.append(f"005_copy.txt,copy,Copy,news_article,P,O,,{PAGE}?utm_medium=email,2016-03-24,day,,en")
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_seeds", "--seeds-dir", str(folder), stdout=StringIO())
    assert (
        f"manifest.csv:7: url: This URL is already in the archive as the source “Temple destroyed” ({stored.slug})."
    ) in str(raised.value)
    assert not Source.objects.filter(slug="copy").exists()


def test_the_same_text_under_another_slug_is_refused_by_import_seeds(seeds, tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    first = seeds[SEED_FILES[0].name]
    manifest = folder / "manifest.csv"
    text = manifest.read_text(encoding="utf-8")
    (folder / "005_copy.txt").write_bytes(SEED_FILES[0].read_bytes().replace(b"\n", b"\r\n"))
    manifest.write_text(text + "005_copy.txt,copy,Copy,news_article,P,O,,,2016-03-24,day,,en\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_seeds", "--seeds-dir", str(folder), stdout=StringIO())
    assert (
        f"manifest.csv:7: file: 005_copy.txt: This exact text is already in the archive as the source "
        f"“{first.title}” ({first.slug})."
    ) in str(raised.value)


# -- the same article, the same wire copy ------------------------------------------------------------


def test_the_five_seeds_do_not_flag_each_other(seeds):
    assert len(seeds) == 5
    for source in seeds.values():
        assert source.resemblance == "" and source.resembles is None
        assert source.find_resemblances() == [], source.slug
        assert source.shingles.count() == SKETCH_SIZE


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda path: path.name[:3])
@pytest.mark.parametrize("change", [without_headline, reflowed])
def test_a_seed_without_its_headline_or_reflowed_is_the_same_article(seeds, path, change):
    stored = seeds[path.name]
    copy = new_source(change(path.read_text(encoding="utf-8")), publisher=stored.publisher)
    copy.full_clean()  # a warning, not a refusal
    findings = copy.find_resemblances()
    assert [(f.source, f.kind) for f in findings] == [(stored, Resemblance.SAME_ARTICLE)]
    assert findings[0].message.startswith(f"This looks like the same article as “{stored.title}” ({stored.slug}): ")


def test_another_outlets_copy_of_a_wire_story_is_the_same_wire_copy(seeds):
    afp = next(source for source in seeds.values() if source.origin == "AFP")
    body = without_headline(afp.received_text)
    printed = (
        f"Palmyra: regime forces at the city's gates\n\nBy our staff\n\n{body}\n\nShare this article\n© Gulf News\n"
    )
    copy = new_source(printed, publisher="Gulf News")
    [finding] = copy.find_resemblances()
    assert (finding.source, finding.kind) == (afp, Resemblance.WIRE_COPY)
    assert "the same wire copy. That source's origin is “AFP”" in finding.message
    assert f"printed by {afp.publisher}" in finding.message


def test_finding_candidates_costs_the_same_queries_for_5_sources_and_for_60(seeds):
    text = reflowed(SEED_FILES[2].read_text(encoding="utf-8"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert len(new_source(text).find_resemblances()) == 1
        return captured.captured_queries

    few = queries()
    for n in range(55):
        make_source(received_text=f"Unrelated report number {n} about the weather in a town far away.\n")
    many = queries()
    assert len(few) == len(many) == 2  # the sketch's hashes (indexed), the few candidates' texts
    assert "received_text" not in many[1]["sql"]


# -- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


def add_form(text, **fields):
    data = {
        "title": "Pasted",
        "slug": "pasted",
        "kind": "news_article",
        "publisher": "The Irish Times",
        "origin": "The Guardian",
        "language": "en",
        "date_precision": "day",
        "received_text": text,
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_the_admin_refuses_an_identical_url_with_a_link(superuser_client):
    stored = make_source(url=PAGE, title="Temple destroyed")
    response = superuser_client.post(
        reverse("admin:archive_source_add"), add_form("A text of its own.\n", url=f"{PAGE}?utm_source=x")
    )
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["url"]
    assert error.startswith("This URL is already in the archive as the source “Temple destroyed”")
    assert f'href="{reverse("admin:archive_source_change", args=[stored.pk])}"' in error


def test_the_admin_warns_of_the_same_article_and_saves_it_anyway_with_the_flag(superuser_client, seeds):
    stored = seeds[SEED_FILES[0].name]
    text = without_headline(SEED_FILES[0].read_text(encoding="utf-8"))
    url = reverse("admin:archive_source_add")
    response = superuser_client.post(url, add_form(text))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["received_text"]
    assert errors[0].startswith(f"This looks like the same article as “{stored.title}”")
    assert reverse("admin:archive_source_change", args=[stored.pk]) in errors[0]
    assert "Save anyway" in errors[-1]
    assert not Source.objects.filter(slug="pasted").exists()

    response = superuser_client.post(url, add_form(text, save_anyway="on"))
    assert response.status_code == 302
    source = Source.objects.get(slug="pasted")
    assert (source.resembles, source.resemblance) == (stored, Resemblance.SAME_ARTICLE)
    page = superuser_client.get(reverse("admin:archive_source_change", args=[source.pk])).content.decode()
    assert "This looks like the same article as" in page
    # Saved again for its metadata, it is not asked again (its text is not new).
    change = reverse("admin:archive_source_change", args=[source.pk])
    data = add_form(text, title="Pasted, renamed", loaded_version=source.version)
    assert superuser_client.post(change, data).status_code == 302
    source.refresh_from_db()
    assert (source.title, source.resemblance) == ("Pasted, renamed", Resemblance.SAME_ARTICLE)


def test_an_edit_is_checked_too_a_url_or_a_text_the_archive_holds_is_refused(superuser_client, seeds):
    stored = seeds[SEED_FILES[1].name]
    source = make_source(slug="pasted", title="Pasted", received_text="A text of its own.\n")
    change = reverse("admin:archive_source_change", args=[source.pk])
    Source.objects.filter(pk=stored.pk).update(url=PAGE, url_key=url_key(PAGE))

    response = superuser_client.post(change, add_form("A text of its own.\n", url=PAGE, loaded_version=source.version))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"][0].startswith("This URL is already in the archive")

    response = superuser_client.post(change, add_form(stored.received_text, loaded_version=source.version))
    assert response.status_code == 200
    error = response.context["adminform"].form.errors["received_text"][0]
    assert error.startswith(f"This exact text is already in the archive as the source “{stored.title}”")

    lookalike = without_headline(stored.received_text)
    response = superuser_client.post(
        change, add_form(lookalike, publisher=stored.publisher, loaded_version=source.version)
    )
    assert response.status_code == 200
    assert "This looks like the same article as" in response.context["adminform"].form.errors["received_text"][0]
    source.refresh_from_db()
    assert (source.received_text, source.url) == ("A text of its own.\n", "")


def test_the_admin_says_nothing_of_an_unrelated_text(superuser_client, seeds):
    response = superuser_client.post(reverse("admin:archive_source_add"), add_form("Something else entirely.\n"))
    assert response.status_code == 302
    assert Source.objects.get(slug="pasted").resemblance == ""


# -- the CSV import ----------------------------------------------------------------------------------


def sources_bytes(*rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["slug", "title", "publisher", "origin", "received_text"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def sources_csv(*rows):
    return read_csv("sources.csv", sources_bytes(*rows))


def test_the_csv_import_flags_the_same_article_and_imports_it(seeds):
    stored = seeds[SEED_FILES[3].name]
    text = reflowed(SEED_FILES[3].read_text(encoding="utf-8"))
    files = {
        "sources": sources_csv(["copy", "Copy", stored.publisher, "Agencies", text], ["other", "O", "P", "O", "x"])
    }
    report = import_tables(files, dry_run=True)
    assert report.problems == []
    [warning] = report.warnings
    assert str(warning).startswith(
        f"sources.csv:2: received_text: This looks like the same article as “{stored.title}” ({stored.slug})"
    )
    assert str(warning).endswith("Imported, flagged as the same article.")
    assert "1 warning(s)" in report.summary() and str(warning) in report.summary()
    assert not Source.objects.filter(slug="copy").exists()

    report = import_tables(files)
    copy = Source.objects.get(slug="copy")
    assert (copy.resembles, copy.resemblance) == (stored, Resemblance.SAME_ARTICLE)
    assert copy.shingles.count() == SKETCH_SIZE  # written with the rows: the next text is compared with it
    assert Source.objects.get(slug="other").resemblance == ""


def test_the_import_archive_command_prints_the_warnings(seeds, tmp_path):
    stored = seeds[SEED_FILES[1].name]
    text = without_headline(SEED_FILES[1].read_text(encoding="utf-8"))
    (tmp_path / "sources.csv").write_bytes(sources_bytes(["copy", "Copy", "Other outlet", "O", text]))
    out = StringIO()
    call_command("import_archive", str(tmp_path), "--dry-run", stdout=out)
    assert f"“{stored.title}” ({stored.slug}), printed by {stored.publisher}: the same wire copy" in out.getvalue()


def test_the_admin_import_shows_the_warning_in_its_preview_and_after_importing(superuser_client, seeds):
    from django.core.files.uploadedfile import SimpleUploadedFile

    stored = seeds[SEED_FILES[4].name]
    text = without_headline(SEED_FILES[4].read_text(encoding="utf-8"))
    upload = SimpleUploadedFile("sources.csv", sources_bytes(["copy", "Copy", stored.publisher, "O", text]))
    preview = superuser_client.post(
        reverse("admin:archive_source_import"), {"resource": "0", "format": "0", "import_file": upload}
    )
    shown = [str(message) for message in preview.context["messages"]]
    assert len(shown) == 1 and f"the same article as “{stored.title}”" in shown[0]
    assert "csv:2: received_text: This looks like the same article as" in preview.content.decode()
    done = superuser_client.post(
        reverse("admin:archive_source_process_import"), preview.context["confirm_form"].initial, follow=True
    )
    assert any("the same article as" in str(message) for message in done.context["messages"])
    assert Source.objects.get(slug="copy").resembles == stored


def test_shingles_follow_the_text_and_go_with_the_source():
    source = make_source(received_text="One two three four five six seven eight nine ten.\n")
    first = set(source.shingles.values_list("hash", flat=True))
    source.received_text = "Eleven twelve thirteen fourteen fifteen sixteen.\n"
    source.save()
    assert set(source.shingles.values_list("hash", flat=True)).isdisjoint(first)
    source.delete()
    assert not SourceShingle.objects.exists()


# -- migration 0008 --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_0008_fills_url_keys_and_sketches_and_keeps_the_texts_and_the_trigger():
    from archive.boilerplate import reading_text
    from archive.duplicates import sketch
    from archive.models.sources import sha256_of
    from tests.migrating import assert_cited_text_trigger_kept, migrate, migrate_to_latest

    old = migrate([("archive", "0007_actor_roles_edtf_dates")])
    try:
        OldSource = old.get_model("archive", "Source")
        texts = {}
        for n, path in enumerate(SEED_FILES):
            text = path.read_text(encoding="utf-8")
            texts[path.name] = text
            OldSource.objects.create(
                slug=f"seed-{n}",
                title=f"Seed {n}",
                publisher="P",
                origin="O",
                url=f"https://WWW.Example.org/{n}/?utm_source=feed" if n % 2 else "",
                received_text=text,
                sha256=sha256_of(text),
                reading_text=reading_text(text),
                file_name=path.name,
            )
        new = migrate([("archive", "0008_source_fingerprints")])
        NewSource = new.get_model("archive", "Source")
        NewShingle = new.get_model("archive", "SourceShingle")
        for source in NewSource.objects.all():
            assert source.received_text == texts[source.file_name]  # no stored text is rewritten
            assert source.sha256 == sha256_of(texts[source.file_name])
            n = int(source.slug.split("-")[1])
            assert source.url_key == (f"https://example.org/{n}" if n % 2 else "")
            assert (source.resembles_id, source.resemblance) == (None, "")
            stored = sorted(NewShingle.objects.filter(source=source).values_list("hash", flat=True))
            assert stored == sketch(source.reading_text)
        assert_cited_text_trigger_kept()
    finally:
        migrate_to_latest()


def test_the_resemblance_is_one_of_its_kinds_in_forms_and_in_the_database():
    from django.db import IntegrityError, transaction

    source = new_source("A text.\n")
    source.resemblance = "lookalike"
    with pytest.raises(ValidationError) as raised:
        source.full_clean()
    assert "archive_source_resemblance_valid" in str(raised.value)  # set by code, never typed: the constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        new_source("B\n", slug="x", resemblance="lookalike").save()
