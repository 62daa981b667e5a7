"""incident_actors.csv (an incident's actors with their roles), incidents.csv's `occurred` (EDTF,
bounds derived), and folders of format v2 (perpetrator and date columns), converted on import."""

import datetime
import hashlib
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from archive.dates import NO_EARLIER, NO_LATER, NOT_EDTF
from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Actor, Citation, Incident, IncidentActor, Site, Source
from archive.models.incidents import NEEDS_ACTOR
from tests.factories import ARTICLE_TEXT, make_actor, make_incident, make_site, make_source

pytestmark = pytest.mark.django_db

SITES = "slug,name,country\r\npalmyra,Palmyra,Syria\r\n"
ACTORS = "slug,name,kind\r\nislamic-state,Islamic State,armed_group\r\nrussia,Russia,foreign_state\r\n"
SOURCES = f'slug,title,publisher,origin,received_text\r\narticle,An article,Gazette,AFP,"{ARTICLE_TEXT}"\r\n'
INCIDENTS = (
    "slug,title,kind,site,occurred,status\r\n"
    "bel,Bel destroyed,destruction,palmyra,2015-08-30,published\r\n"
    "siege,The siege,attack,palmyra,2015-05/2016-03,draft\r\n"
)
ACTOR_ROWS = (
    "incident,actor,role\r\n"
    "bel,islamic-state,perpetrator\r\n"
    "siege,russia,supporting\r\n"
    "siege,islamic-state,perpetrator\r\n"
)
CITATIONS = "incident,source,quote\r\nbel,article,destroyed the Temple of Bel last year\r\n"


def tables(**files):
    return {name: read_csv(f"{name}.csv", text.encode("utf-8")) for name, text in files.items()}


def problems_of(report):
    return [str(problem) for problem in report.problems]


def nothing_written():
    return not any(model.objects.exists() for model in (Site, Actor, Source, Incident, IncidentActor, Citation))


