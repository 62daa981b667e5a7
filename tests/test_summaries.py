"""The whole-archive figures (home counts, timelines, a site's count) are summaries every worker
shares: they change when an incident is published or withdrawn, never count drafts, survive a
cleared cache, and two workers — two cache clients on the one database table — read the same."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive import summaries
from archive.models import Incident
from archive.views.aggregates import cached
from tests.factories import make_actor, make_incident, make_site

pytestmark = pytest.mark.django_db(transaction=False)


def published_count():
    return Incident.objects.public().count()


def home_incidents(client):
    return client.get("/").context["counts"]["incidents"]


def worker():
    """A second worker's cache client: another process's connection to the same table."""
    return DatabaseCache("archive_summaries", {"TIMEOUT": None})


def test_the_store_is_a_database_table_shared_by_workers(settings):
    assert settings.CACHES["summaries"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    if not settings.REDIS_URL:
        assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_figures_change_on_publish_and_withdraw_and_never_count_drafts(client, django_capture_on_commit_callbacks):
    site, actor = make_site(), make_actor()
    with django_capture_on_commit_callbacks(execute=True):
        make_incident(site=site, perpetrator=actor, citations=1, status="published")
    assert home_incidents(client) == 1

    with django_capture_on_commit_callbacks(execute=True):
        draft = make_incident(site=site, perpetrator=actor, citations=1)
    assert home_incidents(client) == 1  # a draft is not counted

    with django_capture_on_commit_callbacks(execute=True):
        draft.publish(None)
    assert home_incidents(client) == 2

    with django_capture_on_commit_callbacks(execute=True):
        draft.withdraw(None, "Duplicate report.")
    assert home_incidents(client) == 1
    assert client.get(site.get_absolute_url()).context["incident_count"] == 1


def test_a_figure_is_stored_not_recomputed_and_survives_a_cleared_cache(client):
    make_incident(citations=1, status="published")
    calls = []

    def compute():
        calls.append(1)
        return published_count()

    assert cached("home-counts", compute) == 1
    cache.clear()  # the shared cache, as a restarted worker or a full cache sees it
    with CaptureQueriesContext(connection) as queries:
        assert cached("home-counts", compute) == 1
    assert calls == [1]
    # the stamp (newest incident and citation) and the stored figure with its generation
    assert len(queries) == 2, [query["sql"] for query in queries.captured_queries]


def test_two_workers_see_the_same_figures(django_capture_on_commit_callbacks):
    site, actor = make_site(), make_actor()
    make_incident(site=site, perpetrator=actor, citations=1, status="published")
    first, second = caches["summaries"], worker()
    assert summaries.figure("site-count:1", published_count, store=first) == 1
    # The second worker reads the first's figure: it never computes it.
    assert summaries.figure("site-count:1", lambda: pytest.fail("recomputed"), store=second) == 1

    # Published in the first worker: the second sees the new figure too.
    draft = make_incident(site=site, perpetrator=actor, citations=1)
    with django_capture_on_commit_callbacks(execute=True):
        draft.publish(None)
    assert summaries.figure("site-count:1", published_count, store=second) == 2
    assert summaries.figure("site-count:1", lambda: pytest.fail("recomputed"), store=first) == 2


def test_a_bulk_insert_is_seen_without_a_publish():
    make_incident(citations=1, status="published")
    assert summaries.figure("bulk-test", published_count) == 1
    site = make_site()
    Incident.objects.bulk_create(
        [Incident(slug="bulk", title="Bulk", kind="damage", site=site, occurred="2015", status="published")]
    )
    assert summaries.figure("bulk-test", published_count) == 2


def test_a_draft_edit_keeps_the_stored_figures(django_capture_on_commit_callbacks):
    make_incident(citations=1, status="published")
    draft = make_incident(citations=1)
    assert summaries.figure("draft-test", published_count) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        draft.title = "Renamed draft"
        draft.save()
    assert callbacks == []  # no new generation: nothing public changed
    assert summaries.figure("draft-test", lambda: pytest.fail("recomputed")) == 1
