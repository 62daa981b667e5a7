"""How fast the CSV import is: a generated file of incidents imported three ways, in one run.

    .venv/bin/python bench/csv_import.py [--rows 50000] [--database-url URL]

1. the archive's engine (archive.importexport.engine): parses and checks every cell, resolves
   natural keys in bulk, writes in batches with history rows;
2. plain `bulk_create` of the same rows: parse with csv.DictReader, look the slugs up in three
   dicts, insert incidents and their monument links — no checks, no history: the floor;
3. django-import-export's default `ModelResource` (natural-key widgets, default options): row by
   row, as an unconfigured admin import would do it.

It prints rows per second for each and the ratios to `bulk_create` — the figures we track. The
sites, actors and monuments the incidents name are loaded first and not timed. It works on a
throwaway SQLite database in a temporary folder unless --database-url names a scratch database,
whose incidents it deletes between runs. Figures live here, never as assertions in the tests.
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ["destruction", "damage", "looting", "killing", "attack", "control_change", "other"]
ASSESSMENTS = ["confirmed", "corroborated", "single_source", "contested", "unverified"]


def say(line):
    sys.stdout.write(line + "\n")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="Incidents to generate (default 50,000).")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--monuments", type=int, default=400)
    parser.add_argument("--actors", type=int, default=12)
    parser.add_argument(
        "--database-url",
        help="A scratch database to use instead of a temporary SQLite file (its incidents are deleted).",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="Runs of the engine and of bulk_create; the fastest counts (default 3)."
    )
    parser.add_argument("--skip-default", action="store_true", help="Skip the (slow) django-import-export run.")
    return parser.parse_args()


def generate(args):
    """The CSV files' bytes: {table key: bytes}."""
    from archive.importexport.csvfile import csv_lines

    def to_bytes(header, rows):
        return "".join(csv_lines(header, rows)).encode("utf-8")

    sites = [
        [f"site-{i}", f"Site {i} \u062a\u062f\u0645\u0631", "Syria", f"{34 + i / 100:.6f}", f"{38 + i / 100:.6f}"]
        for i in range(args.sites)
    ]
    actors = [[f"actor-{i}", f"Actor {i}", "armed_group"] for i in range(args.actors)]
    monuments = [[f"monument-{i}", f"site-{i % args.sites}", f"Monument {i}", "temple"] for i in range(args.monuments)]
    incidents = []
    for i in range(args.rows):
        day = 1 + i % 28
        linked = ";".join(sorted({f"monument-{(i * 7 + k) % args.monuments}" for k in range(1 + i % 3)}))
        incidents.append(
            [
                f"incident-{i:06d}",
                f"Incident {i}: the “temple” was hit",
                KINDS[i % len(KINDS)],
                f"site-{i % args.sites}",
                linked,
                f"actor-{i % args.actors}",
                "",
                f"2015-{1 + i % 12:02d}-{day:02d}",
                f"2015-{1 + i % 12:02d}-{day:02d}",
                "day",
                "on Thursday" if i % 5 == 0 else "",
                ASSESSMENTS[i % len(ASSESSMENTS)],
                "draft",
                f"Generated incident number {i}, reported by activists.",
            ]
        )
    return {
        "sites": to_bytes(["slug", "name", "country", "latitude", "longitude"], sites),
        "actors": to_bytes(["slug", "name", "kind"], actors),
        "monuments": to_bytes(["slug", "site", "name", "kind"], monuments),
        "incidents": to_bytes(
            [
                "slug", "title", "kind", "site", "monuments", "perpetrator", "victims", "occurred_from",
                "occurred_to", "date_precision", "date_wording", "assessment", "status", "description",
            ],
            incidents,
        ),
    }  # fmt: skip


def delete_incidents():
    from django.db import connection, transaction

    from archive.models import Incident

    history = Incident.history.model
    tables = [
        history.monuments.model._meta.db_table,
        history._meta.db_table,
        Incident.monuments.through._meta.db_table,
        Incident._meta.db_table,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model table names)


def run_engine(files):
    from archive.importexport.csvfile import read_csv
    from archive.importexport.engine import import_tables

    report = import_tables({"incidents": read_csv("incidents.csv", files["incidents"])}, reason="bench")
    if not report.ok:
        raise SystemExit("engine refused the file:\n" + "\n".join(str(p) for p in report.problems[:10]))


