"""The public pages show what the issue says they show, and serve only GET and HEAD."""

import datetime
import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from archive.models import Citation, Monument
from tests.factories import make_actor, make_incident, make_monument, make_site, make_source

ARTICLE_A = (
    "Islamic State destroys Palmyra temple\n\n"
    "Islamic State militants blew up the Temple of Bel on Sunday, activists said.\n"
    "The group had seized Palmyra in May and used the Roman theatre for public executions, "
    "the Observatory reported.\n"
    "Fighters also damaged the Monumental Arch, residents said.\n\n"
    "The Syrian army retook the town in March, state media said.\n"
    "FULLTEXT-ONLY sentence that no citation quotes.\n"
)
ARTICLE_B = (
    "Satellite images confirm destruction\n\n"
    "Satellite images showed that the main building of the Temple of Bel had been destroyed, the UN said.\n"
)


def cite(incident, source, quote, **extra):
    return Citation.objects.create(incident=incident, source=source, quote=quote, claimant="activists", **extra)


def palmyra_record():
    """A small, realistic published record of Palmyra, built with the factories."""
    site = make_site(
        name="Palmyra",
        slug="palmyra",
        aliases="Tadmur\nتدمر",
        latitude="34.550381",
        longitude="38.269791",
        unesco_status="in_danger",
    )
    bel = make_monument(
        site=site,
        name="Temple of Bel",
        slug="temple-of-bel",
        aliases="Temple of Baal\nمعبد بل",
        latitude="34.547",
        longitude="38.274",
        wikidata="Q797481",
    )
    theatre = make_monument(
        site=site,
        name="Roman Theatre of Palmyra",
        slug="roman-theatre",
        kind="theatre",
        latitude="34.5505",
        longitude="38.2687",
    )
    arch = make_monument(
        site=site,
        name="Monumental Arch of Palmyra",
        slug="monumental-arch",
        kind="arch",
        latitude="34.549994",
        longitude="38.271008",
    )
    museum = make_monument(
        site=site,
        name="Palmyra Museum",
        slug="palmyra-museum",
        kind="museum",
        latitude="34.55527",
        longitude="38.27483",
    )
    isis = make_actor(name="Islamic State group", slug="islamic-state", aliases="Isis\nDaesh\nداعش")
    army = make_actor(name="Syrian government forces", slug="syrian-government", kind="state_forces")
    article_a = make_source(
        slug="article-a",
        title="Islamic State destroys Palmyra temple",
        publisher="Gulf News",
        origin="AFP",
        published_on=datetime.date(2016, 3, 24),
        received_text=ARTICLE_A,
        url="https://example.org/a",
    )
    article_b = make_source(
        slug="article-b",
        title="Satellite images confirm destruction",
        publisher="The Guardian",
        origin="The Guardian",
        published_on=datetime.date(2015, 9, 1),
        received_text=ARTICLE_B,
    )

    def incident(slug, title, kind, day, perpetrator, monuments, quotes, **extra):
        made = make_incident(
            slug=slug,
            title=title,
            kind=kind,
            site=site,
            perpetrator=perpetrator,
            monuments=monuments,
            occurred_from=day,
            occurred_to=day,
            **extra,
        )
        for source, quote in quotes:
            cite(made, source, quote)
        made.status = "published"
        made.save()
        return made

    records = {
        "site": site,
        "bel": bel,
        "theatre": theatre,
        "arch": arch,
        "museum": museum,
        "isis": isis,
        "army": army,
        "article_a": article_a,
        "article_b": article_b,
    }
    records["seizure"] = incident(
        "is-seizes-palmyra",
        "Islamic State seizes Palmyra",
        "control_change",
        datetime.date(2015, 5, 21),
        isis,
        [],
        [(article_a, "seized Palmyra in May")],
    )
    records["executions"] = incident(
        "theatre-executions",
        "Public executions in the Roman theatre",
        "killing",
        datetime.date(2015, 7, 4),
        isis,
        [theatre],
        [(article_a, "used the Roman theatre for public executions")],
    )
    records["bel_destroyed"] = incident(
        "temple-of-bel-destroyed",
        "Destruction of the Temple of Bel",
        "destruction",
        datetime.date(2015, 8, 30),
        isis,
        [bel],
        [
            (article_a, "blew up the Temple of Bel on Sunday"),
            (article_b, "the main building of the Temple of Bel had been destroyed"),
        ],
        description="The cella was blown up with explosives.",
    )
    records["arch_damaged"] = incident(
        "arch-damaged",
        "Damage to the Monumental Arch",
        "damage",
        datetime.date(2015, 10, 4),
        isis,
        [arch],
        [(article_a, "damaged the Monumental Arch")],
    )
    # "residents said" — recorded here as a hedged report, so the rules make it unverified.
    hedged = records["arch_damaged"].citations.get()
    hedged.presentation = "reported"
    hedged.save()
    records["recapture"] = incident(
        "army-retakes-palmyra",
        "Government forces retake Palmyra",
        "control_change",
        datetime.date(2016, 3, 27),
        army,
        [],
        [(article_a, "retook the town in March")],
    )
    return records


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def record(db):
    return palmyra_record()


