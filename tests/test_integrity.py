"""The rules of the record hold on every path: admin pages, bulk actions, the ORM, and (for a
cited source's text) the database itself."""

import json
from html import unescape
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from archive.models import Citation, Source
from archive.models.incidents import KEEPS_CITATION
from tests.factories import make_citation, make_incident, make_source
from tests.test_admin import changeform_data


def staff(client, group, username):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


# A published incident keeps a supporting citation


@pytest.mark.django_db
def test_moving_the_only_citation_of_a_published_incident_away_is_refused_on_the_citation_form(client):
    published = make_incident(citations=1, status="published", title="Bel")
    other = make_incident(title="Other draft")
    citation = published.citations.get()
    editor = staff(client, "Editor", "editor")
    url = reverse("admin:archive_citation_change", args=[citation.pk])
    data = changeform_data(editor.get(url))
    data["incident"] = str(other.pk)
    response = editor.post(url, data, follow=True)
    assert KEEPS_CITATION.format(incident="Bel") in unescape(response.content.decode())
    citation.refresh_from_db()
    assert citation.incident_id == published.pk


@pytest.mark.django_db
def test_deleting_every_citation_of_a_published_incident_in_bulk_is_refused(client):
    published = make_incident(citations=2, status="published", title="Bel")
    editor = staff(client, "Editor", "editor")
    response = editor.post(
        reverse("admin:archive_citation_changelist"),
        {"action": "delete_selected", "_selected_action": list(published.citations.values_list("pk", flat=True)),
         "post": "yes"},
        follow=True,
    )  # fmt: skip
    assert published.citations.count() == 2
    assert KEEPS_CITATION.format(incident="Bel") in unescape(response.content.decode())


@pytest.mark.django_db
def test_the_orm_keeps_the_rule_for_single_and_bulk_changes():
    published = make_incident(citations=2, status="published", title="Bel")
    other = make_incident()
    first, second = published.citations.all()
    first.delete()  # one of two: fine
    with pytest.raises(ValidationError, match="must keep at least one supporting citation"):
        second.delete()
    with pytest.raises(ValidationError):
        Citation.objects.filter(incident=published).delete()
    with pytest.raises(ValidationError):
        Citation.objects.filter(incident=published).update(incident=other)
    with pytest.raises(ValidationError):
        Citation.objects.filter(incident=published).update(stance="disputes")
    second.incident = other
    with pytest.raises(ValidationError):
        second.save()
    assert Citation.objects.filter(incident=published).count() == 1
    # A draft's citations come and go freely, and deleting the incident takes its citations.
    make_citation(incident=other).delete()
    published.delete()
    assert not Citation.objects.filter(pk=second.pk).exists()


# A cited source's text never changes


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_a_cited_sources_text_by_update():
    source = make_source()
    make_citation(source=source)
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.filter(pk=source.pk).update(received_text="Rewritten.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.filter(pk=source.pk).update(sha256="0" * 64)
    source.refresh_from_db()
    assert source.received_text.startswith("Test headline about Palmyra")
    # An uncited source's text may still be corrected (the model re-hashes it on save).
    uncited = make_source()
    Source.objects.filter(pk=uncited.pk).update(received_text="Corrected.")


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_a_cited_sources_text_by_loaddata(tmp_path):
    source = make_source(slug="cited")
    make_citation(source=source)
    fixture = tmp_path / "changed.json"
    record = json.loads(call_command_output("dumpdata", "archive.source", "--natural-primary"))
    record[0]["fields"]["received_text"] = "Rewritten by a fixture."
    fixture.write_text(json.dumps(record))
    with pytest.raises(IntegrityError):
        call_command("loaddata", str(fixture), stdout=StringIO())
    source.refresh_from_db()
    assert source.received_text.startswith("Test headline about Palmyra")


def call_command_output(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
