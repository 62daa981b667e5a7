"""Migration 0003 carries existing records over: every record starts at version 1, nothing is
lost, and from then on the database refuses to change a cited source's text."""

import pytest
from django.db import IntegrityError, transaction

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("archive", "0002_image_file_sha256")]
AFTER = [("archive", "0003_versions_review_and_cited_text_trigger")]


@pytest.mark.django_db(transaction=True)
def test_existing_records_get_version_one_and_the_trigger_guards_cited_texts():
    old = migrate(BEFORE)
    try:
        Site, Actor = old.get_model("archive", "Site"), old.get_model("archive", "Actor")
        Source, Incident = old.get_model("archive", "Source"), old.get_model("archive", "Incident")
        Citation = old.get_model("archive", "Citation")
        site = Site.objects.create(name="Palmyra", slug="palmyra", country="Syria")
        actor = Actor.objects.create(name="Islamic State", slug="islamic-state", kind="armed_group")
        text = "Islamic State militants blew up the Temple of Bel."
        source = Source.objects.create(
            slug="a", title="A", publisher="P", origin="AFP", received_text=text, sha256="x" * 64, reading_text=text
        )
        incident = Incident.objects.create(
            slug="bel", title="Bel destroyed", kind="destruction", site=site, perpetrator=actor,
            occurred_from="2015-08-30", occurred_to="2015-08-30", status="published",
        )  # fmt: skip
        Citation.objects.create(
            incident=incident, source=source, quote="blew up the Temple of Bel", position_start=24, position_end=49
        )
        new = migrate(AFTER)
        Source, Incident = new.get_model("archive", "Source"), new.get_model("archive", "Incident")
        Citation = new.get_model("archive", "Citation")
        assert Incident.objects.get(slug="bel").version == 1
        assert Incident.objects.get(slug="bel").title == "Bel destroyed"
        assert Citation.objects.get().version == 1 and Citation.objects.get().quote == "blew up the Temple of Bel"
        assert Source.objects.get(slug="a").version == 1
        with pytest.raises(IntegrityError), transaction.atomic():
            Source.objects.filter(slug="a").update(received_text="Changed.")
        assert Source.objects.get(slug="a").received_text == text
    finally:
        migrate_to_latest()