def text_of(response):
    return unescape(response.content.decode())


def test_home_shows_counts_latest_plan_and_timeline(client, record):
    response = client.get(reverse("archive:home"))
    html = text_of(response)
    assert response.status_code == 200
    assert re.search(r"<strong>5</strong> published incidents", html)
    assert re.search(r"<strong>2</strong> sources cited", html)
    assert "Government forces retake Palmyra" in html  # latest first
    assert html.index("Government forces retake Palmyra") < html.index("Islamic State seizes Palmyra")
    # The plan: a linked marker for the Temple of Bel, and a scale bar.
    assert f'href="{record["bel"].get_absolute_url()}" class="plan-marker condition-destroyed"' in html
    assert 'class="plan-scale"' in html
    # The timeline: a bar per month linked to that month's incidents, and who held the town.
    assert "/incidents/?date_from=2015-08-01&date_to=2015-08-31" in html
    assert "Who held Palmyra" in html
    assert "held by Islamic State group from 21 May 2015 until 27 March 2016" in html


def test_monument_list_shows_condition_in_words(client, record):
    html = text_of(client.get(reverse("archive:monument-list")))
    assert re.search(r"Temple of Bel</a></h2>.*?condition-destroyed.*?Destroyed", html, re.S)
    assert re.search(r"Monumental Arch of Palmyra</a></h2>.*?Damaged", html, re.S)
    assert re.search(r"Roman Theatre of Palmyra</a></h2>.*?Intact \(no damage reported\)", html, re.S)
    assert re.search(r"Palmyra Museum</a></h2>.*?Unknown", html, re.S)


def test_monument_detail_lists_incidents_with_citations_and_arabic_names(client, record):
    html = text_of(client.get(record["bel"].get_absolute_url()))
    assert "<h1>Temple of Bel</h1>" in html
    assert '<bdi lang="ar" dir="rtl">معبد بل</bdi>' in html
    assert 'href="https://www.wikidata.org/wiki/Q797481"' in html
    assert "34.547000, 38.274000" in html
    assert "Destruction of the Temple of Bel" in html
    assert "blew up the Temple of Bel on Sunday" in html
    assert "Damage to the Monumental Arch" not in html


def test_incident_detail_shows_every_citation_with_a_link_to_its_passage(client, record):
    incident = record["bel_destroyed"]
    html = text_of(client.get(incident.get_absolute_url()))
    assert "Destruction of the Temple of Bel" in html
    assert "30 August 2015" in html
    assert "Corroborated" in html
    assert "2 citations, from 2 independent origins" in html
    for citation in incident.citations.all():
        assert citation.quote in html
        assert f'href="{citation.get_absolute_url()}"' in html
    assert "Gulf News (origin: AFP)" in html
    assert "The Guardian, 1 September 2015" in html


