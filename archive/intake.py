"""Turn an uploaded source file's bytes into the archive's received text and what the file says of itself.

`extract(data, name)` takes a saved web page (HTML), a PDF or a plain text file and returns an
`Extracted`: the received text (the text the archive keeps, hashes and cites, already through
archive.texts.normalise_received_text), the title, byline, site name, canonical URL, publication
date and language the file states, and the SHA-256 and size of the original bytes. A file it cannot
take raises one `ValidationError` whose message names the file, says what is wrong and what to do;
its `code` says which case (too_large, empty, unsupported, not_html, not_pdf, encrypted, no_text,
empty_body, encoding).

The kind of file is decided by its content (PDF header, markup near the start, known binary
signatures), and its name's extension only catches mismatches: a ".pdf" that is not a PDF, a
".html" that is not markup. Pure: no database, no storage.

HTML: the page is decoded once (BOM, then <meta charset>, then UTF-8, then windows-1252, as
browsers do), parsed once with lxml, and that tree goes to trafilatura (the article body, without
comments, tables or images, repeated segments dropped) and, through trafilatura's metadata pass, to
htmldate (the original publication date, extensive search). The received text is shaped like the
seed articles: the headline, a blank line, the paragraphs separated by blank lines, one final "\\n"
(a paragraph repeated word for word, such as a caption under two photos, is kept once). A page whose
text is all links (trafilatura's fallback on a page without an article: its menus) is refused, and
a date is kept only if the page states that day (URL, metadata, or written in the page).
PDF: pypdf's text of each page, pages separated by a blank line, the title from /Title. Text: the
file itself. A date is only ever taken from an HTML page: a PDF's /CreationDate is when the file was
made, not when the article was published.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from .models.choices import DatePrecision
from .texts import normalise_received_text

ACCEPTED = "an HTML page (.html, .htm), a PDF with a text layer (.pdf) or a plain text file in UTF-8 (.txt)"
HTML_EXTENSIONS = {"html", "htm", "xhtml"}
PDF_EXTENSIONS = {"pdf"}
TEXT_EXTENSIONS = {"txt", "text"}

BOM_UTF8 = codecs.BOM_UTF8
UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

# What a file that is none of the three looks like, by its first bytes.
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (a Word .docx, an OpenDocument file and an EPUB are ZIP archives)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc, .xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"BZh", "a bzip2 archive"),
    (b"%!PS", "a PostScript file"),
]
# Markup at the start of a page (after an optional BOM, whitespace, an XML declaration, comments).
HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|article|p|div|meta|title)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
ANY_TAG = re.compile(rb"<(?:[a-z][a-z0-9-]*|!doctype)[\s>/]", re.IGNORECASE)
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-z0-9_:.-]+)", re.IGNORECASE)
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]+encoding\s*=\s*[\"']([a-z0-9_:.-]+)", re.IGNORECASE)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
EXTENSION = re.compile(r"\.([a-z0-9]{1,8})$", re.IGNORECASE)
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$", re.IGNORECASE)
SPACES = re.compile(r"\s+")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# An article body has at least this many words outside links.
MIN_BODY_WORDS = 8
# Labels browsers treat as windows-1252 (WHATWG Encoding Standard): a page declaring latin-1
# that uses curly quotes means windows-1252.
WINDOWS_1252_LABELS = {
    "latin1",
    "latin-1",
    "iso-8859-1",
    "iso8859-1",
    "l1",
    "ascii",
    "us-ascii",
    "cp1252",
    "windows-1252",
}

# pypdf raises its own errors for most malformed files, and built-in ones for the rest.
PDF_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    AssertionError,
    RuntimeError,
    struct.error,
    zlib.error,
    OverflowError,
)

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Extracted:
    media_type: str  # "text/html", "application/pdf" or "text/plain"
    extension: str  # "html", "pdf" or "txt": what the stored original is named with
    received_text: str  # the text the archive keeps and cites, already normalised
    title: str  # "" when not found
    byline: str  # "" when not found (author(s))
    publisher: str  # the site name (og:site_name etc.), "" when not found
    url: str  # the page's canonical URL if it states one (link rel=canonical / og:url), else ""
    published_on: date | None
    date_precision: str  # archive.models.choices.DatePrecision
    date_note: str  # how the date was established, "" when there is no date
    language: str  # BCP 47, from <html lang> or metadata, default "en"
    sha256: str  # hex SHA-256 of the original bytes (not of the text)
    size: int  # len(data)


def extract(data: bytes, name: str) -> Extracted:
    """The received text and metadata of the uploaded file `data` called `name`; ValidationError
    (with one of the codes in the module docstring) for a file the archive cannot take."""
    limit = settings.SOURCE_FILE_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(
            f"“{name}” is {filesizeformat(len(data))}; the largest file the archive takes is "
            f"{filesizeformat(limit)}. Upload a smaller file (a PDF of the article alone, or its text).",
            code="too_large",
        )
    if not data.removeprefix(BOM_UTF8).strip():
        raise ValidationError(f"“{name}” is empty. Upload the file that holds the article.", code="empty")

    kind, looks_like = _sniff(data)
    match = EXTENSION.search(name)
    extension = match[1].lower() if match else ""

    if extension in PDF_EXTENSIONS:
        if kind != "pdf":
            raise ValidationError(
                f"“{name}” is named .pdf but is not a PDF (it does not start with “%PDF-”; it looks like "
                f"{looks_like}). Download the PDF again, or upload the file under a name that says what it is.",
                code="not_pdf",
            )
        return _from_pdf(data, name)
    if extension in HTML_EXTENSIONS:
        if kind in ("pdf", "binary") or (kind == "text" and not ANY_TAG.search(data[:65536])):
            raise ValidationError(
                f"“{name}” is named .{extension} but is not an HTML page (it looks like {looks_like}). "
                "Save the page from the browser again (“Save page as…”, “Web page, HTML only”), "
                "or upload the file under a name that says what it is.",
                code="not_html",
            )
        return _from_html(data, name)
    if kind == "pdf":
        return _from_pdf(data, name)
    if kind == "html":
        return _from_html(data, name)
    if kind == "text" and (extension in TEXT_EXTENSIONS or not extension):
        return _from_text(data, name)
    what = looks_like if kind == "binary" else f"a .{extension} file"
    raise ValidationError(
        f"“{name}” is {what}, which the archive does not take. Upload {ACCEPTED}; "
        "for another kind of document, save it as PDF or copy its text into a .txt file.",
        code="unsupported",
    )


def _sniff(data: bytes) -> tuple[str, str]:
    """("pdf" | "html" | "binary" | "text", what it looks like, for messages)."""
    if data.startswith(b"%PDF-"):
        return "pdf", "a PDF"
    for bom, encoding in UTF16_BOMS:
        if data.startswith(bom):
            head = data[len(bom) : 4096].decode(encoding, errors="replace").encode("utf-8")
            return ("html", "an HTML page") if HTML_START.match(head) else ("text", "UTF-16 text")
    head = data.removeprefix(BOM_UTF8)[:4096]
    for signature, description in SIGNATURES:
        if head.startswith(signature):
            return "binary", description
    if HTML_START.match(head):
        return "html", "an HTML page"
    if b"\x00" in head:
        return "binary", "binary data"
    return "text", "plain text"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _shaped(title: str, paragraphs: list[str]) -> str:
    """The seeds' shape: the headline, a blank line, the paragraphs separated by blank lines, "\\n"."""
    blocks = [title] if title else []
    blocks += paragraphs
    return normalise_received_text("\n\n".join(blocks) + "\n")