def write_folder(folder, files, version=None):
    """`files` ({name: text}) in `folder`, with a manifest of that format version if given."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, text in files.items():
        data = text.encode("utf-8")
        (folder / name).write_bytes(data)
        rows = len(read_csv(name, data).rows)
        entries.append({"name": name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()})
    if version is not None:
        manifest = {"format": "heritage-archive-csv", "version": version, "files": entries}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def import_folder(folder):
    out = StringIO()
    call_command("import_archive", str(folder), stdout=out)
    return out.getvalue()


def refused(folder):
    with pytest.raises(CommandError) as raised:
        import_folder(folder)
    lines = str(raised.value).splitlines()
    assert lines[0] == "Nothing was imported:"
    return [line.strip() for line in lines[1:]]


def roles_of(slug):
    return [(link.actor.slug, link.role) for link in IncidentActor.objects.filter(incident__slug=slug).order_by("pk")]


# -- incident_actors.csv -------------------------------------------------------------------------


def test_actors_are_imported_with_their_roles_in_the_file_order(tmp_path):
    folder = write_folder(
        tmp_path / "v3",
        {
            "sites.csv": SITES,
            "actors.csv": ACTORS,
            "sources.csv": SOURCES,
            "incidents.csv": INCIDENTS,
            "incident_actors.csv": ACTOR_ROWS,
            "citations.csv": CITATIONS,
        },
        version=3,
    )
    assert "Imported 6 file(s)" in import_folder(folder)
    assert roles_of("bel") == [("islamic-state", "perpetrator")]
    assert roles_of("siege") == [("russia", "supporting"), ("islamic-state", "perpetrator")]
    assert Incident.objects.get(slug="siege").principal_actor.slug == "islamic-state"
    assert all(link.history.get().history_change_reason == "import_archive" for link in IncidentActor.objects.all())
    # Again: nothing changes, no history.
    assert "0 new, 0 updated" in import_folder(folder)
    assert IncidentActor.history.count() == 3


def test_a_row_adds_an_actor_after_those_stored_and_none_is_removed():
    site, isis, russia = make_site(slug="palmyra"), make_actor(slug="islamic-state"), make_actor(slug="russia")
    make_incident(slug="bel", site=site, perpetrator=isis)
    rows = "incident,actor,role\r\nbel,russia,accused\r\nbel,russia,claimed\r\nbel,islamic-state,perpetrator\r\n"
    report = import_tables(tables(incident_actors=rows))
    assert report.ok, problems_of(report)
    assert (report.tables[0].new, report.tables[0].unchanged) == (2, 1)
    assert roles_of("bel") == [("islamic-state", "perpetrator"), ("russia", "accused"), ("russia", "claimed")]
    # A file naming fewer actors removes none (the admin removes an actor).
    assert import_tables(tables(incident_actors="incident,actor,role\r\nbel,russia,claimed\r\n")).ok
    assert len(roles_of("bel")) == 3
    assert russia.incident_links.count() == 2


def test_bad_actor_rows_are_refused_by_file_line_and_column_and_nothing_is_written(tmp_path):
    rows = (
        "incident,actor,role\r\n"
        "bel,islamic-state,perpetrator\r\n"
        "bel,islamic-state,victim\r\n"
        "bel,wagner,supporting\r\n"
        "nowhere,russia,accused\r\n"
        "bel,islamic-state,perpetrator\r\n"
        "bel,russia,\r\n"
    )
    files = {"sites.csv": SITES, "actors.csv": ACTORS, "incidents.csv": INCIDENTS, "incident_actors.csv": rows}
    files["incidents.csv"] = files["incidents.csv"].replace("published", "draft")
    assert refused(write_folder(tmp_path / "bad", files)) == [
        "incident_actors.csv:3: role: “victim” is not one of perpetrator, supporting, claimed, accused.",
        "incident_actors.csv:4: actor: no actor with slug “wagner” in the archive or in actors.csv.",
        "incident_actors.csv:5: incident: no incident with slug “nowhere” in the archive or in incidents.csv.",
        "incident_actors.csv:6: role: “islamic-state” is already perpetrator of “bel” on line 2.",
        "incident_actors.csv:7: role: required; the cell is empty.",
    ]
    assert nothing_written()


def test_a_published_incident_left_without_actors_is_refused(tmp_path):
    files = {"sites.csv": SITES, "actors.csv": ACTORS, "sources.csv": SOURCES, "citations.csv": CITATIONS}
    only_siege = ACTOR_ROWS.replace("bel,islamic-state,perpetrator\r\n", "")
    folder = write_folder(tmp_path / "bare", {**files, "incidents.csv": INCIDENTS, "incident_actors.csv": only_siege})
    assert refused(folder) == [
        f"incidents.csv:2: status: “bel”: {NEEDS_ACTOR} Add its actors (incident_actors.csv) or import it as draft."
    ]
    assert nothing_written()
    # An actor stored before the import is enough.
    make_incident(slug="bel", site=make_site(slug="palmyra"), perpetrator=make_actor(slug="islamic-state"))
    make_actor(slug="russia")
    (folder / "incident_actors.csv").unlink()
    import_folder(folder)
    assert Incident.objects.get(slug="bel").status == "published"


def test_a_curator_cannot_change_a_published_incidents_actors_by_import():
    curator = User.objects.create_user("cora", password="x", is_staff=True)
    curator.groups.add(Group.objects.get(name="Curator"))
    site, isis = make_site(slug="palmyra"), make_actor(slug="islamic-state")
    make_actor(slug="russia")
    make_incident(slug="bel", site=site, perpetrator=isis, status="published", citations=1)
    make_incident(slug="draft", site=site, perpetrator=isis)
    rows = "incident,actor,role\r\nbel,islamic-state,perpetrator\r\nbel,russia,supporting\r\ndraft,russia,accused\r\n"
    report = import_tables(tables(incident_actors=rows), user=curator)
    assert problems_of(report) == [
        "incident_actors.csv:3: incident: the incident “bel” is published; only editors (permission "
        "archive.publish_incident) may change its actors."
    ]
    assert roles_of("bel") == [("islamic-state", "perpetrator")]
    assert import_tables(tables(incident_actors=rows.replace("bel,russia,supporting\r\n", "")), user=curator).ok
    assert roles_of("draft")[-1] == ("russia", "accused")


# -- occurred (EDTF) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurred", "earliest", "latest", "precision"),
    [
        ("2016-03-24", datetime.date(2016, 3, 24), datetime.date(2016, 3, 24), "day"),
        ("2015-05", datetime.date(2015, 5, 1), datetime.date(2015, 5, 31), "month"),
        ("2015-21", datetime.date(2015, 3, 1), datetime.date(2015, 5, 31), "season"),
        ("2015-05/2016-03", datetime.date(2015, 5, 1), datetime.date(2016, 3, 31), "interval"),
        ("../2016-03-24", NO_EARLIER, datetime.date(2016, 3, 24), "open"),
        ("2016-03~", datetime.date(2016, 3, 1), datetime.date(2016, 3, 31), "month"),
        ("", NO_EARLIER, NO_LATER, "undated"),
    ],
)
def test_occurred_is_edtf_and_the_bounds_follow_from_it(occurred, earliest, latest, precision):
    make_site(slug="palmyra")
    report = import_tables(tables(incidents=f"slug,title,kind,site,occurred\r\nx,X,looting,palmyra,{occurred}\r\n"))
    assert report.ok, problems_of(report)
    incident = Incident.objects.get(slug="x")
    assert (incident.occurred, incident.occurred_from, incident.occurred_to) == (occurred, earliest, latest)
    assert incident.date_precision == precision
    assert incident.history.get().occurred_from == earliest


def test_changing_occurred_updates_the_bounds_and_a_bad_value_is_refused(tmp_path):
    site = make_site(slug="palmyra")
    incident = make_incident(slug="x", site=site, occurred="2015-08-30")
    header = "slug,title,kind,site,occurred\r\n"
    assert import_tables(tables(incidents=header + "x,X,looting,palmyra,2015\r\n")).ok
    incident.refresh_from_db()
    assert (incident.occurred_from, incident.occurred_to) == (datetime.date(2015, 1, 1), datetime.date(2015, 12, 31))
    assert incident.history.first().occurred_to == datetime.date(2015, 12, 31)

    bad = header + "x,X,looting,palmyra,2016-02-30\r\ny,Y,looting,palmyra,last May\r\nz,Z,looting,palmyra,2016-03\r\n"
    folder = write_folder(tmp_path / "bad", {"incidents.csv": bad})
    assert refused(folder) == [
        f"incidents.csv:2: occurred: {NOT_EDTF.format(value='2016-02-30')}",
        f"incidents.csv:3: occurred: {NOT_EDTF.format(value='last May')}",
    ]
    incident.refresh_from_db()
    assert incident.occurred == "2015" and not Incident.objects.filter(slug__in=["y", "z"]).exists()


# -- format v2 ---------------------------------------------------------------------------------------

V2_INCIDENTS = (
    "slug,title,kind,site,monuments,perpetrator,victims,occurred_from,occurred_to,date_precision,date_wording,"
    "assessment,assessment_override,override_reason,status,withdrawn_reason,published_at,withdrawn_at,description\r\n"
    "bel,Bel destroyed,destruction,palmyra,,islamic-state,,2015-08-30,2015-08-30,day,,single_source,,,published,,"
    "2016-03-27T10:00:00+00:00,,\r\n"
    "looting,Looting,looting,palmyra,,islamic-state,,2015-05-01,2015-05-31,month,last May,unverified,,,draft,,,,\r\n"
    "siege,Siege,attack,palmyra,,russia,,2015-05-01,2016-03-31,month,,unverified,,,draft,,,,\r\n"
    "years,Years,damage,palmyra,,russia,,2012-01-01,2013-12-31,year,,unverified,,,draft,,,,\r\n"
)


def v2_folder(tmp_path, incidents=V2_INCIDENTS, **extra):
    files = {"sites.csv": SITES, "actors.csv": ACTORS, "sources.csv": SOURCES, "incidents.csv": incidents}
    files["citations.csv"] = CITATIONS
    files.update(extra)
    return write_folder(tmp_path / "v2", files, version=2)


def test_a_v2_folder_is_converted_and_exports_as_the_current_version(tmp_path):
    output = import_folder(v2_folder(tmp_path))
    assert "Imported 5 file(s)" in output
    occurred = dict(Incident.objects.values_list("slug", "occurred"))
    assert occurred == {"bel": "2015-08-30", "looting": "2015-05", "siege": "2015-05/2016-03", "years": "2012/2013"}
    assert Incident.objects.get(slug="siege").occurred_to == datetime.date(2016, 3, 31)
    assert [roles_of(slug) for slug in ("bel", "siege")] == [
        [("islamic-state", "perpetrator")],
        [("russia", "perpetrator")],
    ]
    assert Incident.objects.get(slug="bel").status == "published"

    call_command("export_archive", str(tmp_path / "v3"), stdout=StringIO())
    manifest = json.loads((tmp_path / "v3" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 4
    header = (tmp_path / "v3" / "incidents.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "occurred," in header and "perpetrator" not in header and "date_precision" not in header
    assert (tmp_path / "v3" / "incident_actors.csv").read_text(encoding="utf-8").splitlines() == [
        "incident,actor,role",
        "bel,islamic-state,perpetrator",
        "looting,islamic-state,perpetrator",
        "siege,russia,perpetrator",
        "years,russia,perpetrator",
    ]
    # The v2 file again changes nothing: the perpetrators are the stored ones.
    assert "0 new, 0 updated" in import_folder(tmp_path / "v2")


def test_a_v2_dry_run_names_the_converted_rows(tmp_path):
    out = StringIO()
    call_command("import_archive", str(v2_folder(tmp_path)), "--dry-run", stdout=out)
    assert "incident_actors.csv (from the perpetrator column of incidents.csv): 4 new" in out.getvalue()
    assert nothing_written()


def test_bad_v2_rows_are_refused_naming_their_own_columns(tmp_path):
    incidents = V2_INCIDENTS.replace(
        ",islamic-state,,2015-05-01,2015-05-31,month,", ",wagner,,2015-05-01,2015-05-31,week,"
    )
    incidents = incidents.replace(",russia,,2015-05-01,2016-03-31,", ",russia,,2016-03-31,2015-05-01,")
    incidents = incidents.replace(",russia,,2012-01-01,", ",,,31/12/2012,")
    assert refused(v2_folder(tmp_path, incidents)) == [
        "incidents.csv:3: date_precision: “week” is not one of day, month, year.",
        "incidents.csv:3: perpetrator: no actor with slug “wagner” in the archive or in actors.csv.",
        f"incidents.csv:4: occurred_to: from 2016-03-31 to 2015-05-01 (format v2): "
        f"{NOT_EDTF.format(value='2016-03-31/2015-05-01')}",
        "incidents.csv:5: perpetrator: required; the cell is empty.",
        "incidents.csv:5: occurred_from: “31/12/2012” is not a date (YYYY-MM-DD).",
    ]
    assert nothing_written()


def test_v2_columns_beside_what_replaced_them_are_refused(tmp_path):
    with_actors = v2_folder(tmp_path, **{"incident_actors.csv": ACTOR_ROWS})
    assert refused(with_actors)[0] == (
        "incidents.csv:1: perpetrator: a column of format v2; this import has incident_actors.csv, where format v3 "
        "names an incident's actors with their roles: give the perpetrator there, with role perpetrator."
    )
    (tmp_path / "v2" / "manifest.json").unlink()
    mixed = "slug,title,kind,site,occurred,occurred_to\r\nx,X,looting,palmyra,2015,2015-01-01\r\n"
    (tmp_path / "v2" / "incidents.csv").write_text(mixed, encoding="utf-8")
    (tmp_path / "v2" / "incident_actors.csv").unlink()
    assert refused(tmp_path / "v2") == [
        "incidents.csv:1: occurred_to: a column of format v2, which “occurred” (EDTF) replaces in v3: "
        "give one or the other."
    ]
    assert nothing_written()


def test_a_folder_of_a_newer_format_is_refused(tmp_path):
    folder = write_folder(tmp_path / "v5", {"sites.csv": SITES}, version=5)
    assert refused(folder) == [
        "manifest.json: the files are of format version 5, newer than this archive reads (4); import them with a "
        "newer version of the archive."
    ]


def test_a_v2_citation_of_a_converted_incident_anchors_and_derives(tmp_path):
    make_source(slug="other")
    import_folder(v2_folder(tmp_path))
    bel = Incident.objects.get(slug="bel")
    assert bel.citations.count() == 1
    assert (bel.assessment, bel.assessment_reason) == bel.derive_assessment()
