"""The site plan: monuments over OpenStreetMap outlines, laid out truly, labelled without
collisions, linked only to what the public may see."""

import json
import re
from decimal import Decimal
from html import unescape
from itertools import combinations
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from archive import colours, plans
from tests.factories import make_incident, make_monument, make_site


def monument(name, lat, lon, condition="unknown", slug=None):
    slug = slug or name
    return SimpleNamespace(
        name=name,
        slug=slug,
        latitude=Decimal(lat),
        longitude=Decimal(lon),
        condition=condition,
        get_absolute_url=lambda: f"/monuments/{slug}/",
    )


# The curated record's monuments of Palmyra, at their reference coordinates (../shared/reference/monuments.csv).
PALMYRA = [
    ("Temple of Bel", "temple-of-bel", "34.547", "38.274", "destroyed"),
    ("Temple of Baalshamin", "temple-of-baalshamin", "34.553297", "38.270467", "destroyed"),
    ("Roman Theatre of Palmyra", "roman-theatre", "34.5505", "38.2687", "damaged"),
    ("Monumental Arch of Palmyra", "monumental-arch", "34.549994", "38.271008", "destroyed"),
    ("Tetrapylon of Palmyra", "tetrapylon", "34.55152", "38.26802", "damaged"),
    ("Great Colonnade", "great-colonnade", "34.5505", "38.2687", "unknown"),
    ("Palmyra Museum", "palmyra-museum", "34.55527", "38.27483", "intact"),
    ("Fakhr-al-Din al-Ma'ani Castle", "palmyra-castle", "34.5627417", "38.2571059", "intact"),
    ("Tower of Elahbel", "tower-of-elahbel", "34.552418", "38.257141", "unknown"),
    ("Tadmur Prison", "tadmur-prison", "34.5589", "38.2853", "unknown"),
]
PALMYRA_SITE = SimpleNamespace(slug="palmyra", name="Palmyra")


def palmyra_plan(only=None):
    rows = [row for row in PALMYRA if only is None or row[1] in only]
    return plans.site_plan([monument(name, lat, lon, cond, slug) for name, slug, lat, lon, cond in rows], PALMYRA_SITE)


def test_point_plan_projects_north_up_east_right_with_a_true_scale():
    bel = monument("bel", "34.547", "38.274", "destroyed")
    castle = monument("castle", "34.5627417", "38.2571059", "intact")
    plan = plans.site_plan([bel, castle])  # no site: no OSM data, points only
    by_name = {m.name: m for m in plan.marks}
    assert not plan.osm and plan.credit == "" and {m.shape for m in plan.marks} == {"point"}
    assert by_name["castle"].y < by_name["bel"].y  # north is up
    assert by_name["castle"].x < by_name["bel"].x  # west is left
    # The two are ~2,350 m apart: the drawing agrees with the scale bar within 2 %.
    dx, dy = by_name["bel"].x - by_name["castle"].x, by_name["bel"].y - by_name["castle"].y
    metres_per_unit = int(plan.scale_label.replace(" km", "000").replace(" m", "")) / plan.scale_length
    assert abs((dx**2 + dy**2) ** 0.5 * metres_per_unit - 2350) < 50
    assert by_name["bel"].words == "destroyed"
    assert [item.condition for item in plan.legend] == ["destroyed", "damaged", "intact", "unknown"]


def test_points_recorded_at_one_place_are_separated_and_their_labels_kept_apart():
    plan = plans.site_plan([monument("theatre", "34.5505", "38.2687"), monument("colonnade", "34.5505", "38.2687")])
    first, second = plan.marks
    assert (first.x, first.y) != (second.x, second.y)
    assert plans.overlap(first.box, second.box) == 0


def test_nothing_located_is_no_plan():
    assert plans.site_plan([SimpleNamespace(name="x", slug="x", latitude=None, longitude=None)]) is None


def test_nice_distance():
    assert plans.nice_distance(730) == 500
    assert plans.nice_distance(260) == 250
    assert plans.nice_distance(1999) == 1000


def test_palmyra_is_drawn_from_osm_outlines_with_the_colonnade_as_its_street():
    plan = palmyra_plan()
    shapes = {m.slug: m.shape for m in plan.marks}
    assert shapes["temple-of-bel"] == shapes["temple-of-baalshamin"] == shapes["roman-theatre"] == "outline"
    assert shapes["palmyra-museum"] == shapes["tetrapylon"] == "outline"
    assert shapes["great-colonnade"] == "line"
    # No outline in OSM: drawn at their coordinates.
    assert shapes["monumental-arch"] == shapes["palmyra-castle"] == shapes["tadmur-prison"] == "point"
    assert plan.osm and plan.credit == "© OpenStreetMap contributors"
    assert plan.area and plan.ruins and plan.streets
    # The colonnade is a street over a kilometre long, not a point on the theatre.
    colonnade = next(m for m in plan.marks if m.slug == "great-colonnade")
    xs = [float(x) for x in re.findall(r"[ML](-?[\d.]+),", colonnade.path)]
    metres_per_unit = 500 / plan.scale_length if plan.scale_label == "500 m" else None
    assert metres_per_unit and (max(xs) - min(xs)) * metres_per_unit > 700
    theatre = next(m for m in plan.marks if m.slug == "roman-theatre")
    assert (theatre.x, theatre.y) != (colonnade.x, colonnade.y)


