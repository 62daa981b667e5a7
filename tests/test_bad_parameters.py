"""Bogus query parameters give a normal page or a clear 400/404, never a 500."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.test_public_pages import palmyra_record

LONG = "palmyra " * 1280  # 10 kB

BOGUS = [
    ("kind=catastrophe", 400),
    ("assessment=certain", 400),
    ("date_from=yesterday", 400),
    ("date_to=2015-02-30", 400),
    ("date_from=2015-13-01", 400),
    ("date_from=99999-01-01", 400),
    ("site=atlantis", 400),
    ("monument=colossus", 400),
    ("perpetrator=nobody", 400),
    ("ordering=title", 400),
    (f"q={LONG}", 400),
    ("q=%00", 400),  # PostgreSQL cannot store NUL in text: must be refused before the query
    ("page=99999", 404),
    ("page=-1", 404),
    ("page=abc", 404),
    ("page=2", 404),
    ("after=garbage", 400),
    ("after=2015-01-01", 400),
    ("after=2015-99-01~slug", 400),
    ("before=~", 400),
    ("after=" + "x" * 5000, 400),
    ("after=2015-08-30~temple-of-bel-destroyed&before=2015-08-30~x", 400),
    ("page=last&after=2015-08-30~temple-of-bel-destroyed", 400),
    # Harmless oddities give a normal page.
    ("unknown=parameter", 200),
    ("kind=", 200),
    ("q=", 200),
    ("q=%25%5F%5C", 200),  # LIKE wildcards are searched for literally
    ("q=' OR 1=1 --", 200),
    ("kind=destruction&kind=damage", 200),
    ("date_from=2016-01-01&date_to=2015-01-01", 400),  # a reversed range is answered with a message
    ("after=9999-12-31~zzz", 200),
    ("before=0001-01-01~a", 200),
    ("page=1", 200),
    ("page=last", 200),
]


@pytest.fixture
def record(db):
    cache.clear()
    return palmyra_record()


@pytest.mark.parametrize(("query", "status"), BOGUS, ids=[query[:40] for query, _ in BOGUS])
def test_incident_list_answers_bogus_parameters_clearly(client, record, query, status):
    response = client.get(f"{reverse('archive:incident-list')}?{query}")
    assert response.status_code == status
    if status == 400:
        assert b"cannot be applied" in response.content or b"Bad Request" in response.content


@pytest.mark.parametrize(
    "query", ["page=99999", "page=-1", "after=garbage", "before=2015~", "page=last&before=a~b", "after=2016-01-01~x"]
)
@pytest.mark.parametrize(
    "url",
    [
        "/monuments/",
        "/sources/",
        "/actors/",
        "/monuments/temple-of-bel/",
        "/actors/islamic-state/",
    ],
)
def test_other_lists_answer_bogus_pages_clearly(client, record, url, query):
    response = client.get(f"{url}?{query}")
    assert response.status_code in (200, 400, 404)


def test_detail_pages_of_unknown_slugs_are_404(client, record):
    for url in [
        "/incidents/no-such/",
        "/monuments/no-such/",
        "/sources/no-such/",
        "/actors/no-such/",
        "/sites/no-such/",
        "/sites/no-such/plan.svg",
        "/timeline.svg?site=no-such",
    ]:
        assert client.get(url).status_code == 404, url


def test_invalid_filter_says_which_field_is_wrong(client, record):
    response = client.get(f"{reverse('archive:incident-list')}?date_from=yesterday&kind=catastrophe")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid date." in html
    assert "Select a valid choice. catastrophe is not one of the available choices." in html


# PostgreSQL text cannot hold NUL: psycopg refuses the query, which used to surface as a 500 there
# (SQLite answered 400 or 404). Refused before any view runs, with a 400 naming the parameter.
NUL_QUERIES = [
    "/timeline.svg?site=%00",
    "/incidents/?site=%00",
    "/incidents/?monument=%00",
    "/incidents/?perpetrator=%00",
    "/incidents/?q=%00",
    "/incidents/?after=2015-08-30~%00",
    "/incidents/?before=2015-08-30~temple%00",
    "/monuments/?after=Temple~%00",
    "/sources/?after=2016-03-24~%00",
    "/actors/?after=Islamic~%00",
    "/monuments/temple-of-bel/?after=2015-08-30~%00",
    "/actors/islamic-state/?after=2015-08-30~%00",
    "/incidents/download/csv/?site=%00",
    "/incidents/download/json/?monument=x%00y",
    "/sources/?%00=1",
]


@pytest.mark.parametrize("url", NUL_QUERIES)
def test_a_nul_byte_in_a_parameter_is_a_400_naming_it(client, record, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    name = url.split("?", 1)[1].split("=", 1)[0].replace("%00", "\\x00")
    assert f"“{name}”" in response.content.decode()


@pytest.mark.parametrize("url", ["/incidents/%00/", "/sites/palmyra%00/plan.svg", "/incidents/download/%00/"])
def test_a_nul_byte_in_the_path_is_a_400(client, record, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "address" in response.content.decode()


@pytest.mark.parametrize(
    "cursor", ["open-start~x", "open-end~x", "0001-01-01~x", "9999-12-31~x", "open~x", "0000-01-01~x", "~x"]
)
def test_incident_cursors_at_the_date_types_extremes_are_answered(client, record, cursor):
    # open-start / open-end name a bound the sources do not give; the ISO days of the sentinels
    # parse too; anything else is a malformed cursor, a 400.
    for url in ("/incidents/", "/actors/islamic-state/", "/monuments/temple-of-bel/"):
        for direction in ("after", "before"):
            response = client.get(f"{url}?{direction}={cursor}")
            valid = cursor.split("~")[0] in ("open-start", "open-end", "0001-01-01", "9999-12-31")
            assert response.status_code == (200 if valid else 400), (url, direction, cursor)


def test_the_cursor_parser_refuses_a_nul_byte():
    from archive.views.paging import DATE, BadCursor, Key, KeysetPaginator

    paginator = KeysetPaginator([Key("occurred_from", parse=DATE), Key("slug")])
    assert paginator.parse_cursor("2015-08-30~temple")
    with pytest.raises(BadCursor):
        paginator.parse_cursor("2015-08-30~temple\x00")


def test_a_nul_byte_in_a_cookie_is_a_400(client, record):
    # A quoted cookie value may spell NUL as an octal escape, which Django's cookie parser decodes.
    response = client.get("/sources/article-a/", HTTP_COOKIE='sessionid="abcdefgh12345678\\000"')
    assert response.status_code == 400
    assert "“sessionid”" in response.content.decode()
