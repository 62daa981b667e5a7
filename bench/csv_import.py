"""How fast, how big and how long-locking the CSV import is, in one run on one machine.

    .venv/bin/python bench/csv_import.py [--rows 50000] [--database-url URL] [--repeat 3]

1. Speed: a generated incidents.csv and its incident_actors.csv (each incident's perpetrator, and a
   supporting force for one in four) imported by the archive's engine (archive.importexport.engine:
   streamed from disk, every cell parsed and checked, EDTF dates parsed and their bounds derived,
   natural keys resolved in bulk, history rows) and by plain `bulk_create` (csv.DictReader, dicts of
   slugs, incidents with their bounds (archive.dates.parse_when, once per distinct value, as the
   engine), their monument links and their actors, no checks, no history: the floor), and — unless
   --skip-default — by django-import-export's default `ModelResource`, row by row (incidents.csv
   only: it has no way to write their actors). Printed as rows per second and as the ratio to bulk_create
   (target: the engine ≥ 0.5×).
2. Memory and lock: `import_archive`'s own code path (import_directory) run in a subprocess on a
   tenth of the file and on the whole file: its peak memory (max RSS, so the interpreter and Django
   are included) and how long it held the write transaction (on SQLite: the write lock) against how
   long it planned. Meanwhile this process plays a curator saving a record every 0.2 s, and prints
   how many saves succeeded, the longest wait and any failure.
3. Round trip: `export_archive` of everything (subprocess: time and peak memory), the archive
   emptied, `import_archive` of the export (subprocess), and a second export, which must give the
   same files (compared by their SHA-256 in the manifests).

It works on a throwaway SQLite database in a temporary folder unless --database-url names a scratch
database, whose archive tables it empties. Figures live here, never as assertions in the tests.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ["destruction", "damage", "looting", "killing", "attack", "control_change", "other"]
ASSESSMENTS = ["confirmed", "corroborated", "single_source", "contested", "unverified"]
INCIDENT_HEADER = [
    "slug", "title", "kind", "site", "monuments", "victims", "occurred", "date_wording", "assessment",
    "status", "description",
]  # fmt: skip
ACTOR_HEADER = ["incident", "actor", "role"]


def occurred(i):
    """A mix of EDTF values as the sources give them: mostly days, then months, intervals, open
    ends, approximate months, and some undated incidents."""
    month, day = 1 + i % 12, 1 + i % 28
    kind = i % 20
    if kind < 12:
        return f"2015-{month:02d}-{day:02d}"
    if kind < 15:
        return f"2016-{month:02d}"
    if kind < 17:
        return f"2015-{month:02d}/2016-03"
    if kind == 17:
        return f"../2016-{month:02d}-{day:02d}"
    if kind == 18:
        return f"2016-{month:02d}~"
    return ""


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="Incidents to generate (default 50,000).")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--monuments", type=int, default=400)
    parser.add_argument("--actors", type=int, default=12)
    parser.add_argument(
        "--database-url",
        help="A scratch database to use instead of a temporary SQLite file (its archive tables are emptied).",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="Runs of the engine and of bulk_create; the fastest counts (default 3)."
    )
    parser.add_argument("--skip-default", action="store_true", help="Skip the (slow) django-import-export run.")
    parser.add_argument("--skip-speed", action="store_true", help="Skip part 1 (speed); run memory, lock, round trip.")
    parser.add_argument("--child", nargs=2, metavar=("COMMAND", "DIR"), help=argparse.SUPPRESS)
    return parser.parse_args()


def setup(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heritage.settings")
    # DEBUG off: with it on, Django records (and on SQLite re-quotes) every query's parameters.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()


def write_files(args, folder: Path) -> dict[str, Path]:
    """sites.csv, actors.csv, monuments.csv in `folder`; incidents.csv and incident_actors.csv (all
    rows) in `folder`/all and their first tenth in `folder`/tenth. Written row by row: the
    generator holds no rows."""
    from archive.importexport.csvfile import write_csv

    def write(path, header, rows):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as stream:
            write_csv(stream, header, rows)
        return path

    def incidents(count):
        for i in range(count):
            linked = ";".join(sorted({f"monument-{(i * 7 + k) % args.monuments}" for k in range(1 + i % 3)}))
            yield [
                f"incident-{i:07d}",
                f"Incident {i}: the “temple” was hit",
                KINDS[i % len(KINDS)],
                f"site-{i % args.sites}",
                linked,
                "",
                occurred(i),
                "on Thursday" if i % 5 == 0 else "",
                ASSESSMENTS[i % len(ASSESSMENTS)],
                "draft",
                f"Generated incident number {i}, reported by activists.",
            ]

    def actors(count):
        for i in range(count):
            yield [f"incident-{i:07d}", f"actor-{i % args.actors}", "perpetrator"]
            if i % 4 == 0:
                yield [f"incident-{i:07d}", f"actor-{(i + 1) % args.actors}", "supporting"]

    sites = (
        [f"site-{i}", f"Site {i} \u062a\u062f\u0645\u0631", "Syria", f"{34 + i / 100:.6f}", f"{38 + i / 100:.6f}"]
        for i in range(args.sites)
    )
    return {
        "sites": write(folder / "sites.csv", ["slug", "name", "country", "latitude", "longitude"], sites),
        "actors": write(
            folder / "actors.csv",
            ["slug", "name", "kind"],
            ([f"actor-{i}", f"Actor {i}", "armed_group"] for i in range(args.actors)),
        ),
        "monuments": write(
            folder / "monuments.csv",
            ["slug", "site", "name", "kind"],
            ([f"monument-{i}", f"site-{i % args.sites}", f"Monument {i}", "temple"] for i in range(args.monuments)),
        ),
        "incidents": write(folder / "all" / "incidents.csv", INCIDENT_HEADER, incidents(args.rows)),
        "incident_actors": write(folder / "all" / "incident_actors.csv", ACTOR_HEADER, actors(args.rows)),
        "tenth": write(folder / "tenth" / "incidents.csv", INCIDENT_HEADER, incidents(max(1, args.rows // 10))),
        "tenth_actors": write(
            folder / "tenth" / "incident_actors.csv", ACTOR_HEADER, actors(max(1, args.rows // 10))
        ),
    }  # fmt: skip


def delete_rows(everything=False):
    """Empty the incidents (and with `everything`, every archive table), history included."""
    from django.db import connection, transaction

    from archive.models import Actor, Citation, Image, Incident, IncidentActor, Monument, Site, Source

    models = [Image, Citation, IncidentActor, Incident] + ([Monument, Source, Actor, Site] if everything else [])
    tables = []
    for model in models:
        history = model.history.model
        tables += [m2m.remote_field.through._meta.db_table for m2m in history._meta.local_many_to_many]
        tables.append(history._meta.db_table)
        tables += [m2m.remote_field.through._meta.db_table for m2m in model._meta.local_many_to_many]
        tables.append(model._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in dict.fromkeys(tables):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model table names)


def run_engine(files):
    from archive.importexport.csvfile import CSVFile
    from archive.importexport.engine import import_tables

    sources = {}
    for key in ("incidents", "incident_actors"):
        sources[key] = CSVFile(f"{key}.csv", files[key])
        sources[key].scan()
    report = import_tables(sources, reason="bench")
    if not report.ok:
        raise SystemExit("engine refused the file:\n" + "\n".join(str(p) for p in report.problems[:10]))


def run_bulk_create(files):
    from django.db import transaction

    from archive.dates import parse_when
    from archive.models import Actor, Incident, IncidentActor, Monument, Site

    sites = dict(Site.objects.values_list("slug", "pk"))
    actors = dict(Actor.objects.values_list("slug", "pk"))
    monuments = dict(Monument.objects.values_list("slug", "pk"))
    bounds = {}
    Through = Incident.monuments.through
    incidents, links = [], []
    with files["incidents"].open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["occurred"] not in bounds:
                bounds[row["occurred"]] = parse_when(row["occurred"]).stored_bounds
            occurred_from, occurred_to = bounds[row["occurred"]]
            incidents.append(
                Incident(
                    slug=row["slug"],
                    title=row["title"],
                    kind=row["kind"],
                    site_id=sites[row["site"]],
                    victims=row["victims"],
                    occurred=row["occurred"],
                    occurred_from=occurred_from,
                    occurred_to=occurred_to,
                    date_wording=row["date_wording"],
                    assessment=row["assessment"],
                    status=row["status"],
                    description=row["description"],
                )
            )
            links.append([monuments[slug] for slug in row["monuments"].split(";") if slug])
    with files["incident_actors"].open(encoding="utf-8", newline="") as stream:
        roles = [(row["incident"], actors[row["actor"]], row["role"]) for row in csv.DictReader(stream)]
    with transaction.atomic():
        Incident.objects.bulk_create(incidents, batch_size=500)
        Through.objects.bulk_create(
            [
                Through(incident_id=incident.pk, monument_id=m)
                for incident, ms in zip(incidents, links, strict=True)
                for m in ms
            ],
            batch_size=500,
        )
        pks = {incident.slug: incident.pk for incident in incidents}
        IncidentActor.objects.bulk_create(
            [IncidentActor(incident_id=pks[slug], actor_id=actor, role=role) for slug, actor, role in roles],
            batch_size=500,
        )


def default_resource():
    from import_export import fields, resources, widgets

    from archive.models import Incident, Monument, Site

    class DefaultIncidentResource(resources.ModelResource):
        site = fields.Field("site", "site", widgets.ForeignKeyWidget(Site, "slug"))
        monuments = fields.Field("monuments", "monuments", widgets.ManyToManyWidget(Monument, ";", "slug"))

        class Meta:
            model = Incident
            import_id_fields = ["slug"]
            fields = tuple(INCIDENT_HEADER)

    return DefaultIncidentResource()


def run_default_resource(files):
    from import_export.formats.base_formats import CSV

    dataset = CSV(encoding="utf-8").create_dataset(files["incidents"].read_bytes())
    result = default_resource().import_data(dataset, dry_run=False)
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export refused the file")


def timed(name, function, files, rows, repeat=1):
    """The fastest of `repeat` runs, each into an empty incidents table (the machine may be busy)."""
    from archive.models import Incident

    best = None
    for _ in range(repeat):
        delete_rows()
        started = time.perf_counter()
        function(files)
        seconds = time.perf_counter() - started
        assert Incident.objects.count() == rows, f"{name} imported {Incident.objects.count()} of {rows} rows"
        best = seconds if best is None else min(best, seconds)
    return best


class CuratorSaves(threading.Thread):
    """A curator saving one record every 0.2 s (in its own connection) while an import runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.waits, self.failures = [], []

    def run(self):
        from django.contrib.auth.models import User
        from django.db import DatabaseError, connection, transaction

        # A record outside the export (so the round trip still compares equal): on SQLite every
        # write transaction waits for the same lock, whatever table it writes.
        curator, _ = User.objects.get_or_create(username="bench-curator")
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    User.objects.filter(pk=curator.pk).update(first_name=f"saved at {time.time():.1f}")
                self.waits.append(time.perf_counter() - started)
            except DatabaseError as error:
                self.failures.append(f"{error} after {time.perf_counter() - started:.1f} s")
            self.stop.wait(0.2)
        connection.close()

    def summary(self):
        self.stop.set()
        self.join()
        longest = max(self.waits, default=0)
        failed = f", {len(self.failures)} failed ({self.failures[0]}: a 503 page)" if self.failures else ", none failed"
        return f"curator saves meanwhile: {len(self.waits)} succeeded, longest wait {longest:.2f} s{failed}"


