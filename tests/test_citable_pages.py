"""Pages a reader can verify and cite (issue 11, item 4): a stable short identifier per incident,
never reused; how to cite; last updated from the published history; withdrawn incidents answer
410 with a notice; the about-and-methodology page linked from every public page; and the layout
of dates, quotes and glosses (item 5)."""

import csv
import io
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Incident
from archive.models.identifiers import IdentifierCounter, parse_identifier, reserve_numbers, site_prefix
from tests.factories import make_citation, make_incident, make_site

pytestmark = pytest.mark.django_db


def editor():
    user = get_user_model().objects.create_user("editor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


# -- identifiers ---------------------------------------------------------------------------------


def test_the_prefix_of_a_site():
    assert site_prefix("palmyra") == "PAL"
    assert site_prefix("tadmur") == "PAL"
    assert site_prefix("aleppo-old-city") == "ALP"
    assert site_prefix("citadel", "aleppo") == "ALP"
    assert site_prefix("raqqa") == "RAQ"
    assert site_prefix("al-3") == "ALX"
    assert site_prefix("") == "INC"
    assert parse_identifier(" pal-7 ") == ("PAL", 7)
    assert parse_identifier("PAL-0000") is None and parse_identifier("PAL7") is None


def test_each_incident_gets_the_next_number_of_its_site():
    palmyra, aleppo = make_site(slug="palmyra"), make_site(slug="aleppo")
    first, second = make_incident(site=palmyra), make_incident(site=palmyra)
    other = make_incident(site=aleppo)
    assert [first.identifier, second.identifier, other.identifier] == ["PAL-0001", "PAL-0002", "ALP-0001"]
    assert Incident.objects.by_identifier("pal-2").get() == second
    assert not Incident.objects.by_identifier("not one").exists()
    # The database refuses a second incident with the same identifier.
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=second.pk).update(identifier_number=1)


def test_a_number_is_never_reused_after_delete_or_merge():
    palmyra = make_site(slug="palmyra")
    kept, deleted = make_incident(site=palmyra, citations=1, status="published"), make_incident(site=palmyra)
    deleted.delete()
    absorbed = make_incident(site=palmyra, citations=1, status="published")
    assert absorbed.identifier == "PAL-0003"  # not PAL-0002, the deleted one's
    kept.merge(absorbed, editor())
    absorbed.refresh_from_db()
    assert absorbed.identifier == "PAL-0003"  # the merged one keeps its own
    assert make_incident(site=palmyra).identifier == "PAL-0004"
    # Even when the counter is lost, the stored numbers are not handed out again.
    IdentifierCounter.objects.all().delete()
    assert make_incident(site=palmyra).identifier == "PAL-0005"


def test_the_identifier_stays_when_the_site_changes():
    incident = make_incident(site=make_site(slug="palmyra"))
    incident.site = make_site(slug="aleppo")
    incident.save()
    incident.refresh_from_db()
    assert incident.identifier == "PAL-0001"
    assert incident.history.first().identifier_number == 1


def test_bulk_create_and_raw_loads_give_identifiers():
    palmyra, raqqa = make_site(slug="palmyra"), make_site(slug="raqqa")
    made = Incident.objects.bulk_create(
        [
            Incident(slug=f"bulk-{n}", title="T", kind="damage", site=site)
            for n, site in enumerate([palmyra, raqqa, palmyra])
        ]
    )
    assert [incident.identifier for incident in made] == ["PAL-0001", "RAQ-0001", "PAL-0002"]
    assert reserve_numbers("PAL", 3) == range(3, 6)
    assert make_incident(site=palmyra).identifier == "PAL-0006"


def test_the_curated_record_loads_with_identifiers():
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())
    identifiers = [incident.identifier for incident in Incident.objects.order_by("pk")]
    assert identifiers and all(identifiers)
    assert len(set(identifiers)) == len(identifiers)
    assert {identifier[:3] for identifier in identifiers} <= {"PAL", "ALP"}


# -- identifiers in the CSV ------------------------------------------------------------------------


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_the_identifier_goes_out_and_comes_back_in_the_csv(tmp_path):
    palmyra = make_site(slug="palmyra")
    make_incident(site=palmyra, slug="b-second")
    make_incident(site=palmyra, slug="a-first")
    call_command("export_archive", str(tmp_path), stdout=StringIO())
    rows = csv_rows((tmp_path / "incidents.csv").read_text(encoding="utf-8"))
    assert [(row["slug"], row["identifier"]) for row in rows] == [("a-first", "PAL-0002"), ("b-second", "PAL-0001")]

    header = "slug,identifier,title,kind,site\r\n"

    def imported(rows):
        return import_tables({"incidents": read_csv("incidents.csv", (header + rows).encode())})

    # A new incident keeps the file's identifier; an empty cell gets a number above all of them,
    # even those further down the file.
    report = imported("d,,D,damage,palmyra\r\nc,PAL-0040,C,damage,palmyra\r\n")
    assert report.ok, [str(problem) for problem in report.problems]
    assert Incident.objects.get(slug="c").identifier == "PAL-0040"
    assert Incident.objects.get(slug="d").identifier == "PAL-0041"
    # A stored incident's identifier cannot change; one held by another is refused; so is nonsense.
    problems = [str(problem) for problem in imported("a-first,PAL-0009,A,damage,palmyra\r\n").problems]
    assert problems == [
        "incidents.csv:2: identifier: “PAL-0009”: the incident “a-first” is PAL-0002; an identifier never "
        "changes (leave the cell empty, or write the stored one)."
    ]
    rows = "e,PAL-0001,E,damage,palmyra\r\nf,PAL-77,F,damage,palmyra\r\ng,PAL-0077,G,damage,palmyra\r\n"
    problems = [str(problem) for problem in imported(rows + "h,Bel,H,damage,palmyra\r\n").problems]
    assert problems == [
        "incidents.csv:2: identifier: “PAL-0001” is the identifier of the stored incident “b-second”.",
        "incidents.csv:4: identifier: “PAL-0077” is already the identifier of “f” on line 3.",
        "incidents.csv:5: identifier: “Bel” is not an incident identifier (three letters, a hyphen, a number: "
        "PAL-0007).",
    ]
    assert imported("a-first,,A,damage,palmyra\r\nb-second,PAL-0001,B,damage,palmyra\r\n").ok


def test_an_older_folder_without_identifiers_imports(tmp_path):
    make_site(slug="palmyra")
    header = "slug,title,kind,site\r\n"
    report = import_tables({"incidents": read_csv("incidents.csv", (header + "x,X,damage,palmyra\r\n").encode())})
    assert report.ok and Incident.objects.get(slug="x").identifier == "PAL-0001"


def test_a_published_incidents_download_carries_its_identifier(client):
    incident = make_incident(site=make_site(slug="palmyra"), citations=1, status="published")
    make_citation(incident=incident)
    response = client.get(reverse("archive:incident-download", args=["csv"]))
    body = b"".join(response.streaming_content).decode("utf-8") if response.streaming else response.content.decode()
    rows = csv_rows(body)
    assert rows[0]["identifier"] == "PAL-0001"
