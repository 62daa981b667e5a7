"""Bad input: all or nothing, every bad row listed as `file:line: column: what is wrong`, one clear
message for a file that cannot be read at all, never a traceback."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from archive.dates import NOT_EDTF
from archive.importexport.csvfile import CSVFile, CSVFileError, read_csv
from archive.importexport.engine import import_tables
from archive.models import Actor, Citation, Figure, Incident, IncidentActor, Monument, Site, Source
from archive.models.incidents import NEEDS_ACTOR, NEEDS_CITATION, NEEDS_REASON, OVERRIDE_NEEDS_REASON
from archive.models.sources import CITED_TEXT_IS_EVIDENCE
from tests.factories import (
    ARTICLE_TEXT,
    make_actor,
    make_citation,
    make_incident,
    make_monument,
    make_site,
    make_source,
)

pytestmark = pytest.mark.django_db

SITES = "slug,name,country\r\npalmyra,Palmyra,Syria\r\n"
ACTORS = "slug,name,kind\r\nislamic-state,Islamic State,armed_group\r\n"
SOURCES = f'slug,title,publisher,origin,received_text\r\narticle,An article,Gazette,AFP,"{ARTICLE_TEXT}"\r\n'
MONUMENTS = "slug,site,name,kind\r\ntemple-of-bel,palmyra,Temple of Bel,temple\r\n"
INCIDENT_HEADER = "slug,title,kind,site,monuments,occurred,status\r\n"
INCIDENTS = INCIDENT_HEADER + "bel,Bel destroyed,destruction,palmyra,temple-of-bel,2015-08-30,published\r\n"
INCIDENT_ACTORS = "incident,actor,role\r\nbel,islamic-state,perpetrator\r\n"
CITATIONS = "incident,source,quote\r\nbel,article,destroyed the Temple of Bel last year\r\n"


def tables(**files):
    return {name: read_csv(f"{name}.csv", text.encode("utf-8")) for name, text in files.items()}


def problems_of(report):
    return [str(problem) for problem in report.problems]


def nothing_written():
    return not any(
        model.objects.exists() for model in (Site, Actor, Source, Monument, Incident, IncidentActor, Citation, Figure)
    )


def test_a_good_bundle_imports():
    report = import_tables(
        tables(
            sites=SITES,
            actors=ACTORS,
            sources=SOURCES,
            monuments=MONUMENTS,
            incidents=INCIDENTS,
            incident_actors=INCIDENT_ACTORS,
            citations=CITATIONS,
        )
    )
    assert report.ok, problems_of(report)
    incident = Incident.objects.get(slug="bel")
    assert incident.status == "published" and incident.citations.count() == 1
    assert [(actor.slug, role) for actor, role in incident.actor_roles] == [("islamic-state", "Perpetrator")]
    citation = incident.citations.get()
    assert ARTICLE_TEXT[citation.position_start : citation.position_end] == citation.quote


def test_every_bad_row_of_every_file_is_listed_and_nothing_is_written():
    monuments = MONUMENTS + "theatre,nowhere,Roman theatre,theatre\r\n"
    incidents = (
        INCIDENT_HEADER
        + "bel,Bel destroyed,destruction,palmyra,temple-of-bel;arch,2015-08-30,draft\r\n"
        + "two,Two,destruction,palmyra,,30/08/2015,draft\r\n"
        + "bel,Duplicate,looting,palmyra,,2015-08-30,draft\r\n"
        + "three,Three,razing,palmyra,,2015-08-30/2015-08-01,draft\r\n"
    )
    citations = CITATIONS + "bel,article,the Temple of Baal was destroyed last year\r\n"
    report = import_tables(
        tables(
            sites=SITES, actors=ACTORS, sources=SOURCES, monuments=monuments, incidents=incidents, citations=citations
        )
    )
    found = problems_of(report)
    assert found[:6] == [
        "monuments.csv:3: site: no site with slug “nowhere” in the archive or in sites.csv.",
        "incidents.csv:2: monuments: no monument with slug “arch” in the archive or in monuments.csv.",
        f"incidents.csv:3: occurred: {NOT_EDTF.format(value='30/08/2015')}",
        "incidents.csv:4: slug: “bel” is already on line 2.",
        "incidents.csv:5: kind: “razing” is not one of destruction, damage, looting, killing, attack, "
        "control_change, other.",
        f"incidents.csv:5: occurred: {NOT_EDTF.format(value='2015-08-30/2015-08-01')}",
    ]
    assert found[6].startswith("citations.csv:3: quote: not found in source “article”. Closest passage (characters ")
    assert "the Temple of Bel last year" in found[6]
    assert "Differences: the quote has “Baal was destroyed” where the source has “Bel”" in found[6]
    assert len(found) == 7
    assert nothing_written()


def test_missing_and_unknown_columns_are_reported_by_name():
    report = import_tables(tables(sites="slug,name,contry\r\npalmyra,Palmyra,Syria\r\n"))
    assert problems_of(report) == [
        "sites.csv:1: contry: unknown column; sites.csv has slug, name, aliases, country, kind, parent, "
        "unesco_status, latitude, longitude, coordinate_precision, coordinate_source, wikidata, pleiades, description.",
        "sites.csv:1: country: missing column (required).",
    ]
    assert nothing_written()


def test_a_row_with_the_wrong_number_of_cells():
    report = import_tables(tables(sites=SITES + "aleppo,Aleppo\r\n"))
    assert problems_of(report) == ["sites.csv:3: the row has 2 cells; the header has 3."]


def test_line_numbers_count_the_lines_inside_quoted_cells():
    text = "a first line\r\nand a second\r\nand a third\n"
    sources = SOURCES + f'other,Other,Gazette,AFP,"{text}"\r\nbad slug!,Bad,Gazette,AFP,text\r\n'
    report = import_tables(tables(sources=sources))
    # The header is line 1; "article" spans lines 2-6, "other" 7-10, so the bad row is line 11.
    assert problems_of(report) == [
        "sources.csv:11: slug: Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
    ]


def test_an_invalid_file_in_a_bundle_stops_the_others_too():
    report = import_tables(tables(sites=SITES, actors="slug,name,kind\r\nisis,IS,terrorist\r\n"))
    assert problems_of(report) == [
        "actors.csv:2: kind: “terrorist” is not one of armed_group, state_forces, foreign_state, militia, "
        "opposition, unattributed."
    ]
    assert not Site.objects.exists()


def test_a_published_incident_needs_a_citation_checked_in_the_same_transaction():
    report = import_tables(
        tables(sites=SITES, actors=ACTORS, monuments=MONUMENTS, incidents=INCIDENTS, incident_actors=INCIDENT_ACTORS)
    )
    assert problems_of(report) == [
        f"incidents.csv:2: status: “bel”: {NEEDS_CITATION} Add its citations (citations.csv) or import it as draft."
    ]
    assert nothing_written()


def test_a_published_incident_needs_an_actor_checked_in_the_same_transaction():
    bundle = {"sites": SITES, "actors": ACTORS, "sources": SOURCES, "monuments": MONUMENTS, "citations": CITATIONS}
    report = import_tables(tables(**bundle, incidents=INCIDENTS))
    assert problems_of(report) == [
        f"incidents.csv:2: status: “bel”: {NEEDS_ACTOR} Add its actors (incident_actors.csv) or import it as draft."
    ]
    assert nothing_written()
    # Both rules at once, in the model's words, on the incident's line.
    report = import_tables(tables(sites=SITES, monuments=MONUMENTS, incidents=INCIDENTS))
    assert problems_of(report) == [
        f"incidents.csv:2: status: “bel”: {NEEDS_CITATION} Add its citations (citations.csv) or import it as draft.",
        f"incidents.csv:2: status: “bel”: {NEEDS_ACTOR} Add its actors (incident_actors.csv) or import it as draft.",
    ]
    assert nothing_written()
    assert import_tables(tables(**bundle, incidents=INCIDENTS, incident_actors=INCIDENT_ACTORS)).ok


def test_a_quote_is_anchored_with_tolerance_and_stored_as_the_source_says():
    source = make_source(slug="article")
    incident = make_incident(slug="bel")
    report = import_tables(
        tables(
            citations="incident,source,quote\r\n"
            'bel,article,"used  the Roman amphitheatre for ""public executions"""\r\n'
        )
    )
    assert report.ok, problems_of(report)
    citation = Citation.objects.get(incident=incident)
    assert citation.quote == "used the Roman amphitheatre for “public executions”"
    assert source.received_text[citation.position_start : citation.position_end] == citation.quote


