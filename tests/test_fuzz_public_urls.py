"""Fuzz every public URL's parameters: whatever a visitor types, the answer is never a 500.

Each public URL named in archive/urls.py is requested with real slugs from a small published record
and with fuzzed path segments and query parameters (the ones the views read, and others): NUL, any
unicode that can travel in a URL, very long strings, near-valid dates and cursors. The answer must
be a page, a redirect or a clear 400/404. Runs on SQLite and on PostgreSQL (CI runs the suite on
both), where NUL used to reach psycopg and give a 500.
"""

import datetime
from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.urls import get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

ALLOWED = {200, 301, 302, 400, 404}

FILTERS = ["q", "kind", "site", "monument", "perpetrator", "assessment", "date_from", "date_to", "ordering"]
CURSORS = ["after", "before", "page"]

# Each public URL name: its path (`{}` where a fuzzed segment goes), a real segment, and the query
# parameters its view reads.
PUBLIC_URLS = {
    "home": ("/", None, []),
    "timeline-svg": ("/timeline.svg", None, ["site"]),
    "site-list": ("/sites/", None, []),
    "site-detail": ("/sites/{}/", "fuzz-site", []),
    "site-plan-svg": ("/sites/{}/plan.svg", "fuzz-site", []),
    "monument-list": ("/monuments/", None, CURSORS),
    "monument-detail": ("/monuments/{}/", "fuzz-temple", CURSORS),
    "incident-list": ("/incidents/", None, FILTERS + CURSORS),
    "incident-detail": ("/incidents/{}/", "fuzz-destruction", []),
    "source-list": ("/sources/", None, CURSORS),
    "source-detail": ("/sources/{}/", "fuzz-article", []),
    "actor-list": ("/actors/", None, CURSORS),
    "actor-detail": ("/actors/{}/", "fuzz-group", CURSORS),
    "incident-download": ("/incidents/download/{}/", "csv", FILTERS),
    "monument-download": ("/monuments/download/{}/", "json", []),
    "source-download": ("/sources/download/{}/", "json", []),
    "methodology": ("/about/methodology/", None, []),
}
FORMATS = ["csv", "json", "geojson"]
SLUGS = ["fuzz-site", "fuzz-temple", "fuzz-destruction", "fuzz-article", "fuzz-group"]
WORDS = [
    "", "\x00", "last", "first", "1", "-date", "date", "destruction", "contested", "Fuzz temple",
    "open-start", "open-end", "0001-01-01", "9999-12-31", "0000-00-00", *SLUGS,
]  # fmt: skip

# Any unicode a URL can carry (lone surrogates cannot be percent-encoded as UTF-8), NUL included.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
with_nul = st.builds(lambda a, b: f"{a}\x00{b}", any_text, any_text)
long_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=4).map(lambda s: s * 2500)
dates = st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)).map(datetime.date.isoformat)
near_valid = st.one_of(st.sampled_from(WORDS), dates, st.builds(lambda s: f"{s}\x00", st.sampled_from(SLUGS)))
values = st.one_of(near_valid, with_nul, any_text, long_text)
# Page cursors as the lists write them (`<date or name>~<slug>`), or nearly.
part = st.one_of(dates, st.sampled_from(WORDS), any_text, with_nul)
cursors = st.one_of(
    st.builds(lambda first, slug: f"{first}~{slug}", st.one_of(dates, st.sampled_from(WORDS)), with_nul),
    st.lists(part, min_size=1, max_size=3).map("~".join),
    values,
)


def queries(read):
    """A few parameters at a time, so that one refused early does not hide another: mostly those the
    view reads, with fitting values, and sometimes any name at all."""
    known = [st.tuples(st.just(name), cursors if name in CURSORS else values) for name in read]
    anything = st.tuples(st.one_of(any_text, with_nul, st.sampled_from(FILTERS + CURSORS)), values)
    return st.lists(st.one_of(*known, anything), max_size=3)


segments = st.one_of(st.sampled_from([*SLUGS, *FORMATS]), any_text, with_nul, long_text)


@pytest.fixture
def record(db):
    cache.clear()
    site = make_site(name="Fuzz site", slug="fuzz-site", latitude="34.55", longitude="38.27")
    temple = make_monument(site=site, name="Fuzz temple", slug="fuzz-temple", latitude="34.547", longitude="38.274")
    group = make_actor(name="Fuzz group", slug="fuzz-group")
    ally = make_actor(name="Fuzz ally", slug="fuzz-ally")
    incident = make_incident(
        slug="fuzz-destruction", site=site, actors=[(ally, "supporting"), (group, "perpetrator")], monuments=[temple]
    )
    make_citation(incident=incident, source=make_source(slug="fuzz-article"))
    incident.status = "published"
    incident.save()
    # Undated and open-ended incidents: their stored bounds are the date type's extremes.
    make_incident(slug="fuzz-undated", site=site, perpetrator=group, occurred="", citations=1, status="published")
    make_incident(
        slug="fuzz-open", site=site, perpetrator=group, occurred="2016-03/..", citations=1, status="published"
    )


def test_every_public_url_is_fuzzed():
    """A URL added to archive/urls.py must be added here too."""
    assert {pattern.name for pattern in get_resolver("archive.urls").url_patterns} == set(PUBLIC_URLS)


def request(client, path, query):
    response = client.get(f"{path}?{urlencode(query)}" if query else path)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # a download can fail mid-stream
    return response


@pytest.mark.parametrize("name", list(PUBLIC_URLS))
def test_fuzzed_parameters_never_give_a_500(client, record, name):
    template, slug, read = PUBLIC_URLS[name]

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(segment=segments, query=queries(read), real=st.booleans())
    def fuzz(segment, query, real):
        path = template.format(quote(slug if real else segment, safe="")) if slug else template
        response = request(client, path, query)
        assert response.status_code in ALLOWED, (path, query)

    fuzz()
