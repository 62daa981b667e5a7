"""Who may do what in the admin: anonymous visitors, curators (the demo account), editors and
superusers, for every curated model and every curation act."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from archive.models import Incident, Source
from archive.roles import CURATOR, EDITOR, ensure_groups, role_permissions
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source
from tests.test_admin import changeform_data, make_image

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "curator", "editor", "superuser"]
MODELS = ["site", "monument", "actor", "source", "incident", "citation", "image"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def login(client):
    """Log the client in as a role; the curator is the demo account `make run` creates."""
    User = get_user_model()

    def as_role(role):
        if role == "anonymous":
            return client
        if role == "curator":
            call_command("ensure_demo_curator", stdout=StringIO())
            user = User.objects.get(username="curator")
        elif role == "editor":
            user = User.objects.create_user("editor", password="pw", is_staff=True)
            user.groups.add(Group.objects.get(name=EDITOR))
        else:
            user = User.objects.create_superuser("root", "root@example.org", "pw")
        client.force_login(user)
        return client

    return as_role


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("admin:login")):
        return "login"
    if response.status_code == 403:
        return "refused"
    assert response.status_code in (200, 302), response.status_code
    return "allowed"


def expected(role, action, model):
    if role == "anonymous":
        return "login"
    if role == "superuser" or action in {"view", "add", "change"}:
        return "allowed"
    if role == "editor":
        return "allowed"
    # A curator deletes only the parts of a record being edited.
    return "allowed" if model in {"citation", "image"} else "refused"


def make(model):
    builders = {
        "site": make_site,
        "monument": make_monument,
        "actor": make_actor,
        "source": make_source,
        "incident": make_incident,
        "citation": make_citation,
        "image": make_image,
    }
    return builders[model]()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("action", ["view", "add", "change", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_model_permission_matrix(login, role, action, model):
    obj = make(model)
    client = login(role)
    if action == "view":
        response = client.get(reverse(f"admin:archive_{model}_change", args=[obj.pk]))
    elif action == "add":
        response = client.get(reverse(f"admin:archive_{model}_add"))
    elif action == "change":
        # An empty POST: refused before validation, or re-shown with the errors.
        response = client.post(reverse(f"admin:archive_{model}_change", args=[obj.pk]), {})
    else:
        response = client.post(reverse(f"admin:archive_{model}_delete", args=[obj.pk]), {"post": "yes"})
    assert outcome(response) == expected(role, action, model)
    if action == "delete":
        still_there = type(obj).objects.filter(pk=obj.pk).exists()
        assert still_there == (expected(role, action, model) != "allowed")


def publish_action(client, incident):
    return client.post(
        reverse("admin:archive_incident_changelist"),
        {"action": "publish_selected", "_selected_action": [incident.pk], "index": 0},
        follow=True,
    )


@pytest.mark.parametrize("role", ROLES)
def test_publish(login, role):
    incident = make_incident(citations=1)
    response = publish_action(login(role), incident)
    incident.refresh_from_db()
    if role in {"editor", "superuser"}:
        assert incident.status == "published"
        assert incident.published_by.username == {"editor": "editor", "superuser": "root"}[role]
        assert incident.published_at is not None
    else:
        assert incident.status == "draft"
        assert incident.published_at is None
    if role == "curator":  # the action is not offered to curators at all
        assert "publish_selected" not in response.content.decode()
        changelist = login(role).get(reverse("admin:archive_incident_changelist")).content.decode()
        assert "publish_selected" not in changelist and "withdraw_selected" not in changelist


@pytest.mark.parametrize("role", ROLES)
def test_withdraw(login, role):
    incident = make_incident(citations=1, status="published")
    login(role).post(
        reverse("admin:archive_incident_changelist"),
        {
            "action": "withdraw_selected",
            "_selected_action": [incident.pk],
            "confirm_withdrawal": "yes",
            "reason": "The only source retracted it.",
        },
    )
    incident.refresh_from_db()
    if role in {"editor", "superuser"}:
        assert incident.status == "withdrawn"
        assert incident.withdrawn_reason == "The only source retracted it."
        assert incident.withdrawn_by is not None
    else:
        assert incident.status == "published"


@pytest.mark.parametrize("role", ROLES)
def test_revert(login, role):
    incident = make_incident(title="First title")
    incident.title = "Second title"
    incident.save()
    first = incident.history.earliest()
    client = login(role)
    url = reverse("admin:archive_incident_simple_history", args=[incident.pk, first.history_id])
    page = client.get(url)
    response = client.post(url, changeform_data(page) if page.status_code == 200 else {})
    incident.refresh_from_db()
    if role in {"editor", "superuser"}:
        assert outcome(response) == "allowed"
        assert incident.title == "First title"
    else:
        assert outcome(response) == ("login" if role == "anonymous" else "refused")
        assert incident.title == "Second title"
    if role == "curator":
        # A curator sees the history and each version, without the Revert button.
        assert page.status_code == 200
        assert "Revert" not in page.content.decode().split('<div class="submit-row">')[-1]


@pytest.mark.parametrize("role", ROLES)
def test_a_cited_source_cannot_be_deleted(login, role):
    source = make_source()
    make_citation(source=source)
    response = login(role).post(reverse("admin:archive_source_delete", args=[source.pk]), {"post": "yes"})
    assert Source.objects.filter(pk=source.pk).exists()
    if role in {"editor", "superuser"}:
        # Allowed to delete sources, but this one is cited: the page says what protects it.
        assert response.status_code == 200
        assert "Cannot delete source" in response.content.decode()
    else:
        assert outcome(response) == {"anonymous": "login", "curator": "refused"}[role]


@pytest.mark.parametrize("role", [*ROLES, "staff without a role"])
@pytest.mark.parametrize("model", MODELS)
def test_import_page(login, client, role, model):
    if role == "staff without a role":
        client.force_login(get_user_model().objects.create_user("nobody", password="pw", is_staff=True))
    else:
        client = login(role)
    response = client.get(reverse(f"admin:archive_{model}_import"))
    assert outcome(response) == {"anonymous": "login", "staff without a role": "refused"}.get(role, "allowed")


@pytest.mark.parametrize("role", ROLES)
def test_only_superusers_manage_users(login, role):
    response = login(role).get(reverse("admin:auth_user_changelist"))
    assert outcome(response) == {"anonymous": "login", "superuser": "allowed"}.get(role, "refused")


@pytest.mark.parametrize(("role", "editable"), [("curator", False), ("editor", True), ("superuser", True)])
def test_only_publishers_see_the_publish_button_and_nobody_a_status_field(login, role, editable):
    incident = make_incident()
    response = login(role).get(reverse("admin:archive_incident_change", args=[incident.pk]))
    form = response.context["adminform"].form
    assert "status" not in form.fields and "withdrawn_reason" not in form.fields
    assert ('value="publish_selected"' in response.content.decode()) == editable


def test_a_curator_cannot_publish_by_posting_the_status(login):
    incident = make_incident(citations=1)
    client = login("curator")
    url = reverse("admin:archive_incident_change", args=[incident.pk])
    data = changeform_data(client.get(url))
    data["status"] = "published"
    response = client.post(url, data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "draft"


def test_the_demo_curator_is_a_curator():
    call_command("ensure_demo_curator", stdout=StringIO())
    user = get_user_model().objects.get(username="curator")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [CURATOR]
    assert user.check_password("palmyra-curator")
    assert user.has_perm("archive.add_incident") and not user.has_perm("archive.publish_incident")


def test_groups_hold_exactly_their_roles_permissions():
    for name, codenames in role_permissions().items():
        held = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert held == codenames, name
    curator, editor = role_permissions()[CURATOR], role_permissions()[EDITOR]
    assert curator < editor
    assert "publish_incident" not in curator and "delete_source" not in curator
    assert not any(codename.endswith("_user") or codename.endswith("_group") for codename in editor)


def test_ensure_groups_repairs_a_changed_group():
    group = Group.objects.get(name=CURATOR)
    group.permissions.add(Permission.objects.get(codename="publish_incident"))
    Group.objects.filter(name=EDITOR).delete()
    ensure_groups()
    assert not Group.objects.get(name=CURATOR).permissions.filter(codename="publish_incident").exists()
    assert Group.objects.get(name=EDITOR).permissions.filter(codename="publish_incident").exists()


def test_bulk_publish_refuses_incidents_without_a_citation(login):
    cited, uncited = make_incident(citations=1, title="Cited"), make_incident(title="Uncited")
    response = login("editor").post(
        reverse("admin:archive_incident_changelist"),
        {"action": "publish_selected", "_selected_action": [cited.pk, uncited.pk], "index": 0},
        follow=True,
    )
    assert Incident.objects.get(pk=cited.pk).status == "published"
    assert Incident.objects.get(pk=uncited.pk).status == "draft"
    html = response.content.decode()
    assert "Published: “Cited”." in html
    refused = "Not published — an incident cannot be published without at least one supporting citation: “Uncited”."
    assert refused in html