def test_source_detail_shows_cited_passages_in_their_paragraph_not_the_full_text(client, record):
    source = record["article_a"]
    citation = record["bel_destroyed"].citations.get(source=source)
    html = text_of(client.get(source.get_absolute_url()))
    assert f'id="citation-{citation.pk}"' in html
    assert "Islamic State militants <mark>blew up the Temple of Bel on Sunday</mark>, activists said." in html
    assert f'href="{record["bel_destroyed"].get_absolute_url()}"' in html
    assert 'href="https://example.org/a"' in html
    assert "FULLTEXT-ONLY" not in html


def test_staff_see_the_full_text_of_a_source(client, record):
    staff = get_user_model().objects.create_user("curator", password="x", is_staff=True)
    client.force_login(staff)
    html = text_of(client.get(record["article_a"].get_absolute_url()))
    assert "FULLTEXT-ONLY" in html


def test_source_list_counts_citing_published_incidents(client, record):
    html = text_of(client.get(reverse("archive:source-list")))
    assert re.search(
        r"Islamic State destroys Palmyra temple</a></th>\s*<td data-label=\"Outlet\">Gulf News</td>"
        r"\s*<td data-label=\"Origin\">AFP</td>\s*<td class=\"nowrap\" data-label=\"Date\">24 March 2016</td>"
        r"\s*<td class=\"number\" data-label=\"Incidents citing it\">5</td>",
        html,
    )


def test_actor_pages_list_attributed_incidents(client, record):
    html = text_of(client.get(reverse("archive:actor-list")))
    assert "Islamic State group" in html and "Syrian government forces" in html
    html = text_of(client.get(record["army"].get_absolute_url()))
    assert "Government forces retake Palmyra" in html
    assert "Destruction of the Temple of Bel" not in html


def test_site_detail_has_plan_monuments_and_timeline(client, record):
    html = text_of(client.get(record["site"].get_absolute_url()))
    assert "<h1>Palmyra</h1>" in html
    assert '<bdi lang="ar" dir="rtl">تدمر</bdi>' in html
    assert 'class="site-plan"' in html and 'class="timeline"' in html
    assert "/incidents/?site=palmyra&date_from=2015-05-01" in html
    svg = client.get(reverse("archive:site-plan-svg", args=["palmyra"]))
    assert svg["Content-Type"].startswith("image/svg+xml")
    assert b"Temple of Bel" in svg.content


@pytest.mark.parametrize(
    ("query", "expected", "excluded"),
    [
        ("kind=destruction", ["Destruction of the Temple of Bel"], ["Damage to the Monumental Arch"]),
        ("perpetrator=syrian-government", ["Government forces retake Palmyra"], ["Islamic State seizes Palmyra"]),
        ("monument=roman-theatre", ["Public executions in the Roman theatre"], ["Destruction of the Temple of Bel"]),
        ("assessment=unverified", ["Damage to the Monumental Arch"], ["Destruction of the Temple of Bel"]),
        ("site=palmyra", ["Islamic State seizes Palmyra"], []),
        (
            "date_from=2015-07-01&date_to=2015-09-30",
            ["Public executions in the Roman theatre", "Destruction of the Temple of Bel"],
            ["Islamic State seizes Palmyra", "Damage to the Monumental Arch"],
        ),
        # Free text reaches quotes, not only titles.
        ("q=main+building", ["Destruction of the Temple of Bel"], ["Damage to the Monumental Arch"]),
        ("q=cella", ["Destruction of the Temple of Bel"], ["Government forces retake Palmyra"]),
    ],
)
def test_incident_list_filters(client, record, query, expected, excluded):
    response = client.get(f"{reverse('archive:incident-list')}?{query}")
    html = text_of(response)
    assert response.status_code == 200
    for title in expected:
        assert title in html
    for title in excluded:
        assert title not in html


