"""archive.intake.extract: an uploaded file's bytes → received text and metadata, or a ValidationError
naming the file. Pure: no database."""

import hashlib
import itertools
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from archive import duplicates
from archive.intake import Extracted, extract
from archive.texts import is_normalised
from tests import intake_files as files

SEEDS = [
    "000_aae2f3adf396e9ec.txt",
    "001_3fd48a2bf4d62dac.txt",
    "002_f474df98911a8dcd.txt",
    "003_6e0dc4009cb42494.txt",
    "004_5aee65c7423a5a45.txt",
]


def refused(data, name):
    with pytest.raises(ValidationError) as caught:
        extract(data, name)
    error = caught.value
    assert f"“{name}”" in error.message, error.message
    return error


def blocks(text):
    return text.rstrip("\n").split("\n\n")


def assert_seed_shaped(text):
    """The seeds' shape: blocks of one line separated by one blank line, ending with one "\\n"."""
    assert is_normalised(text)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(block and "\n" not in block and block == block.strip() for block in blocks(text))


@pytest.fixture(scope="module")
def page():
    return extract(files.news_page(), "palmyra.html")


def test_news_page_received_text_is_headline_then_the_article_paragraphs(page):
    seed = files.seed_article()
    assert page.received_text.startswith(seed.headline + "\n\n")
    assert blocks(page.received_text) == [seed.headline, *seed.paragraphs]
    assert_seed_shaped(page.received_text)


def test_news_page_leaves_out_the_page_furniture(page):
    text = page.received_text
    lines = set(blocks(text))
    for item in files.NAVIGATION + files.BREADCRUMB + files.FOOTER_LINKS:
        assert item not in lines
    for furniture in [files.COOKIE_BANNER, files.COOKIE_BUTTON, files.FORM_HEADING, files.FORM_BUTTON, files.COPYRIGHT]:
        assert furniture not in text
    for label in files.FORM_LABELS:
        assert label not in text
    for title in files.RELATED:
        assert title not in text
    assert "Related articles" not in text
    for author, comment in files.COMMENTS:
        assert author not in text
        assert comment not in text
    assert "Great article" not in text
    assert text.count(files.seed_article().caption) <= 1


