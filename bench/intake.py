"""How long archive.intake.extract takes per uploaded news page, in one run on one machine.

    .venv/bin/python bench/intake.py [--pages 100]

Builds `--pages` distinct news pages (tests.intake_files.news_pages: full HTML5 pages with
navigation, cookie banner, comments, registration form, scripts) and times `extract` on each in
this process, after one warm-up extraction: the time a curator waits once the web process is
running. The one-off cost of importing trafilatura, htmldate and pypdf (archive.intake imports them
on first use) is printed apart. Then the whole path: `manage.py add_source` on a folder of the same
pages, into a throw-away SQLite database holding the seed articles (never the project's
db.sqlite3): reading, the duplicate and resemblance checks, saving with history and keeping the
originals, per file. Target: under 0.5 s per page, extraction included.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 0.5


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def setup(folder):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heritage.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    import django

    django.setup()


def add_source_per_file(folder, pages):
    """Seconds per file of `manage.py add_source` on a folder of `pages`, into a fresh database."""
    from django.core.management import call_command

    from archive.models import Source

    call_command("migrate", verbosity=0)
    call_command("import_seeds", stdout=io.StringIO())
    incoming = folder / "incoming"
    incoming.mkdir()
    for name, data in pages:
        (incoming / name).write_bytes(data)
    started = time.perf_counter()
    call_command("add_source", str(incoming), stdout=io.StringIO())
    elapsed = time.perf_counter() - started
    assert Source.objects.exclude(original="").count() == len(pages)
    return elapsed / len(pages)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="Pages to build and extract (default 100).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heritage-bench-intake-") as folder:
        run(args, Path(folder))


def run(args, folder):
    setup(folder)
    from archive.intake import extract
    from tests.intake_files import article_pdf, news_page, news_pages

    started = time.perf_counter()
    import htmldate  # noqa: F401
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401

    imports = time.perf_counter() - started

    started = time.perf_counter()
    pages = news_pages(args.pages)
    built = time.perf_counter() - started
    sizes = sorted(len(data) for _, data in pages)

    warm_up = news_page()
    started = time.perf_counter()
    extract(warm_up, "warm-up.html")
    first = time.perf_counter() - started

    seconds, words = [], []
    for name, data in pages:
        started = time.perf_counter()
        extracted = extract(data, name)
        seconds.append(time.perf_counter() - started)
        words.append(len(extracted.received_text.split()))

    pdf = article_pdf()
    started = time.perf_counter()
    extract(pdf, "article.pdf")
    pdf_seconds = time.perf_counter() - started

    whole = add_source_per_file(folder, pages)

    mean, median, longest = statistics.mean(seconds), statistics.median(seconds), max(seconds)
    say(f"{len(pages)} distinct news pages built in {built:.1f} s; {os.cpu_count()} CPUs")
    say(
        f"page size: median {statistics.median(sizes) / 1024:.0f} KiB (min {sizes[0] / 1024:.0f}, "
        f"max {sizes[-1] / 1024:.0f}); received text: median {statistics.median(words):.0f} words"
    )
    say(f"one-off: importing trafilatura, htmldate and pypdf {imports:.2f} s; first extraction {first:.3f} s")
    say(f"extract per page: mean {mean * 1000:.1f} ms, median {median * 1000:.1f} ms, max {longest * 1000:.1f} ms")
    say(f"extract of a two-page PDF (pypdf): {pdf_seconds * 1000:.1f} ms, {len(pdf) / 1024:.0f} KiB")
    say(
        f"add_source on a folder of the {len(pages)} pages (SQLite, seeds in the archive; reading, checks, "
        f"saving, originals): {whole * 1000:.1f} ms per file"
    )
    met = "met" if longest < TARGET_SECONDS and whole < TARGET_SECONDS else "NOT met"
    say(f"target: under {TARGET_SECONDS} s per page (the slowest extraction, and add_source per file): {met}")


if __name__ == "__main__":
    main()
