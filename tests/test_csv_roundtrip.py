"""export_archive → import_archive into an empty database → export_archive gives the same bytes."""

import datetime
import hashlib
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.dates import NO_EARLIER, NO_LATER
from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Actor, Citation, Figure, Image, Incident, IncidentActor, Monument, Site, Source
from archive.texts import normalise_received_text
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db

# Evidence as it arrives: curly quotes, a no-break space, CRLF and bare CR line ends (stored as LF:
# archive.texts), Arabic, and text a spreadsheet would run as a formula.
TRICKY_TEXT = (
    '=HYPERLINK("http://evil.example","click")\r\n'
    "Militants \u201cdestroyed\u201d the Temple of Bel\u00a0last year, activists said.\r\n"
    "\u062a\u062f\u0645\u0631 \u2014 Palmyra\r"
    "-2+3 and @SUM(A1) and '=already quoted\n"
    "\tTabbed line. <script>alert('x')</script>\n"
)
MODELS = [Image, Figure, Citation, IncidentActor, Incident, Monument, Source, Actor, Site]


def build_archive():
    palmyra = make_site(
        name="Palmyra",
        slug="palmyra",
        aliases="Tadmur\n\u062a\u062f\u0645\u0631",
        latitude=Decimal("34.551100"),
        longitude=Decimal("38.268300"),
        wikidata="Q5747",
        unesco_status="in_danger",
    )
    aleppo = make_site(name="Old City of Aleppo", slug="aleppo", description="-starts with a minus")
    # The parent sorts after its child, so sites.csv names it before it defines it.
    syria = make_site(name="Syria", slug="syria", kind="region")
    aleppo.parent = syria
    aleppo.kind = "historic_quarter"
    aleppo.save()
    bel = make_monument(site=palmyra, name="Temple of Bel", slug="temple-of-bel", aliases="Bel\nTemple of Baal")
    theatre = make_monument(site=palmyra, name="Roman theatre", slug="roman-theatre", kind="theatre")
    make_monument(
        site=aleppo,
        name="Citadel",
        slug="citadel",
        kind="castle",
        latitude=Decimal("-36.199"),
        longitude=Decimal("-37.162"),
    )
    isis = make_actor(name="Islamic State", slug="islamic-state", aliases="Isis\nDaesh")
    unattributed = make_actor(name="Unattributed", slug="unattributed", kind="unattributed")
    russia = make_actor(name="Russian air force", slug="russia", kind="foreign_state")
    tricky = make_source(slug="tricky", title="+Tricky title", received_text=TRICKY_TEXT, language="ar")
    plain = make_source(slug="plain")
    published = make_incident(
        slug="bel-destroyed",
        title="Temple of Bel destroyed",
        site=palmyra,
        actors=[(isis, "perpetrator"), (isis, "claimed"), (russia, "accused")],
        monuments=[bel, theatre],
        victims="@none",
        description="<b>bold</b> & \u201cquoted\u201d",
    )
    bel_claim = make_citation(
        incident=published, source=tricky, quote='Militants "destroyed" the Temple of Bel last year'
    )
    make_citation(incident=published, source=plain, claimant="=cmd|' /C calc'!A0", note="line one\r\nline two")
    # The contradicting citation (source "plain") comes before the one it contradicts (source
    # "tricky") in citations.csv: a reference forward in the same file.
    make_citation(
        incident=published,
        source=plain,
        quote="activists said",
        stance="contradicts",
        contradicts=bel_claim,
        presentation="unverified",
        names_monument=False,
        origin="EPA",
    )
    Figure.objects.create(citation=bel_claim, measure="killed", low=24, high=40, counted="civilians", wording="dozens")
    Figure.objects.create(citation=bel_claim, measure="airstrikes", low=3, wording="=three")
    published.status = "published"
    published.published_at = datetime.datetime(2016, 3, 27, 10, 0, 0, 123456, tzinfo=datetime.UTC)
    published.save()
    make_incident(
        slug="withdrawn-one",
        site=aleppo,
        perpetrator=isis,
        occurred="2016-03~",
        status="withdrawn",
        citations=1,
        withdrawn_reason="-Duplicate",
        assessment_override="confirmed",
        override_reason="Satellite imagery, UNITAR, 2015-09-01.",
    )
    # The curated order of an incident's actors is kept, whatever their slugs.
    make_incident(
        slug="a-draft",
        site=aleppo,
        actors=[(russia, "supporting"), (isis, "perpetrator")],
        date_wording="from last May to March",
        occurred="2015-05/2016-03",
    )
    make_incident(slug="undated-looting", site=palmyra, perpetrator=unattributed, occurred="")
    make_incident(slug="by-the-report", site=palmyra, actors=[(isis, "accused")], occurred="../2016-03-24")
    Image.objects.create(
        monument=bel,
        file="images/2016/03/bel.jpg",
        width=800,
        height=600,
        caption="Bel",
        credit="=AP",
        licence="CC BY-SA 4.0",
    )
    Image.objects.create(
        incident=published,
        file="images/2016/03/after.jpg",
        width=1,
        height=2,
        caption="After",
        credit="AP",
        licence="CC BY-SA 4.0",
        kind="after",
    )


