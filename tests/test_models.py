"""The rules the data must keep: model validation (messages name the field) and database constraints."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from archive.models import Citation, Incident, Monument, Site, Source
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db


def assert_invalid(instance, field, words):
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    assert field in caught.value.message_dict, caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])


def assert_refused_by_database(model, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**values)


class TestDateRange:
    def test_reversed_interval_is_invalid(self):
        incident = make_incident()
        incident.occurred = "2016-01-02/2016-01-01"
        assert_invalid(incident, "occurred", "is not a date the archive can record")

    def test_database_refuses_end_before_start(self):
        incident = make_incident()
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(
                occurred_from=datetime.date(2016, 1, 2), occurred_to=datetime.date(2016, 1, 1)
            )

    def test_same_day_is_valid(self):
        make_incident(occurred_from=datetime.date(2016, 1, 1), occurred_to=datetime.date(2016, 1, 1)).full_clean()


class TestCoordinates:
    @pytest.mark.parametrize(("field", "value"), [("latitude", "90.5"), ("latitude", "-91"), ("longitude", "180.1")])
    def test_off_the_globe_is_invalid(self, field, value):
        monument = make_monument(latitude=Decimal("34.5"), longitude=Decimal("38.2"))
        setattr(monument, field, Decimal(value))
        assert_invalid(monument, field, "")

    def test_database_refuses_latitude_off_the_globe(self):
        assert_refused_by_database(Site, name="X", slug="x", country="Syria", latitude=Decimal("95"), longitude=0)

    def test_database_refuses_longitude_off_the_globe(self):
        site = make_site()
        assert_refused_by_database(
            Monument, site=site, name="X", slug="x", kind="temple", latitude=0, longitude=Decimal("-181")
        )

    def test_half_a_coordinate_is_invalid(self):
        monument = make_monument(latitude=None, longitude=None)
        monument.latitude = Decimal("34.5")
        assert_invalid(monument, "longitude", "both latitude and longitude")

    def test_database_refuses_half_a_coordinate(self):
        assert_refused_by_database(Site, name="X", slug="x", country="Syria", latitude=Decimal("34"))


class TestSlugsAndChoices:
    def test_duplicate_slug_is_invalid(self):
        make_monument(slug="temple-of-bel")
        duplicate = Monument(site=make_site(), name="Other", slug="temple-of-bel", kind="temple")
        assert_invalid(duplicate, "slug", "already exists")

    @pytest.mark.parametrize("model_factory", [make_site, make_monument, make_actor, make_source, make_incident])
    def test_database_refuses_duplicate_slug(self, model_factory):
        first = model_factory()
        with pytest.raises(IntegrityError), transaction.atomic():
            type(first).objects.filter(pk=model_factory().pk).update(slug=first.slug)

    def test_database_refuses_unknown_incident_kind(self):
        incident = make_incident()
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(kind="rumour")

    def test_database_refuses_unknown_status(self):
        incident = make_incident()
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(status="secret")

    def test_unknown_kind_is_invalid(self):
        incident = make_incident()
        incident.kind = "rumour"
        assert_invalid(incident, "kind", "not a valid choice")

    def test_bad_wikidata_id_is_invalid(self):
        monument = make_monument(wikidata="5747")
        assert_invalid(monument, "wikidata", "Q followed by digits")


class TestPublishing:
    def test_cannot_publish_without_citation(self):
        incident = make_incident()
        with pytest.raises(ValidationError, match="at least one supporting citation"):
            incident.publish(user=None)
        make_citation(incident=incident, stance="disputes")  # a disputing citation is not enough
        with pytest.raises(ValidationError, match="at least one supporting citation"):
            incident.publish(user=None)
        incident.refresh_from_db()
        assert incident.status == "draft"

    def test_publish_with_citation_records_when(self):
        incident = make_incident(citations=1)
        incident.publish(user=None)
        incident.refresh_from_db()
        assert incident.status == "published"
        assert incident.published_at is not None

    def test_withdrawn_needs_a_reason(self):
        incident = make_incident(citations=1)
        incident.status = "withdrawn"
        assert_invalid(incident, "withdrawn_reason", "why")
        with pytest.raises(ValidationError):
            incident.withdraw(user=None, reason="  ")

    def test_database_refuses_withdrawn_without_reason(self):
        incident = make_incident(citations=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(status="withdrawn", withdrawn_reason="")

    def test_withdraw_keeps_reason(self):
        incident = make_incident(citations=1, status="published")
        incident.withdraw(user=None, reason="The source retracted the report.")
        incident.refresh_from_db()
        assert (incident.status, incident.withdrawn_reason) == ("withdrawn", "The source retracted the report.")


class TestCitationQuote:
    TEXT = "Isis destroyed the “Temple of Bel”   last year,\nactivists said. It’s gone.\n"

    def test_quote_with_straight_quotes_and_other_spacing_is_found(self):
        source = make_source(received_text=self.TEXT)
        citation = make_citation(source=source, quote='the "Temple of Bel" last year, activists')
        start = self.TEXT.index("the “Temple")
        end = self.TEXT.index(" said")
        assert (citation.position_start, citation.position_end) == (start, end)
        assert citation.quote == self.TEXT[start:end]  # the source's exact text, not the pasted one
        assert citation.prefix == self.TEXT[:start]
        assert citation.suffix.startswith(" said.")

    def test_curly_apostrophe_matches_straight(self):
        source = make_source(received_text=self.TEXT)
        citation = make_citation(source=source, quote="It's gone.")
        assert citation.quote == "It’s gone."

    def test_quote_not_in_source_is_refused_with_closest_passage(self):
        source = make_source(received_text=self.TEXT)
        citation = Citation(incident=make_incident(), source=source, quote="Isis destroyed the Temple of Baal")
        with pytest.raises(ValidationError) as caught:
            citation.full_clean()
        message = " ".join(caught.value.message_dict["quote"])
        assert "does not occur in the source" in message
        assert "Isis destroyed the “Temple of Bel" in message
        assert "“Baal”" in message  # how it differs
        with pytest.raises(ValidationError):
            citation.save()
        assert not Citation.objects.exists()

    def test_database_refuses_inverted_offsets(self):
        citation = make_citation()
        with pytest.raises(IntegrityError), transaction.atomic():
            Citation.objects.filter(pk=citation.pk).update(position_end=citation.position_start)

    def test_repeated_quote_is_anchored_near_its_context(self):
        text = "A wall fell. Then more.\nLater: A wall fell. The end.\n"
        source = make_source(received_text=text)
        citation = make_citation(source=source, quote="A wall fell.")
        assert citation.position_start == 0
        second = Citation(incident=make_incident(), source=source, quote="A wall fell.", prefix="Later: ")
        second.save()
        assert second.position_start == text.index("Later: ") + len("Later: ")

    def test_selectors_follow_w3c_model(self):
        citation = make_citation()
        quote, position = citation.selectors()
        assert quote["type"] == "TextQuoteSelector" and quote["exact"] == citation.quote
        assert position == {
            "type": "TextPositionSelector",
            "start": citation.position_start,
            "end": citation.position_end,
        }


class TestSourceIsEvidence:
    def test_cited_source_cannot_be_deleted(self):
        citation = make_citation()
        with pytest.raises(ProtectedError) as caught:
            citation.source.delete()
        assert "cited" in str(caught.value)
        assert Source.objects.filter(pk=citation.source.pk).exists()

    def test_database_protects_cited_source(self):
        citation = make_citation()
        with pytest.raises(ProtectedError):
            Source.objects.filter(pk=citation.source.pk).delete()

    def test_uncited_source_can_be_deleted(self):
        source = make_source()
        source.delete()
        assert not Source.objects.exists()

    def test_cited_source_text_cannot_change(self):
        citation = make_citation()
        source = Source.objects.get(pk=citation.source.pk)
        source.received_text += "An edit."
        with pytest.raises(ValidationError) as caught:
            source.save()
        assert "received_text" in caught.value.message_dict
        source.refresh_from_db()
        assert not source.received_text.endswith("An edit.")

    def test_cited_source_metadata_can_change(self):
        citation = make_citation()
        source = citation.source
        source.title = "Corrected title"
        source.save()
        assert Source.objects.get(pk=source.pk).title == "Corrected title"

    def test_uncited_source_text_can_change_and_hash_follows(self):
        source = make_source(received_text="First version.\n")
        old_hash = source.sha256
        source.received_text = "Second version.\n"
        source.save()
        assert source.sha256 != old_hash

    def test_same_text_twice_is_invalid(self):
        first = make_source()
        twin = Source(slug="twin", title="Twin", publisher="P", origin="O", received_text=first.received_text)
        assert_invalid(twin, "received_text", "already in the archive")


class TestDerivedFacts:
    def test_condition_from_published_incidents_only(self):
        bel = make_monument()
        assert bel.current_condition() == "unknown"
        make_incident(kind="destruction", monuments=[bel])  # a draft says nothing in public
        assert bel.current_condition() == "unknown"
        make_incident(kind="killing", monuments=[bel], citations=1, status="published")
        assert bel.current_condition() == "intact"
        make_incident(kind="damage", monuments=[bel], citations=1, status="published")
        assert bel.current_condition() == "damaged"
        make_incident(kind="destruction", monuments=[bel], citations=1, status="withdrawn")
        assert bel.current_condition() == "damaged"
        make_incident(kind="destruction", monuments=[bel], citations=1, status="published")
        assert bel.current_condition() == "destroyed"

    def test_independent_origins_count_wire_copy_once(self):
        incident = make_incident()
        text = "Shared wire copy: the arch was blown up.\n"
        make_citation(
            incident=incident,
            source=make_source(origin="AFP", received_text=text + "Outlet one."),
            quote="the arch was blown up",
        )
        make_citation(
            incident=incident,
            source=make_source(origin="AFP", received_text=text + "Outlet two."),
            quote="the arch was blown up",
        )
        make_citation(
            incident=incident,
            source=make_source(origin="Reuters", received_text=text + "Three."),
            quote="the arch was blown up",
        )
        make_citation(
            incident=incident,
            source=make_source(origin="Guardian", received_text=text + "Four."),
            quote="the arch was blown up",
            stance="disputes",
        )
        counted = Incident.objects.with_counts().get(pk=incident.pk)
        assert (counted.citation_count, counted.origin_count) == (4, 2)
