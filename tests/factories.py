"""Small builders for test data: `make_incident(**overrides)` and friends.

Each builds a valid record with sensible defaults; pass only what the test is about.
"""

import datetime
import itertools

from archive.dates import edtf_of_bounds
from archive.models import Actor, ActorRole, Citation, Incident, IncidentActor, Monument, Site, Source

_counter = itertools.count(1)

ARTICLE_TEXT = (
    "Test headline about Palmyra\n\n"
    "Islamic State militants destroyed the Temple of Bel last year, activists said.\n"
    "The group also used the Roman amphitheatre for “public executions”, the Observatory reported.\n"
)


def _n():
    return next(_counter)


def make_site(**overrides):
    n = _n()
    values = {"name": f"Site {n}", "slug": f"site-{n}", "country": "Syria"}
    values.update(overrides)
    return Site.objects.create(**values)


def make_monument(**overrides):
    n = _n()
    values = {"name": f"Monument {n}", "slug": f"monument-{n}", "kind": "temple"}
    values.update(overrides)
    if "site" not in values:
        values["site"] = make_site()
    return Monument.objects.create(**values)


def make_actor(**overrides):
    n = _n()
    values = {"name": f"Actor {n}", "slug": f"actor-{n}", "kind": "armed_group"}
    values.update(overrides)
    return Actor.objects.create(**values)


def make_source(**overrides):
    n = _n()
    values = {
        "slug": f"source-{n}",
        "title": f"Source {n}",
        "publisher": "Test Gazette",
        "origin": "AFP",
        "published_on": datetime.date(2016, 3, 24),
        "received_text": f"{ARTICLE_TEXT}Source number {n}.\n",
    }
    values.update(overrides)
    return Source.objects.create(**values)


def make_incident(*, monuments=(), citations=0, actors=None, perpetrator=None, **overrides):
    """An incident (draft unless `status` is given). `citations=N` adds N citations first,
    so that a published incident is valid. `perpetrator` (an actor) or `actors` (pairs of actor
    and role) say who took part; by default a new actor as perpetrator. Dates: `occurred` (EDTF),
    or `occurred_from`/`occurred_to` (days) turned into EDTF."""
    n = _n()
    values = {"slug": f"incident-{n}", "title": f"Incident {n}", "kind": "destruction", "occurred": "2015-08-30"}
    start, end = overrides.pop("occurred_from", None), overrides.pop("occurred_to", None)
    if start is not None and "occurred" not in overrides:
        values["occurred"] = edtf_of_bounds(start, end or start, overrides.pop("date_precision", "day"))
    overrides.pop("date_precision", None)
    values.update(overrides)
    status = values.pop("status", "draft")
    if "site" not in values:
        values["site"] = make_site()
    incident = Incident.objects.create(status="draft", **values)
    if actors is None:
        actors = [(perpetrator or make_actor(), ActorRole.PERPETRATOR)]
    for actor, role in actors:
        IncidentActor.objects.create(incident=incident, actor=actor, role=role)
    if monuments:
        incident.monuments.set(monuments)
    for _ in range(citations):
        make_citation(incident=incident)
    if status != "draft":
        incident.status = status
        if status == "withdrawn":
            incident.withdrawn_reason = incident.withdrawn_reason or "Test withdrawal."
        incident.save()
    return incident


def make_citation(**overrides):
    values = {"quote": "destroyed the Temple of Bel last year", "claimant": "activists", "evidence_kind": "eyewitness"}
    values.update(overrides)
    if "source" not in values:
        values["source"] = make_source()
    if "incident" not in values:
        values["incident"] = make_incident()
    return Citation.objects.create(**values)
