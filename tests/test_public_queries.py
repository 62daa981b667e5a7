"""Every public page runs a bounded number of SQL queries: the same bound at 20 and at 200 incidents.

The cache is cleared before each request, so the bounds are those of the uncached path (the
aggregates of home and site pages, and the count of a list, are computed, not read from cache).
"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.models import Citation
from tests.factories import make_actor, make_incident, make_monument, make_site, make_source
from tests.test_public_pages import ARTICLE_A

QUOTES = ["blew up the Temple of Bel on Sunday", "damaged the Monumental Arch", "retook the town in March"]
CACHE_QUERY = re.compile(r'"archive_(cache|summaries)"|^(RELEASE |ROLLBACK TO )?SAVEPOINT ')
KINDS = ["destruction", "damage", "looting", "killing", "attack", "control_change", "other"]


def build(count):
    site = make_site(name="Palmyra", slug="palmyra", latitude="34.55", longitude="38.27")
    monuments = [make_monument(site=site, slug=f"m{n}", latitude=f"34.55{n}", longitude=f"38.27{n}") for n in range(4)]
    actors = [make_actor(slug=f"a{n}") for n in range(3)]
    sources = [
        make_source(slug=f"s{n}", received_text=f"{ARTICLE_A}Copy {n}.\n", origin=f"Origin {n % 2}") for n in range(3)
    ]
    for n in range(count):
        day = datetime.date(2015, 1, 1) + datetime.timedelta(days=7 * n)
        incident = make_incident(
            slug=f"i{n:03d}",
            site=site,
            perpetrator=actors[n % 3],
            kind=KINDS[n % len(KINDS)],
            monuments=monuments[: n % 3],
            occurred_from=day,
            occurred_to=day,
        )
        for k in range(1 + n % 2):
            Citation.objects.create(incident=incident, source=sources[(n + k) % 3], quote=QUOTES[n % 3])
        incident.status = "published"
        incident.save()
    return {"monument": monuments[1], "actor": actors[0], "source": sources[0], "incident": "i001"}


# Bounds, with the queries they allow. Each record page also reads when it was last updated (its
# newest public history row: archive.citing.last_updated), one query more.
PAGES = [
    # version fingerprint (3), counts (2), monuments + actors counts (2), latest + their monuments and
    # actors (3), located monuments with condition (1), month counts, changes of control + their actors,
    # the incidents not drawn (4), the actors holding any site, for their colours (1)
    ("/", 16),
    # site, version (3), monuments with condition (1), count (1), timeline (4), the actors holding
    # any site, whose colours every chart shares (1)
    ("/sites/palmyra/", 12),
    # site, located monuments with condition
    ("/sites/palmyra/plan.svg", 2),
    # version (3), month counts, changes of control + their actors, the incidents not drawn (4), the
    # actors holding any site, for their colours (1)
    ("/timeline.svg", 8),
    # choices of site, monument, perpetrator: their keys, once per generation for every worker (3,
    # archive.summaries: always here, each test starting afresh), the stamp of the newest rows that
    # keeps them current (1) and their rows (3); the page's keys, its rows + their monuments and
    # actors (4), version (3) and count (1)
    ("/incidents/", 15),
    ("/incidents/?page=last&ordering=-date", 15),
    # plus the look-ups of the chosen site, monument and perpetrator (3) and whether the search is
    # broad (1, a count up to archive.search.RANKED_AT_MOST), less the rows' monuments and actors
    # (none of the matching incidents has several)
    ("/incidents/?kind=destruction&site=palmyra&monument=m1&perpetrator=a0&date_from=2015-01-01&q=Bel", 16),
    # the page's keys, rows with condition, their images, capped count
    ("/monuments/", 4),
    # monument, the page's keys, rows, their monuments, their actors, their citations, their figures,
    # the citations contradicting them, version (3), count, images
    ("/monuments/m1/", 14),
    # incident with counts, its actors, its monuments with condition, citations with sources, their
    # figures, the citations contradicting them, images, the figures table
    ("/incidents/i001/", 9),
    # the page's keys, rows with their counts, version (3), count
    ("/sources/", 6),
    # source, its published citations with their incidents
    ("/sources/s0/", 3),
    # rows, capped count
    ("/actors/", 2),
    # actor, the page's keys, rows, their monuments, their actors, version (3), count, whether it is
    # a perpetrator (for the link to the filtered list)
    ("/actors/a0/", 11),
]


@pytest.mark.parametrize("count", [20, 200])
@pytest.mark.parametrize(("url", "bound"), PAGES, ids=[url for url, _ in PAGES])
def test_query_count_is_bounded(client, db, count, url, bound):
    build(count)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    # The shared cache's own reads and writes (tables of the database, settings.CACHES) are not the page's.
    page = [query["sql"] for query in queries.captured_queries if not CACHE_QUERY.search(query["sql"])]
    assert len(page) <= bound, "\n\n".join(page)
