"""Pages a reader can verify and cite (issue 11, item 4): a stable short identifier per incident,
never reused; how to cite; last updated from the published history; withdrawn incidents answer
410 with a notice; the about-and-methodology page linked from every public page; and the layout
of dates, quotes and glosses (item 5)."""

import csv
import datetime
import io
import threading
import time
from html import unescape
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse

from archive.citing import ARCHIVE_NAME, last_updated
from archive.dates import parse_when, say_days
from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.models import Incident
from archive.models.identifiers import IdentifierCounter, parse_identifier, reserve_numbers, site_prefix
from archive.templatetags.citing import quoted
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source

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


# -- how to cite, last updated -------------------------------------------------------------------


def page_text(response):
    return unescape(response.content.decode())


def backdate(record, when):
    """Date every history row of `record` at `when` (history_date is set on save)."""
    record.history.update(history_date=when)


def test_the_incident_page_says_how_to_cite_it(client):
    incident = make_incident(site=make_site(slug="palmyra"), title="Temple of Bel destroyed", citations=1)
    incident.publish(None)
    backdate(incident, datetime.datetime(2016, 3, 24, 12, tzinfo=datetime.UTC))
    html = page_text(client.get(incident.get_absolute_url()))
    url = f"http://testserver{incident.get_absolute_url()}"
    assert "Incident <strong>PAL-0001</strong>" in html
    assert "How to cite" in html
    assert f"“Temple of Bel destroyed” (PAL-0001). {ARCHIVE_NAME}, last updated 24 March 2016. {url} (consulted" in html
    assert f'<a href="{url}">{url}</a>' in html
    assert 'Last updated <time datetime="2016-03-24">24 March 2016</time>' in html


def test_last_updated_ignores_changes_the_public_cannot_see():
    incident = make_incident(citations=1)
    draft_days = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC)
    backdate(incident, draft_days)
    assert last_updated(incident) is None  # never published: nothing public to date
    incident.publish(None)
    published = incident.history.order_by("-history_date").first()
    Incident.history.filter(history_id=published.history_id).update(
        history_date=datetime.datetime(2016, 3, 24, tzinfo=datetime.UTC)
    )
    # An unpublished version later (a draft the public cannot see) does not move the date.
    incident.status = "draft"
    incident.save()
    assert last_updated(incident) == datetime.datetime(2016, 3, 24, tzinfo=datetime.UTC)


def test_every_public_record_page_says_when_it_was_last_updated(client):
    site = make_site(slug="palmyra")
    monument = make_monument(site=site)
    actor = make_actor()
    incident = make_incident(site=site, monuments=[monument], perpetrator=actor, citations=1, status="published")
    source = incident.citations.get().source
    for record in (site, monument, actor, source, incident):
        html = page_text(client.get(record.get_absolute_url()))
        assert "Last updated <time" in html, type(record).__name__


# -- withdrawn, merged, drafts -------------------------------------------------------------------


def test_a_withdrawn_incident_answers_410_with_when_and_why(client):
    incident = make_incident(title="Museum looted", citations=1, status="published")
    incident.withdraw(None, "The photographs were of another museum.")
    Incident.objects.filter(pk=incident.pk).update(withdrawn_at=datetime.datetime(2017, 3, 2, tzinfo=datetime.UTC))
    response = client.get(incident.get_absolute_url())
    assert response.status_code == 410
    html = page_text(response)
    assert "Museum looted" in html and "withdrawn" in html
    assert "2 March 2017" in html and "The photographs were of another museum." in html
    assert incident.identifier in html


def test_a_merged_incident_still_leads_to_the_survivor(client):
    survivor = make_incident(citations=1, status="published")
    absorbed = make_incident(citations=1, status="published")
    survivor.merge(absorbed, editor())
    response = client.get(absorbed.get_absolute_url())
    assert response.status_code == 301 and response["Location"] == survivor.get_absolute_url()


def test_drafts_and_never_published_withdrawals_stay_unknown(client):
    draft = make_incident(title="Secret draft title")
    # Withdrawn without ever being published (an import may do that): the public never saw it.
    hidden = make_incident(title="Never shown title", status="withdrawn")
    for incident in (draft, hidden):
        response = client.get(incident.get_absolute_url())
        assert response.status_code == 404
        assert incident.title not in response.content.decode()


# -- about and methodology, menu, sources --------------------------------------------------------


def public_pages():
    site = make_site(slug="palmyra")
    monument = make_monument(site=site)
    actor = make_actor()
    incident = make_incident(site=site, monuments=[monument], perpetrator=actor, citations=1, status="published")
    source = incident.citations.get().source
    return [
        reverse("archive:home"),
        reverse("archive:site-list"),
        reverse("archive:incident-list"),
        reverse("archive:monument-list"),
        reverse("archive:source-list"),
        reverse("archive:actor-list"),
        reverse("archive:methodology"),
        *(record.get_absolute_url() for record in (site, monument, actor, source, incident)),
    ]


def test_every_public_page_links_about_sites_and_no_jargon(client):
    about, sites = reverse("archive:methodology"), reverse("archive:site-list")
    for url in public_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        html = page_text(response)
        assert f'href="{about}">About and methodology</a>' in html, url
        assert f'href="{sites}"' in html, url
        assert "seed" not in html.lower(), url


def test_the_about_page_explains_levels_origins_dates_scope_and_errors(client):
    html = page_text(client.get(reverse("archive:methodology")))
    for anchor in ("about", "assessment-levels", "origins", "dates", "scope", "citing", "report-an-error"):
        assert f'id="{anchor}"' in html, anchor
    assert "EDTF" in html and "does <strong>not</strong> record" in html


