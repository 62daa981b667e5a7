"""Migration 0011 numbers the stored incidents per site prefix in the order they were created,
gives their history rows the same identifier and a deleted incident's history a number of its
own, and starts each counter after the highest number given, so nothing is handed out twice."""

import datetime

import pytest
from django.utils import timezone

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("archive", "0010_source_originals")]
AFTER = [("archive", "0011_incident_identifier")]


@pytest.mark.django_db(transaction=True)
def test_existing_incidents_are_numbered_in_creation_order_per_prefix():
    old = migrate(BEFORE)
    try:
        Site = old.get_model("archive", "Site")
        Incident = old.get_model("archive", "Incident")
        HistoricalIncident = old.get_model("archive", "HistoricalIncident")
        aleppo = Site.objects.create(name="Aleppo", slug="aleppo", country="Syria")
        old_city = Site.objects.create(name="Old City", slug="old-city", country="Syria", parent=aleppo)
        palmyra = Site.objects.create(name="Palmyra", slug="palmyra", country="Syria")
        raqqa = Site.objects.create(name="Raqqa", slug="raqqa", country="Syria")
        start = timezone.now() - datetime.timedelta(days=30)
        # Created in this order, but given ids in another: the creation date decides.
        plan = [("c", palmyra, 3), ("a", palmyra, 1), ("b", old_city, 2), ("d", aleppo, 4), ("e", raqqa, 5)]
        made = {}
        for slug, site, day in plan:
            incident = Incident.objects.create(slug=slug, title=slug.upper(), kind="damage", site=site)
            Incident.objects.filter(pk=incident.pk).update(created_at=start + datetime.timedelta(days=day))
            made[slug] = incident
        a = made["a"]
        HistoricalIncident.objects.create(
            id=a.pk, slug="a", title="A", kind="damage", site_id=palmyra.pk, created_at=a.created_at,
            updated_at=a.updated_at, history_date=start, history_type="+",
        )  # fmt: skip
        # An incident deleted long ago: only its history is left.
        HistoricalIncident.objects.create(
            id=9999, slug="gone", title="Gone", kind="damage", site_id=palmyra.pk, created_at=start,
            updated_at=start, history_date=start, history_type="-",
        )  # fmt: skip

        new = migrate(AFTER)
        Incident = new.get_model("archive", "Incident")
        HistoricalIncident = new.get_model("archive", "HistoricalIncident")
        IdentifierCounter = new.get_model("archive", "IdentifierCounter")
        got = {i.slug: (i.identifier_prefix, i.identifier_number) for i in Incident.objects.all()}
        assert got == {"a": ("PAL", 1), "c": ("PAL", 2), "b": ("ALP", 1), "d": ("ALP", 2), "e": ("RAQ", 1)}
        assert HistoricalIncident.objects.get(slug="a").identifier_number == 1
        assert (HistoricalIncident.objects.get(slug="gone").identifier_prefix,) == ("PAL",)
        assert HistoricalIncident.objects.get(slug="gone").identifier_number == 3
        assert dict(IdentifierCounter.objects.values_list("prefix", "last_number")) == {"PAL": 3, "ALP": 2, "RAQ": 1}
    finally:
        migrate_to_latest()

    # On the current schema the next Palmyra incident takes the next number, not a spent one.
    from archive.models import Incident as Current
    from tests.factories import make_incident

    incident = make_incident(site=Current.objects.get(slug="a").site)
    assert incident.identifier == "PAL-0004"