def empty_the_archive():
    # Incidents before citations: a published incident may not lose its last citation by itself.
    for model in (Image, Incident, Citation, Monument, Source, Actor):
        model.objects.all().delete()
    Site.objects.filter(parent__isnull=False).delete()  # children first: a parent is protected
    Site.objects.all().delete()


def export_bytes(directory: Path) -> dict[str, bytes]:
    call_command("export_archive", str(directory), stdout=StringIO())
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_export_import_export_is_byte_identical(tmp_path):
    build_archive()
    first = export_bytes(tmp_path / "first")
    counts = {model: model.objects.count() for model in MODELS}
    empty_the_archive()

    out = StringIO()
    call_command("import_archive", str(tmp_path / "first"), stdout=out)

    assert {model: model.objects.count() for model in MODELS} == counts
    assert Source.objects.get(slug="tricky").received_text == normalise_received_text(TRICKY_TEXT)
    assert_claims_survive()
    assert_actors_and_dates_survive()
    assert out.getvalue().strip().splitlines()[-1] == (
        f"Imported 9 file(s), {sum(counts.values())} row(s): {sum(counts.values())} new, 0 updated, 0 unchanged."
    )
    second = export_bytes(tmp_path / "second")
    assert second == first


def assert_actors_and_dates_survive():
    """build_archive()'s actors (roles, curated order) and dates (EDTF, derived bounds), as stored
    after an import."""
    roles = {
        incident.slug: [(link.actor.slug, link.role) for link in incident.actor_links.order_by("pk")]
        for incident in Incident.objects.all()
    }
    assert roles["bel-destroyed"] == [
        ("islamic-state", "perpetrator"),
        ("islamic-state", "claimed"),
        ("russia", "accused"),
    ]
    assert roles["a-draft"] == [("russia", "supporting"), ("islamic-state", "perpetrator")]
    assert roles["by-the-report"] == [("islamic-state", "accused")]
    dates = {slug: (occurred, start, end) for slug, occurred, start, end in Incident.objects.values_list(
        "slug", "occurred", "occurred_from", "occurred_to"
    )}  # fmt: skip
    day = datetime.date
    assert dates == {
        "bel-destroyed": ("2015-08-30", day(2015, 8, 30), day(2015, 8, 30)),
        "withdrawn-one": ("2016-03~", day(2016, 3, 1), day(2016, 3, 31)),
        "a-draft": ("2015-05/2016-03", day(2015, 5, 1), day(2016, 3, 31)),
        "undated-looting": ("", NO_EARLIER, NO_LATER),
        "by-the-report": ("../2016-03-24", NO_EARLIER, day(2016, 3, 24)),
    }


def assert_claims_survive():
    """The claims' own fields of build_archive(), as stored after an import."""
    aleppo = Site.objects.get(slug="aleppo")
    assert (aleppo.kind, aleppo.parent.slug) == ("historic_quarter", "syria")
    bel = Incident.objects.get(slug="bel-destroyed")
    contradicting = bel.citations.get(stance="contradicts")
    assert (contradicting.presentation, contradicting.names_monument, contradicting.origin) == (
        "unverified",
        False,
        "EPA",
    )
    assert contradicting.contradicts.source.slug == "tricky"
    assert sorted(
        Figure.objects.values_list("citation__source__slug", "measure", "low", "high", "counted", "wording")
    ) == [("tricky", "airstrikes", 3, None, "", "=three"), ("tricky", "killed", 24, 40, "civilians", "dozens")]
    # Derived on import, from the citations: the stored value is never taken from the file.
    assert (bel.assessment, bel.assessment_reason) == bel.derive_assessment()
    assert bel.assessment == "contested"
    withdrawn = Incident.objects.get(slug="withdrawn-one")
    assert (withdrawn.assessment, withdrawn.assessment_override) == ("confirmed", "confirmed")
    assert withdrawn.assessment_reason.startswith("Curator's assessment: Satellite imagery")


