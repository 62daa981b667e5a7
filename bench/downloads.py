"""Time every full public download under gunicorn against a raw cursor dump of the same rows.

    .venv/bin/python bench/downloads.py                       # 100,000 incidents, scratch SQLite
    .venv/bin/python bench/downloads.py --incidents 20000
    .venv/bin/python bench/downloads.py --database-url postgres://heritage:heritage@127.0.0.1:5432/bench_dl

It builds the synthetic archive (`generate_synthetic`; 100,000 incidents cite 20,000 sources) on a
scratch database — a SQLite file in a temporary folder unless `--database-url` names another
scratch database, never the project's — runs ANALYZE, and serves it with gunicorn and the
deployment's settings (heritage/gunicorn.conf.py, DEBUG off). Each download is fetched whole over
HTTP, checked (it parses, with one row per published incident or public source) and timed beside
a raw dump of the same rows and columns: read with a plain DB-API cursor (the rows, their counts,
monuments and passages), written with the csv module or json.dumps to nowhere, and the same size
in bytes as the download. The target is a ratio of at most 2 (best of `--repeat` runs each).
The workers' resident memory is sampled while each download streams: flat memory means
the peak does not grow with the download. Last, two full downloads run at once while a page is
requested again and again: the page must keep answering.
"""

import argparse
import csv
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0

PUBLISHED = "i.status = 'published'"
INCIDENT_SQL = f"""
    SELECT i.id, i.slug, i.title, i.kind, s.slug, i.victims, i.occurred, i.occurred_from, i.occurred_to,
           i.date_wording, i.assessment, i.description, s.latitude, s.longitude
    FROM archive_incident i JOIN archive_site s ON s.id = i.site_id
    WHERE {PUBLISHED} ORDER BY i.occurred_from, i.slug
"""
INCIDENT_ACTORS_SQL = """
    SELECT ia.incident_id, ia.role, a.slug
    FROM archive_incidentactor ia JOIN archive_actor a ON a.id = ia.actor_id ORDER BY ia.id
"""
INCIDENT_COUNTS_SQL = f"""
    SELECT c.incident_id, COUNT(*), COUNT(DISTINCT CASE WHEN c.stance = 'supports' THEN so.origin END)
    FROM archive_citation c JOIN archive_incident i ON i.id = c.incident_id
    JOIN archive_source so ON so.id = c.source_id
    WHERE {PUBLISHED} GROUP BY c.incident_id
"""
INCIDENT_MONUMENTS_SQL = """
    SELECT im.incident_id, m.slug, m.latitude, m.longitude
    FROM archive_incident_monuments im JOIN archive_monument m ON m.id = im.monument_id ORDER BY m.slug
"""
INCIDENT_PASSAGES_SQL = f"""
    SELECT c.incident_id, so.slug, c.quote, c.position_start, c.position_end, c.claimant, c.evidence_kind, c.stance
    FROM archive_citation c JOIN archive_incident i ON i.id = c.incident_id
    JOIN archive_source so ON so.id = c.source_id
    WHERE {PUBLISHED} ORDER BY c.incident_id, so.published_on, c.position_start, c.id
"""
SOURCE_SQL = f"""
    SELECT so.id, so.slug, so.title, so.publisher, so.origin, so.byline, so.url, so.published_on, so.date_precision,
           so.language, so.sha256
    FROM archive_source so
    WHERE EXISTS (SELECT 1 FROM archive_citation c JOIN archive_incident i ON i.id = c.incident_id
                  WHERE c.source_id = so.id AND {PUBLISHED})
    ORDER BY so.published_on DESC, so.slug
"""
SOURCE_COUNTS_SQL = f"""
    SELECT c.source_id, COUNT(DISTINCT c.incident_id)
    FROM archive_citation c JOIN archive_incident i ON i.id = c.incident_id WHERE {PUBLISHED} GROUP BY c.source_id
"""
SOURCE_PASSAGES_SQL = f"""
    SELECT c.source_id, i.slug, c.quote, c.position_start, c.position_end
    FROM archive_citation c JOIN archive_incident i ON i.id = c.incident_id
    WHERE {PUBLISHED} ORDER BY c.source_id, c.position_start, c.id
"""
DOWNLOADS = [
    ("incidents CSV", "/incidents/download/csv/", "incidents", "csv"),
    ("incidents JSON", "/incidents/download/json/", "incidents", "json"),
    ("incidents GeoJSON", "/incidents/download/geojson/", "incidents", "geojson"),
    ("sources CSV", "/sources/download/csv/", "sources", "csv"),
    ("sources JSON", "/sources/download/json/", "sources", "json"),
]
INCIDENT_COLUMNS = (
    "slug title kind site monuments actors victims occurred earliest latest precision date_wording "
    "assessment description citations independent_origins url"
).split()
SOURCE_COLUMNS = (
    "slug title publisher origin byline source_url published_on date_precision language sha256 incidents url"
).split()