def test_a_citation_can_name_its_source_by_sha256():
    source = make_source(slug="article")
    make_incident(slug="bel")
    report = import_tables(
        tables(citations=f"incident,source,quote\r\nbel,{source.sha256},destroyed the Temple of Bel\r\n")
    )
    assert report.ok, problems_of(report)
    assert Citation.objects.get().source == source


def test_the_received_text_of_a_cited_source_cannot_change():
    citation = make_citation()
    source = citation.source
    report = import_tables(
        tables(sources=f"slug,title,publisher,origin,received_text\r\n{source.slug},T,P,O,Another text\r\n")
    )
    assert problems_of(report) == [f"sources.csv:2: received_text: “{source.slug}”: {CITED_TEXT_IS_EVIDENCE}"]
    source.refresh_from_db()
    assert source.received_text.startswith("Test headline")


def test_the_checksum_must_match_the_received_text():
    report = import_tables(
        tables(sources="slug,title,publisher,origin,sha256,received_text\r\na,T,P,O," + "0" * 64 + ",Some text\r\n")
    )
    assert problems_of(report) == [
        "sources.csv:2: sha256: does not match the received text: the text was altered or the checksum belongs "
        "to another text."
    ]


def test_the_same_text_twice_is_refused():
    existing = make_source(slug="stored", received_text="Same text")
    report = import_tables(
        tables(
            sources="slug,title,publisher,origin,received_text\r\n"
            "a,T,P,O,Same text\r\nb,T,P,O,Other\r\nc,T,P,O,Other\r\n"
        )
    )
    assert problems_of(report) == [
        f"sources.csv:2: received_text: This exact text is already in the archive as the source “{existing.title}” "
        f"({existing.slug}). Use that slug.",
        "sources.csv:4: received_text: the same text as line 3 (“b”).",
    ]


