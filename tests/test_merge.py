"""Merging two incidents recorded for the same event (issue 10, item 4): everything of the absorbed
incident moves to the survivor, both histories record it, the absorbed one's public address answers
301 to the survivor, and its slug is never reused."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from archive.models import Figure, Incident
from archive.models.incidents import MERGE_PERMISSION
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db


def user_in(group):
    user = get_user_model().objects.create_user(group.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def twins():
    site = make_site()
    bel, baalshamin = make_monument(site=site, name="Temple of Bel"), make_monument(site=site, name="Baalshamin")
    islamic_state, russia = make_actor(name="Islamic State"), make_actor(name="Russia")
    shared = make_source()
    survivor = make_incident(title="Bel destroyed", site=site, monuments=[bel], perpetrator=islamic_state)
    make_citation(incident=survivor, source=shared)
    survivor.publish(None)
    absorbed = make_incident(
        title="Temple of Bel blown up", site=site, monuments=[baalshamin],
        actors=[(islamic_state, "perpetrator"), (russia, "accused")],
    )  # fmt: skip
    twin = make_citation(incident=absorbed, source=shared)  # the same passage, cited on both
    Figure.objects.create(citation=twin, measure="killed", low=3)
    other = make_citation(incident=absorbed, source=make_source(origin="Reuters/AP"))
    absorbed.publish(None)
    return survivor, absorbed, other


def test_merging_moves_everything_and_keeps_the_slug(twins, client):
    survivor, absorbed, other = twins
    survivor.merge(absorbed, user_in("Editor"))
    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    assert absorbed.merged_into == survivor and absorbed.status == "withdrawn"
    assert "Merged into “Bel destroyed”" in absorbed.withdrawn_reason
    assert survivor.citations.count() == 2  # the shared passage once, the other moved
    assert Figure.objects.get().citation.incident == survivor  # the twin's figure kept
    assert other in survivor.citations.all()
    assert {m.name for m in survivor.monuments.all()} == {"Temple of Bel", "Baalshamin"}
    assert sorted((a.name, r) for a, r in survivor.actor_roles) == [
        ("Islamic State", "Perpetrator"), ("Russia", "Accused by a claimant")
    ]  # fmt: skip
    assert survivor.assessment == "corroborated"  # two origins now name it
    assert survivor.history.first().history_change_reason == f"Merged {absorbed.slug} into it"
    assert absorbed.history.filter(history_change_reason=f"Merged into {survivor.slug}").exists()

    response = client.get(reverse("archive:incident-detail", args=[absorbed.slug]))
    assert response.status_code == 301 and response["Location"] == survivor.get_absolute_url()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_incident(slug=absorbed.slug)  # never reused


def test_only_an_editor_merges_and_not_twice(twins):
    survivor, absorbed, _ = twins
    with pytest.raises(ValidationError) as caught:
        survivor.merge(absorbed, user_in("Curator"))
    assert MERGE_PERMISSION in caught.value.messages
    assert Incident.objects.get(pk=absorbed.pk).merged_into is None
    editor = user_in("Editor")
    with pytest.raises(ValidationError):
        survivor.merge(survivor, editor)
    survivor.merge(absorbed, editor)
    with pytest.raises(ValidationError) as caught:
        make_incident().merge(Incident.objects.get(pk=absorbed.pk), editor)
    assert "was already merged" in caught.value.messages[0]


def test_an_editor_merges_in_the_admin(twins, client):
    survivor, absorbed, _ = twins
    client.force_login(user_in("Editor"))
    url = reverse("admin:archive_incident_changelist")
    selected = {"action": "merge_selected", "_selected_action": [survivor.pk, absorbed.pk]}
    page = client.post(url, selected)
    assert page.status_code == 200 and "Keep which one?" in page.content.decode()
    response = client.post(url, {**selected, "confirm_merge": "yes", "survivor": survivor.pk})
    assert response.status_code == 302
    assert Incident.objects.get(pk=absorbed.pk).merged_into_id == survivor.pk


def test_a_curator_is_not_offered_the_merge(twins, client):
    client.force_login(user_in("Curator"))
    page = client.get(reverse("admin:archive_incident_changelist")).content.decode()
    assert 'value="merge_selected"' not in page


def test_a_draft_survivor_does_not_leak_through_the_redirect(client):
    survivor = make_incident(title="A draft")
    absorbed = make_incident(citations=1, status="published")
    survivor.merge(absorbed, user_in("Editor"))
    assert client.get(reverse("archive:incident-detail", args=[absorbed.slug])).status_code == 404
