"""Received texts are normalised once, as they come in (archive.texts): LF line endings and
Unicode NFC, nothing else. The SHA-256 and the citations' offsets refer to that text; a stored
text is never rewritten."""

import hashlib
import unicodedata
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Source
from archive.models.sources import sha256_of
from archive.texts import is_normalised, normalise_received_text
from tests.factories import make_citation, make_incident, make_source

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = sorted(SEEDS.glob("*.txt"))[0]
DECOMPOSED = unicodedata.normalize("NFD", "Palmyre, la cité détruite")


def test_line_endings_become_lf_and_characters_nfc_and_nothing_else():
    assert normalise_received_text("one\r\ntwo\rthree\n") == "one\ntwo\nthree\n"
    assert normalise_received_text("\r\r\n\n") == "\n\n\n"
    assert normalise_received_text(DECOMPOSED) == "Palmyre, la cité détruite"
    assert len(normalise_received_text(DECOMPOSED)) < len(DECOMPOSED)
    # No trimming, no change of spacing, quotes or dashes.
    kept = "  Two  spaces,\u00a0a no-break space, \u201ccurly\u201d \u2014 dash\t\n\n"
    assert normalise_received_text(kept) == kept
    assert is_normalised(kept) and not is_normalised("a\r\n")


def test_the_seeds_are_already_normalised():
    for path in SEEDS.glob("*.txt"):
        assert is_normalised(path.read_bytes().decode("utf-8")), path.name


def test_a_new_text_is_stored_normalised_and_hashed_as_stored():
    source = make_source(received_text=f"Headline\r\n\r\n{DECOMPOSED}.\r")
    source.refresh_from_db()
    assert source.received_text == "Headline\n\nPalmyre, la cité détruite.\n"
    assert source.sha256 == sha256_of(source.received_text)


def test_a_stored_text_is_never_rewritten():
    source = make_source()
    # A text stored before the rule (only an update() can write one now): saving the source again
    # for its metadata leaves it exactly as it is.
    Source.objects.filter(pk=source.pk).update(received_text="Old\r\ntext\r\n", sha256=sha256_of("Old\r\ntext\r\n"))
    source.refresh_from_db()
    source.title = "Renamed"
    source.full_clean()
    source.save()
    source.refresh_from_db()
    assert source.received_text == "Old\r\ntext\r\n"
    assert source.sha256 == sha256_of("Old\r\ntext\r\n")


def test_a_cited_text_resent_with_crlf_is_the_same_text():
    citation = make_citation(incident=make_incident(), source=make_source())
    source = citation.source
    source.received_text = source.received_text.replace("\n", "\r\n")
    source.full_clean()  # not refused as a change of evidence: it is the same text
    source.save()
    source.refresh_from_db()
    assert "\r" not in source.received_text


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


def add_form(**fields):
    data = {
        "title": "Syrian army close to retaking Palmyra",
        "slug": "pasted",
        "kind": "news_article",
        "publisher": "The Irish Times",
        "origin": "The Guardian",
        "language": "en",
        "date_precision": "day",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_a_crlf_paste_in_the_admin_is_stored_lf_with_its_trailing_newline(superuser_client):
    raw = SEED.read_bytes() + b"\n"  # the seed as an editor saves it, with a final newline
    pasted = raw.decode("utf-8").replace("\n", "\r\n")  # what a browser posts
    assert pasted.endswith("\r\n")
    response = superuser_client.post(reverse("admin:archive_source_add"), add_form(received_text=pasted))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get(slug="pasted")
    assert source.received_text == raw.decode("utf-8")
    assert source.received_text.endswith("\n")
    assert source.sha256 == hashlib.sha256(raw).hexdigest()


def test_the_same_article_pasted_with_crlf_is_a_duplicate(superuser_client):
    call_command("import_seeds", stdout=StringIO())
    stored = Source.objects.get(file_name=SEED.name)
    pasted = SEED.read_text(encoding="utf-8").replace("\n", "\r\n")
    response = superuser_client.post(reverse("admin:archive_source_add"), add_form(received_text=pasted))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["received_text"]
    assert errors[0].startswith(f"This exact text is already in the archive as the source “{stored.title}”")
    assert reverse("admin:archive_source_change", args=[stored.pk]) in errors[0]
    assert not Source.objects.filter(slug="pasted").exists()


def test_an_export_resaved_with_crlf_imports(tmp_path):
    call_command("import_seeds", stdout=StringIO())
    before = dict(Source.objects.values_list("slug", "sha256"))
    call_command("export_archive", str(tmp_path), stdout=StringIO())
    exported = (tmp_path / "sources.csv").read_bytes()
    # A spreadsheet writes every line ending, inside cells too, as CRLF.
    resaved = exported.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert resaved.count(b"\r\n") > exported.count(b"\r\n")

    report = import_tables({"sources": read_csv("sources.csv", resaved)})
    assert report.problems == []
    assert report.totals() == (0, 0, 5)  # the same texts: nothing to change

    Source.objects.all().delete()
    report = import_tables({"sources": read_csv("sources.csv", resaved)})
    assert report.problems == []
    assert report.totals() == (5, 0, 0)
    assert dict(Source.objects.values_list("slug", "sha256")) == before
    assert not Source.objects.filter(received_text__contains="\r").exists()


def test_an_nfd_text_in_a_csv_is_stored_nfc():
    csv = f'slug,title,publisher,origin,received_text\r\na,T,P,O,"{DECOMPOSED}\r\n"\r\n'
    report = import_tables({"sources": read_csv("sources.csv", csv.encode("utf-8"))})
    assert report.problems == []
    assert Source.objects.get(slug="a").received_text == "Palmyre, la cité détruite\n"


def test_a_crlf_seed_file_is_stored_as_the_lf_file(tmp_path):
    import shutil

    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    for path in folder.glob("*.txt"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    call_command("import_seeds", "--seeds-dir", str(folder), stdout=StringIO())
    for path in SEEDS.glob("*.txt"):
        source = Source.objects.get(file_name=path.name)
        assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