def test_coordinates_come_in_pairs_on_the_globe():
    report = import_tables(
        tables(
            sites="slug,name,country,latitude,longitude\r\na,A,Syria,34.5,\r\nb,B,Syria,91,38\r\nc,C,Syria,north,38\r\n"
        )
    )
    assert problems_of(report) == [
        "sites.csv:2: longitude: give both latitude and longitude, or neither.",
        "sites.csv:3: latitude: Ensure this value is less than or equal to 90.",
        "sites.csv:4: latitude: “north” is not a number.",
    ]


# -- claims: presentation, contradictions, figures, overrides, places within places ---------------

BUNDLE = {"sites": SITES, "actors": ACTORS, "sources": SOURCES, "monuments": MONUMENTS}
CLAIM_HEADER = "incident,source,quote,stance,presentation,names_monument,contradicts\r\n"


def draft_incidents(*lines):
    rows = "".join(f"{slug},{slug},destruction,palmyra,temple-of-bel,2015-08-30,draft\r\n" for slug in lines)
    return INCIDENT_HEADER + rows


def test_bad_claims_are_reported_by_file_line_and_column_and_nothing_is_written():
    citations = (
        CLAIM_HEADER
        + "bel,article,destroyed the Temple of Bel last year,supports,hearsay,true,\r\n"
        + "bel,article,activists said,contradicts,attributed,perhaps,bel|article|9999\r\n"
        + "bel,article,the Observatory reported,contradicts,attributed,false,\r\n"
        + "bel,article,Roman amphitheatre,supports,stated,true,bel|article|not-a-number\r\n"
    )
    start = ARTICLE_TEXT.index("destroyed the Temple of Bel last year")
    figures = (
        "citation,measure,low,high,wording\r\n"
        + "bel|article|9999,killed,3,,three\r\n"
        + f"bel|article|{start},killed,30,20,twenty to thirty\r\n"
        + f"bel|article|{start},casualties,1,,one\r\n"
    )
    report = import_tables(tables(**BUNDLE, incidents=draft_incidents("bel"), citations=citations, figures=figures))
    found = problems_of(report)
    assert found == [
        "citations.csv:2: presentation: “hearsay” is not one of stated, attributed, reported, unverified, denied.",
        "citations.csv:3: names_monument: “perhaps” is not true or false.",
        "citations.csv:3: contradicts: no citation “bel|article|9999” in the archive or in citations.csv.",
        "citations.csv:4: contradicts: Choose the citation this one contradicts.",
        "citations.csv:5: contradicts: “bel|article|not-a-number” is not a citation's key "
        "(incident slug|source slug|position_start).",
        "figures.csv:2: citation: no citation “bel|article|9999” in the archive or in citations.csv.",
        "figures.csv:3: high: The high end of the range is below its low end.",
        "figures.csv:4: measure: “casualties” is not one of killed, wounded, executed, militants_killed, "
        "troops_killed, airstrikes, displaced, other.",
    ]
    assert nothing_written()


