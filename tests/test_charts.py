"""The site plan and the timeline are laid out correctly from the data, in SQL and in SVG units."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from archive import charts
from archive.models import Incident
from tests.factories import make_actor, make_incident, make_site


def monument(name, lat, lon, condition="unknown"):
    return SimpleNamespace(
        name=name,
        latitude=Decimal(lat),
        longitude=Decimal(lon),
        condition=condition,
        get_absolute_url=lambda: f"/monuments/{name}/",
    )


def test_site_plan_projects_north_up_east_right_with_a_true_scale():
    bel = monument("bel", "34.547", "38.274", "destroyed")
    castle = monument("castle", "34.5627417", "38.2571059", "intact")
    plan = charts.site_plan([bel, castle])
    by_name = {m.name: m for m in plan.markers}
    assert by_name["castle"].y < by_name["bel"].y  # north is up
    assert by_name["castle"].x < by_name["bel"].x  # west is left
    # The two are ~2,350 m apart: the drawing agrees with the scale bar within 2 %.
    dx, dy = by_name["bel"].x - by_name["castle"].x, by_name["bel"].y - by_name["castle"].y
    metres_per_unit = int(plan.scale_label.replace(" km", "000").replace(" m", "")) / plan.scale_length
    assert abs((dx**2 + dy**2) ** 0.5 * metres_per_unit - 2350) < 50
    assert by_name["bel"].condition_label == "Destroyed"
    assert [value for value, *_ in plan.legend] == ["destroyed", "damaged", "intact", "unknown"]


def test_site_plan_separates_monuments_recorded_at_one_point_and_keeps_labels_apart():
    plan = charts.site_plan([monument("theatre", "34.5505", "38.2687"), monument("colonnade", "34.5505", "38.2687")])
    first, second = plan.markers
    assert (first.x, first.y) != (second.x, second.y)
    assert abs(first.label_y - second.label_y) >= 12 or first.label_anchor != second.label_anchor


def test_site_plan_of_nothing_located_is_none():
    assert charts.site_plan([SimpleNamespace(name="x", latitude=None, longitude=None)]) is None


def test_nice_distance():
    assert charts._nice_distance(730) == 500
    assert charts._nice_distance(260) == 250
    assert charts._nice_distance(1999) == 1000


def test_month_counts_are_grouped_in_the_database(db):
    site, actor = make_site(), make_actor()
    for day in (datetime.date(2015, 5, 1), datetime.date(2015, 5, 31), datetime.date(2015, 8, 30)):
        make_incident(site=site, perpetrator=actor, occurred_from=day, occurred_to=day, citations=1, status="published")
    make_incident(
        site=site,
        perpetrator=actor,
        occurred_from=datetime.date(2015, 6, 1),
        occurred_to=datetime.date(2015, 6, 1),
        citations=1,
    )  # a draft
    assert charts.month_counts(Incident.objects.published()) == [("2015-05", 2), ("2015-08", 1)]


def test_timeline_bars_link_to_the_month_and_periods_run_between_changes_of_control():
    changes = [
        ("Palmyra", datetime.date(2015, 5, 21), "Islamic State", "IS seizes Palmyra", "/incidents/a/"),
        ("Palmyra", datetime.date(2016, 3, 27), "Government", "Army retakes Palmyra", "/incidents/b/"),
    ]
    timeline = charts.timeline([("2015-05", 2), ("2015-08", 1), ("2016-02", 4)], changes, {"site": "palmyra"})
    assert [bar.count for bar in timeline.bars] == [2, 1, 4]
    assert timeline.bars[1].url == "/incidents/?site=palmyra&date_from=2015-08-01&date_to=2015-08-31"
    assert timeline.bars[2].url.endswith("date_from=2016-02-01&date_to=2016-02-29")  # a leap year
    # Taller bar for more incidents, all standing on the axis.
    assert timeline.bars[2].height > timeline.bars[0].height > timeline.bars[1].height
    assert all(abs(bar.y + bar.height - timeline.plot_bottom) < 0.01 for bar in timeline.bars)
    first, second = timeline.periods
    assert first.actor == "Islamic State" and first.x + first.width == second.x
    assert "from 21 May 2015 until 27 March 2016" in first.title
    assert timeline.first_month == "May 2015" and timeline.last_month == "March 2016"
    assert timeline.shade_plot
    assert [label for _, label in timeline.legend] != [] and timeline.total == 7


def test_timeline_of_nothing_is_none():
    assert charts.timeline([], []) is None
