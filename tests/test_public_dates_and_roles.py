"""Public pages, charts and downloads show actors with their roles and dates as the sources give
them (issue 9): an undated incident is "Undated", never drawn in a month nor shown at 0001-01-01 or
9999-12-31; an open end is said as such; every actor of an incident is named with its role."""

import csv
import datetime
import io
import json
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from archive import charts
from archive.dates import NO_EARLIER, NO_LATER, parse_when
from archive.models import Incident
from archive.views.paging import BOUND, Key, KeysetPaginator
from archive.views.when import precision_of, when_of
from tests.factories import make_actor, make_incident, make_monument, make_site

pytestmark = pytest.mark.django_db

# The stored stand-ins for a bound the sources do not give (archive.dates), however written.
# An incident's identifier (PAL-0001) is a number, not a year.
SENTINEL = re.compile(r"0001-01-01|9999-12-31|\b1 January 1\b|December 9999|(?<![A-Z]-)\b0001\b|\b9999\b")


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


def text_of(response):
    return unescape(response.content.decode())


def body(response):
    return b"".join(response.streaming_content).decode()


def assert_no_sentinel(text, where):
    found = SENTINEL.search(text)
    assert found is None, f"{found.group(0)!r} shown on {where}"


@pytest.fixture
def record():
    site = make_site(name="Palmyra", slug="palmyra", latitude="34.55", longitude="38.27")
    museum = make_monument(
        site=site, name="Palmyra Museum", slug="palmyra-museum", latitude="34.555", longitude="38.275"
    )
    isis = make_actor(name="Islamic State", slug="islamic-state")
    russia = make_actor(name="Russia", slug="russia", kind="foreign_state")
    army = make_actor(name="Syrian army", slug="syrian-army", kind="state_forces")

    def published(slug, title, **values):
        return make_incident(slug=slug, title=title, site=site, citations=1, status="published", **values)

    return {
        "site": site,
        "museum": museum,
        "isis": isis,
        "russia": russia,
        "army": army,
        "undated": published(
            "looting-undated",
            "Looting of the museum",
            kind="looting",
            occurred="",
            monuments=[museum],
            perpetrator=isis,
        ),
        "open": published("before-the-report", "Damage before the report", occurred="../2016-03-24", perpetrator=isis),
        "interval": published("long-siege", "The long siege", occurred="2015-05/2016-03", perpetrator=army),
        "day": published("bel-destroyed", "Temple of Bel destroyed", occurred="2015-08-30", perpetrator=isis),
        "year": published("year-only", "Something in 2014", occurred="2014", perpetrator=isis),
        # Russia supports; the perpetrator is the second actor named.
        "airstrikes": published(
            "airstrikes",
            "Airstrikes on the town",
            kind="attack",
            occurred="2016-03-10/2016-03-11",
            actors=[(russia, "supporting"), (army, "perpetrator"), (isis, "accused")],
        ),
    }


def public_pages(record):
    urls = [
        reverse("archive:home"),
        reverse("archive:incident-list"),
        reverse("archive:incident-list") + "?ordering=-date",
        reverse("archive:actor-list"),
        reverse("archive:timeline-svg"),
        reverse("archive:timeline-svg") + "?site=palmyra",
        reverse("archive:methodology"),
        record["site"].get_absolute_url(),
        record["museum"].get_absolute_url(),
    ]
    urls += [record[name].get_absolute_url() for name in ("isis", "russia", "army")]
    urls += [record[name].get_absolute_url() for name in ("undated", "open", "interval", "day", "year", "airstrikes")]
    return urls


def test_no_page_shows_a_bound_the_sources_do_not_give(client, record):
    for url in public_pages(record):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_sentinel(text_of(response), url)


def test_an_undated_incident_is_listed_as_undated(client, record):
    listing = text_of(client.get(reverse("archive:incident-list")))
    row = re.search(
        r'<td class="when" data-label="When">([^\n]*?)</td>\s*<th scope="row"><a href="/incidents/looting-undated/"',
        listing,
    )
    assert row and re.sub(r"<[^>]+>", "", row.group(1)) == "Undated"
    assert '<span class="when-undated">Undated</span>' in listing  # no <time datetime> to invent
    page = text_of(client.get(record["undated"].get_absolute_url()))
    assert re.search(r"<dt>When</dt><dd><span class=\"when-undated\">Undated</span>", page)
    assert "Undated" in text_of(client.get(record["museum"].get_absolute_url()))
    assert "Undated" in text_of(client.get(record["isis"].get_absolute_url()))


