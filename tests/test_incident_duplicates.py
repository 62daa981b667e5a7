"""Likely duplicate incidents (issue 10, item 3): Incident.objects.likely_duplicates_of, and the
warning on the admin's add form that the curator answers with "It is a different incident"."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.models import Incident
from tests.factories import make_actor, make_incident, make_monument, make_site
from tests.test_admin import changeform_data

AUGUST = (datetime.date(2015, 8, 1), datetime.date(2015, 8, 31))


@pytest.fixture
def palmyra(db):
    site = make_site(name="Palmyra", slug="palmyra")
    return {
        "site": site,
        "bel": make_monument(site=site, name="Temple of Bel", slug="bel"),
        "baalshamin": make_monument(site=site, name="Temple of Baalshamin", slug="baalshamin"),
    }


def duplicates(**kwargs):
    return [incident.title for incident in Incident.objects.likely_duplicates_of(**kwargs)]


def test_the_same_monument_a_compatible_kind_and_overlapping_dates(palmyra):
    bel, site = palmyra["bel"], palmyra["site"]
    # Slugs given: the factory's ("incident-4", "incident-14") sort by text, not by number.
    make_incident(site=site, monuments=[bel], kind="damage", occurred="2015-08-30", title="Bel damaged", slug="a-bel")
    make_incident(site=site, monuments=[bel], kind="looting", occurred="2015-08-30", title="Bel looted")
    make_incident(site=site, monuments=[bel], kind="destruction", occurred="2016-03", title="Bel later")
    make_incident(site=site, monuments=[bel], kind="destruction", occurred="", title="Bel undated")
    make_incident(site=site, monuments=[palmyra["baalshamin"]], kind="destruction", title="Baalshamin")
    make_incident(site=site, monuments=[bel], kind="attack", occurred="2015-08-30", title="Bel attacked", slug="b-bel")
    start, end = AUGUST
    assert duplicates(monuments=[bel], kind="destruction", start=start, end=end) == ["Bel damaged", "Bel undated"]
    # Attack and damage are compatible, attack and destruction not; the same day: in slug order.
    assert duplicates(monuments=[bel], kind="attack", start=start, end=end) == ["Bel damaged", "Bel attacked"]
    # Unknown bounds of the new incident overlap everything; no kind: any kind.
    assert len(duplicates(monuments=[bel, palmyra["baalshamin"]])) == 5  # the default handful
    assert duplicates(monuments=[palmyra["baalshamin"]], kind="damage") == ["Baalshamin"]


def test_a_site_without_monuments_an_actor_and_what_is_left_out(palmyra):
    site, isis = palmyra["site"], make_actor(name="Isis", slug="isis")
    make_incident(site=site, kind="destruction", title="Town centre", perpetrator=isis)
    make_incident(site=site, monuments=[palmyra["bel"]], kind="destruction", title="Bel")
    make_incident(site=site, kind="destruction", title="Withdrawn", status="withdrawn", withdrawn_reason="wrong")
    assert duplicates(site=site, kind="destruction") == ["Town centre", "Bel"]
    assert duplicates(site=site, kind="destruction", town_wide=True) == ["Town centre"]
    assert duplicates(actor=isis, kind="damage") == ["Town centre"]
    assert duplicates() == []


def test_one_bounded_query_a_status_however_many_match(palmyra):
    bel = palmyra["bel"]
    for day in range(1, 31):
        make_incident(site=palmyra["site"], monuments=[bel], occurred=f"2015-08-{day:02d}", slug=f"d{day:02d}")
    for day in (3, 17, 28):
        make_incident(
            site=palmyra["site"], monuments=[bel], occurred=f"2015-08-{day:02d}", slug=f"p{day:02d}",
            citations=1, status="published",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        found = Incident.objects.likely_duplicates_of(monuments=[bel], kind="destruction", limit=4)
    # Drafts and published incidents merged, latest first.
    assert [incident.slug for incident in found] == ["d30", "d29", "d28", "p28"]
    # One query a status, each stopping at the limit; the monument's incidents are asked about
    # row by row (EXISTS), never listed (SQLite would sort all of them).
    assert len(queries.captured_queries) == 2
    for query in queries.captured_queries:
        assert "LIMIT 4" in query["sql"] and "EXISTS" in query["sql"] and " IN (SELECT" not in query["sql"]


@pytest.fixture
def curator_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


def new_incident(client, palmyra, **fields):
    url = reverse("admin:archive_incident_add")
    data = changeform_data(client.get(url))
    data.update(
        title="Temple of Bel destroyed",
        slug="bel-destroyed",
        kind="destruction",
        site=str(palmyra["site"].pk),
        monuments=[str(palmyra["bel"].pk)],
        occurred="2015-08",
        **{"actor_links-0-actor": str(make_actor().pk), "actor_links-0-role": "perpetrator"},
    )
    data.update(fields)
    return client.post(url, data)


def test_a_likely_duplicate_is_not_saved_until_the_curator_says_it_is_different(curator_client, palmyra):
    existing = make_incident(
        site=palmyra["site"], monuments=[palmyra["bel"]], kind="damage", occurred="2015-08-30", title="Bel blown up"
    )
    response = new_incident(curator_client, palmyra)
    assert response.status_code == 200
    assert not Incident.objects.filter(slug="bel-destroyed").exists()
    html = response.content.decode()
    assert "The archive may already hold this incident" in html
    change_url = reverse("admin:archive_incident_change", args=[existing.pk])
    assert f'<a href="{change_url}">Bel blown up</a> (30 August 2015, Damage)' in html
    assert 'name="different_incident"' in html

    response = new_incident(curator_client, palmyra, different_incident="on")
    assert response.status_code == 302
    assert Incident.objects.filter(slug="bel-destroyed").exists()


def test_no_warning_when_nothing_matches(curator_client, palmyra):
    make_incident(site=palmyra["site"], monuments=[palmyra["bel"]], kind="looting", occurred="2015-08-30")
    make_incident(site=palmyra["site"], monuments=[palmyra["bel"]], kind="destruction", occurred="2016-03")
    make_incident(site=palmyra["site"], monuments=[palmyra["baalshamin"]], kind="destruction", occurred="2015-08")
    assert new_incident(curator_client, palmyra).status_code == 302
    assert Incident.objects.filter(slug="bel-destroyed").exists()
    # A town-wide incident is compared with the site's other town-wide incidents only.
    assert new_incident(curator_client, palmyra, slug="town", monuments=[]).status_code == 302
