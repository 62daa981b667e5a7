"""No lost edits: two people editing one record — the second save is refused with the first
one's changes, never a silent overwrite."""

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from archive.models import EditedMeanwhile, Incident, Monument
from tests.factories import make_incident, make_monument
from tests.test_admin import changeform_data

pytestmark = pytest.mark.django_db


def editor(username):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("kind", ["incident", "monument"])
def test_the_second_of_two_concurrent_saves_is_refused_with_the_first_ones_changes(kind):
    record = make_incident(title="Original title") if kind == "incident" else make_monument(name="Original title")
    field = "title" if kind == "incident" else "name"
    url = reverse(f"admin:archive_{kind}_change", args=[record.pk])
    alice, bob = editor("alice"), editor("bob")
    alice_form, bob_form = changeform_data(alice.get(url)), changeform_data(bob.get(url))

    alice_form[field] = "Alice's title"
    assert alice.post(url, alice_form).status_code == 302
    bob_form[field] = "Bob's title"
    bob_form["description"] = "Bob's description"
    response = bob.post(url, bob_form)

    assert response.status_code == 200
    errors = unescape(" ".join(response.context["adminform"].form.non_field_errors()))
    assert "was changed by alice" in errors and "so your changes were not saved" in errors
    assert "“Original title” → “Alice's title”" in errors
    model = Incident if kind == "incident" else Monument
    assert getattr(model.objects.get(pk=record.pk), field) == "Alice's title"
    # Bob's entries are still in the form; saved again, knowingly, they go in.
    assert response.context["adminform"].form[field].value() == "Bob's title"
    again = changeform_data(response)
    assert bob.post(url, again).status_code == 302
    assert getattr(model.objects.get(pk=record.pk), field) == "Bob's title"


def test_the_model_refuses_a_save_from_a_stale_copy():
    incident = make_incident(title="One")
    stale = Incident.objects.get(pk=incident.pk)
    incident.title = "Two"
    incident.save()
    stale.title = "Three"
    with pytest.raises(EditedMeanwhile):
        stale.save()
    incident.refresh_from_db()
    assert incident.title == "Two" and incident.version == 2


def test_a_citation_changed_by_someone_else_meanwhile_is_not_overwritten_from_the_incident_page():
    incident = make_incident(citations=1, title="One")
    url = reverse("admin:archive_incident_change", args=[incident.pk])
    alice = editor("alice")
    form = changeform_data(alice.get(url))
    citation = incident.citations.get()
    citation.note = "Changed meanwhile by someone else."
    citation.save()
    form["title"] = "Alice's title"
    response = alice.post(url, form)
    assert response.status_code == 200
    inline = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is citation._meta.model)
    errors = unescape(" ".join(inline.formset.forms[0].non_field_errors()))
    assert "while you were editing it" in errors and "Changed meanwhile by someone else." in errors
    citation.refresh_from_db()
    assert citation.note == "Changed meanwhile by someone else."