def test_the_site_list_names_only_public_sites(client):
    public = make_site(name="Palmyra", slug="palmyra")
    make_incident(site=public, citations=1, status="published")
    hidden = make_site(name="Hidden quarter", slug="hidden")
    make_incident(site=hidden)  # a draft only
    html = page_text(client.get(reverse("archive:site-list")))
    assert "Palmyra" in html and "1 published incident" in html
    assert "Hidden quarter" not in html


def test_a_source_shows_its_original_address_or_says_once_there_is_none(client):
    with_url = make_citation(
        incident=make_incident(citations=1, status="published"), source=make_source(url="https://example.org/a")
    ).source
    html = page_text(client.get(with_url.get_absolute_url()))
    assert '<a href="https://example.org/a" rel="external noopener">https://example.org/a</a>' in html
    without = make_incident(citations=1, status="published").citations.get().source
    html = page_text(client.get(without.get_absolute_url()))
    assert html.count("No address recorded") == 1
    assert "read it at the original" not in html
    footer = html[html.index('class="site-footer"') :]
    assert "links to the original where its address is recorded" in footer


# -- dates, quotes, glosses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, last, text",
    [
        ((2016, 12, 10), (2016, 12, 11), "10–11 December 2016"),
        ((2017, 2, 28), (2017, 3, 2), "28 February – 2 March 2017"),
        ((2016, 12, 30), (2017, 1, 2), "30 December 2016 – 2 January 2017"),
        ((2016, 3, 24), (2016, 3, 24), "24 March 2016"),
    ],
)
def test_day_ranges_are_written_compactly(first, last, text):
    assert say_days(datetime.date(*first), datetime.date(*last)) == text


@pytest.mark.parametrize(
    "edtf, text",
    [
        ("2016-12-10/2016-12-11", "10–11 December 2016"),
        ("2015-05/2016-03", "May 2015 – March 2016"),
        ("2015-05/2015-08", "May – August 2015"),
        ("2017-02-28/2017-03-02", "28 February – 2 March 2017"),
        ("../2016-03-24", "by 24 March 2016"),
    ],
)
def test_incident_dates_are_written_compactly(edtf, text):
    assert parse_when(edtf).text == text


@pytest.mark.parametrize(
    "quote, shown",
    [
        ("destroyed the temple", "“destroyed the temple”"),
        (
            "“The army is 300 metres from the entrance,” a source said",
            "“The army is 300 metres from the entrance,” a source said",
        ),
        ('"Embrace death for Aleppo" was one.', '"Embrace death for Aleppo" was one.'),
        ("", ""),
    ],
)
def test_quotes_get_one_pair_of_quotation_marks(quote, shown):
    assert quoted(quote) == shown


def test_a_quote_that_opens_with_a_quotation_mark_is_not_doubled_on_the_page(client):
    incident = make_incident(citations=0)
    source = make_source(received_text="Intro.\n“The army is near,” a source said.\n")
    make_citation(incident=incident, source=source, quote="“The army is near,” a source said")
    incident.publish(None)
    html = page_text(client.get(incident.get_absolute_url()))
    assert "<p>“The army is near,” a source said</p>" in html
    assert "““" not in html


def test_the_curators_gloss_is_outside_the_sources_words(client):
    incident = make_incident(
        citations=1, status="published", date_wording="“last year” (after seizing the city in May 2015)"
    )
    html = page_text(client.get(incident.get_absolute_url()))
    assert "“last year” (after seizing the city in May 2015)" in html
    assert "“last year (after" not in html and "““" not in html and "”)”" not in html


def test_a_reversed_date_range_is_answered_with_a_message(client):
    make_incident(citations=1, status="published", occurred="2016-03-24")
    response = client.get(reverse("archive:incident-list"), {"date_from": "2016-12-31", "date_to": "2016-01-01"})
    assert response.status_code == 400
    message = "“To” (2016-01-01) is before “From” (2016-12-31): swap them, or leave one empty."
    assert message in page_text(response)
    download = client.get(
        reverse("archive:incident-download", args=["csv"]), {"date_from": "2016-12-31", "date_to": "2016-01-01"}
    )
    assert download.status_code == 400 and message in download.content.decode()
    ordered = client.get(reverse("archive:incident-list"), {"date_from": "2016-01-01", "date_to": "2016-12-31"})
    assert ordered.status_code == 200 and "1 incident;" in page_text(ordered)


def test_the_incident_list_shows_identifiers(client):
    incident = make_incident(site=make_site(slug="aleppo"), citations=1, status="published")
    html = page_text(client.get(reverse("archive:incident-list")))
    assert f'<span class="identifier">{incident.identifier}</span>' in html and incident.identifier == "ALP-0001"


@pytest.mark.django_db(transaction=True)
def test_two_curators_saving_at_once_get_different_numbers():
    """Each save takes its number in its own transaction; on PostgreSQL the second waits on the
    counter's row until the first commits, then takes the next number (SQLite: one writer at a time)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL")
    site = make_site(slug="palmyra")
    make_incident(site=site)
    barrier, numbers, errors = threading.Barrier(2), [], []

    def save(n):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                incident = Incident.objects.create(slug=f"at-once-{n}", title="T", kind="damage", site=site)
                time.sleep(0.2)  # hold the transaction open: the other save must wait, not collide
            numbers.append(incident.identifier_number)
        except Exception as error:  # reported below, with the thread's error
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(numbers) == [2, 3]