def say(line=""):
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def environment(folder, database_url, port):
    return {
        **os.environ,
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "STATIC_ROOT": str(folder / "static"),
        "HTTPS": "false",  # plain HTTP on the loopback
        "SECURE_SSL_REDIRECT": "false",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "heritage.settings",
    }


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """A file that counts the UTF-8 bytes written to it and forgets them (the raw dump's output)."""

    def __init__(self):
        self.size = 0

    def write(self, text):
        self.size += len(text.encode())
        return len(text)


def rows_of(cursor, sql):
    cursor.execute(sql)
    while rows := cursor.fetchmany(2000):
        yield from rows


def iso(value):
    return value if value is None or isinstance(value, str) else value.isoformat()


def point(latitude, longitude):
    return None if latitude is None or longitude is None else [float(longitude), float(latitude)]


def geometry(points):
    points = [p for p in points if p is not None]
    if not points:
        return None
    return (
        {"type": "Point", "coordinates": points[0]}
        if len(points) == 1
        else {"type": "MultiPoint", "coordinates": points}
    )


def write_records(sink, fmt, columns, records):
    """Write the records as the download does: CSV with the csv module, JSON and GeoJSON with json.dumps."""
    if fmt == "csv":
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(columns)
        for record, _geometry in records:
            writer.writerow(record)
        return
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    if fmt == "json":
        sink.write("[\n" + ",\n".join(dumps(record) for record, _geometry in records) + "\n]\n")
        return
    features = (dumps({"type": "Feature", "geometry": where, "properties": record}) for record, where in records)
    sink.write('{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}\n")


def raw_incidents(fmt, base):
    """The incident download done by hand: the same rows and columns, read with a plain DB-API cursor
    (incidents, their citation counts, monuments, actors and, for JSON, cited passages), written with the
    csv module or json.dumps. The precision comes from the EDTF value, parsed once per distinct value
    as the download does (archive.views.when). Every synthetic monument is public, so no monument is filtered out."""
    from django.db import connection

    from archive.dates import NO_EARLIER, NO_LATER
    from archive.views.when import precision_of

    open_start, open_end = NO_EARLIER.isoformat(), NO_LATER.isoformat()  # as iso() gives them
    sink = Sink()
    with connection.cursor() as cursor:
        counts = {pk: (n, origins) for pk, n, origins in rows_of(cursor, INCIDENT_COUNTS_SQL)}
        monuments = {}
        for incident, slug, latitude, longitude in rows_of(cursor, INCIDENT_MONUMENTS_SQL):
            monuments.setdefault(incident, []).append((slug, point(latitude, longitude)))
        actors = {}
        for incident, role, slug in rows_of(cursor, INCIDENT_ACTORS_SQL):
            actors.setdefault(incident, []).append((role, slug))
        passages = {}
        if fmt != "csv":
            for incident, source, quote, start, end, claimant, evidence_kind, stance in rows_of(
                cursor, INCIDENT_PASSAGES_SQL
            ):
                passages.setdefault(incident, []).append(
                    {
                        "source": source,
                        "quote": quote,
                        "position_start": start,
                        "position_end": end,
                        "claimant": claimant,
                        "evidence_kind": evidence_kind,
                        "stance": stance,
                    }
                )

        def records():
            for row in rows_of(cursor, INCIDENT_SQL):
                pk, slug, title, kind, site, victims, occurred, first, last, wording, assessment, description = row[:12]
                places = monuments.get(pk, [])
                roles = actors.get(pk, [])
                n, origins = counts.get(pk, (0, 0))
                # A bound the sources do not give is empty (the sentinels of archive.dates, as stored).
                earliest = "" if iso(first) == open_start else iso(first)
                latest = "" if iso(last) == open_end else iso(last)
                precision = precision_of(occurred)
                if fmt == "csv":
                    yield (
                        [
                            slug, title, kind, site, ";".join(p[0] for p in places),
                            ";".join(f"{role}:{actor}" for role, actor in roles), victims, occurred, earliest,
                            latest, precision, wording, assessment, description, n, origins, f"{base}{slug}/",
                        ],
                        None,
                    )  # fmt: skip
                    continue
                record = {
                    "slug": slug, "title": title, "kind": kind, "site": site, "monuments": [p[0] for p in places],
                    "actors": [{"actor": actor, "role": role} for role, actor in roles], "victims": victims,
                    "occurred": occurred, "earliest": earliest or None, "latest": latest or None,
                    "precision": precision, "date_wording": wording, "assessment": assessment,
                    "description": description, "citations": n, "independent_origins": origins,
                    "url": f"{base}{slug}/", "cited_passages": passages.get(pk, []),
                }  # fmt: skip
                yield record, geometry([p[1] for p in places] or [point(row[12], row[13])])

        write_records(sink, fmt, INCIDENT_COLUMNS, records())
    return sink.size


def raw_sources(fmt, base):
    """The source download done by hand, as `raw_incidents`: public sources, the number of published
    incidents citing each and, for JSON, their public passages."""
    from django.db import connection

    sink = Sink()
    with connection.cursor() as cursor:
        counts = dict(rows_of(cursor, SOURCE_COUNTS_SQL))
        passages = {}
        if fmt == "json":
            for source, incident, quote, start, end in rows_of(cursor, SOURCE_PASSAGES_SQL):
                passages.setdefault(source, []).append(
                    {"incident": incident, "quote": quote, "position_start": start, "position_end": end}
                )

        def records():
            for pk, slug, *cells in rows_of(cursor, SOURCE_SQL):
                cells[5] = iso(cells[5])
                if fmt == "csv":
                    yield [slug, *cells, counts.get(pk, 0), f"{base}{slug}/"], None
                    continue
                record = dict(zip(SOURCE_COLUMNS, [slug, *cells, counts.get(pk, 0), f"{base}{slug}/"], strict=True))
                record["cited_passages"] = passages.get(pk, [])
                yield record, None

        write_records(sink, fmt, SOURCE_COLUMNS, records())
    return sink.size


def raw_dump(kind, fmt, port):
    """(seconds, bytes) of the raw dump of one download."""
    base = f"http://127.0.0.1:{port}/{kind}/"
    start = time.perf_counter()
    size = (raw_incidents if kind == "incidents" else raw_sources)(fmt, base)
    return time.perf_counter() - start, size


def workers(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class MemorySampler(threading.Thread):
    """The largest resident size of any worker while a download streams, sampled every 0.1 s."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.pids = workers(master)
        self.start_mib = max(rss_mib(pid) for pid in self.pids)
        self.peak_mib = self.start_mib
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.1):
            self.peak_mib = max(self.peak_mib, *(rss_mib(pid) for pid in self.pids))


def fetch(port, url, into=None):
    """(status, seconds, bytes, complete) of a whole GET, read in 64 KiB pieces."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    start = time.perf_counter()
    connection.request("GET", url)
    response = connection.getresponse()
    size, complete = 0, True
    try:
        while piece := response.read(65536):
            size += len(piece)
            if into is not None:
                into.write(piece)
    except http.client.IncompleteRead:
        complete = False
    seconds = time.perf_counter() - start
    connection.close()
    return response.status, seconds, size, complete


def rows_in(path, url):
    data = path.read_bytes()
    if url.endswith("/csv/"):
        return len(list(csv.reader(io.StringIO(data.decode("utf-8"))))) - 1
    parsed = json.loads(data)
    return len(parsed["features"]) if "geojson" in url else len(parsed)


def start_gunicorn(env, port):
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "heritage" / "gunicorn.conf.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)
    time.sleep(1)  # let every worker boot
    for _ in range(8):  # and load its code and open its database connection, before timing
        fetch(port, "/monuments/download/csv/")
    return server


def concurrency(port, url, page="/incidents/"):
    """Two full downloads at once; meanwhile the slowest of repeated requests for `page`."""
    threads = [threading.Thread(target=fetch, args=(port, url)) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    slowest, count, statuses = 0.0, 0, set()
    while any(thread.is_alive() for thread in threads):
        status, seconds, _size, _complete = fetch(port, page)
        statuses.add(status)
        slowest, count = max(slowest, seconds), count + 1
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    return slowest, count, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--database-url", help="a scratch database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=2, help="time each download and raw dump N times, keep the best")
    parser.add_argument("--only", help="only the downloads whose name contains this (e.g. 'sources')")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the synthetic archive already in --database-url (no rebuild)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="heritage-bench-dl-") as tmp:
        folder, port = Path(tmp), free_port()
        env = environment(folder, args.database_url, port)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from archive.management.commands.generate_synthetic import generate
        from archive.models import Incident, Source

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        start = time.perf_counter()
        if args.reuse and args.database_url:
            reused = Incident.objects.filter(is_synthetic=True).count()
            say(f"reusing {reused:,} synthetic incidents on {connection.vendor}")
        else:
            made = generate(args.incidents)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            say(
                f"built {made['incidents']:,} incidents, {made['citations']:,} citations, {made['sources']:,} sources "
                f"in {time.perf_counter() - start:.1f} s on {connection.vendor}; ANALYZE run"
            )
        expected = {"incidents": Incident.objects.public().count(), "sources": Source.objects.public().count()}
        connection.close()

        server = start_gunicorn(env, port)
        try:
            say(f"gunicorn (heritage/gunicorn.conf.py) with {len(workers(server.pid))} workers on port {port}\n")
            say(
                f"{'download':<20} {'rows':>8} {'MiB':>7} {'raw MiB':>7} {'download':>9} {'raw dump':>9} {'ratio':>7}"
                f"   worker RSS start → peak"
            )
            worst = 0.0
            for name, url, kind, fmt in DOWNLOADS:
                if args.only and args.only.lower() not in name.lower():
                    continue
                raw = min(raw_dump(kind, fmt, port)[0] for _ in range(args.repeat))
                raw_size = raw_dump(kind, fmt, port)[1]
                best = None
                for _ in range(args.repeat):
                    sampler = MemorySampler(server.pid)
                    sampler.start()
                    path = folder / "download"
                    with path.open("wb") as into:
                        status, seconds, size, complete = fetch(port, url, into)
                    sampler.done.set()
                    sampler.join()
                    if best is None or seconds < best[1]:
                        best = status, seconds, size, complete, sampler
                status, seconds, size, complete, sampler = best
                rows = rows_in(path, url) if status == 200 and complete else -1
                valid = status == 200 and complete and rows == expected[kind]
                ratio = seconds / raw
                worst = max(worst, ratio)
                flag = "" if valid else f"  INVALID (status {status}, complete {complete}, {rows} rows)"
                say(
                    f"{name:<20} {rows:>8,} {size / 2**20:>7.1f} {raw_size / 2**20:>7.1f} {seconds:>8.2f}s"
                    f" {raw:>8.2f}s {ratio:>6.2f}×   {sampler.start_mib:.0f} → {sampler.peak_mib:.0f} MiB{flag}"
                )
            say(f"\nworst ratio: {worst:.2f}× (target ≤ {TARGET}×)")
            slowest, count, statuses = concurrency(port, "/incidents/download/csv/")
            say(
                f"two full incident CSV downloads at once: /incidents/ answered {count} times "
                f"(statuses {sorted(statuses)}), slowest {slowest * 1000:.0f} ms"
            )
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
