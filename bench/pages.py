"""Time the public pages, the searches and the admin's changelists at several archive sizes, the
sizes interleaved, on SQLite or PostgreSQL, and print each path's ratio against the target.

    .venv/bin/python bench/pages.py                        # 1,000 and 100,000 incidents, SQLite
    .venv/bin/python bench/pages.py --database postgres    # the same on PostgreSQL
    .venv/bin/python bench/pages.py --million              # and 1,000,000 (slow to build: ~30 min)
    .venv/bin/python bench/pages.py --sizes 500 5000 --rounds 2 --only search admin

One worker process per size holds its own throw-away database — SQLite in a temporary folder, or a
PostgreSQL database `heritage_bench_<size>` (DATABASE_URL's server, default
postgres://heritage:heritage@127.0.0.1:5432/) that this script creates and drops — never the
project's. Each worker migrates, runs `generate_synthetic` at its size and serves requests through
Django's test client in production mode (DEBUG off, static files collected for whitenoise).

The sizes are interleaved: every path is timed at 1,000, then at 100,000 (then at 1,000,000), in
turn, `--rounds` times, so a busy spell of the shared machine lands on every size alike.

- warm: the fastest of `--repeat` requests after a warm-up request (noise only ever adds time);
- cold: a request nothing has prepared — a search for a word not searched before (a fresh word
  each time), or a page whose figures' cache has just been cleared (`cache.clear()`: the shared
  cache; the whole-archive summaries stay, as they do when a worker starts or a cache is lost);
  the median of the rounds;
- "after publish" (not held to the target): the first request after a publish, which computes
  the whole-archive figures again once for every worker.

A path meets the target when its time at the largest size is within 1.5× of its time at the
smallest. A path over the target is timed again (`--retries` more interleaved rounds) before the
verdict, and the best of all rounds is kept.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
POSTGRES = "postgres://heritage:heritage@127.0.0.1:5432/"
# generate_synthetic's vocabulary (its WORDS): every synthetic description has a dozen of them.
COMMON = "stone column wall roof courtyard gate relief statue lintel frieze archive street tower".split()
ARABIC = ["تدمر", "معبد", "قلعة", "مسرح", "متحف", "أعمدة", "بعلشمين", "الكنيسة", "المئذنة", "السوق"]


def say(line=""):
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


# Paths ----------------------------------------------------------------------------------------------
# (name, kind, who): kind is "warm" (target), "cold" (target), "after publish" (reported only);
# who "public" or "admin". Each worker turns a name into a URL (`Worker.url`).

PUBLIC = [
    "home",
    "site detail",
    "timeline SVG",
    "incidents (first page)",
    "incidents (last page)",
    "incidents by kind (first page)",
    "incidents by perpetrator+date (first page)",
    "incidents by monument (last page)",
    "monuments",
    "sources (first page)",
    "sources (last page)",
    "actor (first page)",
    "incident detail",
    "source detail",
]
FIGURES = ["home", "site detail", "timeline SVG"]  # whole-archive figures: timed cold too
SEARCHES = ["search common word", "search rare word", "search absent word", "search phrase", "search Arabic word"]
ADMIN = [
    "admin incidents (first page)",
    "admin incidents (last page)",
    "admin incidents searched",
    "admin incidents filtered (published)",
    "admin incidents filtered (citations: several)",
    "admin citations (first page)",
    "admin citations (last page)",
    "admin sources (first page)",
    "admin sources (last page)",
    "admin source + mentions panel",
]


def cases(only):
    found = []
    if "public" in only:
        found += [(name, "warm") for name in PUBLIC]
        found += [(name, "cold") for name in FIGURES]
        found += [(name, "after publish") for name in FIGURES]
    if "search" in only:
        found += [(name, mode) for name in SEARCHES for mode in ("warm", "cold")]
    if "admin" in only:
        found += [(name, "warm") for name in ADMIN]
        found += [("admin incidents searched", "cold")]
    return found


# Worker: one size, one database ------------------------------------------------------------------


class Worker:
    def __init__(self, size, folder, repeat):
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.size, self.repeat, self.rng = size, repeat, random.Random(size)
        self.public, self.admin = Client(), Client()
        user = get_user_model().objects.filter(username="bench").first()
        user = user or get_user_model().objects.create_superuser("bench", "bench@example.org", "bench")
        self.admin.force_login(user)
        self.fixed = self._fixed_urls()
        self.used = set()

    def _fixed_urls(self):
        from django.urls import reverse

        from archive.models import Actor, Incident, Monument, Site, Source

        incident = Incident.objects.published().filter(is_synthetic=True).order_by("slug")[50]
        monument = Monument.objects.filter(slug__startswith="synthetic-").order_by("slug").first()
        actor = Actor.objects.get(slug="synthetic-militia")
        source = Source.objects.filter(slug__startswith="synthetic-").order_by("slug")[10]
        site = Site.objects.get(slug="synthetic-site")
        self.publishable = incident
        urls = {
            "home": "/",
            "site detail": site.get_absolute_url(),
            "timeline SVG": "/timeline.svg",
            "incidents (first page)": "/incidents/",
            "incidents (last page)": "/incidents/?page=last",
            "incidents by kind (first page)": "/incidents/?kind=looting",
            "incidents by perpetrator+date (first page)": (
                f"/incidents/?perpetrator={actor.slug}&date_from=2014-01-01&date_to=2016-12-31"
            ),
            "incidents by monument (last page)": f"/incidents/?monument={monument.slug}&page=last",
            "monuments": "/monuments/",
            "sources (first page)": "/sources/",
            "sources (last page)": "/sources/?page=last",
            "actor (first page)": actor.get_absolute_url(),
            "incident detail": incident.get_absolute_url(),
            "source detail": Source.objects.public()
            .filter(slug__startswith="synthetic-")
            .order_by("slug")[10]
            .get_absolute_url(),
            "admin source + mentions panel": reverse("admin:archive_source_change", args=[source.pk]),
        }
        changelists = {
            "admin incidents": reverse("admin:archive_incident_changelist"),
            "admin citations": reverse("admin:archive_citation_changelist"),
            "admin sources": reverse("admin:archive_source_changelist"),
        }
        for name, url in changelists.items():
            urls[f"{name} (first page)"] = url
            urls[f"{name} (last page)"] = f"{url}?p={self._last_page(url)}"
        urls["admin incidents filtered (published)"] = f"{changelists['admin incidents']}?status__exact=published"
        urls["admin incidents filtered (citations: several)"] = f"{changelists['admin incidents']}?citations=several"
        return urls

    def _last_page(self, url):
        html = self.admin.get(url).content.decode()
        return max([int(n) for n in re.findall(r'href="\?p=(\d+)"', html)] or [1])

    def fresh(self, words, make=None):
        """A term not searched before in this worker: the next of `words`, then made-up ones."""
        for word in words:
            if word not in self.used:
                self.used.add(word)
                return word
        word = make() if make else f"{self.rng.choice(words)}{len(self.used)}"
        self.used.add(word)
        return word

    def search_term(self, name, cold):
        rng = self.rng
        if name == "search common word":
            return self.fresh(COMMON) if cold else "lintel"
        if name == "search rare word":
            # One incident's number ("#4567" in its title), the same range at every size.
            return self.fresh([], lambda: str(rng.randrange(100, 999))) if cold else "517"
        if name == "search absent word":
            return (
                self.fresh([], lambda: "zq" + "".join(rng.choice("bcdfghjklmnpvwx") for _ in range(6)))
                if cold
                else ("zqxvortle")
            )
        if name == "search phrase":
            return self.fresh([], lambda: f'"{rng.choice(COMMON)} {rng.choice(COMMON)}"') if cold else '"stone column"'
        if name == "search Arabic word":
            return self.fresh(ARABIC) if cold else "تدمر"
        raise KeyError(name)

    def url(self, name, cold):
        from urllib.parse import quote

        if name.startswith("search "):
            return f"/incidents/?q={quote(self.search_term(name, cold))}"
        if name == "admin incidents searched":
            term = self.fresh(COMMON[::-1]) if cold else "lintel"
            return f"{self.fixed['admin incidents (first page)']}?q={quote(term)}"
        return self.fixed[name]

    def get(self, name, url):
        client = self.admin if name.startswith("admin ") else self.public
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{self.size}: {url} answered {response.status_code}")
        return elapsed

    def time(self, name, mode):
        from django.core.cache import cache

        from archive import summaries

        if mode == "warm":
            url = self.url(name, cold=False)
            self.get(name, url)
            return min(self.get(name, url) for _ in range(self.repeat))
        if mode == "cold":
            url = self.url(name, cold=True)
            if not name.startswith(("search", "admin")):
                cache.clear()
            return self.get(name, url)
        if mode == "after publish":
            summaries.refresh()  # what a publish does when it commits
            cache.clear()
            return self.get(name, self.url(name, cold=False))
        raise KeyError(mode)


def serve(args):
    """The worker's loop: one JSON request a line on stdin, one JSON answer a line on stdout."""
    folder = Path(args.folder)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DEBUG"] = "false"
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP: no redirect to HTTPS
    os.environ["SECRET_KEY"] = "bench-only-not-secret"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = str(folder / f"static-{args.size}")
    os.environ["MEDIA_ROOT"] = str(folder / f"media-{args.size}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heritage.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from archive.management.commands.generate_synthetic import generate

    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by the app must not break the protocol
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    start = time.perf_counter()
    made = generate(args.size)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
            cursor.execute("ANALYZE")
    built = time.perf_counter() - start
    worker = Worker(args.size, folder, args.repeat)
    out.write(json.dumps({"ready": made, "seconds": built}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"ms": worker.time(request["name"], request["mode"])}
        except SystemExit as error:
            answer = {"error": str(error)}
        out.write(json.dumps(answer) + "\n")
        out.flush()


# Orchestration --------------------------------------------------------------------------------------


def postgres_admin(url, statement):
    import psycopg

    with psycopg.connect(f"{url}postgres", autocommit=True) as connection:
        connection.execute(statement)


def start_workers(args, folder):
    workers = {}
    for size in args.sizes:
        if args.database == "postgres":
            name = f"heritage_bench_{size}"
            postgres_admin(args.server, f'DROP DATABASE IF EXISTS "{name}"')
            postgres_admin(args.server, f'CREATE DATABASE "{name}"')
            url = f"{args.server}{name}"
        else:
            url = f"sqlite:///{folder / f'bench-{size}.sqlite3'}"
        command = [sys.executable, __file__, "--worker", "--size", str(size), "--database-url", url]
        command += ["--folder", str(folder), "--repeat", str(args.repeat)]
        workers[size] = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for size, process in workers.items():
        ready = json.loads(process.stdout.readline() or '{"error": "worker died"}')
        if "ready" not in ready:
            raise SystemExit(f"the worker for {size:,} incidents did not start: {ready}")
        made = ready["ready"]
        say(
            f"{size:>9,}: built {made['incidents']:,} incidents, {made['citations']:,} citations, "
            f"{made['sources']:,} sources in {ready['seconds']:.0f} s"
        )
    return workers


def ask(process, name, mode):
    process.stdin.write(json.dumps({"name": name, "mode": mode}) + "\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline() or '{"error": "worker died"}')
    if "error" in answer:
        raise SystemExit(answer["error"])
    return answer["ms"]


def measure(workers, todo, rounds, results):
    for _ in range(rounds):
        for name, mode in todo:
            for size, process in workers.items():  # interleaved: each size in turn
                results.setdefault((name, mode), {}).setdefault(size, []).append(ask(process, name, mode))


def figure(timings, mode):
    return min(timings) if mode == "warm" else statistics.median(timings)


def ratio(result, small, large, mode):
    return figure(result[large], mode) / figure(result[small], mode)


def report(results, sizes, database, retried):
    small, large = min(sizes), max(sizes)
    say()
    say(
        f"{database}: warm = fastest of the rounds' best; cold = median. Target: ≤ {TARGET}× at {large:,} vs {small:,}."
    )
    header = f"{'path':<48} {'mode':<13}" + "".join(f"{size:>11,}" for size in sizes) + "    ratio"
    say(header)
    misses = []
    for (name, mode), result in results.items():
        value = ratio(result, small, large, mode)
        targeted = mode != "after publish"
        verdict = ("meets" if value <= TARGET else "OVER") if targeted else "(reported)"
        if targeted and value > TARGET:
            misses.append(name)
        note = " (retimed)" if (name, mode) in retried else ""
        cells = "".join(f"{figure(result[size], mode):>9.1f}ms" for size in sizes)
        say(f"{name:<48} {mode:<13}{cells} {value:>7.2f}×  {verdict}{note}")
    say(f"\n{len(misses)} targeted path(s) over {TARGET}×" + (f": {', '.join(misses)}" if misses else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--million", action="store_true", help="add 1,000,000 incidents (builds for ~30 min)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--server", default=POSTGRES, help="PostgreSQL server URL, ending in /")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--retries", type=int, default=3, help="more rounds for a path over the target")
    parser.add_argument(
        "--only", nargs="+", choices=["public", "search", "admin"], default=["public", "search", "admin"]
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return serve(args)
    if args.million and 1_000_000 not in args.sizes:
        args.sizes.append(1_000_000)
    args.sizes = sorted(set(args.sizes))

    with tempfile.TemporaryDirectory(prefix="heritage-bench-") as tmp:
        workers = start_workers(args, Path(tmp))
        try:
            results, todo = {}, cases(args.only)
            measure(workers, todo, args.rounds, results)
            small, large = min(args.sizes), max(args.sizes)
            over = [
                (name, mode)
                for (name, mode), result in results.items()
                if mode != "after publish" and ratio(result, small, large, mode) > TARGET
            ]
            if over and args.retries:
                say(f"retiming {len(over)} path(s) over the target: {', '.join(f'{n} ({m})' for n, m in over)}")
                measure(workers, over, args.retries, results)
            report(results, args.sizes, args.database, set(over) if args.retries else set())
        finally:
            for process in workers.values():
                process.stdin.close()
                process.wait()
            if args.database == "postgres":
                for size in args.sizes:
                    postgres_admin(args.server, f'DROP DATABASE IF EXISTS "heritage_bench_{size}"')
    return None


if __name__ == "__main__":
    main()