def test_a_contradicts_key_may_name_a_citation_further_down_the_file_or_in_the_archive():
    start = ARTICLE_TEXT.index("activists said")
    stored = make_citation(
        incident=make_incident(slug="other"), source=make_source(slug="stored"), quote="the Observatory reported"
    )
    citations = (
        CLAIM_HEADER
        + f"bel,article,destroyed the Temple of Bel last year,contradicts,stated,true,bel|article|{start}\r\n"
        + f"bel,article,activists said,contradicts,attributed,false,other|stored|{stored.position_start}\r\n"
    )
    report = import_tables(tables(**BUNDLE, incidents=draft_incidents("bel"), citations=citations))
    assert report.ok, problems_of(report)
    first, second = Citation.objects.filter(incident__slug="bel").order_by("position_start")
    assert (first.contradicts, second.contradicts) == (second, stored)
    assert second.names_monument is False
    assert Incident.objects.get(slug="bel").assessment == "contested"


def test_a_citation_cannot_contradict_itself_nor_name_one_without_contradicting():
    start = ARTICLE_TEXT.index("activists said")
    citations = (
        CLAIM_HEADER
        + f"bel,article,activists said,contradicts,attributed,true,bel|article|{start}\r\n"
        + f"bel,article,the Observatory reported,supports,attributed,true,bel|article|{start}\r\n"
    )
    report = import_tables(tables(**BUNDLE, incidents=draft_incidents("bel"), citations=citations))
    assert problems_of(report) == [
        "citations.csv:2: contradicts: A citation cannot contradict itself.",
        "citations.csv:3: contradicts: Only a contradicting citation names the citation it contradicts.",
    ]
    assert nothing_written()


def test_an_override_needs_a_reason_and_the_assessment_column_is_ignored():
    header = INCIDENT_HEADER.replace("status", "status,assessment,assessment_override,override_reason")
    row = "{slug},X,looting,palmyra,,2015-08-30,draft,{assessment},{override},{reason}\r\n"
    incidents = (
        header
        + row.format(slug="a", assessment="confirmed", override="", reason="")
        + row.format(slug="b", assessment="", override="confirmed", reason=" ")
        + row.format(slug="c", assessment="", override="certain", reason="Why")
    )
    report = import_tables(tables(sites=SITES, actors=ACTORS, incidents=incidents))
    assert problems_of(report) == [
        f"incidents.csv:3: override_reason: {OVERRIDE_NEEDS_REASON}",
        "incidents.csv:4: assessment_override: “certain” is not one of confirmed, corroborated, single_source, "
        "contested, unverified.",
    ]
    assert nothing_written()

    report = import_tables(
        tables(
            sites=SITES,
            actors=ACTORS,
            incidents=incidents.split("\r\n")[0]
            + "\r\n"
            + row.format(slug="a", assessment="confirmed", override="", reason="")
            + row.format(slug="b", assessment="", override="single_source", reason="Imagery."),
        )
    )
    assert report.ok, problems_of(report)
    a, b = Incident.objects.order_by("slug")
    # "assessment" is derived: the file's "confirmed" is ignored.
    assert (a.assessment, a.assessment_reason) == ("unverified", "No citation supports it.")
    assert (b.assessment, b.override_reason) == ("single_source", "Imagery.")
    assert b.assessment_reason.startswith("Curator's assessment: Imagery.")