def test_incident_list_orders_by_date_both_ways(client, record):
    url = reverse("archive:incident-list")
    oldest = text_of(client.get(url))
    newest = text_of(client.get(url + "?ordering=-date"))
    assert oldest.index("Islamic State seizes Palmyra") < oldest.index("Government forces retake Palmyra")
    assert newest.index("Government forces retake Palmyra") < newest.index("Islamic State seizes Palmyra")


def test_incident_list_pages_by_keyset_and_keeps_filters(client, db):
    site, actor = make_site(), make_actor(slug="many")
    for day in range(120):
        make_incident(
            slug=f"n-{day:03d}",
            title=f"Numbered incident {day:03d}",
            site=site,
            perpetrator=actor,
            occurred_from=datetime.date(2015, 1, 1) + datetime.timedelta(days=day),
            occurred_to=datetime.date(2015, 1, 1) + datetime.timedelta(days=day),
            citations=1,
            status="published",
        )
    url = reverse("archive:incident-list")
    first = text_of(client.get(url + "?perpetrator=many"))
    assert "120 incidents; showing 50 on this page" in first
    assert "Numbered incident 000" in first and "Numbered incident 050" not in first

    def link(html, rel):
        return url + re.search(rf'href="(\?[^"]+)" rel="{rel}"', html).group(1)

    next_link = link(first, "next")
    assert "perpetrator=many" in next_link
    second = text_of(client.get(next_link))
    assert "Numbered incident 050" in second and "Numbered incident 049" not in second
    assert "Numbered incident 049" in text_of(client.get(link(second, "prev")))
    last = text_of(client.get(link(first, "last")))
    assert "Numbered incident 119" in last and "Numbered incident 069" not in last
    assert 'rel="next"' not in last
    # Downloads carry the filters (and not the page).
    assert 'href="/incidents/download/csv/?perpetrator=many"' in first


def test_pages_accept_only_get_and_head(client, record):
    for url in [
        reverse("archive:home"),
        reverse("archive:incident-list"),
        record["bel"].get_absolute_url(),
        record["article_a"].get_absolute_url(),
    ]:
        assert client.head(url).status_code == 200
        assert client.post(url).status_code == 405


def test_pages_have_landmarks_and_one_h1(client, record):
    urls = [
        reverse("archive:home"),
        reverse("archive:monument-list"),
        reverse("archive:incident-list"),
        reverse("archive:source-list"),
        reverse("archive:actor-list"),
        record["site"].get_absolute_url(),
        record["bel"].get_absolute_url(),
        record["bel_destroyed"].get_absolute_url(),
        record["article_a"].get_absolute_url(),
        record["isis"].get_absolute_url(),
    ]
    for url in urls:
        html = text_of(client.get(url))
        assert html.count("<h1") == 1, url
        assert "<main" in html and "<header" in html and "<footer" in html and '<nav aria-label="Main"' in html
        assert '<meta name="viewport"' in html


def test_static_files_are_served_by_whitenoise_with_debug_off(tmp_path, db):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path, STORAGES=storages, ALLOWED_HOSTS=["testserver"]):
        call_command("collectstatic", interactive=False, verbosity=0)
        client = Client()  # a new client, so that WhiteNoiseMiddleware starts under these settings
        html = client.get(reverse("archive:home")).content.decode()
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
        assert re.fullmatch(r"/static/archive/archive\.[0-9a-f]{12}\.css", stylesheet)
        response = client.get(stylesheet)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert "max-age" in response["Cache-Control"]
        assert b".site-header" in b"".join(response.streaming_content)


def test_monument_without_published_incidents_is_listed_as_unknown(client, db):
    monument = make_monument(name="Lonely tower", slug="lonely-tower")
    assert Monument.objects.with_condition().get(pk=monument.pk).condition == "unknown"
    html = text_of(client.get(monument.get_absolute_url()))
    assert "Unknown" in html and "No published incident mentions this monument." in html
