"""The curated Palmyra record (fixtures/palmyra.json): every claim traceable to its passage."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from archive.models import Actor, Citation, Incident, Monument, Site, Source

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "palmyra.json"


@pytest.fixture
def record(db):
    call_command("import_seeds", stdout=StringIO())
    call_command("loaddata", "palmyra", stdout=StringIO())


def test_fixture_refers_by_natural_keys_only():
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert objects
    for entry in objects:
        assert "pk" not in entry, entry
        for value in entry["fields"].values():
            assert not isinstance(value, int) or isinstance(value, bool) or entry["model"] == "archive.citation"
    citations = [entry["fields"] for entry in objects if entry["model"] == "archive.citation"]
    assert all(isinstance(fields["source"], list) and isinstance(fields["incident"], list) for fields in citations)


def test_every_quote_is_found_in_its_source_at_its_offsets(record):
    assert Citation.objects.count() >= 40
    for citation in Citation.objects.select_related("source"):
        text = citation.source.received_text
        assert text[citation.position_start : citation.position_end] == citation.quote, citation
        assert text[: citation.position_start].endswith(citation.prefix)
        assert text[citation.position_end :].startswith(citation.suffix)


def test_every_seed_article_is_cited(record):
    assert Source.objects.count() == 5
    assert set(Source.objects.values_list("slug", flat=True)) == set(
        Citation.objects.values_list("source__slug", flat=True)
    )


def test_every_published_incident_has_a_citation(record):
    published = Incident.objects.published()
    assert published.count() == Incident.objects.count() >= 20
    assert not published.filter(citations__isnull=True).exists()
    for incident in published:
        incident.full_clean()  # and each one passes every model rule


def test_the_monuments_the_articles_name_are_there_with_their_aliases(record):
    expected = {
        "temple-of-bel": "Temple of Bel",
        "temple-of-baalshamin": "Baal Shamin",
        "tetrapylon": "Tetrapylon",
        "roman-theatre": "amphitheatre",
        "monumental-arch": "Arch of Triumph",
        "palmyra-museum": "museum",
        "palmyra-castle": "castle",
        "aleppo-covered-market": "historic covered market",
    }
    for slug, name in expected.items():
        assert name in Monument.objects.get(slug=slug).names, slug
    assert Site.objects.get(slug="palmyra").alias_list[:2] == ["Tadmur", "Tadmor"]
    assert "تدمر" in Site.objects.get(slug="palmyra").alias_list
    assert Actor.objects.filter(slug="unattributed").exists()


def test_one_event_reported_by_several_articles_is_one_incident(record):
    bel = Incident.objects.filter(kind="destruction", monuments__slug="temple-of-bel")
    assert bel.count() == 1
    assert bel.get().citations.values("source").distinct().count() >= 2
    seizure = Incident.objects.filter(kind="control_change", occurred_from__year=2015)
    assert seizure.count() == 1
    assert seizure.get().citations.values("source").distinct().count() >= 3


def test_the_article_that_could_not_verify_its_allegations_makes_its_incident_unverified(record):
    passage = "The allegations could not be verified."
    cited = Citation.objects.filter(quote__contains=passage)
    assert cited.exists()
    assert set(cited.values_list("incident__assessment", flat=True)) == {"unverified"}


def test_monument_conditions_follow_from_the_record(record):
    conditions = dict(Monument.objects.with_condition().values_list("slug", "condition"))
    assert conditions["temple-of-bel"] == "destroyed"
    assert conditions["temple-of-baalshamin"] == "destroyed"
    assert conditions["monumental-arch"] == "destroyed"
    assert conditions["roman-theatre"] == "damaged"
    assert conditions["tetrapylon"] == "damaged"
    assert conditions["aleppo-covered-market"] == "damaged"


def test_reference_coordinates_come_from_the_reference_table(record):
    bel = Monument.objects.get(slug="temple-of-bel")
    assert (str(bel.latitude), str(bel.longitude), bel.wikidata) == ("34.547000", "38.274000", "Q797481")
    assert bel.coordinate_source


def test_load_curated_record_is_idempotent_and_keeps_curators_edits(db):
    call_command("import_seeds", stdout=StringIO())
    out = StringIO()
    call_command("load_curated_record", stdout=out)
    assert "Added" in out.getvalue()
    counts = (Incident.objects.count(), Citation.objects.count(), Monument.objects.count())
    bel = Incident.objects.get(slug="temple-of-bel-destroyed")
    bel.description = "A curator's correction."
    bel.save()

    out = StringIO()
    call_command("load_curated_record", stdout=out)
    assert "Nothing to add" in out.getvalue()
    assert (Incident.objects.count(), Citation.objects.count(), Monument.objects.count()) == counts
    assert Incident.objects.get(slug="temple-of-bel-destroyed").description == "A curator's correction."
    assert Incident.history.filter(history_change_reason__startswith="load_curated_record").exists()


def test_loaddata_twice_creates_no_duplicates(record):
    counts = (Incident.objects.count(), Citation.objects.count())
    call_command("loaddata", "palmyra", stdout=StringIO())
    assert (Incident.objects.count(), Citation.objects.count()) == counts