def test_an_open_ended_incident_says_by_the_day_it_is_known_by(client, record):
    page = text_of(client.get(record["open"].get_absolute_url()))
    assert "by 24 March 2016" in page
    listing = text_of(client.get(reverse("archive:incident-list")))
    assert '<span class="when-open">by 24 March 2016</span>' in listing
    # Dated ones carry a machine-readable date, as precise as the sources.
    assert '<time datetime="2015-08-30">30 August 2015</time>' in listing
    assert '<time datetime="2014">2014</time>' in listing
    assert '<time datetime="2015-05">May 2015 – March 2016</time>' in listing  # not 2015-05-01
    assert '<time datetime="2016-03-10">10–11 March 2016</time>' in listing


def test_a_multi_actor_incident_shows_each_role_on_its_page_and_each_actors_page(client, record):
    page = text_of(client.get(record["airstrikes"].get_absolute_url()))
    actors = re.search(r"<dt>Actors</dt><dd>(.*?)</dd>", page, re.S).group(1)
    names = re.sub(r"<[^>]+>", "", actors)
    assert "Russia (supporting force)" in names
    assert "Syrian army (perpetrator)" in names
    assert "Islamic State (accused by a claimant)" in names
    assert names.index("Russia") < names.index("Syrian army") < names.index("Islamic State")  # as curated
    for actor in ("russia", "army", "isis"):
        assert f'href="{record[actor].get_absolute_url()}"' in actors
    # In the list, every actor with its role on the incident's row.
    listing = text_of(client.get(reverse("archive:incident-list")))
    row = re.search(r'<a href="/incidents/airstrikes/">.*?</tr>', listing, re.S).group(0)
    text = re.sub(r"<[^>]+>", "", row)
    assert "Russia (supporting force); Syrian army (perpetrator); Islamic State (accused by a claimant)" in text
    # Each actor's page lists it, with the role that actor has in it.
    for actor, role in (("russia", "supporting force"), ("army", "perpetrator"), ("isis", "accused by a claimant")):
        html = text_of(client.get(record[actor].get_absolute_url()))
        row = re.search(r'<a href="/incidents/airstrikes/">.*?</tr>', html, re.S)
        assert row, actor
        assert re.search(rf"<td[^>]*>{role}</td>", row.group(0)), actor
    # Russia supports only: its page lists the incident, but offers no perpetrator filter that would be a 400.
    russia = text_of(client.get(record["russia"].get_absolute_url()))
    assert "Airstrikes on the town" in russia and "?perpetrator=russia" not in russia
    assert "?perpetrator=syrian-army" in text_of(client.get(record["army"].get_absolute_url()))


def test_the_perpetrator_filter_finds_an_incident_whose_perpetrator_is_named_second(client, record):
    html = text_of(client.get(reverse("archive:incident-list") + "?perpetrator=syrian-army"))
    assert "Airstrikes on the town" in html and "The long siege" in html
    assert "Temple of Bel destroyed" not in html
    # Only perpetrators are offered: a supporting force alone is no choice.
    assert client.get(reverse("archive:incident-list") + "?perpetrator=russia").status_code == 400
    # Islamic State is accused in the airstrikes, not their perpetrator.
    html = text_of(client.get(reverse("archive:incident-list") + "?perpetrator=islamic-state"))
    assert "Temple of Bel destroyed" in html and "Airstrikes on the town" not in html


def test_the_date_filter_finds_what_may_have_happened_in_the_range(client, record):
    html = text_of(client.get(reverse("archive:incident-list") + "?date_from=2016-01-01"))
    assert "The long siege" in html  # May 2015 – March 2016
    assert "Temple of Bel destroyed" not in html and "Something in 2014" not in html
    html = text_of(client.get(reverse("archive:incident-list") + "?date_from=2016-01-01&date_to=2016-01-31"))
    assert "The long siege" in html and "Airstrikes on the town" not in html
    html = text_of(client.get(reverse("archive:incident-list") + "?date_from=2016-06-01"))
    assert "Damage before the report" not in html  # on or before 24 March 2016


def test_the_timeline_draws_only_what_is_dated_to_the_month_and_counts_the_rest(client, record):
    incidents = Incident.objects.public()
    # The day, the interval (in May 2015, the month it began) and the airstrikes; not the undated,
    # the open-ended or the one known only by its year.
    assert charts.month_counts(incidents) == [("2015-05", 1), ("2015-08", 1), ("2016-03", 1)]
    assert charts.unplaced_counts(incidents) == (2, 1)
    home = text_of(client.get(reverse("archive:home")))
    assert "undated or open-ended: 2" in home and "dated only to a year or a season: 1" in home
    assert "date_from=2014-01-01" not in home  # no bar for January 2014
    svg = text_of(client.get(reverse("archive:timeline-svg")))
    assert "May 2015 to March 2016: 3 in all" in svg and "undated or open-ended: 2" in svg
    assert svg.count('class="bar"') == 3
    assert_no_sentinel(svg, "the timeline")