def test_news_page_metadata(page):
    data = files.news_page()
    assert page == Extracted(
        media_type="text/html",
        extension="html",
        received_text=page.received_text,
        title="Syria civil war: Government troops set to retake ancient city of Palmyra from Isis",
        byline=files.BYLINE,
        publisher="The Independent",
        url=files.INDEPENDENT_URL,
        published_on=date(2016, 3, 23),
        date_precision="day",
        date_note="From the page's metadata (htmldate): 2016-03-23.",
        language="en",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    assert 40_000 <= page.size <= 120_000


@pytest.mark.parametrize("seed_file", SEEDS)
def test_every_seed_page_gives_its_headline_and_paragraphs(seed_file):
    seed = files.seed_article(seed_file)
    extracted = extract(files.news_page(seed_file), "page.htm")
    assert extracted.title == seed.headline
    assert blocks(extracted.received_text) == [seed.headline, *seed.paragraphs]


@pytest.mark.xfail(
    strict=True,
    reason="trafilatura keeps only the article-body container: a standfirst printed in the article's "
    "<header> (as The Independent and The Irish Times do) is left out of the received text",
)
@pytest.mark.parametrize("seed_file", sorted(files.STANDFIRST_SEEDS))
def test_standfirst_in_the_article_header(seed_file):
    extracted = extract(files.news_page(seed_file), "page.html")
    assert files.seed_article(seed_file).standfirst in extracted.received_text


def test_page_without_headline_has_no_title_and_starts_with_the_body():
    seed = files.seed_article()
    extracted = extract(files.news_page(with_headline=False), "untitled.html")
    assert extracted.title == ""
    assert seed.headline not in extracted.received_text
    assert extracted.received_text.startswith(seed.paragraphs[0] + "\n\n")
    # Not the heading of the "Related articles" box or of the comments, trafilatura's fallbacks.
    assert not extracted.received_text.startswith(("Related", "Comments"))


def test_given_title_is_the_headline():
    extracted = extract(files.news_page(title="Palmyra: the battle for the ancient city"), "p.html")
    assert extracted.title == "Palmyra: the battle for the ancient city"
    assert extracted.received_text.startswith("Palmyra: the battle for the ancient city\n\n")


def test_windows_1252_page_is_decoded_by_its_meta_charset(page):
    data = files.news_page(charset="windows-1252")
    assert b"Hezbollah\x92s" in data  # the right single quote as windows-1252 writes it
    extracted = extract(data, "cp1252.html")
    assert extracted.received_text == page.received_text
    assert "Hezbollah’s television station" in extracted.received_text
    assert "\ufffd" not in extracted.received_text


def test_utf8_bom_page_and_page_without_extension():
    data = b"\xef\xbb\xbf" + files.news_page()
    assert extract(data, "saved page").received_text == extract(files.news_page(), "p.html").received_text
    assert extract(files.news_page(), "article.php").media_type == "text/html"


def test_xhtml_with_xml_declaration_in_windows_1252():
    seed = files.seed_article()
    body = "".join(f"<p>{paragraph}</p>" for paragraph in seed.paragraphs)
    data = (
        '<?xml version="1.0" encoding="windows-1252"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr"><head><title>Palmyre</title></head>'
        f"<body><article><h1>Palmyre</h1>{body}</article></body></html>"
    ).encode("cp1252")
    extracted = extract(data, "palmyre.xhtml")
    assert blocks(extracted.received_text) == ["Palmyre", *seed.paragraphs]
    assert extracted.language == "fr"
    assert (extracted.published_on, extracted.date_note, extracted.url, extracted.publisher) == (None, "", "", "")


def test_date_from_the_url_is_said_to_come_from_the_url():
    page = files.news_page(canonical_url="https://www.example.com/2016/03/22/palmyra-advance/", published="2016-03-22")
    extracted = extract(page, "p.html")
    assert extracted.published_on == date(2016, 3, 22)
    assert extracted.date_note == "From the page's URL (htmldate): 2016-03-22."


def test_page_without_a_date_has_none():
    # htmldate would offer 2016-01-01 from the footer's "© 2016": the page states no such day.
    extracted = extract(files.news_page(published=None), "p.html")
    assert (extracted.published_on, extracted.date_note) == (None, "")


def test_date_written_in_the_page_says_so():
    page = files.news_page(published=None).replace(
        b'<div class="byline">', b'<div class="byline">Wednesday 23 March 2016 '
    )
    extracted = extract(page, "p.html")
    assert extracted.published_on == date(2016, 3, 23)
    assert extracted.date_note == "From a date written in the page (htmldate; check it is the article's): 2016-03-23."


def test_pdf_text_and_title():
    seed = files.seed_article()
    data = files.article_pdf()
    extracted = extract(data, "palmyra.pdf")
    assert (extracted.media_type, extracted.extension) == ("application/pdf", "pdf")
    assert extracted.title == seed.headline
    squashed = " ".join(extracted.received_text.split())
    for paragraph in [seed.standfirst, *seed.paragraphs]:
        assert " ".join(files.pdf_printed(paragraph).split()) in squashed
    # Two pages, joined with a blank line; the creation date is not a publication date.
    assert "\n\n" in extracted.received_text
    assert (extracted.published_on, extracted.date_note) == (None, "")
    assert (extracted.byline, extracted.publisher, extracted.url) == ("", "", "")
    assert extracted.sha256 == hashlib.sha256(data).hexdigest() and extracted.size == len(data)
    assert is_normalised(extracted.received_text) and extracted.received_text.endswith("\n")


def test_pdf_title_from_metadata_else_first_line():
    seed = files.seed_article()
    assert extract(files.article_pdf(title="Palmyra (PDF edition)"), "a.pdf").title == "Palmyra (PDF edition)"
    # Without /Title: the first line as printed, here the headline's first wrapped line.
    untitled = extract(files.article_pdf(title=""), "a.pdf")
    assert untitled.title == untitled.received_text.splitlines()[0]
    assert files.pdf_printed(seed.headline).startswith(untitled.title)


def test_pdf_encrypted_without_a_user_password_opens():
    extracted = extract(files.encrypted_pdf(user_password=""), "protected.pdf")
    assert "storerooms were emptied" in extracted.received_text


def test_pdf_named_otherwise_is_taken_as_pdf():
    assert extract(files.article_pdf(), "download").extension == "pdf"


def test_text_file():
    data = files.plain_text()
    extracted = extract(data, "palmyra.txt")
    assert (extracted.media_type, extracted.extension) == ("text/plain", "txt")
    assert extracted.received_text == data.decode("utf-8")
    assert extracted.title == files.seed_article().headline
    assert (extracted.published_on, extracted.date_note, extracted.language) == (None, "", "en")


def test_text_file_bom_dropped_and_line_endings_normalised():
    extracted = extract(b"\xef\xbb\xbfCafe\xcc\x81 report\r\n\r\nIt reopened.\r\n", "notes.text")
    assert extracted.received_text == "Café report\n\nIt reopened.\n"
    assert extracted.title == "Café report"
    assert extract(b"Cafe report\n", "notes").extension == "txt"


# Refusals: each names the file and says what to do.


def test_too_large_is_checked_first(settings):
    settings.SOURCE_FILE_MAX_BYTES = 1000
    error = refused(files.PNG + bytes(2000), "huge.png")
    assert error.code == "too_large"
    assert filesizeformat(2000 + len(files.PNG)) in error.message
    assert filesizeformat(1000) in error.message


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf\n "])
def test_empty(data):
    assert refused(data, "blank.txt").code == "empty"


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (files.PNG, "photo.png", "a PNG image"),
        (files.DOCX, "report.docx", "ZIP archive"),
        (files.GZIP, "page.html.gz", "gzip"),
        (files.PNG, "photo.txt", "a PNG image"),
        (b"# Palmyra\n\nNotes in Markdown.\n", "notes.md", ".md file"),
    ],
)
def test_unsupported(data, name, says):
    error = refused(data, name)
    assert error.code == "unsupported"
    assert says in error.message
    assert ".html" in error.message and ".pdf" in error.message and ".txt" in error.message


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"Palmyra falls to Isis\n\nNo markup here.\n", "page.html"), (files.PNG, "page.htm"), (b"%PDF-1.4\n", "x.html")],
)
def test_not_html(data, name):
    assert refused(data, name).code == "not_html"


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"Palmyra falls to Isis\n", "report.pdf", "%PDF-"),
        (files.news_page(), "report.pdf", "an HTML page"),
        (files.corrupt_pdf(), "broken.pdf", "cannot be read"),
        (b"%PDF-1.7\n", "truncated.pdf", "cannot be read"),
    ],
)
def test_not_pdf(data, name, says):
    error = refused(data, name)
    assert error.code == "not_pdf"
    assert says in error.message


