"""The admin's import and export buttons, which come from archive.importexport.resources."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from archive.dates import NOT_EDTF
from archive.importexport.resources import CitationResource, IncidentActorResource, IncidentResource, SourceResource
from archive.models import Incident, IncidentActor, Source
from tests.factories import make_actor, make_incident, make_monument, make_site, make_source

pytestmark = pytest.mark.django_db

HEADER = "slug,title,kind,site,monuments,occurred,status\r\n"


@pytest.fixture
def record():
    site = make_site(slug="palmyra")
    make_monument(slug="temple-of-bel", site=site)
    make_actor(slug="islamic-state")
    return make_incident(slug="existing", title="Existing", site=site, perpetrator=make_actor(slug="unattributed"))


def login(client, *, group=None, codenames=()):
    user = User.objects.create_user(f"user{User.objects.count()}", password="pw", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="archive", codename__in=codenames))
    client.force_login(user)
    return user


def upload(client, text, name="incidents.csv", model="incident"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        reverse(f"admin:archive_{model}_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def confirm(client, preview, model="incident"):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:archive_{model}_process_import"), form.initial)


def test_import_shows_a_dry_run_preview_and_writes_only_after_confirming(client, record):
    curator = login(client, group="Curator")
    text = (
        HEADER
        + "new-one,New one,destruction,palmyra,temple-of-bel,2015-08-30,draft\r\n"
        + "existing,Existing (retitled),destruction,palmyra,,2015-08-30,draft\r\n"
    )
    preview = upload(client, text)

    assert preview.status_code == 200
    result = preview.context["result"]
    assert [row.import_type for row in result.rows] == ["new", "update"]
    assert "confirm_form" in preview.context
    page = preview.content.decode()
    assert "<ins>New one</ins>" in page
    assert "<del>Existing</del> <ins>Existing (retitled)</ins>" in page
    assert not Incident.objects.filter(slug="new-one").exists()

    response = confirm(client, preview)

    assert response.status_code == 302
    new = Incident.objects.get(slug="new-one")
    assert [m.slug for m in new.monuments.all()] == ["temple-of-bel"]
    assert Incident.objects.get(slug="existing").title == "Existing (retitled)"
    assert new.history.get().history_user == curator
    assert Incident.objects.get(slug="existing").history.first().history_user == curator


def test_unchanged_rows_are_previewed_as_skipped(client, record):
    login(client, group="Curator")
    text = HEADER + "existing,Existing,destruction,palmyra,,2015-08-30,draft\r\n"
    result = upload(client, text).context["result"]
    assert [row.import_type for row in result.rows] == ["skip"]


def test_invalid_rows_are_listed_with_their_line_and_nothing_can_be_confirmed(client, record):
    login(client, group="Curator")
    text = (
        HEADER
        + "ok,OK,destruction,palmyra,,2015-08-30,draft\r\n"
        + "bad,Bad,destruction,atlantis,,2015-13-01,draft\r\n"
    )
    response = upload(client, text, name="my incidents.csv")

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    invalid = response.context["result"].invalid_rows
    assert [(row.number, row.error_dict) for row in invalid] == [
        (
            3,
            {
                "site": ["no site with slug “atlantis” in the archive or in sites.csv."],
                "occurred": [NOT_EDTF.format(value="2015-13-01")],
            },
        )
    ]
    assert "Some rows failed to validate" in response.content.decode()
    assert not Incident.objects.filter(slug="ok").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfeslug", "not UTF-8 text (byte 0 cannot be read)"),
        (b"PK\x03\x04\x00binary", "not a CSV file: it holds binary data"),
        (b"slug,wrong\r\nx,y\r\n", "unknown column; incidents.csv has slug, identifier, title"),
    ],
)
def test_an_unreadable_upload_gets_one_clear_message_not_a_500(client, record, data, message):
    login(client, group="Curator")
    response = upload(client, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_an_upload_over_the_size_limit_is_refused(client, record, settings):
    settings.CSV_IMPORT_MAX_BYTES = 50
    login(client, group="Curator")
    response = upload(client, HEADER + "x" * 60)
    assert "over the import limit of 50 bytes (CSV_IMPORT_MAX_BYTES)" in response.content.decode()


def test_a_curator_cannot_publish_through_the_admin_import(client, record):
    login(client, group="Curator")
    text = HEADER + "pub,Pub,destruction,palmyra,,2015-08-30,published\r\n"
    invalid = upload(client, text).context["result"].invalid_rows
    assert invalid[0].error_dict["status"][0].startswith("“published”: only editors")


def test_a_received_text_survives_the_admin_round_trip_exactly(client):
    # A text comes in normalised (LF line ends, NFC: archive/texts.py), and what is stored is what
    # the export gives and the import takes back, byte for byte.
    login(client, group="Curator")
    text = "Line one\r\nLine two\rLine three\n\u062a\u062f\u0645\u0631\u00a0\u201cquoted\u201d\n"
    source = make_source(slug="original", received_text=text)
    text = source.received_text
    assert text == "Line one\nLine two\nLine three\n\u062a\u062f\u0645\u0631\u00a0\u201cquoted\u201d\n"
    exported = client.post(
        reverse("admin:archive_source_export"), {"format": "0", "resource": "0", **export_fields(SourceResource)}
    ).content
    Source.objects.all().delete()

    preview = upload(client, exported, name="sources.csv", model="source")
    confirm(client, preview, model="source")

    assert Source.objects.get(slug="original").received_text == text
    assert Source.objects.get(slug="original").sha256 == source.sha256


def export_fields(resource):
    return {f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()}


def test_admin_export_is_the_export_archive_file_and_honours_filters(client, record, tmp_path):
    login(client, group="Curator")
    make_incident(slug="published-one", status="published", citations=1)
    url = reverse("admin:archive_incident_export")
    data = {"format": "0", "resource": "0", **export_fields(IncidentResource)}

    everything = client.post(url, data)
    assert everything.status_code == 200
    call_command("export_archive", str(tmp_path), stdout=StringIO())
    lines = everything.content.decode().splitlines()
    assert sorted(lines) == sorted((tmp_path / "incidents.csv").read_text(encoding="utf-8").splitlines())

    published = client.post(url + "?status__exact=published", data).content.decode()
    assert "published-one" in published and "existing" not in published


@pytest.mark.parametrize("model", ["site", "monument", "actor", "source", "incident", "citation", "image"])
def test_a_staff_user_without_the_permission_is_refused(client, model):
    login(client, codenames=[f"view_{model}"])
    assert client.get(reverse(f"admin:archive_{model}_import")).status_code == 403
    assert client.post(reverse(f"admin:archive_{model}_process_import"), {}).status_code == 403
    assert client.get(reverse(f"admin:archive_{model}_export")).status_code == 200

    client.force_login(User.objects.create_user("bare", password="pw", is_staff=True))
    assert client.get(reverse(f"admin:archive_{model}_export")).status_code == 403


def test_the_permission_codes_are_set(settings):
    # Without them django-import-export lets every staff user import and export.
    assert settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE == "add"
    assert settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE == "view"


@pytest.mark.parametrize(
    ("model", "resource"),
    [("citation", CitationResource), ("incident", IncidentResource), ("source", SourceResource)],
)
def test_an_admin_export_imports_back_unchanged(client, model, resource):
    login(client, group="Editor")
    make_incident(slug="published-one", status="published", citations=2, monuments=[make_monument()])
    exported = client.post(
        reverse(f"admin:archive_{model}_export"), {"format": "0", "resource": "0", **export_fields(resource)}
    ).content

    preview = upload(client, exported, name=f"{model}.csv", model=model)

    rows = preview.context["result"].rows
    assert rows and {row.import_type for row in rows} == {"skip"}


def test_the_figure_resource_exports_the_figures_file_and_imports_through_the_engine():
    from archive.importexport.formats import ArchiveCSV
    from archive.importexport.resources import FigureResource
    from archive.importexport.tables import FIGURES
    from archive.models import Figure
    from tests.factories import make_citation

    citation = make_citation(incident=make_incident(slug="bel"), source=make_source(slug="article"))
    figure = Figure.objects.create(citation=citation, measure="killed", low=24, high=30, wording="dozens")
    dataset = FigureResource().export(Figure.objects.all())
    assert list(dataset.headers) == FIGURES.header
    assert (
        list(dataset[0])
        == FIGURES.row(figure)
        == [f"bel|article|{citation.position_start}", "killed", "24", "30", "", "dozens"]
    )

    changed = ArchiveCSV().export_data(dataset).replace(b"dozens", b"two dozen")
    result = FigureResource().import_data(ArchiveCSV().create_dataset(changed), dry_run=False)
    assert not result.has_validation_errors() and [row.import_type for row in result.rows] == ["update"]
    figure.refresh_from_db()
    assert figure.wording == "two dozen"


def test_the_incident_actors_resource_exports_its_file_and_imports_through_the_engine(client, record):
    from archive.importexport.formats import ArchiveCSV
    from archive.importexport.tables import INCIDENT_ACTORS

    dataset = IncidentActorResource().export(IncidentActor.objects.all())
    assert list(dataset.headers) == INCIDENT_ACTORS.header == ["incident", "actor", "role"]
    assert [list(row) for row in dataset] == [["existing", "unattributed", "perpetrator"]]

    data = ArchiveCSV().export_data(dataset) + b"existing,islamic-state,claimed\r\nexisting,nobody,accused\r\n"
    result = IncidentActorResource().import_data(ArchiveCSV().create_dataset(data), dry_run=False)
    assert [(row.number, row.error_dict) for row in result.invalid_rows] == [
        (4, {"actor": ["no actor with slug “nobody” in the archive or in actors.csv."]})
    ]
    assert IncidentActor.objects.count() == 1

    data = data.replace(b"existing,nobody,accused\r\n", b"")
    result = IncidentActorResource().import_data(ArchiveCSV().create_dataset(data), dry_run=False)
    assert not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["skip", "new"]
    assert [(a.slug, role) for a, role in Incident.objects.get(slug="existing").actor_roles] == [
        ("unattributed", "Perpetrator"),
        ("islamic-state", "Claimed responsibility"),
    ]


def test_a_format_v2_upload_is_converted(client, record):
    login(client, group="Curator")
    text = (
        "slug,title,kind,site,monuments,perpetrator,occurred_from,occurred_to,date_precision,status\r\n"
        "old-one,Old one,looting,palmyra,,islamic-state,2015-05-01,2015-05-31,month,draft\r\n"
    )
    preview = upload(client, text)
    assert [row.import_type for row in preview.context["result"].rows] == ["new"]
    confirm(client, preview)
    incident = Incident.objects.get(slug="old-one")
    assert (incident.occurred, incident.date_precision) == ("2015-05", "month")
    assert [(a.slug, role) for a, role in incident.actor_roles] == [("islamic-state", "Perpetrator")]
