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
        ("Palmyra", datetime.date(2015, 5, 21), "Islamic State", "IS seizes Palmyra", "/incidents/a/", "21 May 2015"),
        ("Palmyra", datetime.date(2016, 3, 27), "Government", "Army retakes Palmyra", "/incidents/b/", "27 March 2016"),
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


def test_month_counts_leave_out_what_the_sources_do_not_date_to_the_month(db):
    site = make_site()
    for occurred in ("2015-05-21", "2015-05", "2015-05/2016-03", "2015-05~", "2015-05-30/2015-06-02"):
        make_incident(site=site, occurred=occurred, citations=1, status="published")
    for occurred in ("", "../2016-03-24", "2016-03/..", "2015", "2015-21", "2014/2015-05"):
        make_incident(site=site, occurred=occurred, citations=1, status="published")
    incidents = Incident.objects.public()
    assert charts.month_counts(incidents) == [("2015-05", 5)]
    # Undated or open-ended (3); a year, a season, a range from a year (3).
    assert charts.unplaced_counts(incidents) == (3, 3)
    timeline = charts.timeline(charts.month_counts(incidents), [], unplaced=charts.unplaced_counts(incidents))
    assert timeline.total == 5 and timeline.undated == 3 and timeline.coarse == 3 and timeline.not_drawn == 6
    assert timeline.first_month == timeline.last_month == "May 2015"


def test_a_timeline_with_only_incidents_it_cannot_place_draws_nothing():
    timeline = charts.timeline([], [], unplaced=(2, 1))
    assert timeline is not None and not timeline.drawn and timeline.not_drawn == 3
    assert charts.timeline([], [], unplaced=(0, 0)) is None


def test_changes_of_control_are_the_principal_actors(db):
    site = make_site(name="Palmyra")
    isis, russia, army = make_actor(name="IS"), make_actor(name="Russia"), make_actor(name="Army")
    values = {"site": site, "kind": "control_change", "citations": 1, "status": "published"}
    make_incident(occurred="2015-05-21", perpetrator=isis, **values)
    make_incident(occurred="2016-03-23/2016-03-27", actors=[(russia, "supporting"), (army, "perpetrator")], **values)
    make_incident(occurred="2017-03", actors=[(russia, "claimed")], **values)  # no perpetrator: the first actor
    make_incident(occurred="2018", perpetrator=isis, **values)  # a year: no month to start a period in
    changes = charts.control_changes(Incident.objects.public())
    assert [(actor, when) for _site, _day, actor, _title, _url, when in changes] == [
        ("IS", "21 May 2015"),
        ("Army", "23–27 March 2016"),
        ("Russia", "March 2017"),
    ]
    timeline = charts.timeline([], changes)
    assert [period.actor for period in timeline.periods] == ["IS", "Army", "Russia"]
    assert "held by Army from 23–27 March 2016 until March 2017" in timeline.periods[1].title
    # One colour per actor, in order of first appearance (as before, now keyed on the principal actor).
    assert [colour for _actor, colour in timeline.legend] == charts.CONTROL_COLOURS[:3]