def run_bulk_create(files):
    from django.db import transaction

    from archive.models import Actor, Incident, Monument, Site

    sites = dict(Site.objects.values_list("slug", "pk"))
    actors = dict(Actor.objects.values_list("slug", "pk"))
    monuments = dict(Monument.objects.values_list("slug", "pk"))
    Through = Incident.monuments.through
    incidents, links = [], []
    for row in csv.DictReader(io.StringIO(files["incidents"].decode("utf-8"), newline="")):
        incidents.append(
            Incident(
                slug=row["slug"],
                title=row["title"],
                kind=row["kind"],
                site_id=sites[row["site"]],
                perpetrator_id=actors[row["perpetrator"]],
                victims=row["victims"],
                occurred_from=row["occurred_from"],
                occurred_to=row["occurred_to"],
                date_precision=row["date_precision"],
                date_wording=row["date_wording"],
                assessment=row["assessment"],
                status=row["status"],
                description=row["description"],
            )
        )
        links.append([monuments[slug] for slug in row["monuments"].split(";") if slug])
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


def default_resource():
    from import_export import fields, resources, widgets

    from archive.models import Actor, Incident, Monument, Site

    class DefaultIncidentResource(resources.ModelResource):
        site = fields.Field("site", "site", widgets.ForeignKeyWidget(Site, "slug"))
        perpetrator = fields.Field("perpetrator", "perpetrator", widgets.ForeignKeyWidget(Actor, "slug"))
        monuments = fields.Field("monuments", "monuments", widgets.ManyToManyWidget(Monument, ";", "slug"))

        class Meta:
            model = Incident
            import_id_fields = ["slug"]
            fields = (
                "slug", "title", "kind", "site", "monuments", "perpetrator", "victims", "occurred_from",
                "occurred_to", "date_precision", "date_wording", "assessment", "status", "description",
            )  # fmt: skip

    return DefaultIncidentResource()


def run_default_resource(files):
    from import_export.formats.base_formats import CSV

    dataset = CSV(encoding="utf-8").create_dataset(files["incidents"])
    result = default_resource().import_data(dataset, dry_run=False)
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export refused the file")


def timed(name, function, files, rows, repeat=1):
    """The fastest of `repeat` runs, each into an empty incidents table (the machine may be busy)."""
    from archive.models import Incident

    best = None
    for _ in range(repeat):
        delete_incidents()
        started = time.perf_counter()
        function(files)
        seconds = time.perf_counter() - started
        assert Incident.objects.count() == rows, f"{name} imported {Incident.objects.count()} of {rows} rows"
        best = seconds if best is None else min(best, seconds)
    return best


def main():
    args = parse_arguments()
    folder = tempfile.TemporaryDirectory(prefix="heritage-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{folder.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heritage.settings")
    # DEBUG off: with it on, Django records (and on SQLite re-quotes) every query's parameters.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from archive.importexport.csvfile import read_csv
    from archive.importexport.engine import import_tables

    call_command("migrate", verbosity=0)
    files = generate(args)
    report = import_tables({key: read_csv(f"{key}.csv", files[key]) for key in ("sites", "actors", "monuments")})
    if not report.ok:
        raise SystemExit("\n".join(str(p) for p in report.problems))

    rows = args.rows
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.vendor
    say(f"{rows:,} incidents, {len(files['incidents']) / 1e6:.1f} MB of CSV, {connection.vendor} {version}")
    results = [
        ("archive engine (checks + history)", timed("engine", run_engine, files, rows, args.repeat)),
        ("plain bulk_create (no checks, no history)", timed("bulk_create", run_bulk_create, files, rows, args.repeat)),
    ]
    if not args.skip_default:
        results.append(("django-import-export ModelResource", timed("default", run_default_resource, files, rows)))
    floor = results[1][1]
    for name, seconds in results:
        say(f"  {name:<44} {seconds:7.2f} s {rows / seconds:>9,.0f} rows/s  {floor / seconds:5.2f}× bulk_create")
    engine = results[0][1]
    if len(results) > 2:
        say(f"  engine / django-import-export default: {results[2][1] / engine:.1f}× faster")
    folder.cleanup()


if __name__ == "__main__":
    main()
