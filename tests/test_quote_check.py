"""The quote check on the citation forms: a pasted passage is found in the source text (tolerant of
quote marks and spacing), stored as the source's exact text with its offsets, and when it is not
there the error shows the closest passage and how it differs."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from archive.models import Citation, Incident
from tests.factories import make_citation, make_incident, make_source
from tests.test_admin import changeform_data, filled_add_form

pytestmark = pytest.mark.django_db

TEXT = (
    "Palmyra report\n\n"
    "Islamic State militants blew up the Temple of Bel on Sunday, activists said.\n"
    "The group also used the Roman amphitheatre for “public executions”, the Observatory reported.\n"
)


@pytest.fixture
def admin_client_(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.fixture
def source():
    return make_source(received_text=TEXT)


def new_incident_data(client, source, *quotes, **fields):
    """The incident add form, filled in, with one inline citation per quote."""
    return filled_add_form(client, [(source, quote) for quote in quotes], **fields)


def test_a_pasted_quote_is_stored_as_the_source_text_with_its_offsets(admin_client_, source):
    # Straight quotes where the source has curly ones, a line break and doubled spaces.
    pasted = 'used the Roman   amphitheatre for\n"public executions"'
    url, data = new_incident_data(admin_client_, source, pasted)
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    citation = Citation.objects.get()
    exact = "used the Roman amphitheatre for “public executions”"
    assert citation.quote == exact
    assert TEXT[citation.position_start : citation.position_end] == exact
    assert citation.prefix == TEXT[citation.position_start - len(citation.prefix) : citation.position_start]
    assert citation.suffix.startswith(", the Observatory")


def test_a_wrong_quote_is_refused_with_the_closest_passage(admin_client_, source):
    url, data = new_incident_data(
        admin_client_, source, "Islamic State militants destroyed the Temple of Bel on Sunday"
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert not Incident.objects.exists()
    citations = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Citation)
    [error] = citations.formset.forms[0].errors["quote"]
    assert error.startswith("The quote does not occur in the source text. Closest passage")
    assert "Islamic State militants blew up the Temple of Bel on Sunday" in error
    assert "the quote has “destroyed” where the source has “blew up”" in error
    # Shown to the curator, escaped.
    assert "the quote has “destroyed” where the source has “blew up”" in response.content.decode()


def test_the_right_quote_after_a_wrong_one_saves(admin_client_, source):
    url, data = new_incident_data(admin_client_, source, "militants destroyed the Temple of Bel")
    assert admin_client_.post(url, data).status_code == 200
    data["citations-0-quote"] = "militants blew up the Temple of Bel"
    assert admin_client_.post(url, data).status_code == 302
    assert Citation.objects.get().quote == "militants blew up the Temple of Bel"


def test_the_citation_admin_checks_quotes_too(admin_client_, source):
    incident = make_incident()
    url = reverse("admin:archive_citation_add")
    data = changeform_data(admin_client_.get(url))
    data.update(incident=str(incident.pk), source=str(source.pk), quote="the Roman theatre for public executions")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "Closest passage" in response.context["adminform"].form.errors["quote"][0]
    data["quote"] = "the Roman amphitheatre for ‘public executions’"  # single curly quotes: not the same
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    data["quote"] = "the Roman amphitheatre for “public executions”"
    assert admin_client_.post(url, data).status_code == 302


def test_the_same_passage_twice_is_an_error_not_a_crash(admin_client_, source):
    url, data = new_incident_data(admin_client_, source, "blew up the Temple of Bel", "blew   up the Temple of Bel")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    citations = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Citation)
    assert "quote the same passage" in citations.formset.non_form_errors()[0]


def test_citing_an_already_cited_passage_in_the_citation_admin_is_an_error(admin_client_, source):
    existing = make_citation(source=source, quote="blew up the Temple of Bel")
    url = reverse("admin:archive_citation_add")
    data = changeform_data(admin_client_.get(url))
    data.update(incident=str(existing.incident_id), source=str(source.pk), quote="blew up the Temple of Bel")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "already cited for this incident" in response.context["adminform"].form.errors["quote"][0]


def test_an_empty_quote_names_the_field(admin_client_, source):
    url, data = new_incident_data(admin_client_, source, "")
    response = admin_client_.post(url, data)
    citations = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Citation)
    assert citations.formset.forms[0].errors["quote"] == ["This field is required."]


def test_the_stored_anchor_is_shown_on_the_incident_page(admin_client_, source):
    citation = make_citation(source=source, quote="blew up the Temple of Bel")
    response = admin_client_.get(reverse("admin:archive_incident_change", args=[citation.incident_id]))
    html = response.content.decode()
    assert f"characters {citation.position_start}–{citation.position_end}" in html
    assert "militants <mark>blew up the Temple of Bel</mark> on Sunday" in html