def test_a_timeline_of_only_undated_incidents_draws_nothing_and_says_so(client, db):
    site = make_site(slug="nowhere-in-time", name="Nowhere in time")
    make_incident(site=site, occurred="", citations=1, status="published")
    make_incident(site=site, occurred="../2016-03-24", citations=1, status="published")
    counts = charts.month_counts(charts.published_incidents(site))
    unplaced = charts.unplaced_counts(charts.published_incidents(site))
    assert counts == [] and unplaced == (2, 0)
    timeline = charts.timeline(counts, [], unplaced=unplaced)
    assert timeline is not None and not timeline.drawn and timeline.bars == []
    html = text_of(client.get(site.get_absolute_url()))
    assert "No published incident at Nowhere in time is dated to the month" in html
    assert "undated or open-ended: 2" in html
    assert 'class="timeline"' not in html
    svg = client.get(reverse("archive:timeline-svg") + "?site=nowhere-in-time")
    assert svg.status_code == 200 and "undated or open-ended: 2" in svg.content.decode()
    assert_no_sentinel(svg.content.decode(), "the timeline SVG")


def test_periods_of_control_follow_the_principal_actor_and_the_sources_dates(db):
    site = make_site(name="Palmyra", slug="palmyra")
    isis, russia, army = make_actor(name="Islamic State"), make_actor(name="Russia"), make_actor(name="Army")
    published = {"site": site, "kind": "control_change", "citations": 1, "status": "published"}
    make_incident(occurred="2015-05", perpetrator=isis, **published)
    make_incident(occurred="2016-03-27", actors=[(russia, "supporting"), (army, "perpetrator")], **published)
    make_incident(occurred="", perpetrator=isis, **published)  # undated: no period
    changes = charts.control_changes(Incident.objects.public())
    assert [(actor, when) for _site, _day, actor, _title, _url, when in changes] == [
        ("Islamic State", "May 2015"),
        ("Army", "27 March 2016"),
    ]
    timeline = charts.timeline([], changes)
    first, second = timeline.periods
    assert "held by Islamic State from May 2015 until 27 March 2016" in first.title
    assert second.actor == "Army"
    assert [actor for actor, _colour in timeline.legend] == ["Islamic State", "Army"]


def csv_rows(client, query=""):
    text = body(client.get(reverse("archive:incident-download", args=["csv"]) + query))
    return text, {row["slug"]: row for row in csv.DictReader(io.StringIO(text))}


def test_downloads_give_the_edtf_value_its_bounds_its_precision_and_the_actors(client, record):
    text, rows = csv_rows(client)
    assert_no_sentinel(text, "the CSV download")
    undated = rows["looting-undated"]
    assert (undated["occurred"], undated["earliest"], undated["latest"], undated["precision"]) == (
        "",
        "",
        "",
        "undated",
    )
    open_ended = rows["before-the-report"]
    assert (open_ended["occurred"], open_ended["earliest"], open_ended["latest"], open_ended["precision"]) == (
        "../2016-03-24",
        "",
        "2016-03-24",
        "open",
    )
    siege = rows["long-siege"]
    assert (siege["earliest"], siege["latest"], siege["precision"]) == ("2015-05-01", "2016-03-31", "interval")
    assert rows["year-only"]["precision"] == "year" and rows["bel-destroyed"]["precision"] == "day"
    assert rows["airstrikes"]["actors"] == "supporting:russia;perpetrator:syrian-army;accused:islamic-state"
    assert rows["bel-destroyed"]["actors"] == "perpetrator:islamic-state"
    assert "perpetrator" not in text.splitlines()[0].split(",")  # the old column is gone
    for fmt in ("json", "geojson"):
        text = body(client.get(reverse("archive:incident-download", args=[fmt])))
        assert_no_sentinel(text, f"the {fmt} download")
        items = json.loads(text)
        items = [feature["properties"] for feature in items["features"]] if fmt == "geojson" else items
        by_slug = {item["slug"]: item for item in items}
        assert by_slug["looting-undated"]["earliest"] is None and by_slug["looting-undated"]["latest"] is None
        assert by_slug["before-the-report"]["latest"] == "2016-03-24"
        assert by_slug["airstrikes"]["actors"] == [
            {"actor": "russia", "role": "supporting"},
            {"actor": "syrian-army", "role": "perpetrator"},
            {"actor": "islamic-state", "role": "accused"},
        ]


