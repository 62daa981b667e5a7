"""Public downloads: exactly what the public can see, streamed, escaped, never a 500."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.importexport.csvfile import read_csv
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db

SECRET = "UNCITED-PARAGRAPH-ONLY-IN-THE-FULL-TEXT"


@pytest.fixture
def record():
    site = make_site(slug="palmyra", latitude=Decimal("34.55"), longitude=Decimal("38.27"))
    bel = make_monument(slug="temple-of-bel", site=site, latitude=Decimal("34.547"), longitude=Decimal("38.274"))
    lonely = make_monument(slug="touched-by-drafts-only", site=site)
    make_monument(slug="reference-only-unlocated", site=site)  # no incident yet: public reference data
    actor = make_actor(slug="islamic-state")
    public_source = make_source(
        slug="public-source",
        received_text="Islamic State militants destroyed the Temple of Bel last year, activists said.\n"
        f"{SECRET}\nThe draft passage is here.\n",
    )
    draft_only_source = make_source(slug="draft-only-source")
    published = make_incident(
        slug="published-bel", title="=HYPERLINK(\"x\") \u062a\u062f\u0645\u0631", kind="destruction",
        site=site, perpetrator=actor, monuments=[bel],
    )  # fmt: skip
    make_citation(incident=published, source=public_source, quote="destroyed the Temple of Bel last year")
    published.status = "published"
    published.save()
    draft = make_incident(slug="draft-secret", title="Draft secret", site=site, perpetrator=actor, monuments=[lonely])
    make_citation(incident=draft, source=public_source, quote="The draft passage is here.")
    make_citation(incident=draft, source=draft_only_source)
    make_incident(
        slug="withdrawn-secret", title="Withdrawn secret", kind="destruction", status="withdrawn",
        citations=1, monuments=[lonely],
    )  # fmt: skip
    make_incident(
        slug="published-looting", kind="looting", site=site, perpetrator=actor, status="published", citations=1
    )
    return {"published": published, "bel": bel}


def body(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def download(client, name, fmt, query=""):
    return client.get(reverse(f"archive:{name}-download", args=[fmt]) + query)


ROUTES = [
    ("incident", "csv"),
    ("incident", "json"),
    ("incident", "geojson"),
    ("monument", "csv"),
    ("monument", "json"),
    ("monument", "geojson"),
    ("source", "csv"),
    ("source", "json"),
]


@pytest.mark.parametrize(("name", "fmt"), ROUTES)
def test_drafts_and_withdrawn_never_appear(client, record, name, fmt):
    response = download(client, name, fmt)
    assert response.status_code == 200
    text = body(response)
    for secret in ("draft-secret", "Draft secret", "withdrawn-secret", "Withdrawn secret", "draft-only-source"):
        assert secret not in text
    assert "The draft passage is here" not in text
    assert SECRET not in text  # the full received text is never given out


def test_incident_csv_is_the_published_list_escaped(client, record):
    response = download(client, "incident", "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="incidents.csv"'
    raw = b"".join(response.streaming_content)
    assert b"'=HYPERLINK" in raw  # a spreadsheet shows it as text
    table = read_csv("incidents.csv", raw)
    rows = [dict(zip(table.header, cells, strict=True)) for _line, cells in table.rows]
    assert [row["slug"] for row in rows] == ["published-bel", "published-looting"]
    assert rows[0]["title"] == '=HYPERLINK("x") \u062a\u062f\u0645\u0631'  # reading reverses the escaping
    assert rows[0]["monuments"] == "temple-of-bel"
    assert rows[0]["actors"] == "perpetrator:islamic-state"
    assert (rows[0]["occurred"], rows[0]["earliest"], rows[0]["latest"], rows[0]["precision"]) == (
        "2015-08-30",
        "2015-08-30",
        "2015-08-30",
        "day",
    )
    assert rows[0]["url"] == "http://testserver/incidents/published-bel/"


def test_incident_download_honours_the_list_filters(client, record):
    text = body(download(client, "incident", "json", "?kind=looting"))
    assert [item["slug"] for item in json.loads(text)] == ["published-looting"]
    text = body(download(client, "incident", "json", "?monument=temple-of-bel&ordering=-date"))
    assert [item["slug"] for item in json.loads(text)] == ["published-bel"]


@pytest.mark.parametrize(
    "query",
    [
        "?kind=nope",
        "?date_from=yesterday",
        "?site=atlantis",
        "?monument=draft-secret",
        "?ordering=bogus",
        "?q=" + "x" * 500,
    ],
)
def test_bad_filters_are_a_400_not_a_500(client, record, query):
    response = download(client, "incident", "csv", query)
    assert response.status_code == 400
    assert response.content.decode().startswith("Bad filter: ")


@pytest.mark.parametrize(("name", "fmt"), [("incident", "xml"), ("monument", "xlsx"), ("source", "geojson")])
def test_unknown_formats_are_404(client, record, name, fmt):
    assert download(client, name, fmt).status_code == 404


def test_incident_json_carries_the_cited_passages(client, record):
    (item,) = [i for i in json.loads(body(download(client, "incident", "json"))) if i["slug"] == "published-bel"]
    assert item["title"] == '=HYPERLINK("x") \u062a\u062f\u0645\u0631'  # JSON is not escaped
    assert item["cited_passages"] == [
        {
            "source": "public-source",
            "quote": "destroyed the Temple of Bel last year",
            "position_start": 24,
            "position_end": 61,
            "claimant": "activists",
            "evidence_kind": "eyewitness",
            "stance": "supports",
        }
    ]
    assert item["citations"] == 1 and item["independent_origins"] == 1


def test_monuments_carry_their_condition_from_published_incidents_only(client, record):
    monuments = {m["slug"]: m for m in json.loads(body(download(client, "monument", "json")))}
    assert monuments["temple-of-bel"]["condition"] == "destroyed"
    assert monuments["reference-only-unlocated"]["condition"] == "unknown"
    assert "touched-by-drafts-only" not in monuments  # only a draft uses it: not public


def test_monument_geojson(client, record):
    response = download(client, "monument", "geojson")
    assert response["Content-Type"] == "application/geo+json; charset=utf-8"
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["slug"]: f for f in collection["features"]}
    assert features["temple-of-bel"]["geometry"] == {"type": "Point", "coordinates": [38.274, 34.547]}
    assert features["reference-only-unlocated"]["geometry"] is None
    assert "touched-by-drafts-only" not in features


def test_sources_are_listed_with_their_public_passages_only(client, record):
    sources = json.loads(body(download(client, "source", "json")))
    assert [s["slug"] for s in sources] == [s["slug"] for s in sources if s["slug"] != "draft-only-source"]
    public = next(s for s in sources if s["slug"] == "public-source")
    assert [p["quote"] for p in public["cited_passages"]] == ["destroyed the Temple of Bel last year"]
    assert public["incidents"] == 1
    assert "received_text" not in public and "reading_text" not in public


@pytest.mark.parametrize(("name", "fmt"), ROUTES)
def test_queries_do_not_grow_with_rows(client, record, name, fmt):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            body(download(client, name, fmt))
        return len(captured)

    before = queries()
    site, actor = make_site(), make_actor()
    source = make_source()
    ally = make_actor()
    for n in range(10):
        incident = make_incident(
            site=site,
            actors=[(actor, "perpetrator"), (ally, "supporting")],
            occurred="" if n % 2 else "2015-05/2016-03",
            monuments=[make_monument(site=site)],
        )
        make_citation(incident=incident, source=source)
        incident.status = "published"
        incident.save()
    assert queries() == before


def test_head_is_answered(client, record):
    assert client.head(reverse("archive:monument-download", args=["csv"])).status_code == 200


def test_incident_geojson_places_an_incident_at_its_monuments_or_its_site(client, record):
    collection = json.loads(body(download(client, "incident", "geojson")))
    features = {f["properties"]["slug"]: f for f in collection["features"]}
    assert features["published-bel"]["geometry"] == {"type": "Point", "coordinates": [38.274, 34.547]}
    assert features["published-looting"]["geometry"] == {"type": "Point", "coordinates": [38.27, 34.55]}
    assert "_points" not in features["published-bel"]["properties"]
