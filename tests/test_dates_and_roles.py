"""Dates as the sources give them (EDTF, archive.dates) and actors with roles (IncidentActor)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from archive.dates import NO_EARLIER, NO_LATER, parse_when
from archive.models import ActorRole, Incident, IncidentActor
from archive.models.incidents import NEEDS_ACTOR
from tests.factories import make_actor, make_citation, make_incident

pytestmark = pytest.mark.django_db


class TestEdtf:
    @pytest.mark.parametrize(
        ("value", "earliest", "latest", "precision", "text"),
        [
            ("2016-03-24", "2016-03-24", "2016-03-24", "day", "24 March 2016"),
            ("2015-05", "2015-05-01", "2015-05-31", "month", "May 2015"),
            ("2015", "2015-01-01", "2015-12-31", "year", "2015"),
            ("2015-21", "2015-03-01", "2015-05-31", "season", "spring 2015"),
            ("2016-12-10/2016-12-11", "2016-12-10", "2016-12-11", "interval", "10–11 December 2016"),
            ("2015-05/2016-03", "2015-05-01", "2016-03-31", "interval", "May 2015 – March 2016"),
            ("../2016-03-24", None, "2016-03-24", "open", "by 24 March 2016"),
            ("2015-05/..", "2015-05-01", None, "open", "from May 2015 (end not given)"),
            ("2016-03~", "2016-03-01", "2016-03-31", "month", "about March 2016"),
            ("2016-03?", "2016-03-01", "2016-03-31", "month", "March 2016 (uncertain)"),
            ("", None, None, "undated", "Undated"),
        ],
    )
    def test_bounds_precision_and_words_follow_from_the_value(self, value, earliest, latest, precision, text):
        when = parse_when(value)
        assert when.earliest == (datetime.date.fromisoformat(earliest) if earliest else None)
        assert when.latest == (datetime.date.fromisoformat(latest) if latest else None)
        assert (when.precision, when.text) == (precision, text)

    def test_unknown_end_is_not_given_a_bound(self):
        # The edtf package would put an unknown start ten years before the end: the archive does not.
        assert parse_when("/2014").earliest is None

    @pytest.mark.parametrize(
        "value", ["garbage", "2016-13", "2016-02-30", "2016-XX", "24/03/2016", "2016-03-24/2016-03-01"]
    )
    def test_a_value_that_does_not_parse_is_refused_naming_the_field(self, value):
        incident = make_incident()
        incident.occurred = value
        with pytest.raises(ValidationError) as caught:
            incident.full_clean()
        assert "occurred" in caught.value.message_dict
        assert value in caught.value.message_dict["occurred"][0]
        with pytest.raises(ValidationError):
            incident.save()
        incident.refresh_from_db()
        assert incident.occurred == "2015-08-30"

    def test_bounds_are_derived_on_save(self):
        incident = make_incident(occurred="2015-05/2016-03-23")
        incident.refresh_from_db()
        assert (incident.occurred_from, incident.occurred_to) == (datetime.date(2015, 5, 1), datetime.date(2016, 3, 23))
        assert incident.date_precision == "interval"

    def test_an_undated_incident_is_accepted_and_never_given_a_bound(self):
        incident = make_incident(occurred="", citations=1, status="published")
        incident.full_clean()
        incident.refresh_from_db()
        assert (incident.occurred_from, incident.occurred_to) == (NO_EARLIER, NO_LATER)
        assert incident.when.earliest is None and incident.when.latest is None
        assert incident.when.text == "Undated"
        assert list(Incident.objects.dated()) == []
        assert list(Incident.objects.undated()) == [incident]

    def test_overlapping_finds_a_long_incident_from_inside_its_range(self):
        long = make_incident(occurred="2015-05/2016-03")
        before = make_incident(occurred="2015-04")
        found = set(Incident.objects.overlapping(start=datetime.date(2016, 1, 1)))
        assert long in found and before not in found
        open_start = make_incident(occurred="../2014")
        assert open_start in set(Incident.objects.overlapping(end=datetime.date(1990, 1, 1)))
        assert open_start not in set(Incident.objects.overlapping(start=datetime.date(2015, 1, 1)))


class TestActorRoles:
    def test_an_incident_has_several_actors_each_with_a_role(self):
        islamic_state, russia = make_actor(name="Islamic State"), make_actor(name="Russia")
        incident = make_incident(actors=[(russia, ActorRole.SUPPORTING), (islamic_state, ActorRole.PERPETRATOR)])
        assert incident.perpetrators == [islamic_state]
        assert incident.principal_actor == islamic_state
        assert incident.actor_roles == [(russia, "Supporting force"), (islamic_state, "Perpetrator")]
        assert set(Incident.objects.with_perpetrator(islamic_state)) == {incident}
        assert set(Incident.objects.with_perpetrator(russia)) == set()
        assert set(Incident.objects.with_actor(russia)) == {incident}

    def test_publishing_needs_an_actor(self):
        incident = make_incident(actors=[])
        make_citation(incident=incident)
        with pytest.raises(ValidationError) as caught:
            incident.publish(None)
        assert NEEDS_ACTOR in caught.value.messages
        IncidentActor.objects.create(incident=incident, actor=make_actor(name="Unattributed"), role="perpetrator")
        incident.publish(None)
        assert Incident.objects.get(pk=incident.pk).status == "published"

    def test_database_refuses_an_unknown_role_and_a_repeated_one(self):
        incident, actor = make_incident(actors=[]), make_actor()
        with pytest.raises(IntegrityError), transaction.atomic():
            IncidentActor.objects.create(incident=incident, actor=actor, role="bystander")
        IncidentActor.objects.create(incident=incident, actor=actor, role=ActorRole.ACCUSED)
        with pytest.raises(IntegrityError), transaction.atomic():
            IncidentActor.objects.create(incident=incident, actor=actor, role=ActorRole.ACCUSED)
        IncidentActor.objects.create(incident=incident, actor=actor, role=ActorRole.CLAIMED)
        assert incident.actor_links.count() == 2

    def test_an_actor_in_use_cannot_be_deleted(self):
        from django.db.models import ProtectedError

        actor = make_actor()
        make_incident(perpetrator=actor)
        with pytest.raises(ProtectedError):
            actor.delete()


def _client_in(client, group):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(group.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


class TestPublishedIncidentsKeepAnActor:
    def test_the_last_actor_of_a_published_incident_cannot_be_removed(self):
        incident = make_incident(citations=1, status="published", title="Bel destroyed")
        link = incident.actor_links.get()
        with pytest.raises(ValidationError) as caught:
            link.delete()
        assert "“Bel destroyed” is published" in caught.value.messages[0]
        with pytest.raises(ValidationError):
            IncidentActor.objects.filter(incident=incident).delete()
        assert incident.actor_links.count() == 1
        # A second actor first, then the first may go.
        IncidentActor.objects.create(incident=incident, actor=make_actor(), role=ActorRole.PERPETRATOR)
        link.delete()
        assert incident.actor_links.count() == 1

    def test_a_curator_cannot_change_a_published_incidents_actors_in_the_admin(self, client):
        from django.urls import reverse

        from archive.admin.incidents import ONLY_EDITORS_CHANGE_ACTORS

        incident = make_incident(citations=1, status="published")
        curator = _client_in(client, "Curator")
        response = curator.post(
            reverse("admin:archive_incidentactor_add"),
            {"incident": incident.pk, "actor": make_actor().pk, "role": "supporting"},
        )
        assert response.status_code == 200
        assert ONLY_EDITORS_CHANGE_ACTORS in response.content.decode()
        assert incident.actor_links.count() == 1
        link = incident.actor_links.get()
        response = curator.post(reverse("admin:archive_incidentactor_delete", args=[link.pk]), {"post": "yes"})
        assert response.status_code == 403
        page = curator.get(reverse("admin:archive_incident_change", args=[incident.pk]))
        actors = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is IncidentActor)
        assert not actors.has_add_permission and not actors.has_change_permission

    def test_an_editor_adds_a_supporting_force_to_a_published_incident(self, client):
        from django.urls import reverse

        incident = make_incident(citations=1, status="published")
        russia = make_actor(name="Russia")
        editor = _client_in(client, "Editor")
        response = editor.post(
            reverse("admin:archive_incidentactor_add"),
            {"incident": incident.pk, "actor": russia.pk, "role": "supporting"},
        )
        assert response.status_code == 302
        assert (russia, "Supporting force") in incident.actor_roles