def test_import_derives_the_assessments_of_the_incidents_it_touches():
    incident = make_incident(slug="bel", monuments=[make_monument(slug="temple-of-bel")])
    make_source(slug="article", origin="AFP")
    make_source(slug="second", origin="Reuters")
    assert incident.assessment == "unverified"
    citations = (
        "incident,source,quote,presentation,names_monument\r\n"
        "bel,article,destroyed the Temple of Bel last year,stated,true\r\n"
        "bel,second,destroyed the Temple of Bel last year,attributed,true\r\n"
    )
    report = import_tables(tables(citations=citations))
    assert report.ok, problems_of(report)
    incident.refresh_from_db()
    assert incident.assessment == "corroborated"
    assert incident.assessment_reason == "2 independent origins name it (AFP and Reuters); none disputes it."


def test_a_parent_site_may_come_later_in_the_file_or_be_stored_but_must_exist():
    make_site(slug="syria", kind="region")
    sites = (
        "slug,name,country,kind,parent\r\n"
        "aleppo-old-city,Old City of Aleppo,Syria,historic_quarter,aleppo\r\n"
        "aleppo,Aleppo,Syria,town,syria\r\n"
        "jdeydeh,Jdeydeh,Syria,historic_quarter,aleppo-old-city\r\n"
    )
    report = import_tables(tables(sites=sites))
    assert report.ok, problems_of(report)
    assert dict(Site.objects.values_list("slug", "parent__slug")) == {
        "syria": None,
        "aleppo": "syria",
        "aleppo-old-city": "aleppo",
        "jdeydeh": "aleppo-old-city",
    }
    record = Site.history.get(slug="aleppo-old-city")
    assert record.parent_id == Site.objects.get(slug="aleppo").pk


def test_a_parent_that_does_not_exist_or_makes_a_loop():
    sites = (
        "slug,name,country,kind,parent\r\n"
        "a,A,Syria,town,nowhere\r\n"
        "b,B,Syria,town,b\r\n"
        "c,C,Syria,town,d\r\n"
        "d,D,Syria,region,c\r\n"
        "e,E,Syria,county,\r\n"
    )
    report = import_tables(tables(sites=sites))
    assert problems_of(report) == [
        "sites.csv:2: parent: no site with slug “nowhere” in the archive or in sites.csv.",
        "sites.csv:3: parent: a site cannot be its own parent.",
        "sites.csv:4: parent: “c” would lie within itself (c → d → c).",
        "sites.csv:6: kind: “county” is not one of heritage_site, historic_quarter, town, region.",
    ]
    assert nothing_written()


def test_a_withdrawn_incident_needs_a_reason():
    make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    report = import_tables(tables(incidents=INCIDENT_HEADER + "x,X,looting,palmyra,,2015-08-30,withdrawn\r\n"))
    assert problems_of(report) == [f"incidents.csv:2: withdrawn_reason: {NEEDS_REASON}"]


def test_html_and_script_are_stored_as_text():
    make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    title = "<script>alert(1)</script> & <b>bold</b>"
    incidents = INCIDENT_HEADER + f"x,{title},looting,palmyra,,2015-08-30,draft\r\n"
    report = import_tables(tables(incidents=incidents))
    assert report.ok
    assert Incident.objects.get(slug="x").title == title


def test_images_need_exactly_one_subject_and_a_safe_path():
    make_monument(slug="temple-of-bel")
    make_incident(slug="bel")
    header = "file,monument,incident,caption,credit,licence,width,height\r\n"
    report = import_tables(
        tables(
            images=header
            + "images/a.jpg,temple-of-bel,bel,A,AP,CC BY,10,10\r\n"
            + "../../etc/passwd,temple-of-bel,,B,AP,CC BY,10,10\r\n"
            + "images/missing.jpg,temple-of-bel,,C,AP,CC BY,,\r\n"
            + "images/ok.jpg,temple-of-bel,,D,AP,CC BY,640,480\r\n"
        )
    )
    assert problems_of(report) == [
        "images.csv:2: monument: an image shows either a monument or an incident: give exactly one.",
        "images.csv:3: file: “../../etc/passwd” must be a path inside the media folder (like images/2016/03/bel.jpg).",
        "images.csv:4: file: “images/missing.jpg” is not in the media folder, so width and height must be given.",
    ]


# -- permissions ---------------------------------------------------------------------------------


