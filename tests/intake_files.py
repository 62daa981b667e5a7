"""Real-world-shaped source files for the intake tests and the bench: news pages, PDFs, text files.

Built from the seed articles (seeds/*.txt): a page carries a seed's headline, standfirst, caption and
paragraphs inside the furniture a news site wraps around them (navigation, cookie banner,
breadcrumb, "Related articles", a registration form, reader comments, footer, scripts), so an
extractor has to tell the article from the page. No test functions here.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from django.conf import settings

from archive.boilerplate import reading_text

SEED = "001_3fd48a2bf4d62dac.txt"
INDEPENDENT_URL = "https://www.independent.co.uk/news/world/middle-east/palmyra-syria-isis-assad-a6948141.html"
BYLINE = "Samuel Ord"
DEFAULT_CAPTION = "The ruins of Palmyra’s colonnaded street, photographed before the city was seized"

NAVIGATION = [
    "News", "UK", "World", "Politics", "Business", "Climate", "Sport", "Culture", "Travel",
    "Money", "Opinion", "Voices", "Lifestyle", "Tech", "Science", "Video",
]  # fmt: skip
COOKIE_BANNER = (
    "We value your privacy. We and our 842 partners use cookies to store and access personal data "
    "such as browsing data for personalised advertising and content."
)
COOKIE_BUTTON = "Accept all cookies"
BREADCRUMB = ["News", "World", "Middle East"]
RELATED = [
    "Russia begins withdrawing warplanes from its Syrian air base",
    "Inside the museum that hid Palmyra’s treasures from the jihadists",
    "Geneva peace talks: what each side wants from the negotiations",
    "How satellite images revealed the looting of Syria’s ancient sites",
]
FORM_HEADING = "Register for free to continue reading"
FORM_LABELS = ["Email address", "Create a password", "First name", "Last name", "Year of birth"]
FORM_BUTTON = "Create my account"
COMMENTS = [
    ("DesertRose_77", "Great article, thank you for the clear reporting from the ground."),
    ("historybuff1962", "Terrible loss for all of humanity. I visited the Temple of Bel in 1998."),
    ("J. Marlowe", "Great article but who will pay to restore what is left of the monuments?"),
    ("anon_reader", "Let us hope the archaeologists get in before the looters do this time."),
]
FOOTER_LINKS = [
    "About us", "Contact us", "Jobs", "Advertise with us", "Privacy notice", "Cookie policy",
    "Terms of use", "Donate", "Install our apps", "Archive", "Sitemap", "Code of conduct",
]  # fmt: skip
COPYRIGHT = "© 2016 Independent Digital News & Media Ltd. All rights reserved."
PUBLISHERS = ["The Independent", "The Irish Times", "Gulf News", "ABC News", "Middle East Eye"]


def seed_path(seed_file: str) -> Path:
    return Path(settings.BASE_DIR) / "seeds" / seed_file


# The seeds whose second block is a standfirst (the subheading under the headline); 002's first
# line is a photo caption printed once. The others open with their first paragraph.
STANDFIRST_SEEDS = {"000_aae2f3adf396e9ec.txt", "001_3fd48a2bf4d62dac.txt"}
CAPTION_FIRST_SEEDS = {"002_f474df98911a8dcd.txt"}


@dataclass(frozen=True)
class SeedArticle:
    headline: str
    standfirst: str  # "" when the seed has none
    caption: str
    paragraphs: list[str]  # the article body: neither the standfirst nor the caption


@cache
def seed_article(seed_file: str = SEED) -> SeedArticle:
    """A seed's parts: its reading text (registration forms and repeated lines removed,
    archive.boilerplate) split into lines; the caption is the line the seed prints twice in a row
    (a photo caption), or a stock caption when it has none."""
    raw = seed_path(seed_file).read_text(encoding="utf-8")
    squashed = [" ".join(line.split()) for line in raw.splitlines()]
    caption = next((line for line, after in zip(squashed, squashed[1:], strict=False) if line and line == after), "")
    headline, *rest = [line.strip() for line in reading_text(raw).splitlines() if line.strip()]
    rest = [line for line in rest if line != headline and " ".join(line.split()) != caption]
    if seed_file in CAPTION_FIRST_SEEDS:
        caption, *rest = rest
    standfirst = rest.pop(0) if seed_file in STANDFIRST_SEEDS else ""
    return SeedArticle(headline, standfirst, caption or DEFAULT_CAPTION, rest)


def seed_paragraphs(seed_file: str = SEED) -> list[str]:
    """The paragraphs a page built from `seed_file` prints in its article body."""
    return seed_article(seed_file).paragraphs


def _padding_script(rng: random.Random) -> str:
    """A tracking snippet and a hydration blob, as news sites inline them (most of a page's bytes)."""
    state = {
        "config": {"adUnits": [f"/6582/ind/world/slot-{i}" for i in range(24)], "consentVendors": list(range(1, 300))},
        "nav": [{"label": label, "href": f"/{label.lower()}", "children": [f"/{label.lower()}/{i}" for i in range(12)]}
                for label in NAVIGATION],
        "experiments": {f"exp_{i}": rng.choice(["control", "variant_a", "variant_b"]) for i in range(300)},
    }  # fmt: skip
    return (
        '<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({"gtm.start":new Date().getTime(),'
        'event:"gtm.js"});var f=d.getElementsByTagName(s)[0],j=d.createElement(s);j.async=true;'
        'j.src="https://www.googletagmanager.com/gtm.js?id="+i;f.parentNode.insertBefore(j,f);})'
        '(window,document,"script","dataLayer","GTM-XXXX");</script>\n'
        f"<script>window.__APP_STATE__ = {json.dumps(state)};</script>\n"
    )


def _style(rng: random.Random) -> str:
    rules = [
        f".c-{i:03d}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;color:#{rng.randrange(0x1000000):06x};"
        f"font-size:{rng.randint(12, 22)}px;line-height:1.{rng.randint(2, 6)}}}"
        for i in range(520)
    ]
    return "<style>\n" + "\n".join(rules) + "\n</style>\n"


def _page(
    *,
    headline: str | None,
    standfirst: str,
    caption: str,
    paragraphs: list[str],
    site_name: str,
    canonical_url: str,
    published: str | None,
    charset: str,
    byline: str,
    rng: random.Random,
) -> bytes:
    e = html.escape
    body = paragraphs
    description = standfirst or paragraphs[0]
    head = [f'<meta charset="{charset}">', '<meta name="viewport" content="width=device-width, initial-scale=1">']
    if headline is not None:
        head += [
            f"<title>{e(headline)} | {e(site_name)}</title>",
            f'<meta property="og:title" content="{e(headline)}">',
        ]
    head += [
        f'<meta name="description" content="{e(description)}">',
        f'<meta property="og:description" content="{e(description)}">',
        f'<meta property="og:site_name" content="{e(site_name)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{e(canonical_url)}">',
        f'<link rel="canonical" href="{e(canonical_url)}">',
        f'<meta name="author" content="{e(byline)}">',
        '<meta name="twitter:card" content="summary_large_image">',
        '<link rel="stylesheet" href="/static/css/main.3f9a1c.css">',
    ]
    if published is not None:
        head.append(f'<meta property="article:published_time" content="{published}T14:02:11+00:00">')
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "author": {"@type": "Person", "name": byline},
        "publisher": {"@type": "Organization", "name": site_name},
        "mainEntityOfPage": canonical_url,
    }
    if headline is not None:
        ld["headline"] = headline
    if published is not None:
        ld["datePublished"] = f"{published}T14:02:11+00:00"
    head.append(f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>')

    nav = "".join(f'<li><a href="/{item.lower()}">{item}</a></li>' for item in NAVIGATION)
    crumbs = "".join(
        f'<li><a href="/{"/".join(BREADCRUMB[: i + 1]).lower()}">{c}</a></li>' for i, c in enumerate(BREADCRUMB)
    )
    figure = (
        '<figure class="article-image"><img src="https://static.example.net/img/palmyra-{n}.jpg" alt="" '
        'width="1200" height="800"><figcaption>{caption}</figcaption></figure>'
    )
    half = max(1, len(body) // 2)
    paragraph_html = [f"<p>{e(p)}</p>" for p in body]
    related = "".join(f'<li><a href="/news/world/related-{i}">{e(t)}</a></li>' for i, t in enumerate(RELATED))
    labels = "".join(
        f'<label for="f{i}">{label}</label><input id="f{i}" name="f{i}" type="text" required>'
        for i, label in enumerate(FORM_LABELS)
    )
    comments = "".join(
        f'<li class="comment" id="comment-{i}"><div class="comment-author">{e(who)}</div>'
        f'<div class="comment-body"><p>{e(what)}</p></div><a class="reply" href="#reply-{i}">Reply</a></li>'
        for i, (who, what) in enumerate(COMMENTS)
    )
    footer = "".join(f'<li><a href="/service/{i}">{e(item)}</a></li>' for i, item in enumerate(FOOTER_LINKS))
    title_html = f"<h1>{e(headline)}</h1>" if headline is not None else ""
    document = f"""<!DOCTYPE html>
<html lang="en">
<head>
{chr(10).join(head)}
{_style(rng)}{_padding_script(rng)}</head>
<body class="article-page">
<div id="cookie-banner" class="cookie-consent" role="dialog"><p>{COOKIE_BANNER}</p>
<button type="button">{COOKIE_BUTTON}</button> <a href="/cookie-settings">Manage preferences</a></div>
<header class="site-header"><a class="logo" href="/">{e(site_name)}</a>
<nav class="main-nav" aria-label="Main"><ul>{nav}</ul></nav></header>
<nav class="breadcrumb" aria-label="Breadcrumb"><ol>{crumbs}</ol></nav>
<main id="main">
<article class="article">
<header class="article-header">{title_html}
{f'<p class="standfirst">{e(standfirst)}</p>' if standfirst else ""}
<div class="byline">By <a rel="author" href="/author/{byline.lower().replace(" ", "-")}">{e(byline)}</a>
{f'<time datetime="{published}T14:02:11+00:00">{published}</time>' if published else ""}</div></header>
{figure.format(n=1, caption=e(caption))}
<div class="article-body">
{chr(10).join(paragraph_html[:half])}
{figure.format(n=2, caption=e(caption))}
{chr(10).join(paragraph_html[half:])}
</div>
<aside class="related-articles"><h2>Related articles</h2><ul>{related}</ul></aside>
<form class="newsletter-registration" action="/register" method="post"><h2>{FORM_HEADING}</h2>
{labels}<button type="submit">{FORM_BUTTON}</button></form>
</article>
<section id="comments" class="comments"><h2>Comments</h2><ol class="comment-list">{comments}</ol></section>
</main>
<footer class="site-footer"><ul>{footer}</ul><p class="copyright">{COPYRIGHT}</p></footer>
{_padding_script(rng)}</body>
</html>
"""
    return document.encode(charset)


def news_page(
    seed_file: str = SEED,
    *,
    title: str | None = None,
    with_headline: bool = True,
    site_name: str = "The Independent",
    canonical_url: str = INDEPENDENT_URL,
    published: str | None = "2016-03-23",
    charset: str = "utf-8",
) -> bytes:
    """A full HTML5 news page around a seed's article. `title` replaces the seed's headline;
    with_headline=False leaves out the <h1>, <title>, og:title and JSON-LD headline;
    published=None leaves out every date (meta tag, JSON-LD, <time>)."""
    seed = seed_article(seed_file)
    return _page(
        headline=(title or seed.headline) if with_headline else None,
        standfirst=seed.standfirst,
        caption=seed.caption,
        paragraphs=seed.paragraphs,
        site_name=site_name,
        canonical_url=canonical_url,
        published=published,
        charset=charset,
        byline=BYLINE,
        rng=random.Random(seed_file),
    )


@cache
def _vocabulary() -> list[str]:
    words = set()
    for path in sorted((Path(settings.BASE_DIR) / "seeds").glob("*.txt")):
        words.update(w.strip(".,;:“”‘’\"'()?!").lower() for w in path.read_text(encoding="utf-8").split())
    return sorted(w for w in words if w.isalpha() and len(w) > 1)


def _sentence(rng: random.Random, words: list[str]) -> str:
    chosen = rng.choices(words, k=rng.randint(9, 22))
    return " ".join(chosen).capitalize() + "."


def news_pages(n: int) -> list[tuple[str, bytes]]:
    """`n` distinct news pages (file name, bytes): the furniture of news_page around synthetic
    articles drawn with a seeded generator from the seeds' vocabulary, so no two bodies (nor any
    body and a seed) share their passages."""
    words = _vocabulary()
    pages = []
    for i in range(n):
        rng = random.Random(f"news-page-{i}")
        headline = f"Report {i + 1}: " + _sentence(rng, words).rstrip(".")
        paragraphs = [" ".join(_sentence(rng, words) for _ in range(rng.randint(2, 4))) for _ in range(14)]
        month, day = 1 + i % 12, 1 + i % 28
        page = _page(
            headline=headline,
            standfirst=_sentence(rng, words),
            caption=_sentence(rng, words),
            paragraphs=paragraphs,
            site_name=PUBLISHERS[i % len(PUBLISHERS)],
            canonical_url=f"https://news.example.org/world/middle-east/report-{i + 1}",
            published=f"2016-{month:02d}-{day:02d}",
            charset="utf-8",
            byline=BYLINE,
            rng=rng,
        )
        pages.append((f"report-{i + 1:03d}.html", page))
    return pages


def _unicode_font() -> Path | None:
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"):
        if Path(candidate).exists():
            return Path(candidate)
    return None


ASCII_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})