def test_export_writes_every_table_and_a_manifest(tmp_path):
    build_archive()
    files = export_bytes(tmp_path)
    assert set(files) == {
        "sites.csv", "actors.csv", "sources.csv", "monuments.csv", "incidents.csv", "incident_actors.csv",
        "citations.csv", "figures.csv", "images.csv", "manifest.json",
    }  # fmt: skip
    manifest = json.loads(files["manifest.json"])
    assert (manifest["format"], manifest["version"]) == ("heritage-archive-csv", 4)
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
        assert len(read_csv(entry["name"], files[entry["name"]]).rows) == entry["rows"]
    assert {entry["name"]: entry["rows"] for entry in manifest["files"]}["incidents.csv"] == 5
    incidents = read_csv("incidents.csv", files["incidents.csv"])
    assert "perpetrator" not in incidents.header and "occurred_from" not in incidents.header
    rows = {cells[0]: dict(zip(incidents.header, cells, strict=True)) for _line, cells in incidents.rows}
    row = rows["bel-destroyed"]
    assert row["monuments"] == "roman-theatre;temple-of-bel"
    assert row["site"] == "palmyra" and row["occurred"] == "2015-08-30"
    assert {slug: row["occurred"] for slug, row in rows.items()} == {
        "a-draft": "2015-05/2016-03",
        "bel-destroyed": "2015-08-30",
        "by-the-report": "../2016-03-24",
        "undated-looting": "",
        "withdrawn-one": "2016-03~",
    }
    actors = read_csv("incident_actors.csv", files["incident_actors.csv"])
    assert actors.header == ["incident", "actor", "role"]
    # By incident, then in the order curated.
    assert [cells for _line, cells in actors.rows] == [
        ["a-draft", "russia", "supporting"],
        ["a-draft", "islamic-state", "perpetrator"],
        ["bel-destroyed", "islamic-state", "perpetrator"],
        ["bel-destroyed", "islamic-state", "claimed"],
        ["bel-destroyed", "russia", "accused"],
        ["by-the-report", "islamic-state", "accused"],
        ["undated-looting", "unattributed", "perpetrator"],
        ["withdrawn-one", "islamic-state", "perpetrator"],
    ]
    assert row["published_at"] == "2016-03-27T10:00:00.123456+00:00"
    assert row["assessment"] == "contested" and row["assessment_override"] == ""
    sites = read_csv("sites.csv", files["sites.csv"])
    assert [
        (cells[0], cells[sites.header.index("kind")], cells[sites.header.index("parent")]) for _l, cells in sites.rows
    ] == [
        ("aleppo", "historic_quarter", "syria"),
        ("palmyra", "heritage_site", ""),
        ("syria", "region", ""),
    ]
    citations = read_csv("citations.csv", files["citations.csv"])
    rows = [dict(zip(citations.header, cells, strict=True)) for _line, cells in citations.rows]
    contradicting = next(row for row in rows if row["stance"] == "contradicts")
    contradicted = Citation.objects.get(source__slug="tricky", incident__slug="bel-destroyed")
    assert contradicting["contradicts"] == f"bel-destroyed|tricky|{contradicted.position_start}"
    assert (contradicting["presentation"], contradicting["names_monument"], contradicting["origin"]) == (
        "unverified",
        "false",
        "EPA",
    )
    assert {row["names_monument"] for row in rows if row["stance"] == "supports"} == {"true"}
    figures = read_csv("figures.csv", files["figures.csv"])
    assert figures.header == ["citation", "measure", "low", "high", "counted", "wording"]
    assert [cells for _line, cells in figures.rows] == [
        [f"bel-destroyed|tricky|{contradicted.position_start}", "airstrikes", "3", "", "", "=three"],
        [f"bel-destroyed|tricky|{contradicted.position_start}", "killed", "24", "40", "civilians", "dozens"],
    ]


def test_synthetic_incidents_are_never_exported(tmp_path):
    build_archive()
    synthetic = make_incident(slug="synthetic-1", citations=1)
    Incident.objects.filter(pk=synthetic.pk).update(is_synthetic=True)
    files = export_bytes(tmp_path)
    assert b"synthetic-1" not in files["incidents.csv"]
    assert b"synthetic-1" not in files["citations.csv"]
    assert b"bel-destroyed" in files["incidents.csv"]