def test_the_download_honours_the_perpetrator_and_date_filters_as_the_list_does(client, record):
    _text, rows = csv_rows(client, "?perpetrator=syrian-army")
    assert set(rows) == {"airstrikes", "long-siege"}
    _text, rows = csv_rows(client, "?date_from=2016-01-01&date_to=2016-01-31")
    # The siege may have happened then; so may the undated looting (it may have happened any time)
    # and the damage reported by 24 March 2016.
    assert set(rows) == {"long-siege", "looting-undated", "before-the-report"}


def test_a_cursor_names_a_bound_the_sources_do_not_give_without_the_sentinel_day():
    paginator = KeysetPaginator([Key("occurred_from", parse=BOUND.parse, format=BOUND.format), Key("slug")])
    undated = Incident(occurred_from=NO_EARLIER, slug="looting")
    cursor = paginator.cursor_for(undated)
    assert cursor == "open-start~looting"
    assert paginator.parse_cursor(cursor) == [NO_EARLIER, "looting"]
    assert paginator.parse_cursor(paginator.cursor_for(Incident(occurred_from=NO_LATER, slug="x"))) == [NO_LATER, "x"]
    # The ISO day parses too (date(1, 1, 1).isoformat() is "0001-01-01"), and an ordinary day is ISO.
    assert paginator.parse_cursor("0001-01-01~looting") == [NO_EARLIER, "looting"]
    day = Incident(occurred_from=datetime.date(2015, 8, 30), slug="bel")
    assert paginator.parse_cursor(paginator.cursor_for(day)) == [datetime.date(2015, 8, 30), "bel"]


@pytest.mark.parametrize("ordering", ["", "-date"])
def test_the_list_pages_through_undated_incidents_both_ways(client, db, ordering):
    site, actor = make_site(), make_actor(slug="pager")
    slugs = []
    for n in range(56):
        occurred = "" if n % 2 else f"2015-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        if n % 7 == 0:
            occurred = f"../2016-{n % 12 + 1:02d}"  # an open start
        incident = make_incident(
            slug=f"p-{n:02d}", site=site, perpetrator=actor, occurred=occurred, citations=1, status="published"
        )
        slugs.append(incident.slug)
    url = reverse("archive:incident-list")
    query = f"?ordering={ordering}" if ordering else "?perpetrator=pager"
    expected = list(
        Incident.objects.public()
        .order_by(f"{ordering[:1]}occurred_from", f"{ordering[:1]}slug")
        .values_list("slug", flat=True)
    )

    def shown(html):
        return re.findall(r'<th scope="row"><a href="/incidents/(p-\d\d)/">', html)

    def link(html, rel):
        found = re.search(rf'href="(\?[^"]+)" rel="{rel}"', html)
        return url + unescape(found.group(1)) if found else None

    seen, page = [], url + query
    while page:
        html = text_of(client.get(page))
        assert_no_sentinel(html, page)
        seen += shown(html)
        page = link(html, "next")
    assert seen == expected and sorted(seen) == sorted(slugs)
    # And back from the last page.
    html = text_of(client.get(url + query + "&page=last"))
    back = shown(html)
    previous = link(html, "prev")
    while previous:
        html = text_of(client.get(previous))
        back = shown(html) + back
        previous = link(html, "prev")
    assert back == expected


def test_the_methodology_page_explains_dates_and_roles(client, db):
    html = text_of(client.get(reverse("archive:methodology")))
    assert 'id="dates"' in html and 'id="roles"' in html
    for words in ("EDTF", "../2016-03-24", "by 24 March 2016", "Undated", "2015-05/2016-03", "never shown"):
        assert words in html, words
    for role in ("Perpetrator", "Supporting force", "Claimed responsibility", "Accused by a claimant"):
        assert re.search(rf'<div id="role-\w+"><dt>{role}</dt><dd>\w', html), role
    incident = make_incident(citations=1, status="published")
    page = text_of(client.get(incident.get_absolute_url()))
    assert 'href="/about/methodology/#dates"' in page and 'href="/about/methodology/#roles"' in page


EDTF_VALUES = [
    "", "2016-03-24", "2016-02-29", "2015-05", "2015-12", "2015", "2015-21", "2015-24", "2015-05/2016-03",
    "../2016-03-24", "2016-03/..", "2016-03-24/..", "2016-03~", "2016-03?", "2016-03-24~", "2016-03-24%", "2015?",
    "2014/2015-05", "2016-12-10/2016-12-11", "2015-21/2016", "0100-01-01",
]  # fmt: skip


@pytest.mark.parametrize("value", EDTF_VALUES)
def test_the_pages_reading_of_a_date_agrees_with_the_models(value):
    """archive.views.when reads plain days, months and years (and every value's precision) without
    the EDTF grammar, which costs ~10 ms a value: it must say exactly what archive.dates says."""
    expected = parse_when(value)
    assert when_of(value) == expected
    assert precision_of(value) == expected.precision