def pdf_printed(text: str) -> str:
    """`text` as article_pdf prints it: as is with a Unicode font, with ASCII quotes without one."""
    return text if _unicode_font() is not None else text.translate(ASCII_QUOTES)


def article_pdf(seed_file: str = SEED, *, title: str | None = None) -> bytes:
    """A PDF of a seed's article (headline, standfirst, paragraphs) over two or more pages. Its
    /Title is `title`, or the headline when None; "" leaves /Title out. With DejaVuSans (Debian's
    fonts-dejavu-core) the text is printed as is; without it, in a core font, curly quotes and
    dashes become ASCII ones (a core font has no glyphs for them: see pdf_printed)."""
    from fpdf import FPDF

    seed = seed_article(seed_file)
    headline = seed.headline
    paragraphs = ([seed.standfirst] if seed.standfirst else []) + seed.paragraphs
    font = _unicode_font()
    pdf = FPDF(format="A4")
    if title is None or title:
        pdf.set_title(title or headline)
    pdf.set_author(BYLINE)
    pdf.set_creation_date(datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    if font is not None:
        pdf.add_font("DejaVu", fname=str(font))
        family = "DejaVu"
    else:
        family = "Helvetica"

    printable = pdf_printed

    pdf.add_page()
    pdf.set_font(family, size=18)
    pdf.multi_cell(0, 9, printable(headline), align="L")
    pdf.ln(4)
    pdf.set_font(family, size=13)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 7, printable(paragraph), align="L")
        pdf.ln(3)
    if pdf.pages_count < 2:
        pdf.add_page()
        pdf.multi_cell(0, 7, printable(f"{headline}: continued from the first page."), align="L")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A page with a drawing and no text layer, as a scanner without OCR makes."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Scan 0042")
    pdf.add_page()
    pdf.set_fill_color(200, 200, 190)
    pdf.rect(20, 20, 170, 250, style="F")
    pdf.set_draw_color(40, 40, 40)
    for y in range(40, 260, 8):
        pdf.line(30, y, 180, y)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str = "secret") -> bytes:
    """A text PDF encrypted (RC4, which pypdf decrypts without extra libraries). With
    user_password="" it opens without a password, as a PDF "protected" only against editing."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    pdf.set_title("Protected report")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 7, "Protected report\n\nThe museum's storerooms were emptied before the city fell.")
    return bytes(pdf.output())


def corrupt_pdf() -> bytes:
    """A PDF header followed by garbage: a download cut off and overwritten, or a wrong file."""
    rng = random.Random("corrupt")
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.randrange(256) for _ in range(3000))


def plain_text(seed_file: str = SEED) -> bytes:
    """A seed as the UTF-8 text file it is."""
    return seed_path(seed_file).read_bytes()


def latin1_text() -> bytes:
    """A text file saved in windows-1252: the é of "café" (0xE9) on line 3."""
    return (
        "Palmyra museum reopens\n\nVisitors queued outside the café by the museum gate at dawn.\n"
        "The director said the restored statues would go back on display.\n"
    ).encode("cp1252")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
DOCX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml" + bytes(200)
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(100)


def navigation_only_page() -> bytes:
    """A page that is all furniture: navigation, footer links, no article."""
    nav = "".join(f'<li><a href="/{item.lower()}">{item}</a></li>' for item in NAVIGATION)
    footer = "".join(f'<li><a href="/service/{i}">{item}</a></li>' for i, item in enumerate(FOOTER_LINKS))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sections</title></head>'
        f"<body><header><nav><ul>{nav}</ul></nav></header><footer><ul>{footer}</ul></footer></body></html>"
    ).encode()
