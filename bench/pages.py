"""Time every public page, and the admin's source page with its mentions panel, at 1,000 and at
100,000 incidents, in one run, and print the ratios.

    .venv/bin/python bench/pages.py                 # 1,000 and 100,000 incidents
    .venv/bin/python bench/pages.py --sizes 500 5000 --repeat 5

It builds a throw-away SQLite database in a temporary folder (never the project's db.sqlite3),
runs in production mode (DEBUG off, static files collected for whitenoise), fills the database
with `generate_synthetic` at each size and times each page with Django's test client: the fastest
of `--repeat` requests after one warm-up request. The target is a ratio of at most 1.5 between
the largest and the smallest size for every page (issue 10: the mentions panel loaded every
incident of every monument a text names). Home and site pages cache their whole-archive
aggregates, and lists the count of matching rows, until the data change; the first, uncached
request of a few pages is timed separately ("cold") and is not held to the target.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def say(line=""):
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def configure(folder):
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DEBUG"] = "false"
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP: no redirect to HTTPS
    os.environ["SECRET_KEY"] = "bench-only-not-secret"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = str(folder / "static")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heritage.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def pages():
    """(name, url) of every public page, first and last page of each list, filtered and not."""
    from archive.models import Actor, Incident, Monument, Site, Source

    incident = Incident.objects.published().filter(is_synthetic=True).order_by("slug")[500]
    monument = Monument.objects.filter(slug__startswith="synthetic-").order_by("slug").first()
    actor = Actor.objects.get(slug="synthetic-militia")
    source = Source.objects.public().filter(slug__startswith="synthetic-").order_by("slug")[50]
    site = Site.objects.get(slug="synthetic-site")
    lists = {
        "incidents": "/incidents/?",
        "incidents newest first": "/incidents/?ordering=-date&",
        "incidents by kind": "/incidents/?kind=looting&",
        "incidents by perpetrator+date": (
            f"/incidents/?perpetrator={actor.slug}&date_from=2014-01-01&date_to=2016-12-31&"
        ),
        "incidents by monument": f"/incidents/?monument={monument.slug}&",
        "incidents by site+assessment": f"/incidents/?site={site.slug}&assessment=contested&",
        "incidents text search": "/incidents/?q=lintel&",
        "monuments": "/monuments/?",
        "sources": "/sources/?",
        "actors": "/actors/?",
        f"monument {monument.slug}": f"{monument.get_absolute_url()}?",
        f"actor {actor.slug}": f"{actor.get_absolute_url()}?",
    }
    found = [("home", "/"), ("site detail", site.get_absolute_url()), ("site plan SVG", f"/sites/{site.slug}/plan.svg")]
    found.append(("timeline SVG", "/timeline.svg"))
    for name, url in lists.items():
        found.append((f"{name} (first page)", url.rstrip("?&")))
        found.append((f"{name} (last page)", f"{url}page=last"))
    found.append(("incident detail", incident.get_absolute_url()))
    found.append(("source detail", source.get_absolute_url()))
    return found


def admin_pages():
    """(name, url) of the admin pages timed, opened by a superuser."""
    from django.urls import reverse

    from archive.models import Source

    # A synthetic report names monuments, the site and actors, as many at every size.
    source = Source.objects.filter(slug__startswith="synthetic-").order_by("slug")[50]
    return [("admin source + mentions panel", reverse("admin:archive_source_change", args=[source.pk]))]


def time_page(client, url, repeat):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    # The minimum: the machine may be shared, and noise only ever adds time (as timeit advises).
    return min(timings)


def cold_time(client, url):
    from django.core.cache import cache

    cache.clear()
    start = time.perf_counter()
    client.get(url)
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="heritage-bench-") as tmp:
        configure(Path(tmp))
        from django.core.management import call_command
        from django.test import Client

        from archive.management.commands.generate_synthetic import generate

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.contrib.auth import get_user_model

        client, curator = Client(), Client()
        curator.force_login(get_user_model().objects.create_superuser("bench", "bench@example.org", "bench"))
        results = {}
        for size in args.sizes:
            start = time.perf_counter()
            made = generate(size)
            say(
                f"built {made['incidents']:,} incidents, {made['citations']:,} citations, "
                f"{made['sources']:,} sources in {time.perf_counter() - start:.1f} s"
            )
            for name, url in pages():
                results.setdefault(name, {})[size] = time_page(client, url, args.repeat)
            for name, url in admin_pages():
                results.setdefault(name, {})[size] = time_page(curator, url, args.repeat)
            monument = "/incidents/?monument=synthetic-monument-001"
            colds = [("home", "/"), ("site detail", "/sites/synthetic-site/"), ("incidents by monument", monument)]
            for name, url in ((f"{name} (cold cache)", url) for name, url in colds):
                results.setdefault(name, {})[size] = statistics.median(cold_time(client, url) for _ in range(3))

    small, large = min(args.sizes), max(args.sizes)
    say()
    say(f"{'page':<48} {small:>10,} {large:>10,}   ratio")
    worst = 0
    for name, timings in results.items():
        ratio = timings[large] / timings[small]
        cold = "cold" in name
        if not cold:
            worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else ("  (not targeted)" if cold else "  > target")
        say(f"{name:<48} {timings[small]:>8.1f}ms {timings[large]:>8.1f}ms {ratio:>6.2f}×{flag}")
    say(f"\nworst ratio of the targeted pages: {worst:.2f}× (target ≤ {TARGET}×)")


if __name__ == "__main__":
    main()
