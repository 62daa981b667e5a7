"""Colours: one per actor in every chart, colour-blind safe, legible (WCAG contrast computed here)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from archive import charts, colours
from tests.factories import make_actor, make_incident, make_site

CSS = Path(__file__).resolve().parent.parent / "static" / "archive" / "archive.css"


def test_contrast_is_wcag_s_ratio():
    assert colours.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert colours.contrast("#ffffff", "#ffffff") == pytest.approx(1)
    assert colours.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert colours.contrast("#c26a00", "#f7f3ea") < 4.5  # the old "damaged" orange the issue measured


def test_every_band_label_reads_at_4_5_to_1_on_its_actor_s_colour():
    for colour in colours.ACTOR_PALETTE:
        assert colours.contrast(colours.text_on(colour), colour) >= 4.5, colour
    assert len(set(colours.ACTOR_PALETTE)) == len(colours.ACTOR_PALETTE) == 8  # Okabe–Ito


def test_the_stylesheet_uses_the_condition_colours_of_colours_py():
    css = CSS.read_text()
    declared = dict(re.findall(r"--(destroyed|damaged|no-damage|unknown):\s*(#[0-9a-fA-F]{6})", css))
    assert declared == {
        "destroyed": colours.CONDITION_COLOURS["destroyed"],
        "damaged": colours.CONDITION_COLOURS["damaged"],
        "no-damage": colours.CONDITION_COLOURS["intact"],
        "unknown": colours.CONDITION_COLOURS["unknown"],
    }
    assert ".condition-intact { color: var(--no-damage); }" in css


def test_actor_colours_follow_the_records_order_not_a_chart_s():
    first, second, third = (10, "islamic-state"), (11, "government"), (12, "opposition")
    everywhere = colours.actor_colours([third, first, second, first])
    assert everywhere == {
        "islamic-state": colours.ACTOR_PALETTE[0],
        "government": colours.ACTOR_PALETTE[1],
        "opposition": colours.ACTOR_PALETTE[2],
    }
    assert colours.actor_colours([second, first]) == colours.actor_colours([first, second])


def band_colours(html):
    """{actor slug: {colours}} of the bands of control and the legend swatches on a page."""
    pairs = re.findall(r'class="period"[^>]*fill="(#[0-9A-Fa-f]{6})" data-actor="([^"]+)"', html)
    pairs += [
        (c, s) for s, c in re.findall(r'<li data-actor="([^"]+)"><span class="swatch" style="background: (#\w+)"', html)
    ]
    by_actor = {}
    for colour, slug in pairs:
        by_actor.setdefault(slug, set()).add(colour)
    return by_actor


def test_an_actor_has_one_colour_on_every_page_whichever_site_shows_it_first(client, db):
    isis = make_actor(name="Islamic State group", slug="islamic-state")
    army = make_actor(name="Syrian government forces", slug="syrian-government")
    palmyra, tadmur = make_site(name="Palmyra", slug="palmyra"), make_site(name="Tadmur", slug="tadmur")
    control = {"kind": "control_change", "citations": 1, "status": "published"}
    make_incident(site=palmyra, occurred="2015-05", perpetrator=isis, **control)
    make_incident(site=palmyra, occurred="2016-03-27", perpetrator=army, **control)
    make_incident(site=tadmur, occurred="2017-02-28", perpetrator=army, **control)  # the army first, and alone
    pages = [reverse("archive:home"), palmyra.get_absolute_url(), tadmur.get_absolute_url()]
    seen = {}
    for url in pages:
        for slug, found in band_colours(client.get(url).content.decode()).items():
            seen.setdefault(slug, set()).update(found)
    svg = client.get(reverse("archive:timeline-svg") + "?site=tadmur").content.decode()
    for slug, found in band_colours(svg).items():
        seen.setdefault(slug, set()).update(found)
    assert seen == {"islamic-state": {colours.ACTOR_PALETTE[0]}, "syrian-government": {colours.ACTOR_PALETTE[1]}}


def test_a_draft_change_of_control_takes_no_colour(client, db):
    hidden = make_actor(name="Hidden group", slug="hidden-group")
    army = make_actor(name="Army", slug="army")
    site = make_site(name="Palmyra", slug="palmyra")
    make_incident(site=site, occurred="2015-05", perpetrator=hidden, kind="control_change", citations=1)  # a draft
    make_incident(
        site=site, occurred="2016-03", perpetrator=army, kind="control_change", citations=1, status="published"
    )
    html = client.get(site.get_absolute_url()).content.decode()
    assert band_colours(html) == {"army": {colours.ACTOR_PALETTE[0]}}  # the draft's actor moves nobody's colour
    assert "Hidden group" not in html and "hidden-group" not in html
    assert charts.actor_colours([]) == {}