def test_the_scale_bar_agrees_with_the_osm_outlines():
    plan = palmyra_plan()
    bel = next(m for m in plan.marks if m.slug == "temple-of-bel")
    # The precinct of Bel is about 226 m east to west (OSM way 226891786).
    xs = [float(x) for x in re.findall(r"[ML](-?[\d.]+),", bel.path)]
    metres = (max(xs) - min(xs)) * int(plan.scale_label.replace(" m", "")) / plan.scale_length
    assert abs(metres - 226) < 10


def test_labels_never_overlap_one_another_nor_the_points_and_stay_on_the_plan():
    plan = palmyra_plan()
    for first, second in combinations(plan.marks, 2):
        assert plans.overlap(first.box, second.box) == 0, (first.name, second.name)
    points = [m for m in plan.marks if m.shape == "point"]
    left, top, right, bottom = plan.plot
    for mark in plan.marks:
        assert left <= mark.box[0] and mark.box[2] <= right and top <= mark.box[1] and mark.box[3] <= bottom, mark.name
        for point in points:
            assert plans.overlap(mark.box, (point.x - 5, point.y - 5, point.x + 5, point.y + 5)) == 0


def test_no_damage_reported_is_grey_and_every_condition_reads_at_4_5_to_1():
    for condition, colour in colours.CONDITION_COLOURS.items():
        assert colours.contrast(colour, colours.PLAN_GROUND) >= 4.5, condition
        assert colours.contrast(colour, colours.WHITE) >= 4.5, condition  # the labels' halo
    red, green, blue = (int(colours.CONDITION_COLOURS["intact"][i : i + 2], 16) for i in (1, 3, 5))
    assert red == green == blue  # neutral, never a green that reads as "undamaged"
    assert colours.CONDITION_WORDS["intact"] == "no damage reported"


def test_the_matching_table_names_outlines_and_streets_that_are_in_the_data():
    table = json.loads((plans.DATA / "plans.json").read_text())
    for slug, entry in table.items():
        data = plans.site_data(slug)
        for monument_slug, match in entry["outlines"].items():
            assert len(data.outlines[monument_slug]) >= len(match["osm_ids"]), monument_slug
            assert match["note"]
        for monument_slug, match in entry["lines"].items():
            assert len(data.lines[monument_slug]) >= len(match["street_names"]), monument_slug
        assert data.area
    readme = (plans.DATA / "README.md").read_text()
    assert "© OpenStreetMap contributors" in readme and "ODbL" in readme


@pytest.fixture
def palmyra(db):
    site = make_site(name="Palmyra", slug="palmyra", latitude="34.550381", longitude="38.269791")
    bel = make_monument(site=site, name="Temple of Bel", slug="temple-of-bel", latitude="34.547", longitude="38.274")
    make_incident(site=site, kind="destruction", monuments=[bel], citations=1, status="published")
    return site, bel


def test_the_plan_links_each_public_monument_and_credits_osm(client, palmyra):
    site, bel = palmyra
    for url in (site.get_absolute_url(), reverse("archive:home"), reverse("archive:site-plan-svg", args=["palmyra"])):
        html = unescape(client.get(url).content.decode())
        assert f'<a href="{bel.get_absolute_url()}" class="plan-marker condition-destroyed"' in html, url
        assert "© OpenStreetMap contributors" in html, url
        assert 'class="plan-scale"' in html and 'class="plan-north"' in html


def test_an_unpublished_monument_leaks_neither_its_name_its_link_nor_its_condition(client, palmyra):
    site, _bel = palmyra
    # The museum is known only from a draft: it is not public, though OSM has its outline.
    museum = make_monument(
        site=site, name="Secret museum name", slug="palmyra-museum", latitude="34.55527", longitude="38.27483"
    )
    make_incident(site=site, kind="looting", monuments=[museum], citations=1)
    for url in (site.get_absolute_url(), reverse("archive:home"), reverse("archive:site-plan-svg", args=["palmyra"])):
        html = client.get(url).content.decode()
        assert "Secret museum name" not in html and "/monuments/palmyra-museum/" not in html, url
        assert 'data-monument="palmyra-museum"' not in html and 'data-condition="damaged"' not in html, url
    # Its outline is drawn as any other building would be: the same plan as without the museum at all.
    plan_svg = client.get(reverse("archive:site-plan-svg", args=["palmyra"])).content
    museum.incidents.all().delete()
    museum.delete()
    cache.clear()
    assert client.get(reverse("archive:site-plan-svg", args=["palmyra"])).content == plan_svg


def test_a_site_without_coordinates_says_so_and_its_plan_address_answers(client, db):
    site = make_site(name="Ancient City of Aleppo", slug="aleppo-old-city")
    souq = make_monument(site=site, name="Al-Madina Souq", slug="souq")
    make_incident(site=site, monuments=[souq], citations=1, status="published")
    html = unescape(client.get(site.get_absolute_url()).content.decode())
    assert "No plan: no monument of Ancient City of Aleppo has recorded coordinates" in html
    response = client.get(reverse("archive:site-plan-svg", args=["aleppo-old-city"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert "no monument of this site has recorded coordinates" in response.content.decode()
