"""Whole-archive figures — the home page's counts, the timelines, a site's count of incidents — kept
as summaries in a table every worker shares, and renewed when what the public sees changes.

Each figure counts or groups every published incident (2.4 s at a million incidents), so it is
computed once and stored, not per request nor per worker: in the `summaries` cache, a database
table (`createcachetable`) whose entries never expire and which `cache.clear()` leaves alone. A
stored figure belongs to a *generation*. Saving an incident that is published or withdrawn —
publishing it, withdrawing it, merging it, an editor's change to it — starts a new generation when
the transaction commits; the figures of the old generation are then computed again once, by the first page that
asks, and stored for every worker. A draft's changes start none: drafts are never counted.

Writes that bypass `Incident.save()` (bulk inserts of `generate_synthetic` and the imports) are
caught by the stamp each figure keeps of the newest incident row (a page passes the one it has
read; called alone, the newest citation too). `refresh()` starts a new generation at once: what
a write that changes published rows through `QuerySet.update()` or a bulk import should call.
"""

import uuid

from django.core.cache import caches
from django.db import connection, transaction

STORE = "summaries"
GENERATION = "generation"


def stamp():
    """The newest incident and citation rows: bulk inserts change it, and write no history.
    (A page passes the newest incident row it has read already, archive.views.aggregates.)"""
    from .models import Citation, Incident

    quote = connection.ops.quote_name
    tables = [(quote(model._meta.db_table), quote(model._meta.pk.column)) for model in (Incident, Citation)]
    with connection.cursor() as cursor:  # one query, two index look-ups
        cursor.execute("SELECT " + ", ".join(f"(SELECT MAX({pk}) FROM {table})" for table, pk in tables))
        return "|".join(str(pk) for pk in cursor.fetchone())


def figure(name, compute, store=None, newest=None):
    """The stored figure `name` of the current generation, else `compute()`, stored for every worker.
    `newest`: the stamp of the newest rows, if the caller has it."""
    store = store or caches[STORE]
    found = store.get_many([f"figure:{name}", GENERATION])
    version = (found.get(GENERATION, 0), newest or stamp())
    entry = found.get(f"figure:{name}")
    if entry is not None and entry[0] == version:
        return entry[1]
    value = compute()
    # Stored under the generation read before computing: a change committed meanwhile makes it stale.
    store.set(f"figure:{name}", (version, value), None)
    return value


def refresh(store=None):
    """Start a new generation: every figure is computed again once, by the first page that asks.
    (One generation for all: an incident moved from one site to another changes both.)"""
    # A new value, never a counter incremented: two workers' increments could meet at one value.
    (store or caches[STORE]).set(GENERATION, uuid.uuid4().hex, None)


def incident_saved(incident):
    """Called by Incident.save(): a published or withdrawn incident changes what the public sees."""
    from .models import Status

    if incident.status != Status.DRAFT:
        transaction.on_commit(refresh, robust=True)
