"""Nothing is ever lost: the admin's history shows who changed what and when with the previous values,
an editor reverts to an earlier version, deleted records keep their history, and commands leave
their name as the reason."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from archive.models import Incident, Monument, Source
from tests.factories import make_incident, make_monument
from tests.test_admin import changeform_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_in(client):
    def login(group, username):
        user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return client

    return login


def edit(client, obj, **changes):
    model = obj._meta.model_name
    url = reverse(f"admin:archive_{model}_change", args=[obj.pk])
    data = changeform_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_the_history_shows_who_changed_what_and_the_previous_values(user_in):
    incident = make_incident(title="Temple damaged")
    client = user_in("Curator", "amina")
    edit(client, incident, title="Temple of Bel destroyed", assessment_override="corroborated",
         override_reason="Two reporters saw it.")  # fmt: skip

    response = client.get(reverse("admin:archive_incident_history", args=[incident.pk]))
    html = response.content.decode()
    latest = incident.history.first()
    assert latest.history_user.username == "amina"
    assert "amina" in html
    assert "Temple damaged" in html and "Temple of Bel destroyed" in html  # previous → new
    delta = {c.field: (c.old, c.new) for c in latest.diff_against(latest.prev_record).changes}
    assert delta["title"] == ("Temple damaged", "Temple of Bel destroyed")
    assert delta["assessment_override"] == ("", "corroborated")
    assert (latest.prev_record.assessment, latest.assessment) == ("unverified", "corroborated")


def test_an_editor_reverts_a_record_to_an_earlier_version(user_in):
    monument = make_monument(name="Temple of Bel", aliases="Temple of Baal")
    client = user_in("Editor", "editor")
    edit(client, monument, name="Temple of Bel (wrong)", aliases="")
    original = monument.history.earliest()

    url = reverse("admin:archive_monument_simple_history", args=[monument.pk, original.history_id])
    page = client.get(url)
    assert "Revert" in page.content.decode()
    response = client.post(url, changeform_data(page))
    assert response.status_code == 302
    monument.refresh_from_db()
    assert (monument.name, monument.aliases) == ("Temple of Bel", "Temple of Baal")
    assert monument.history.first().history_user.username == "editor"
    assert monument.history.count() == 3  # created, changed, reverted: the mistake stays on record


def test_a_curator_sees_versions_but_cannot_revert(user_in):
    monument = make_monument(name="Temple of Bel")
    monument.name = "Changed"
    monument.save()
    client = user_in("Curator", "amina")
    history = client.get(reverse("admin:archive_monument_history", args=[monument.pk]))
    assert history.status_code == 200
    assert "Choose a date from the list below to revert" not in history.content.decode()
    url = reverse("admin:archive_monument_simple_history", args=[monument.pk, monument.history.earliest().history_id])
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, changeform_data(page)).status_code == 403
    monument.refresh_from_db()
    assert monument.name == "Changed"


def test_a_deleted_record_keeps_its_history_and_can_be_restored(user_in):
    monument = make_monument(name="Tetrapylon")
    pk = monument.pk
    client = user_in("Editor", "editor")
    edit(client, monument, period="3rd century AD")
    response = client.post(reverse("admin:archive_monument_delete", args=[pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Monument.objects.filter(pk=pk).exists()

    history = Monument.history.filter(id=pk)
    assert [record.history_type for record in history] == ["-", "~", "+"]
    assert history.first().history_user.username == "editor"

    # Listed among deleted monuments, with a link to its history, which still opens.
    deleted = client.get(reverse("admin:archive_monument_deleted"))
    history_url = reverse("admin:archive_monument_history", args=[pk])
    assert history_url in deleted.content.decode()
    assert "Tetrapylon" in client.get(history_url).content.decode()

    # An editor restores it from its last version.
    url = reverse("admin:archive_monument_simple_history", args=[pk, history[1].history_id])
    page = client.get(url)
    assert client.post(url, changeform_data(page)).status_code == 302
    assert Monument.objects.get(pk=pk).period == "3rd century AD"


def test_commands_leave_their_name_as_the_change_reason(user_in):
    call_command("import_seeds", stdout=StringIO())
    source = Source.objects.order_by("pk").first()
    record = source.history.get()
    assert record.history_change_reason == "import_seeds"
    assert record.history_user is None
    page = user_in("Curator", "amina").get(reverse("admin:archive_source_history", args=[source.pk]))
    assert "import_seeds" in page.content.decode()


def test_publishing_and_withdrawing_are_in_the_history_with_who_and_why(user_in):
    incident = make_incident(citations=1)
    client = user_in("Editor", "editor")
    changelist = reverse("admin:archive_incident_changelist")
    client.post(changelist, {"action": "publish_selected", "_selected_action": [incident.pk], "index": 0})
    client.post(
        changelist,
        {
            "action": "withdraw_selected",
            "_selected_action": [incident.pk],
            "confirm_withdrawal": "yes",
            "reason": "The report was retracted.",
        },
    )
    records = list(Incident.history.filter(id=incident.pk)[:2])
    assert [(r.status, r.history_user.username, r.history_change_reason) for r in records] == [
        ("withdrawn", "editor", "Withdrawn: The report was retracted."),
        ("published", "editor", "Published"),
    ]
    html = client.get(reverse("admin:archive_incident_history", args=[incident.pk])).content.decode()
    assert "Withdrawn: The report was retracted." in html
    assert "Published" in html


def test_monuments_added_to_an_incident_are_in_its_history(user_in):
    incident = make_incident()
    temple = make_monument(name="Temple of Bel")
    client = user_in("Curator", "amina")
    edit(client, incident, monuments=[str(temple.pk)])
    html = client.get(reverse("admin:archive_incident_history", args=[incident.pk])).content.decode()
    assert "monuments" in html.lower()
    assert incident.history.first().monuments.filter(monument=temple).exists()


def test_reverting_an_incident_leaves_its_publication_alone(user_in):
    incident = make_incident(citations=1, title="Draft title")
    client = user_in("Editor", "editor")
    edit(client, incident, title="Published title")
    client.post(
        reverse("admin:archive_incident_changelist"),
        {"action": "publish_selected", "_selected_action": [incident.pk], "index": 0},
    )
    incident.refresh_from_db()
    assert incident.status == "published"
    draft = incident.history.earliest()
    assert (draft.title, draft.status) == ("Draft title", "draft")
    url = reverse("admin:archive_incident_simple_history", args=[incident.pk, draft.history_id])
    page = client.get(url)
    assert "status" not in page.context["adminform"].form.fields
    assert client.post(url, changeform_data(page)).status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.status) == ("Draft title", "published")
    assert incident.published_by.username == "editor"


def test_a_deleted_incident_comes_back_as_a_draft(user_in):
    incident = make_incident(citations=1, status="published")
    pk = incident.pk
    client = user_in("Editor", "editor")
    client.post(reverse("admin:archive_incident_delete", args=[pk]), {"post": "yes"})
    last = Incident.history.filter(id=pk).exclude(history_type="-").first()
    url = reverse("admin:archive_incident_simple_history", args=[pk, last.history_id])
    assert client.post(url, changeform_data(client.get(url))).status_code == 302
    assert Incident.objects.get(pk=pk).status == "draft"


def test_citations_deleted_with_their_incident_are_listed(user_in):
    incident = make_incident(citations=1, title="Gone")
    client = user_in("Editor", "editor")
    client.post(reverse("admin:archive_incident_delete", args=[incident.pk]), {"post": "yes"})
    response = client.get(reverse("admin:archive_citation_deleted"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1