@pytest.fixture
def curator():
    user = User.objects.create_user("cora", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Curator"))
    return user


@pytest.fixture
def editor():
    user = User.objects.create_user("eddie", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def incident_rows(status, slug="bel"):
    return INCIDENT_HEADER + f"{slug},Bel,destruction,palmyra,,2015-08-30,{status}\r\n"


def test_a_curator_imports_drafts_only(curator):
    make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    make_source(slug="article")
    assert import_tables(tables(incidents=incident_rows("draft", "ok")), user=curator).ok

    report = import_tables(tables(incidents=incident_rows("published"), citations=CITATIONS), user=curator)
    assert problems_of(report) == [
        "incidents.csv:2: status: “published”: only editors (permission archive.publish_incident) may import a "
        "published or withdrawn incident; import it as draft."
    ]
    assert not Incident.objects.filter(slug="bel").exists()


def test_a_curator_cannot_unpublish_by_import(curator):
    site, actor = make_site(slug="palmyra"), make_actor(slug="islamic-state")
    make_incident(slug="bel", site=site, perpetrator=actor, status="published", citations=1)
    report = import_tables(tables(incidents=incident_rows("draft")), user=curator)
    assert problems_of(report) == [
        "incidents.csv:2: status: the incident “bel” is published; only editors (permission "
        "archive.publish_incident) may change it."
    ]
    assert Incident.objects.get(slug="bel").status == "published"


def test_a_curator_cannot_add_a_citation_to_a_published_incident_by_import(curator):
    site, actor = make_site(slug="palmyra"), make_actor(slug="islamic-state")
    make_source(slug="article")
    incident = make_incident(slug="bel", site=site, perpetrator=actor, status="published", citations=1)
    report = import_tables(tables(citations=CITATIONS), user=curator)
    assert problems_of(report) == [
        "citations.csv:2: incident: the incident “bel” is published; a curator's change to its citations waits "
        "for an editor's review: propose it on the incident's page."
    ]
    assert incident.citations.count() == 1
    # A draft's citations are a curator's to import.
    make_incident(slug="draft", site=site, perpetrator=actor)
    assert import_tables(tables(citations=CITATIONS.replace("bel,", "draft,")), user=curator).ok


def test_an_editor_publishes_by_import_and_the_history_names_them(editor):
    make_site(slug="palmyra")
    make_actor(slug="islamic-state")
    make_source(slug="article")
    report = import_tables(
        tables(incidents=incident_rows("published"), incident_actors=INCIDENT_ACTORS, citations=CITATIONS), user=editor
    )
    assert report.ok, problems_of(report)
    incident = Incident.objects.get(slug="bel")
    assert incident.status == "published" and incident.published_by == editor
    assert incident.history.get().history_user == editor
    assert Citation.objects.get().history.get().history_user == editor
    assert IncidentActor.objects.get().history.get().history_user == editor


# -- files that cannot be read -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "sites.csv: the file is empty; it needs a header row."),
        (b"\r\n\r\n", "sites.csv: the file is empty; it needs a header row."),
        (
            "slug,name\r\nbeyrouth,B\xe9rytus\r\n".encode("latin-1"),
            "sites.csv: not UTF-8 text (byte 21 cannot be read); save the file as “CSV UTF-8”.",
        ),
        (
            b"PK\x03\x04\x00\x00binary",
            "sites.csv: not a CSV file: it holds binary data (a spreadsheet? Save it as CSV UTF-8).",
        ),
        (b'slug,name\r\n"palmyra,Palmyra\r\n', "sites.csv:2: not valid CSV (unexpected end of data)."),
    ],
)
def test_an_unreadable_file_gets_one_clear_message(data, message, tmp_path):
    with pytest.raises(CSVFileError) as raised:
        read_csv("sites.csv", data)
    assert str(raised.value) == message
    # The same from a file on disk, read row by row as import_archive reads it.
    path = tmp_path / "sites.csv"
    path.write_bytes(data)
    with pytest.raises(CSVFileError) as raised:
        file = CSVFile("sites.csv", path)
        file.scan()
        list(file.rows)
    assert str(raised.value) == message


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.CSV_IMPORT_MAX_BYTES = 100
    with pytest.raises(CSVFileError) as raised:
        read_csv("sites.csv", SITES.encode() + b"x" * 100)
    assert str(raised.value) == (
        "sites.csv: the file is 142 bytes, over the import limit of 100 bytes (CSV_IMPORT_MAX_BYTES); "
        "split it or ask an administrator to raise the limit."
    )


