"""The timeline is laid out correctly from the data, in SQL and in SVG units (the site plan: test_plans.py)."""

import datetime
import re

import pytest

from archive import charts, colours
from archive.models import Incident
from tests.factories import make_actor, make_incident, make_site


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
    # With keys, each actor's colour follows the order its record was made in (IS, Russia, Army),
    # not the order the chart meets them in.
    keyed = charts.control_changes(Incident.objects.public(), keys=True)
    timeline = charts.timeline([], keyed)
    by_actor = {period.actor: period.colour for period in timeline.periods}
    assert by_actor == {
        "IS": colours.ACTOR_PALETTE[0],
        "Russia": colours.ACTOR_PALETTE[1],
        "Army": colours.ACTOR_PALETTE[2],
    }
    assert timeline.legend == [("IS", by_actor["IS"]), ("Army", by_actor["Army"]), ("Russia", by_actor["Russia"])]
    assert timeline.legend_keys == (isis.slug, army.slug, russia.slug)
    # The pages colour by every actor holding a site, found in one query by the same rule.
    assert charts.controlling_actors(Incident.objects.public()) == sorted({change[6:] for change in keyed})
    assert charts.actor_colours(actors=charts.controlling_actors(Incident.objects.public())) == {
        period.actor_key: period.colour for period in timeline.periods
    }


def change(site, day, actor, when, pk):
    return (site, day, actor, f"{actor} takes {site}", f"/incidents/{pk}/", when, pk, actor.lower())


PALMYRA_CHANGES = [
    change("Palmyra", datetime.date(2015, 5, 1), "Islamic State", "May 2015", 1),
    change("Palmyra", datetime.date(2016, 3, 24), "Government", "24–31 March 2016", 2),
    change("Palmyra", datetime.date(2016, 12, 1), "Islamic State", "December 2016 – 11 December 2016", 1),
    change("Palmyra", datetime.date(2016, 12, 11), "Islamic State", "11 December 2016", 1),
    change("Palmyra", datetime.date(2017, 3, 2), "Government", "2 March 2017", 2),
]


def test_one_actor_has_one_colour_in_every_timeline_whatever_it_shows_first():
    everywhere = charts.actor_colours(
        PALMYRA_CHANGES + [change("Tadmur", datetime.date(2017, 2, 28), "Government", "28 February 2017", 2)]
    )
    palmyra = charts.timeline([], PALMYRA_CHANGES, colours=everywhere)
    tadmur = charts.timeline(
        [], [change("Tadmur", datetime.date(2017, 2, 28), "Government", "28 February 2017", 2)], colours=everywhere
    )
    government = {p.colour for t in (palmyra, tadmur) for p in t.periods if p.actor == "Government"}
    assert government == {colours.ACTOR_PALETTE[1]}  # the second actor recorded, though Tadmur shows it first
    assert {p.colour for p in palmyra.periods if p.actor == "Islamic State"} == {colours.ACTOR_PALETTE[0]}


def test_periods_are_labelled_in_their_band_and_a_restatement_does_not_start_a_new_one():
    timeline = charts.timeline([("2015-05", 9), ("2016-12", 4)], PALMYRA_CHANGES)
    # December 2016 and 11 December 2016 both say Islamic State took the town: one period.
    assert [p.actor for p in timeline.periods] == ["Islamic State", "Government", "Islamic State", "Government"]
    for period in timeline.periods:
        if period.label:
            assert period.x < period.label_x
            assert period.label_x + len(period.label) * charts.CHAR_WIDTH <= period.x + period.width
            assert period.label == period.actor or period.label.endswith("…")
            assert colours.contrast(period.text_colour, period.colour) >= 4.5
    assert timeline.periods[0].label == "Islamic State"


def test_dates_are_said_at_the_precision_the_sources_give():
    timeline = charts.timeline([("2016-12", 4)], PALMYRA_CHANGES)
    first, second, third, _fourth = timeline.periods
    assert "from May 2015 until 24–31 March 2016" in first.title
    assert "from December 2016 – 11 December 2016 until 2 March 2017" in third.title
    assert not re.search(r"(?<!\d)1 (May 2015|December 2016)", first.title + third.title)
    assert timeline.bars[0].label == "December 2016"


def test_the_axis_is_cropped_to_the_data_with_a_month_either_side_and_ticked_every_month():
    timeline = charts.timeline([("2015-05", 2), ("2015-08", 1)], [])
    boundaries = [tick for tick in timeline.ticks if not tick.label]
    assert len(boundaries) == 7  # April … September 2015: six months, seven boundaries
    assert boundaries[0].x == timeline.plot_left and boundaries[-1].x == pytest.approx(timeline.plot_right)
    months = [tick.label for tick in timeline.ticks if tick.label and tick.row == 0]
    assert months == ["Apr", "May", "Jun", "Jul", "Aug", "Sep"]
    assert [tick.label for tick in timeline.ticks if tick.row == 1] == ["2015"]
    # The bars are a month wide less a small gap, not slivers over empty years.
    assert all(bar.width >= (timeline.plot_right - timeline.plot_left) / 6 * 0.7 for bar in timeline.bars)


@pytest.mark.parametrize("width", [charts.WIDE, charts.NARROW])
@pytest.mark.parametrize(
    "counts",
    [[("2016-12", 1)], [("2011-03", 1), ("2017-03", 2)], [("2015-05", 9), ("2016-03", 1), ("2017-03", 1)]],
)
def test_every_tick_label_stays_inside_the_chart(counts, width):
    # Eastern Aleppo has one month of data: its year label used to be clipped to "20".
    timeline = charts.timeline(counts, [], width=width)
    labels = [tick for tick in timeline.ticks if tick.label]
    assert labels
    for tick in labels:
        text_width = len(tick.label) * charts.CHAR_WIDTH
        left = {"start": tick.x, "end": tick.x - text_width, "middle": tick.x - text_width / 2}[tick.anchor]
        assert 0 <= left and left + text_width <= timeline.width, tick
    for row in (0, 1):
        xs = sorted(tick.x for tick in labels if tick.row == row)
        assert all(b - a >= 4 * charts.CHAR_WIDTH * 0.75 for a, b in zip(xs, xs[1:], strict=False)), row


def test_the_narrow_timeline_is_laid_out_for_a_phone_not_shrunk():
    timeline = charts.timeline([("2015-05", 9), ("2016-12", 4)], PALMYRA_CHANGES, width=charts.NARROW)
    assert timeline.width == charts.NARROW and timeline.variant == "narrow"
    assert all(
        len(caption) * charts.CHAR_WIDTH <= timeline.width - timeline.plot_left for caption, _y in timeline.lanes
    )
    assert charts.timeline([("2015-05", 9)], [], width=charts.WIDE).variant == "wide"