def test_reimport_changes_nothing_and_writes_no_history(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    history_before = [model.history.count() for model in MODELS]

    out = StringIO()
    call_command("import_archive", str(tmp_path), stdout=out)

    assert "0 new, 0 updated" in out.getvalue()
    assert "incident_actors.csv: 0 new, 0 updated, 8 unchanged" in call_import_verbose(tmp_path)
    assert [model.history.count() for model in MODELS] == history_before


def call_import_verbose(directory):
    out = StringIO()
    call_command("import_archive", str(directory), "--dry-run", stdout=out)
    return out.getvalue()


def test_import_writes_history_with_the_command_as_reason(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    empty_the_archive()
    call_command("import_archive", str(tmp_path), stdout=StringIO())

    incident = Incident.objects.get(slug="bel-destroyed")
    record = incident.history.get()
    assert record.history_type == "+"
    assert record.history_change_reason == "import_archive"
    assert record.history_user is None
    # The historical row records the monuments too, as a save in the admin would.
    assert sorted(m.monument.slug for m in record.monuments.all()) == ["roman-theatre", "temple-of-bel"]
    for model in MODELS:
        assert model.history.filter(history_change_reason="import_archive").count() == model.objects.count(), model


def test_updates_are_written_with_history(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    path = tmp_path / "incidents.csv"
    (tmp_path / "manifest.json").unlink()
    path.write_bytes(path.read_bytes().replace(b"Temple of Bel destroyed", b"Temple of Bel blown up"))

    out = StringIO()
    call_command("import_archive", str(tmp_path), stdout=out)

    incident = Incident.objects.get(slug="bel-destroyed")
    assert incident.title == "Temple of Bel blown up"
    latest = incident.history.first()
    assert latest.history_type == "~" and latest.history_change_reason == "import_archive"
    assert sorted(m.monument.slug for m in latest.monuments.all()) == ["roman-theatre", "temple-of-bel"]
    assert "0 new, 1 updated" in out.getvalue()


def test_changing_monuments_relinks_them(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    (tmp_path / "manifest.json").unlink()
    path = tmp_path / "incidents.csv"
    path.write_bytes(path.read_bytes().replace(b"roman-theatre;temple-of-bel", b"citadel"))

    call_command("import_archive", str(tmp_path), stdout=StringIO())

    incident = Incident.objects.get(slug="bel-destroyed")
    assert [m.slug for m in incident.monuments.all()] == ["citadel"]
    assert [m.monument.slug for m in incident.history.first().monuments.all()] == ["citadel"]


def test_dry_run_reports_and_writes_nothing(tmp_path):
    build_archive()
    export_bytes(tmp_path)
    empty_the_archive()

    out = StringIO()
    call_command("import_archive", str(tmp_path), "--dry-run", stdout=out)

    assert Incident.objects.count() == 0 and Source.objects.count() == 0
    assert Incident.history.count() + Source.history.count() > 0  # only the factories' own history
    text = out.getvalue()
    assert "incidents.csv: 5 new, 0 updated, 0 unchanged" in text
    assert "incident_actors.csv: 8 new, 0 updated, 0 unchanged" in text
    assert text.strip().splitlines()[-1].startswith("Would import")
    assert "nothing was written" in text


def test_import_resolves_natural_keys_in_bulk_not_per_row(tmp_path):
    """The number of queries does not grow with the number of rows."""
    site = make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    make_monument(slug="temple-of-bel", site=site)
    header = "slug,title,kind,site,monuments,occurred\r\n"

    def queries_for(n):
        rows = "".join(
            f"inc-{n}-{i},Incident {i},destruction,palmyra,temple-of-bel,2015-{1 + i % 12:02d}\r\n" for i in range(n)
        )
        table = read_csv("incidents.csv", (header + rows).encode())
        with CaptureQueriesContext(connection) as queries:
            report = import_tables({"incidents": table})
        assert report.ok and report.tables[0].new == n
        return len(queries)

    # Select existing incidents, then the sites and monuments named; savepoint; reserve
    # pks for incidents, their history rows and their links (SQLite: the table's largest pk and its
    # sqlite_sequence; PostgreSQL: one nextval query); insert incidents, historical incidents,
    # links, historical links (PostgreSQL: by COPY, which Django does not log); release. SQLite
    # also reads, raises and restores its page cache size around the write transaction. The new
    # incidents' identifiers: their sites' prefixes, one counter update per prefix.
    if connection.vendor == "postgresql":
        assert queries_for(1) == queries_for(30) == 3 + 1 + 3 + 1 + 2
    else:
        assert queries_for(1) == queries_for(30) == 3 + 2 + 1 + 3 * 2 + 4 + 1 + 1 + 2


@pytest.mark.skipif(
    not (Path(settings.BASE_DIR) / "fixtures" / "palmyra.json").exists(),
    reason="fixtures/palmyra.json (the curated record) does not exist yet",
)
def test_palmyra_record_round_trips_byte_identically(tmp_path):
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())
    assert Incident.objects.exists()
    add_claims_to_the_record()
    first = export_bytes(tmp_path / "first")
    assessments = dict(Incident.objects.values_list("slug", "assessment"))
    empty_the_archive()

    call_command("import_archive", str(tmp_path / "first"), stdout=StringIO())

    assert export_bytes(tmp_path / "second") == first
    assert dict(Incident.objects.values_list("slug", "assessment")) == assessments
    citation = Citation.objects.get(claimant="round-trip claimant")
    assert (citation.presentation, citation.names_monument, citation.origin) == ("unverified", False, "Own origin")
    contradicting = Citation.objects.get(stance="contradicts", note="round trip")
    assert contradicting.contradicts == citation
    assert Figure.objects.get(wording="round-trip figure").citation == citation
    assert Site.objects.get(slug="round-trip-quarter").parent.kind == Site.objects.get(slug="round-trip-city").kind
    overridden = Incident.objects.get(override_reason="Round-trip override.")
    assert overridden.assessment == overridden.assessment_override == "confirmed"
    for source in Source.objects.all():
        path = Path(settings.BASE_DIR) / "seeds" / source.file_name
        if source.file_name and path.exists():
            assert source.received_text == path.read_bytes().decode("utf-8")


def add_claims_to_the_record():
    """What the curated record may not hold yet: every new field of the claims, on its own records."""
    city = make_site(slug="round-trip-city", name="A city", kind="town")
    make_site(slug="round-trip-quarter", name="Its quarter", kind="historic_quarter", parent=city)
    first, second = Citation.objects.select_related("incident", "source").order_by("pk")[:2]
    first.presentation, first.names_monument, first.origin = "unverified", False, "Own origin"
    first.claimant = "round-trip claimant"
    first.save()
    make_citation(
        incident=second.incident,
        source=second.source,
        quote=second.source.received_text[:20].strip(),
        stance="contradicts",
        contradicts=first,
        note="round trip",
    )
    Figure.objects.create(citation=first, measure="killed", low=5, high=9, wording="round-trip figure")
    incident = Incident.objects.exclude(pk__in=[first.incident_id, second.incident_id]).first()
    incident.assessment_override, incident.override_reason = "confirmed", "Round-trip override."
    incident.save()


def test_incidents_with_their_actors_cost_the_same_queries_for_1_row_and_for_30():
    make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    make_actor(slug="russia")

    def queries_for(n):
        incidents = "slug,title,kind,site,occurred\r\n" + "".join(
            f"inc-{n}-{i},Incident {i},destruction,palmyra,2015-08-30\r\n" for i in range(n)
        )
        actors = "incident,actor,role\r\n" + "".join(
            f"inc-{n}-{i},islamic-state,perpetrator\r\ninc-{n}-{i},russia,supporting\r\n" for i in range(n)
        )
        files = {
            "incidents": read_csv("incidents.csv", incidents.encode()),
            "incident_actors": read_csv("incident_actors.csv", actors.encode()),
        }
        with CaptureQueriesContext(connection) as queries:
            report = import_tables(files)
        assert report.ok and report.tables[1].new == 2 * n, [str(p) for p in report.problems]
        return len(queries)

    assert queries_for(1) == queries_for(30)


def test_a_progress_bar_only_on_a_terminal():
    from archive.management.commands.export_archive import terminal_progress

    class Terminal(StringIO):
        def isatty(self):
            return True

    assert terminal_progress(StringIO()) is None
    bar = terminal_progress(Terminal())("incidents.csv", 3)
    bar.update(3)
    bar.close()


def test_citations_and_their_assessments_cost_the_same_queries_for_1_row_and_for_30():
    source = make_source(slug="article")
    start = source.received_text.index("destroyed the Temple of Bel last year")
    header = "incident,source,quote,stance,presentation,contradicts\r\n"

    def queries_for(n):
        incidents = [make_incident(slug=f"inc-{n}-{i}") for i in range(n)]
        # The contradicting claim comes first: it names the one further down the file.
        rows = "".join(
            f"{incident.slug},article,activists said,contradicts,attributed,{incident.slug}|article|{start}\r\n"
            f"{incident.slug},article,destroyed the Temple of Bel last year,supports,stated,\r\n"
            for incident in incidents
        )
        table = read_csv("citations.csv", (header + rows).encode())
        with CaptureQueriesContext(connection) as queries:
            report = import_tables({"citations": table})
        assert report.ok and report.tables[0].new == 2 * n, [str(p) for p in report.problems]
        stored = Incident.objects.filter(slug__startswith=f"inc-{n}-")
        assert set(stored.values_list("assessment", flat=True)) == {"contested"}
        return len(queries)

    assert queries_for(1) == queries_for(30)