def test_a_utf8_bom_is_accepted():
    table = read_csv("sites.csv", b"\xef\xbb\xbf" + SITES.encode())
    assert table.header == ["slug", "name", "country"]


def test_the_command_lists_every_problem_without_a_traceback(tmp_path):
    (tmp_path / "sites.csv").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "actors.csv").write_text("slug,name,kind\r\nx,X,nobody\r\n", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("a,b\r\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_archive", str(tmp_path), stdout=StringIO())
    assert str(raised.value).splitlines() == [
        "Nothing was imported:",
        "  notes.csv: not a file of the archive (actors.csv, citations.csv, figures.csv, images.csv, "
        "incident_actors.csv, incidents.csv, monuments.csv, sites.csv, sources.csv).",
        "  sites.csv: not UTF-8 text (byte 0 cannot be read); save the file as “CSV UTF-8”.",
    ]
    assert not Actor.objects.exists()


def test_the_command_refuses_a_file_changed_since_export(tmp_path):
    make_site(slug="palmyra")
    call_command("export_archive", str(tmp_path), stdout=StringIO())
    path = tmp_path / "sites.csv"
    path.write_bytes(path.read_bytes().replace(b"Syria", b"Syrie"))
    with pytest.raises(CommandError, match="sites.csv: its SHA-256 does not match manifest.json"):
        call_command("import_archive", str(tmp_path), stdout=StringIO())


def test_the_command_reports_row_problems_in_the_file_line_column_form(tmp_path):
    (tmp_path / "sites.csv").write_text(SITES + "aleppo,Aleppo,Syria,extra\r\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_archive", str(tmp_path), stdout=StringIO())
    assert "  sites.csv:3: the row has 4 cells; the header has 3." in str(raised.value).splitlines()
    assert not Site.objects.exists()


def test_a_missing_folder_is_one_clear_message(tmp_path):
    with pytest.raises(CommandError, match="no such folder"):
        call_command("import_archive", str(tmp_path / "nope"), stdout=StringIO())


def test_dates_are_edtf_and_their_bounds_are_derived_never_read():
    make_site(slug="palmyra")
    header = "slug,title,kind,site,occurred,date_wording\r\n"
    report = import_tables(tables(incidents=header + "x,X,looting,palmyra, 2015-05 ,last May\r\n"))
    assert report.ok, problems_of(report)
    incident = Incident.objects.get(slug="x")
    assert (incident.occurred, incident.date_precision, incident.date_wording) == ("2015-05", "month", "last May")
    assert (incident.occurred_from.isoformat(), incident.occurred_to.isoformat()) == ("2015-05-01", "2015-05-31")
    # The bounds are not columns of the file: a v3 file cannot set them.
    report = import_tables(
        tables(incidents="slug,title,kind,site,occurred,occurred_from\r\ny,Y,looting,palmyra,2015,\r\n")
    )
    assert problems_of(report) == [
        "incidents.csv:1: occurred_from: a column of format v2, which “occurred” (EDTF) replaces in v3: "
        "give one or the other."
    ]


def test_a_figure_is_updated_by_its_key_with_history_and_a_curator_cannot_touch_a_published_ones(curator):
    citation = make_citation(incident=make_incident(slug="bel"), source=make_source(slug="article"))
    key = f"bel|article|{citation.position_start}"
    figure = Figure.objects.create(citation=citation, measure="killed", low=24, wording="dozens")
    figures = f"citation,measure,low,high,wording\r\n{key},killed,24,30,two dozen or more\r\n{key},wounded,3,,three\r\n"
    report = import_tables(tables(figures=figures))
    assert report.ok, problems_of(report)
    assert (report.tables[0].new, report.tables[0].updated) == (1, 1)
    figure.refresh_from_db()
    assert (figure.high, figure.wording) == (30, "two dozen or more")
    assert figure.history.first().history_type == "~"
    assert import_tables(tables(figures=figures)).tables[0].unchanged == 2

    Incident.objects.filter(slug="bel").update(status="published")
    report = import_tables(tables(figures=figures.replace(",three", ",about three")), user=curator)
    assert problems_of(report) == [
        "figures.csv:3: citation: the incident “bel” is published; a curator's change to its figures waits for an "
        "editor's review: propose it on the incident's page."
    ]
