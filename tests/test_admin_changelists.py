"""The admin's incident, citation and source changelists cost the same whatever the archive holds:
the row count is capped (then estimated on PostgreSQL), per-row counts are fetched for the page's
rows only, the last page is read from the end; and what they show is still right."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.admin import changelists
from archive.admin.incidents import CitationAdmin, IncidentAdmin
from archive.admin.sources import SourceAdmin
from archive.models import Incident
from tests.factories import make_actor, make_citation, make_incident, make_site, make_source

pytestmark = pytest.mark.django_db
CAP, PER_PAGE = 6, 4


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    """A cap and a page small enough that a dozen rows are "a large archive"."""
    monkeypatch.setattr(changelists, "COUNT_CAP", CAP)
    for admin_class in (IncidentAdmin, CitationAdmin, SourceAdmin):
        monkeypatch.setattr(admin_class, "list_per_page", PER_PAGE)


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.fixture
def curator_client():
    client = Client()
    curator = get_user_model().objects.create_user("curator", password="pw", is_staff=True)
    curator.groups.add(Group.objects.get(name="Curator"))
    client.force_login(curator)
    return client


def build(n, site, actor):
    """`n` incidents, the k-th (from 0) with k % 3 + 1 citations from one source each."""
    made = []
    for k in range(n):
        incident = make_incident(site=site, perpetrator=actor, title=f"Numbered {k:02d}")
        for _ in range(k % 3 + 1):
            make_citation(incident=incident)
        made.append(incident)
    return made


def open_changelist(client, name, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(f"admin:archive_{name}_changelist"), params)
    assert response.status_code == 200, response.content[:500]
    return response, [query["sql"] for query in queries.captured_queries]


def shape(sql):
    """A query with its literal values and lists of ids blanked: what does not depend on the rows."""
    sql = re.sub(r"IN \([^)]*\)", "IN (…)", sql)
    return re.sub(r"\b\d+\b", "N", sql)


def titles(response):
    return [incident.title for incident in response.context["cl"].result_list]


def cells(response, column):
    html = response.content.decode()
    return re.findall(rf'<td class="field-{column}">([^<]*)</td>', html)


def test_incident_changelist_queries_do_not_depend_on_the_rows(superuser_client):
    site, actor = make_site(), make_actor()
    build(CAP + 1, site, actor)
    _, small = open_changelist(superuser_client, "incident")
    build(50, site, actor)
    response, large = open_changelist(superuser_client, "incident")
    # The same queries, in number and in shape, just over the cap and eight times over: session,
    # user, the capped count (and PostgreSQL's estimate), the page, its monuments, its actors and
    # its counts, and the filters' choices.
    assert [shape(sql) for sql in small] == [shape(sql) for sql in large]
    counts = [sql for sql in large if "COUNT(" in sql.upper() and '"archive_incident"' in sql]
    page = next(sql for sql in large if sql.startswith('SELECT "archive_incident"."id"') and "LIMIT" in sql)
    # No count over every row: the list's count reads at most CAP + 1 rows…
    assert all(f"LIMIT {CAP + 1}" in sql for sql in counts if "GROUP BY" not in sql), counts
    # …and the page's query selects no count of citations: those come for the page's ids only.
    assert "archive_citation" not in page
    figures = [sql for sql in large if "archive_citation" in sql and '"archive_incident"."id" IN (' in sql]
    assert len(figures) == 1


def test_the_count_is_exact_up_to_the_cap_then_estimated_or_a_floor(superuser_client):
    site, actor = make_site(), make_actor()
    build(CAP, site, actor)
    response, _ = open_changelist(superuser_client, "incident")
    count = response.context["cl"].result_count
    assert (count, count.kind) == (CAP, "exact")
    assert f"{CAP} incidents" in response.content.decode()

    build(10, site, actor)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE archive_incident")
    response, _ = open_changelist(superuser_client, "incident")
    count = response.context["cl"].result_count
    if connection.vendor == "postgresql":
        # pg_class.reltuples, refreshed by ANALYZE: no row is read to count them.
        assert (count, count.kind) == (16, "estimate")
        assert "about 16 incidents" in response.content.decode()
    else:
        assert count.kind == "floor"
        assert f"more than {CAP} incidents" in response.content.decode()
    # A filtered list over the cap is estimated or a floor too, never counted in full.
    response, _ = open_changelist(superuser_client, "incident", status__exact="draft")
    assert not response.context["cl"].result_count.is_exact


def test_pages_are_in_order_and_the_last_is_read_from_the_end(superuser_client):
    site, actor = make_site(), make_actor()
    made = build(CAP, site, actor)  # exact count: 6 rows, pages of 4
    newest_first = [incident.title for incident in reversed(made)]
    first, _ = open_changelist(superuser_client, "incident")
    last, queries = open_changelist(superuser_client, "incident", p="2")
    assert titles(first) + titles(last) == newest_first
    # The last page: the oldest rows, asked for in the opposite order, from the start (no OFFSET).
    # Its keys alone, without the joins to what the rows show (SQLite, given the joins, would start
    # from the smallest table and sort every incident); then those rows by key.
    page = next(sql for sql in queries if sql.startswith('SELECT "archive_incident"."id"') and "LIMIT" in sql)
    assert re.search(r'ORDER BY ("archive_incident"\."id"|1) ASC LIMIT', page), page
    assert "OFFSET" not in page and "JOIN" not in page
    rows = next(sql for sql in queries if "archive_site" in sql and "archive_incident" in sql and " IN (" in sql)
    assert "LIMIT" not in rows

    build(10, site, actor)  # over the cap: the last page shows the oldest rows all the same
    response, _ = open_changelist(superuser_client, "incident")
    pages = response.context["cl"].paginator.num_pages
    last, _ = open_changelist(superuser_client, "incident", p=str(pages))
    assert titles(last) == newest_first[-PER_PAGE:]


def test_the_counts_shown_are_the_incidents_own(superuser_client):
    site, actor = make_site(), make_actor()
    made = build(5, site, actor)
    response, _ = open_changelist(superuser_client, "incident")
    shown = dict(zip(cells(response, "title") or titles(response), cells(response, "citation_count"), strict=False))
    expected = {incident.title: str(incident.citations.count()) for incident in made[-PER_PAGE:]}
    assert dict(zip(titles(response), cells(response, "citation_count"), strict=True)) == expected
    assert shown
    # Every citation is from its own source: each counts as an origin, when it names the monument.
    origins = dict(Incident.objects.with_counts().values_list("title", "origin_count"))
    assert dict(zip(titles(response), cells(response, "origin_count"), strict=True)) == {
        title: str(origins[title]) for title in expected
    }


def test_the_citations_filter_still_filters(superuser_client):
    site, actor = make_site(), make_actor()
    build(6, site, actor)
    uncited = make_incident(site=site, perpetrator=actor, title="Nothing cited")
    response, _ = open_changelist(superuser_client, "incident", citations="none")
    assert titles(response) == [uncited.title]
    several = set(Incident.objects.with_counts().filter(origin_count__gte=2).values_list("title", flat=True))
    response, _ = open_changelist(superuser_client, "incident", citations="several")
    assert set(titles(response)) == several


def test_citation_and_source_changelists_do_not_depend_on_the_rows(superuser_client):
    site, actor = make_site(), make_actor()
    build(CAP + 1, site, actor)
    small = {name: open_changelist(superuser_client, name)[1] for name in ("citation", "source")}
    build(12, site, actor)
    for name in ("citation", "source"):
        response, large = open_changelist(superuser_client, name)
        assert [shape(sql) for sql in small[name]] == [shape(sql) for sql in large], name
        assert not response.context["cl"].result_count.is_exact
    # The source's figures are its own.
    source = make_source(title="A fresh report", published_on=datetime.date(2020, 1, 1))  # newest first
    make_citation(source=source, incident=make_incident(site=site, perpetrator=actor))
    make_citation(source=source, incident=make_incident(site=site, perpetrator=actor))
    response, _ = open_changelist(superuser_client, "source")
    row = response.context["cl"].result_list[0]
    assert (row.title, row.citation_count, row.incident_count) == ("A fresh report", 2, 2)


def test_curators_are_not_offered_the_editors_actions(curator_client, superuser_client):
    make_incident()
    # A curator may publish, withdraw, merge and delete nothing: no action at all is offered.
    assert offered_actions(curator_client) == []
    assert {"publish_selected", "withdraw_selected", "merge_selected"} <= set(offered_actions(superuser_client))


def offered_actions(client):
    response, _ = open_changelist(client, "incident")
    form = response.context["action_form"]
    return [] if form is None else [value for value, _ in form.fields["action"].choices if value]