def test_encrypted_pdf():
    error = refused(files.encrypted_pdf(), "protected.pdf")
    assert error.code == "encrypted"
    assert "password" in error.message


def test_aes_encrypted_pdf_without_cryptography(monkeypatch):
    # pypdf needs the cryptography package for AES, which the archive does not install (nor can
    # fpdf2 write AES without it), so the refusal is shown by pypdf's own error.
    import pypdf
    from pypdf.errors import DependencyError

    def decrypt(self, password):
        raise DependencyError("cryptography is required for AES algorithm")

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", decrypt)
    error = refused(files.encrypted_pdf(user_password=""), "aes.pdf")
    assert error.code == "encrypted"
    assert "AES" in error.message


def test_scanned_pdf_has_no_text():
    error = refused(files.scanned_pdf(), "scan.pdf")
    assert error.code == "no_text"
    assert "scanned image; run OCR and upload the text or a PDF with a text layer" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body></body></html>",
        b"<!DOCTYPE html><html><head><title>Loading</title></head><body><div id='app'></div></body></html>",
        files.navigation_only_page(),
    ],
)
def test_page_without_article_body(data):
    assert refused(data, "empty.html").code == "empty_body"


def test_text_not_utf8_names_byte_and_line():
    data = files.latin1_text()
    offset = data.index(b"\xe9")
    error = refused(data, "cafe.txt")
    assert error.code == "encoding"
    assert error.message == (
        f"“cafe.txt” is not UTF-8 text: byte {offset:,} (line 3) is 0xE9. Save it as UTF-8 and upload it again."
    )


def test_text_not_utf8_offset_counts_the_bom_and_uses_thousands_separators():
    data = b"\xef\xbb\xbf" + b"x" * 1230 + b"\n" * 16 + b"\xe9"
    error = refused(data, "long.txt")
    assert "byte 1,249 (line 17) is 0xE9" in error.message


# Builders others use.


def test_news_pages_are_distinct_and_extract():
    pages = files.news_pages(12)
    assert len({name for name, _ in pages}) == 12
    texts = [extract(data, name).received_text for name, data in pages]
    seeds = [files.seed_path(seed).read_text(encoding="utf-8") for seed in SEEDS]
    for a, b in itertools.combinations(texts + seeds, 2):
        shared = set(duplicates.sketch(a)) & set(duplicates.sketch(b))
        assert len(shared) < duplicates.MIN_SHARED_HASHES
        assert not duplicates.compare(a, b).similar


NAMES = st.sampled_from(["upload.html", "upload.htm", "upload.pdf", "upload.txt", "upload", "upload.bin"])


@hypothesis_settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000), name=NAMES, prefix=st.sampled_from([b"", b"%PDF-1.4\n", b"<html><body><p>"]))
def test_arbitrary_bytes_raise_nothing_but_validation_error(data, name, prefix):
    try:
        extracted = extract(prefix + data, name)
    except ValidationError as error:
        assert f"“{name}”" in error.message
        assert error.code
    else:
        assert extracted.extension in {"html", "pdf", "txt"}
        assert is_normalised(extracted.received_text)