def _squash(text: str) -> str:
    return SPACES.sub(" ", text).strip()


# HTML


def _decode_html(data: bytes) -> str:
    """The page as text: its BOM, else its declared charset, else UTF-8, else windows-1252."""
    if data.startswith(BOM_UTF8):
        return data[len(BOM_UTF8) :].decode("utf-8", errors="replace")
    for bom, encoding in UTF16_BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    declared = META_CHARSET.search(data[:4096]) or XML_ENCODING.search(data[:1024])
    if declared:
        label = declared[1].decode("ascii").lower()
        if label in WINDOWS_1252_LABELS:
            label = "cp1252"
        try:
            codec = codecs.lookup(label)
        except LookupError:
            codec = None
        # A page declaring UTF-16 in its markup is read as ASCII-compatible bytes, so it is not.
        if codec is not None and not codec.name.startswith("utf-16"):
            return data.decode(codec.name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _from_html(data: bytes, name: str) -> Extracted:
    # Imported on first use: trafilatura takes 0.4 s to import, which every process (the admin
    # imports this module) would otherwise pay at start.
    from trafilatura import bare_extraction
    from trafilatura.deduplication import LRUCache
    from trafilatura.utils import load_html

    no_body = ValidationError(
        f"“{name}” has no article text that could be found: the page may be only navigation, an index "
        "or a page that loads its article with JavaScript. Save the article page itself once it has "
        "loaded, print it to PDF, or paste its text.",
        code="empty_body",
    )
    text = XML_DECLARATION.sub("", _decode_html(data), count=1)
    try:
        tree = load_html(text)
    except ValueError:
        tree = None
    if tree is None:
        raise no_body
    document = bare_extraction(
        tree,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        # A cache of this page's own segments: trafilatura's default cache is shared by the whole
        # process, so a page uploaded a third time would be discarded as a duplicate.
        deduplicate=LRUCache(maxsize=4096),
        date_extraction_params={
            "original_date": True,
            "extensive_search": True,
            "max_date": date.today().isoformat(),
        },
    )
    if document is None or not (document.text or "").strip():
        raise no_body

    title = _stated_title(tree, document.title or "")
    paragraphs, seen = [], set()
    for line in document.text.splitlines():
        squashed = _squash(line)
        # Repeats (a caption printed under two photos, a pull quote) are kept once; the headline
        # is the first line already.
        if not squashed or squashed in seen or (not paragraphs and squashed == _squash(title)):
            continue
        seen.add(squashed)
        paragraphs.append(line.strip())
    # On a page without an article trafilatura falls back to the page's whole text: its menus.
    links = {_squash(a.text_content()) for a in tree.iter("a")}
    if sum(len(p.split()) for p in paragraphs if _squash(p) not in links) < MIN_BODY_WORDS:
        raise no_body

    url = _canonical_url(tree)
    published_on, note = _publication_date(tree, text, document.date, url)
    return Extracted(
        media_type="text/html",
        extension="html",
        received_text=_shaped(title, paragraphs),
        title=title,
        byline=_squash(document.author or ""),
        publisher=_site_name(tree, document.sitename or "", url),
        url=url,
        published_on=published_on,
        date_precision=DatePrecision.DAY.value,
        date_note=note,
        language=_html_language(tree),
        sha256=_sha256(data),
        size=len(data),
    )


def _stated_title(tree, title: str) -> str:
    """trafilatura's title if the page states it as its title (<title>, <h1>, a meta tag or
    JSON-LD); not a fallback to the first <h2>, which is a box's heading on a page without one."""
    title = _squash(title)
    if not title:
        return ""
    stated = [tree.findtext(".//title") or ""]
    stated += [h1.text_content() for h1 in tree.iter("h1")]
    stated += [meta.get("content", "") for meta in tree.iterfind(".//meta[@content]")]
    stated += [script.text or "" for script in tree.iterfind(".//script[@type='application/ld+json']")]
    return title if any(title in _squash(candidate) for candidate in stated) else ""


def _canonical_url(tree) -> str:
    for xpath in ("//head//link[@rel='canonical']/@href", "//head//meta[@property='og:url']/@content"):
        for value in tree.xpath(xpath):
            value = value.strip()
            if value.startswith(("https://", "http://")):
                return value
    return ""


def _site_name(tree, sitename: str, url: str) -> str:
    """og:site_name, else the name trafilatura read from the page's metadata (not one it made up
    from the URL's host, nor a publisher given as a URL)."""
    for value in tree.xpath("//head//meta[@property='og:site_name']/@content"):
        if value.strip():
            return _squash(value)
    sitename = _squash(sitename)
    if not sitename or sitename.startswith(("http://", "https://", "www.")):
        return ""
    if url and sitename.lower() in url.lower() and " " not in sitename:
        return ""
    return sitename


def _html_language(tree) -> str:
    # The HTML parser keeps an XHTML page's xml:lang as an attribute of that name.
    candidates = [tree.get("lang"), tree.get("xml:lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath(
        "//head//meta[translate(@http-equiv, 'CONTENT-LAGU', 'content-lagu')='content-language']/@content"
    )
    candidates += tree.xpath("//head//meta[@property='og:locale']/@content")
    for candidate in candidates:
        tag = (candidate or "").strip().replace("_", "-").split(",")[0].strip()
        if LANGUAGE_TAG.match(tag) and len(tag) <= 20:
            primary, *subtags = tag.split("-")
            subtags = [s.upper() if len(s) == 2 else s.title() if len(s) == 4 else s.lower() for s in subtags]
            return "-".join([primary.lower(), *subtags])
    return "en"


def _publication_date(tree, page: str, found: str | None, url: str) -> tuple[date | None, str]:
    """htmldate's original publication date (found during trafilatura's metadata pass) and a note
    saying where the page states that day. A date the page does not state as a day is dropped:
    with no date in its metadata htmldate falls back to any year it sees (the footer's "© 2016")
    and returns it as 1 January."""
    if not found:
        return None, ""
    try:
        published = date.fromisoformat(found[:10])
    except ValueError:
        return None, ""
    iso = published.isoformat()
    if url and any(form in url for form in (iso, f"{published:%Y/%m/%d}", f"{published:%Y%m%d}")):
        where = "From the page's URL (htmldate)"
    elif any(iso in value for value in _metadata_values(tree)):
        where = "From the page's metadata (htmldate)"
    elif _written_day(published).search(page):
        where = "From a date written in the page (htmldate; check it is the article's)"
    else:
        return None, ""
    return published, f"{where}: {iso}."


def _written_day(day: date) -> re.Pattern:
    """The usual ways an English-language page writes `day`: 2016-03-23, 23 March 2016,
    March 23, 2016, Mar 23rd 2016, 23/03/2016, 3/23/2016, 23.03.2016."""
    name = MONTHS[day.month - 1]
    month = rf"(?:{name}|{name[:3]}\.?)"
    d = rf"0?{day.day}(?:st|nd|rd|th)?"
    y = str(day.year)
    forms = [
        rf"{day:%Y}[-/.]{day:%m}[-/.]{day:%d}",
        rf"\b{d}\s+(?:of\s+)?{month},?\s+{y}",
        rf"{month}\s+{d},?\s+{y}",
        rf"\b0?{day.day}[/.]0?{day.month}[/.]{y}",
        rf"\b0?{day.month}/0?{day.day}/{y}",
    ]
    return re.compile(rf"(?:{'|'.join(forms)})(?!\d)", re.IGNORECASE)


def _metadata_values(tree):
    yield from tree.xpath("//head//meta/@content")
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        yield script.text or ""
    yield from tree.xpath("//time/@datetime")


# PDF


def _from_pdf(data: bytes, name: str) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    def corrupt():
        return ValidationError(
            f"“{name}” starts like a PDF but cannot be read (it is damaged or incomplete). "
            "Download it again, or open it and save or print it to a new PDF.",
            code="not_pdf",
        )

    encrypted = ValidationError(
        f"“{name}” is a password-protected PDF. Open it with its password and save or print it to a new "
        "PDF without protection, then upload that.",
        code="encrypted",
    )
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                # AES needs the cryptography package, which the archive does not install.
                raise ValidationError(
                    f"“{name}” is an encrypted PDF (AES) that the archive cannot open. Open it and save or "
                    "print it to a new PDF without protection, then upload that.",
                    code="encrypted",
                ) from None
            except (PyPdfError, *PDF_ERRORS):
                raise encrypted from None
            if not opened:
                raise encrypted
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = _pdf_title(reader)
        language = _pdf_language(reader)
    except ValidationError:
        raise
    except (PyPdfError, *PDF_ERRORS) as error:
        raise corrupt() from error
    if not pages:
        raise corrupt()
    if not any(pages):
        raise ValidationError(
            f"“{name}” has no text layer: it may be a scanned image; run OCR and upload the text or a PDF "
            "with a text layer.",
            code="no_text",
        )
    received = normalise_received_text("\n\n".join(page for page in pages if page) + "\n")
    return _without_metadata("application/pdf", "pdf", data, received, title or _first_line(received), language)


def _pdf_title(reader) -> str:
    metadata = reader.metadata
    title = metadata.title if metadata is not None else None
    return _squash(str(title)) if title else ""


def _pdf_language(reader) -> str:
    language = str(reader.trailer["/Root"].get("/Lang", "") or "").strip()
    return language if LANGUAGE_TAG.match(language) and len(language) <= 20 else "en"


# Plain text


def _from_text(data: bytes, name: str) -> Extracted:
    skip = len(BOM_UTF8) if data.startswith(BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skip + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise ValidationError(
            f"“{name}” is not UTF-8 text: byte {offset:,} (line {line:,}) is 0x{data[offset]:02X}. "
            "Save it as UTF-8 and upload it again.",
            code="encoding",
        ) from None
    received = normalise_received_text(text)
    return _without_metadata("text/plain", "txt", data, received, _first_line(received), "en")


def _without_metadata(media_type, extension, data, received, title, language) -> Extracted:
    """A PDF or a text file: no byline, outlet, address or date can be read from it."""
    return Extracted(
        media_type=media_type,
        extension=extension,
        received_text=received,
        title=title,
        byline="",
        publisher="",
        url="",
        published_on=None,
        date_precision=DatePrecision.DAY.value,
        date_note="",
        language=language,
        sha256=_sha256(data),
        size=len(data),
    )


def _first_line(text: str) -> str:
    return next((_squash(line) for line in text.splitlines() if line.strip()), "")
