"""generate_synthetic builds a deterministic, marked synthetic archive and removes it again."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from archive.models import Actor, Citation, Incident, Monument, Site, Source
from tests.test_public_pages import palmyra_record


def snapshot():
    return list(
        Incident.objects.filter(is_synthetic=True)
        .order_by("slug")
        .values_list("slug", "title", "kind", "status", "occurred", "actor_links__actor__slug", "assessment")
    )


def test_builds_marked_incidents_with_anchored_citations(db):
    out = StringIO()
    call_command("generate_synthetic", "--incidents", "1000", stdout=out)
    assert "Built 1000 synthetic incidents" in out.getvalue()
    incidents = Incident.objects.filter(is_synthetic=True)
    assert incidents.count() == Incident.objects.count() == 1000
    assert incidents.published().count() > 900
    assert {"draft", "withdrawn"} <= set(incidents.values_list("status", flat=True))
    assert incidents.filter(kind="control_change").exists()
    assert all(slug.startswith("synthetic-") for slug in Source.objects.values_list("slug", flat=True))
    assert all(slug.startswith("synthetic-") for slug in Monument.objects.values_list("slug", flat=True))
    assert all(slug.startswith("synthetic-") for slug in Actor.objects.values_list("slug", flat=True))
    # Every citation points at its exact quote, as the model's own anchoring would.
    for citation in Citation.objects.select_related("source")[:200]:
        assert citation.source.received_text[citation.position_start : citation.position_end] == citation.quote
        citation.full_clean()
    assert not Incident.objects.published().filter(citations__isnull=True).exists()
    # No history: bulk rows, said so in the docstring.
    assert Incident.history.count() == 0


def test_is_deterministic_and_replaces_its_earlier_rows(db):
    call_command("generate_synthetic", "--incidents", "120", stdout=StringIO())
    first = snapshot()
    call_command("generate_synthetic", "--incidents", "120", stdout=StringIO())
    assert snapshot() == first
    assert Incident.objects.count() == 120


def test_never_touches_the_curated_record_and_clears_what_it_made(db):
    record = palmyra_record()
    curated = {
        "incidents": set(Incident.objects.values_list("pk", "title", "status")),
        "sources": set(Source.objects.values_list("pk", "title")),
        "monuments": set(Monument.objects.values_list("pk", "name")),
        "citations": Citation.objects.count(),
    }
    call_command("generate_synthetic", "--incidents", "200", stdout=StringIO())
    assert Incident.objects.curated().count() == 5
    assert Incident.objects.filter(is_synthetic=True).count() == 200
    assert not record["bel"].incidents.filter(is_synthetic=True).exists()
    out = StringIO()
    call_command("generate_synthetic", "--clear", stdout=out)
    assert "Removed 200 synthetic incidents" in out.getvalue()
    assert set(Incident.objects.values_list("pk", "title", "status")) == curated["incidents"]
    assert set(Source.objects.values_list("pk", "title")) == curated["sources"]
    assert set(Monument.objects.values_list("pk", "name")) == curated["monuments"]
    assert Citation.objects.count() == curated["citations"]
    assert not Site.objects.filter(slug__startswith="synthetic-").exists()
    assert not Actor.objects.filter(slug__startswith="synthetic-").exists()


def test_bad_arguments_are_refused(db):
    with pytest.raises(CommandError, match="--incidents N"):
        call_command("generate_synthetic", stdout=StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("generate_synthetic", "--incidents", "5", "--clear", stdout=StringIO())
