"""Migration 0007 carries an existing record over to actors with roles and EDTF dates without
loss: the curated record as it stood before (tests/data/palmyra-before-roles-and-edtf.json,
loaded into the old schema) keeps every incident; each perpetrator becomes the incident's actor
with the role "perpetrator"; each date range becomes an EDTF value whose bounds are exactly the
old ones (never wider, never narrower), and the history keeps up."""

import datetime
import json
from pathlib import Path

import pytest

from archive.dates import parse_when
from tests.migrating import migrate, migrate_to_latest
from tests.test_migration_claims import load_old_record

BEFORE = [("archive", "0006_figure_permissions_for_roles")]
AFTER = [("archive", "0007_actor_roles_edtf_dates")]
OLD_FIXTURE = Path(__file__).parent / "data" / "palmyra-before-roles-and-edtf.json"


@pytest.mark.django_db(transaction=True)
def test_the_record_before_roles_and_edtf_migrates_without_loss(monkeypatch):
    import tests.test_migration_claims as loader

    monkeypatch.setattr(loader, "OLD_FIXTURE", OLD_FIXTURE)
    old = migrate(BEFORE)
    try:
        load_old_record(old)
        Incident = old.get_model("archive", "Incident")
        HistoricalIncident = old.get_model("archive", "HistoricalIncident")
        before = {
            i.slug: (i.perpetrator.slug, i.occurred_from, i.occurred_to, i.date_precision)
            for i in Incident.objects.select_related("perpetrator")
        }
        assert len(before) == 25
        # One earlier version of an incident, as simple-history would have kept it.
        first = Incident.objects.order_by("slug").first()
        HistoricalIncident.objects.create(
            id=first.pk, slug=first.slug, title="An earlier title", kind=first.kind, site_id=first.site_id,
            perpetrator_id=first.perpetrator_id, occurred_from=datetime.date(2015, 5, 1),
            occurred_to=datetime.date(2015, 5, 31), date_precision="month", assessment="unverified",
            status="draft", created_at=first.created_at, updated_at=first.updated_at, version=1,
            history_date=first.updated_at, history_type="~",
        )  # fmt: skip

        new = migrate(AFTER)
        Incident = new.get_model("archive", "Incident")
        IncidentActor = new.get_model("archive", "IncidentActor")
        HistoricalIncident = new.get_model("archive", "HistoricalIncident")
        HistoricalIncidentActor = new.get_model("archive", "HistoricalIncidentActor")
        after = {i.slug: i for i in Incident.objects.all()}
        assert set(after) == set(before)
        for slug, (perpetrator, start, end, precision) in before.items():
            incident = after[slug]
            links = list(IncidentActor.objects.filter(incident=incident).values_list("actor__slug", "role"))
            assert links == [(perpetrator, "perpetrator")], slug
            when = parse_when(incident.occurred)
            assert (when.earliest, when.latest) == (start, end), (slug, incident.occurred)
            assert (incident.occurred_from, incident.occurred_to) == (start, end), slug
            if precision == "day" and start == end:
                assert incident.occurred == start.isoformat()
        # The precision label no longer contradicts the range: "month" for ten months is an interval.
        assert parse_when(after["temple-of-bel-destroyed"].occurred).precision in {"interval", "month", "year"}
        assert sum(1 for i in after.values() if parse_when(i.occurred).precision == "interval") > 0
        # The history: the earlier version has its EDTF value, and each new link a first entry.
        earlier = HistoricalIncident.objects.get(title="An earlier title")
        assert earlier.occurred == "2015-05"
        assert HistoricalIncidentActor.objects.count() == IncidentActor.objects.count() == 25
        assert set(HistoricalIncidentActor.objects.values_list("history_change_reason", flat=True)) == {
            "Migration 0007: was the incident's perpetrator"
        }
        # The groups: curators may now edit an incident's actors.
        Group = new.get_model("auth", "Group")
        assert Group.objects.get(name="Curator").permissions.filter(codename="change_incidentactor").exists()
    finally:
        migrate_to_latest()


def test_the_old_fixture_is_the_record_before_the_change():
    items = json.loads(OLD_FIXTURE.read_text(encoding="utf-8"))
    incidents = [item for item in items if item["model"] == "archive.incident"]
    assert len(incidents) == 25 and all("perpetrator" in item["fields"] for item in incidents)