def child(database_url, command, directory):
    """In a subprocess: run import_directory or export_directory, print what it measured as JSON."""
    setup(database_url)
    from archive.importexport.directory import export_directory, import_directory

    started = time.perf_counter()
    if command == "import":
        report = import_directory(Path(directory), reason="bench")
        if not report.ok:
            raise SystemExit("\n".join(str(p) for p in report.problems[:10]))
        result = {"rows": sum(t.rows for t in report.tables), **report.timings}
    else:
        report = export_directory(Path(directory))
        result = {"rows": sum(report.counts.values())}
    result["seconds"] = time.perf_counter() - started
    # The high-water mark of this process's memory since exec (getrusage's maxrss would count the
    # parent's memory at fork).
    with open("/proc/self/status", encoding="ascii") as status:
        result["rss_mib"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    sys.stdout.write(json.dumps(result) + "\n")


def in_subprocess(database_url, command, directory, *, curator=False):
    """Run `child` in a fresh interpreter; return its figures, peak RSS (MiB) included."""
    probe = CuratorSaves() if curator else None
    process = subprocess.Popen(
        [sys.executable, __file__, "--database-url", database_url, "--child", command, str(directory)],
        stdout=subprocess.PIPE,
        text=True,
    )
    if probe is not None:
        probe.start()
    output = process.stdout.read()
    if process.wait():
        raise SystemExit(f"{command} {directory} failed: {output}")
    result = json.loads(output.strip().splitlines()[-1])
    if probe is not None:
        result["curator"] = probe.summary()
    return result


def manifest_hashes(directory: Path) -> dict[str, str]:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    return {entry["name"]: entry["sha256"] for entry in manifest["files"]}


def main():
    args = parse_arguments()
    if args.child:
        child(args.database_url, *args.child)
        return
    folder = tempfile.TemporaryDirectory(prefix="heritage-bench-")
    work = Path(folder.name)
    database_url = args.database_url or f"sqlite:///{work}/bench.sqlite3"
    setup(database_url)
    from django.core.management import call_command
    from django.db import connection

    from archive.importexport.csvfile import CSVFile
    from archive.importexport.engine import import_tables

    call_command("migrate", verbosity=0)
    delete_rows(everything=True)
    files = write_files(args, work)
    references = {}
    for key in ("sites", "actors", "monuments"):
        references[key] = CSVFile(f"{key}.csv", files[key])
        references[key].scan()
    report = import_tables(references)
    if not report.ok:
        raise SystemExit("\n".join(str(p) for p in report.problems))

    rows = args.rows
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.vendor
    size = files["incidents"].stat().st_size / 1e6
    say(f"{rows:,} incidents, {size:.1f} MB of CSV, {connection.vendor} {version}, {os.cpu_count()} CPUs")

    if not args.skip_speed:
        say("1. speed (fastest of the runs; each into an empty incidents table)")
        results = [
            ("archive engine (checks + history)", timed("engine", run_engine, files, rows, args.repeat)),
            ("plain bulk_create (no checks, no history)", timed("bulk", run_bulk_create, files, rows, args.repeat)),
        ]  # fmt: skip
        if not args.skip_default:
            results.append(("django-import-export ModelResource", timed("default", run_default_resource, files, rows)))
        floor = results[1][1]
        for name, seconds in results:
            say(f"  {name:<44} {seconds:7.2f} s {rows / seconds:>9,.0f} rows/s  {floor / seconds:5.2f}× bulk_create")
        if len(results) > 2:
            say(f"  engine / django-import-export default: {results[2][1] / results[0][1]:.1f}× faster")

    say("2. import_archive in a subprocess: peak memory, write transaction (SQLite: the write lock)")
    for name, count in (("tenth", max(1, rows // 10)), ("all", rows)):
        delete_rows()
        result = in_subprocess(database_url, "import", work / name, curator=True)
        say(
            f"  {count:>9,} rows: {result['seconds']:7.2f} s in all, planning {result['plan']:6.2f} s outside any "
            f"transaction, write transaction {result['write']:6.2f} s; peak RSS {result['rss_mib']:6.0f} MiB"
        )
        say(f"  {'':>15}{result['curator']}")

    say("3. round trip: export_archive → empty archive → import_archive → export_archive")
    first = in_subprocess(database_url, "export", work / "export-1")
    say(f"  export  {first['rows']:>9,} rows: {first['seconds']:7.2f} s, peak RSS {first['rss_mib']:6.0f} MiB")
    delete_rows(everything=True)
    again = in_subprocess(database_url, "import", work / "export-1", curator=True)
    say(
        f"  import  {again['rows']:>9,} rows: {again['seconds']:7.2f} s (write transaction {again['write']:.2f} s), "
        f"peak RSS {again['rss_mib']:6.0f} MiB"
    )
    say(f"  {'':>8}{again['curator']}")
    second = in_subprocess(database_url, "export", work / "export-2")
    same = manifest_hashes(work / "export-1") == manifest_hashes(work / "export-2")
    say(f"  export  {second['rows']:>9,} rows: {second['seconds']:7.2f} s; files identical to the first export: {same}")
    if not args.database_url:
        folder.cleanup()
    else:
        delete_rows(everything=True)
        folder.cleanup()


if __name__ == "__main__":
    main()
