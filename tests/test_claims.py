"""Citations are claims; an incident's assessment is derived from them by written rules."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from archive.models import Figure, Incident
from tests.factories import make_citation, make_incident, make_monument, make_source

pytestmark = pytest.mark.django_db

TEXT = (
    "Headline\n\nIslamic State militants blew up the Temple of Baalshamin, activists said.\n"
    "It has since blown up UNESCO-listed temples.\n"
    "The Observatory reported dozens of airstrikes on the city on Wednesday alone.\n"
    "Activists alleged cluster munitions were used, but the allegations could not be verified.\n"
    "Russia said it had repelled an IS attack. Activists said IS had seized a castle.\n"
)


def source(origin, slug):
    return make_source(slug=slug, origin=origin, publisher=origin, received_text=f"{TEXT}\n{slug}\n")


def cite(incident, src, quote, **fields):
    return make_citation(incident=incident, source=src, quote=quote, **fields)


def assessment(incident):
    incident = Incident.objects.get(pk=incident.pk)
    return incident.assessment, incident.assessment_reason


def test_a_passage_that_does_not_name_the_monument_does_not_raise_its_corroboration():
    baalshamin = make_monument(name="Temple of Baalshamin")
    incident = make_incident(monuments=[baalshamin])
    cite(incident, source("The Guardian", "g"), "blew up the Temple of Baalshamin", claimant="activists")
    assert assessment(incident) == ("single_source", "One origin names it (The Guardian); none disputes it.")
    cite(incident, source("AFP", "afp"), "It has since blown up UNESCO-listed temples.", names_monument=False)
    assert assessment(incident)[0] == "single_source"
    assert Incident.objects.with_counts().get(pk=incident.pk).origin_count == 1
    incident.status = "published"
    incident.save()
    download = Client().get(reverse("archive:incident-download", args=["json"]))
    (item,) = json.loads(b"".join(download.streaming_content))
    assert (item["citations"], item["independent_origins"], item["assessment"]) == (2, 1, "single_source")
    cite(incident, source("Reuters/AP", "r"), "blew up the Temple of Baalshamin", claimant="activists")
    assert assessment(incident) == (
        "corroborated",
        "2 independent origins name it (Reuters/AP and The Guardian); none disputes it.",
    )
    assert Incident.objects.with_counts().get(pk=incident.pk).origin_count == 2


def test_an_unverified_claim_makes_an_all_unverified_incident_unverified_but_leaves_a_sourced_claim_alone():
    alleged = make_incident(monuments=[make_monument()])
    cite(alleged, source("The Guardian", "g"), "cluster munitions were used", presentation="unverified")
    assert assessment(alleged) == ("unverified", "Every claim of it is hedged or unverified by its own source.")
    cite(alleged, source("The Guardian", "g2"), "dozens of airstrikes", claimant="the Observatory")
    assert assessment(alleged)[0] == "single_source"


def test_a_contradicting_pair_shows_as_contested_side_by_side():
    incident = make_incident(monuments=[make_monument()])
    src = source("AFP", "afp")
    repelled = cite(incident, src, "Russia said it had repelled an IS attack.", claimant="Russia")
    seized = cite(
        incident, src, "Activists said IS had seized a castle.", claimant="activists", stance="contradicts",
        contradicts=repelled,
    )  # fmt: skip
    assert assessment(incident) == ("contested", "Disputed, contradicted or denied by activists.")
    incident.status = "published"
    incident.save()
    page = Client().get(incident.get_absolute_url()).content.decode()
    assert "Contradicts" in page and f'href="#cites-{repelled.pk}"' in page
    assert "Russia said it had repelled an IS attack." in page and seized.quote in page


def test_contradicts_names_a_citation_only_when_contradicting():
    incident = make_incident()
    first = cite(incident, source("AFP", "afp"), "repelled an IS attack")
    second = cite(incident, source("AFP", "afp2"), "had seized a castle")
    second.stance = "contradicts"
    with pytest.raises(ValidationError, match="Choose the citation"):
        second.full_clean()
    second.stance, second.contradicts = "supports", first
    with pytest.raises(ValidationError, match="Only a contradicting citation"):
        second.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(second).objects.filter(pk=second.pk).update(contradicts=first, stance="supports")


def test_an_override_needs_a_reason_and_shows_it_beside_the_rule():
    incident = make_incident(monuments=[make_monument()])
    cite(incident, source("AFP", "afp"), "blew up the Temple of Baalshamin")
    incident.assessment_override = "confirmed"
    with pytest.raises(ValidationError, match="Say why the derived assessment is overridden"):
        incident.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(assessment_override="confirmed", override_reason="")
    incident.override_reason = "Satellite imagery (UNITAR) shows the cella gone."
    incident.save()
    level, reason = assessment(incident)
    assert level == "confirmed"
    assert reason.startswith("Curator's assessment: Satellite imagery (UNITAR) shows the cella gone.")
    assert "the rules give Single source: One origin names it (AFP)" in reason


def test_a_caption_with_its_own_origin_is_another_origin():
    incident = make_incident(monuments=[make_monument()])
    src = source("AFP", "afp")
    cite(incident, src, "blew up the Temple of Baalshamin")
    cite(incident, src, "activists said", origin="EPA (photo caption)")
    assert assessment(incident)[0] == "corroborated"


def test_figures_are_counts_or_ordered_ranges():
    citation = cite(make_incident(), source("AFP", "afp"), "dozens of airstrikes")
    figure = Figure.objects.create(citation=citation, measure="airstrikes", low=24, high=99, wording="dozens")
    assert str(figure) == "24–99 airstrikes"
    with pytest.raises(IntegrityError), transaction.atomic():
        Figure.objects.create(citation=citation, measure="killed", low=10, high=5)


def test_competing_figures_stand_side_by_side_with_who_claims_each():
    incident = make_incident(monuments=[make_monument()])
    observatory = cite(incident, source("The Guardian", "g"), "dozens of airstrikes", claimant="the Observatory")
    russia = cite(incident, source("AFP", "afp"), "Russia said it had repelled", claimant="Russia's defence ministry")
    Figure.objects.create(citation=observatory, measure="airstrikes", low=24, wording="dozens", counted="airstrikes")
    Figure.objects.create(citation=russia, measure="airstrikes", low=40, counted="sorties")
    incident.status = "published"
    incident.save()
    page = Client().get(incident.get_absolute_url()).content.decode()
    assert "Figures the sources give" in page
    assert "24 airstrikes (“dozens”)" in page and "the Observatory" in page
    assert "40 sorties" in page and "Russia&#x27;s defence ministry" in page


def test_the_methodology_page_states_the_rules_and_every_assessment_links_to_it():
    page = Client().get(reverse("archive:methodology")).content.decode()
    for level in ("contested", "unverified", "corroborated", "single_source", "confirmed"):
        assert f'id="assessment-{level}"' in page
    assert "Two outlets printing the same wire copy are one" in page
    incident = make_incident(monuments=[make_monument()], status="published", citations=1)
    detail = Client().get(incident.get_absolute_url()).content.decode()
    assert f'href="{reverse("archive:methodology")}#assessment-' in detail
    home = Client().get(reverse("archive:home")).content.decode()
    assert reverse("archive:methodology") in home


def test_a_contradiction_shows_on_both_citations_and_never_a_drafts_passage(client):
    from tests.factories import make_citation, make_incident, make_source

    source = make_source(
        received_text="Russia said it had repelled an IS attack. Activists said IS had seized a castle. "
        "A draft's secret sentence about the castle.\n"
    )
    seized = make_incident(title="IS seizes the castle", citations=0)
    activists = make_citation(incident=seized, source=source, quote="IS had seized a castle", claimant="activists")
    repelled = make_citation(
        incident=seized, source=source, quote="repelled an IS attack", claimant="Russia", stance="contradicts",
        contradicts=activists,
    )  # fmt: skip
    seized.publish(None)
    draft = make_incident(title="A draft", citations=0)
    secret = make_citation(incident=draft, source=source, quote="A draft's secret sentence")
    make_citation(incident=seized, source=source, quote="about the castle", stance="contradicts", contradicts=secret)
    page = client.get(seized.get_absolute_url()).content.decode()
    card = page[page.index(f'id="cites-{activists.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Contradicted by" in card and f"#cites-{repelled.pk}" in card and "Russia" in card
    assert "A draft" not in page and "secret sentence" not in page.replace("about the castle", "")
