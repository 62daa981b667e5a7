"""Server-side charts: the timeline, drawn as SVG without scripts or fonts (the site plan is in
`plans.py`, the colours in `colours.py`).

The functions here gather what a chart needs from the database (in SQL, a bounded number of
queries) and lay it out in SVG user units; templates in `templates/includes/` draw the result.
A timeline is laid out twice, wide and narrow (`WIDE`, `NARROW`): the page shows the one that fits,
so its text is never drawn smaller than it is written (12 units, 11 px or more on a phone).
"""

from __future__ import annotations

import calendar
import datetime
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Func, Prefetch, Q, TextField
from django.db.models.functions import Substr
from django.urls import reverse

from . import colours as palette
from .dates import NO_EARLIER, NO_LATER
from .models import ActorRole, Incident, IncidentActor, IncidentKind
from .views.when import when_of

WIDE, NARROW = 760, 340
FONT_SIZE = 12
CHAR_WIDTH = 6.8  # the widest average advance of a 12-unit system sans-serif, for fitting labels


class YearMonth(Func):
    """'YYYY-MM' of a date column, with each database's own C function (no Python UDF on SQLite)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="SUBSTR(CAST(%(expressions)s AS TEXT), 1, 7)")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="SUBSTR(%(expressions)s, 1, 7)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="TO_CHAR(%(expressions)s, 'YYYY-MM')")


# Where a timeline may put an incident: in the month it began, when its sources give both ends
# (`Incident.objects.dated()`) and its start to the month at least. The EDTF value says so: a day
# or a month (2016-03-24, 2015-05, 2015-05/2016-03, 2016-03~) has "-0" or "-1" after the year; a
# year (2015), a season (2015-21, spring) or a range that starts with one does not, and is not put
# in January. The others are counted apart (`unplaced_counts`), never drawn at an invented date.
START_MONTH = Substr("occurred", 5, 2)
MONTH_KNOWN = Q(start_month__in=["-0", "-1"])
UNDATED = Q(occurred_from=NO_EARLIER) | Q(occurred_to=NO_LATER)  # as Incident.objects.undated()


def _placed(incidents):
    return incidents.dated().annotate(start_month=START_MONTH).filter(MONTH_KNOWN)


def month_counts(incidents):
    """[('YYYY-MM', n), …] for the given (published) incidents, grouped in the database, each in
    the month it began. Only incidents whose sources date them to the month, both ends given, are
    counted: an undated or open-ended one has no month (`unplaced_counts` counts them)."""
    rows = (
        _placed(incidents)
        .order_by()
        .annotate(month=YearMonth("occurred_from"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return [(row["month"], row["n"]) for row in rows]


def unplaced_counts(incidents):
    """(undated, coarse): how many of the given incidents a timeline cannot draw in a month —
    undated or with an open end, and dated only to a year or a season. One query."""
    counts = (
        incidents.order_by()
        .annotate(start_month=START_MONTH)
        .aggregate(undated=Count("pk", filter=UNDATED), coarse=Count("pk", filter=~UNDATED & ~MONTH_KNOWN))
    )
    return counts["undated"], counts["coarse"]


def control_changes(incidents, keys=False):
    """Published changes of control whose sources date them to the month (as `month_counts`),
    oldest first, as plain tuples (so that they can be cached): (site, first day, actor, title,
    url, when) — `when` the sources' date in words — and, with `keys`, the actor's primary key and
    slug (what `actor_colours` needs). The actor is the incident's principal actor (its first
    perpetrator, else its first actor)."""
    links = IncidentActor.objects.select_related("actor").order_by("id")
    rows = (
        _placed(incidents)
        .filter(kind=IncidentKind.CONTROL_CHANGE)
        .select_related("site")
        .prefetch_related(Prefetch("actor_links", queryset=links))
        .order_by("site__name", "occurred_from", "slug")[:500]
    )
    changes = []
    for row in rows:
        actor = row.principal_actor
        change = (row.site.name, row.occurred_from, actor.name if actor else "", row.title, row.get_absolute_url())
        change += (when_of(row.occurred).text,)
        if keys:
            change += (actor.pk, actor.slug) if actor else (0, "")
        changes.append(change)
    return changes


def controlling_actors(incidents):
    """(primary key, slug) of the principal actor of every change of control among `incidents`
    that `control_changes` would draw (first perpetrator, else first actor): one query, unbounded,
    so that colours do not depend on which changes a chart shows."""
    changes = _placed(incidents).filter(kind=IncidentKind.CONTROL_CHANGE).values("pk")
    links = (
        IncidentActor.objects.filter(incident__in=changes)
        .order_by("incident_id", "id")
        .values_list("incident_id", "role", "actor_id", "actor__slug")
    )
    principal = {}
    for incident_id, role, pk, slug in links:
        held = principal.get(incident_id)
        if held is None or (role == ActorRole.PERPETRATOR and held[0] != ActorRole.PERPETRATOR):
            principal[incident_id] = (role, pk, slug)
    return sorted({(pk, slug) for _role, pk, slug in principal.values()})


def _actor_key(change):
    """(primary key, key) of a change's actor: its slug when `control_changes` gave keys, else its name."""
    _site, _day, actor, _title, _url, _when, *key = change
    return tuple(key) if key else (0, actor)


def actor_colours(changes=None, actors=None):
    """{actor key: colour} for the actors of `changes` (tuples of `control_changes`), or for `actors`
    (from `controlling_actors` over the whole archive: what the pages use, so that each actor has
    one colour in every chart; see colours.py)."""
    if actors is None:
        actors = [_actor_key(change) for change in changes or []]
    return palette.actor_colours(actors)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    url: str


@dataclass
class Period:
    x: float
    y: float
    width: float
    height: float
    actor: str
    actor_key: str
    colour: str
    text_colour: str
    title: str
    url: str
    label: str  # the actor's name in the band, shortened to fit ("" when nothing fits)

    @property
    def show_label(self):
        return bool(self.label)

    @property
    def label_x(self):
        return round(self.x + 5, 2)

    @property
    def label_y(self):
        return round(self.y + self.height / 2 + FONT_SIZE * 0.35, 2)


@dataclass
class Tick:
    x: float
    label: str = ""
    anchor: str = "middle"
    row: int = 0  # 0: months, 1: years


@dataclass
class Timeline:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    bars: list[Bar]
    periods: list[Period]
    lanes: list[tuple[str, float]]  # (caption, y)
    plot_height: int
    ticks: list[Tick]  # labelled ticks and month-boundary ticks (label "")
    gridlines: list[tuple[float, int]]
    legend: list[tuple[str, str]]  # (actor, colour), in the order the chart meets them
    shade_plot: bool
    total: int
    first_month: str
    last_month: str
    undated: int = 0  # incidents not drawn: undated, or with an open end
    coarse: int = 0  # incidents not drawn: dated only to a year or a season
    legend_keys: tuple = ()  # the legend's actor keys, in its order
    note_y: float = 0  # where the count of incidents not drawn is written

    @property
    def variant(self):
        return "narrow" if self.width < 500 else "wide"

    @property
    def tick_end(self):
        return self.plot_bottom + 5

    @property
    def not_drawn(self):
        return self.undated + self.coarse

    @property
    def drawn(self):
        """Whether there is anything to draw (else only `undated` incidents, reported apart)."""
        return bool(self.bars or self.periods)

    @property
    def legend_items(self):
        return [(actor, colour, key) for (actor, colour), key in zip(self.legend, self.legend_keys, strict=True)]

    @property
    def month_y(self):
        return self.plot_bottom + 17

    @property
    def year_y(self):
        return self.plot_bottom + 33


def _month_index(year, month):
    return year * 12 + month - 1


def _nice_ceiling(value):
    if value <= 5:
        return max(value, 1)
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return value


def month_name(index):
    return datetime.date(index // 12, index % 12 + 1, 1).strftime("%B %Y")


def empty_timeline(width=WIDE, unplaced=(0, 0)):
    """A timeline with nothing to draw: no incident is dated to the month (`unplaced` says why)."""
    undated, coarse = unplaced
    return Timeline(
        width=width, height=40, plot_top=0, plot_bottom=0, plot_left=12, plot_right=width - 12, bars=[], periods=[],
        lanes=[], plot_height=0, ticks=[], gridlines=[], legend=[], shade_plot=False, total=0,
        first_month="", last_month="", undated=undated, coarse=coarse,
    )  # fmt: skip


def fit_label(text, room):
    """`text` if it fits in `room` units, else as much as fits with an ellipsis, else ""."""
    fits = int((room - 8) // CHAR_WIDTH)
    if fits >= len(text):
        return text
    if fits < 5:
        return ""
    return text[: fits - 1].rstrip() + "…"


def _ticks(first, last, plot_left, step, width):
    """Month-boundary ticks, month names where they fit (every month, quarter or half year), and
    the years beneath — each label kept inside the chart (Aleppo's "2016" was clipped to "20")."""
    every = next((n for n in (1, 3, 6) if step * n >= 34), None)
    ticks = []
    for index in range(first, last + 2):
        ticks.append(Tick(x=round(plot_left + (index - first) * step, 2)))
    for index in range(first, last + 1):
        month = index % 12 + 1
        centre = plot_left + (index - first + 0.5) * step
        if every and (month - 1) % every == 0:
            name = datetime.date(2000, month, 1).strftime("%b")
            ticks.append(Tick(x=round(centre, 2), label=name, row=0))
    year_row = 1 if every else 0
    years = []
    for index in range(first, last + 1):
        if index % 12 == 0 or index == first:
            years.append(index)
    if len(years) > 1 and (years[1] - years[0]) * step < 40:
        years.pop(0)  # the first month's year would run into the next January's
    for index in years:
        x = plot_left + (index - first) * step + 2
        anchor = "start"
        if x + 4 * CHAR_WIDTH > width - 2:
            x, anchor = width - 2, "end"
        ticks.append(Tick(x=round(x, 2), label=str(index // 12), anchor=anchor, row=year_row))
    return ticks


def timeline(counts, changes, extra_params=None, width=WIDE, unplaced=(0, 0), colours=None):
    """Lay out month bars (from `month_counts`) and periods of control (from `control_changes`).
    `colours` ({actor key: colour}, from `actor_colours` over the whole archive) colours the
    periods; by default, the actors of `changes`. `unplaced` (from `unplaced_counts`) is reported
    beside the chart, never drawn. None when there is nothing at all; a Timeline with nothing
    `drawn` when no incident can be put in a month.

    The axis runs from the month before the first incident or change to the month after the last:
    the data's range, with a margin, not whole empty years."""
    undated, coarse = unplaced
    if not counts and not changes:
        return empty_timeline(width, unplaced) if undated or coarse else None
    if colours is None:
        colours = actor_colours(changes)
    months = [tuple(int(part) for part in month.split("-")) for month, _ in counts]
    months += [(day.year, day.month) for _, day, *_ in changes]
    first = min(_month_index(*m) for m in months) - 1
    last = max(_month_index(*m) for m in months) + 1
    span = last - first + 1

    sites = list(dict.fromkeys(site for site, *_ in changes))
    lane_height = 22
    plot_left, plot_right, plot_top = 30, width - 10, 12
    plot_bottom = plot_top + (150 if width >= 500 else 120)
    lanes_top = plot_bottom + 44
    lane_stride = lane_height + 24  # a caption line above each band
    note_y = lanes_top + len(sites) * lane_stride + 14
    height = int(note_y + (8 if undated or coarse else -8))
    step = (plot_right - plot_left) / span
    top = _nice_ceiling(max((n for _, n in counts), default=1))
    list_url = reverse("archive:incident-list")

    bars = []
    for month, n in counts:
        year, number = (int(part) for part in month.split("-"))
        index = _month_index(year, number) - first
        bar_height = (plot_bottom - plot_top) * n / top
        last_day = calendar.monthrange(year, number)[1]
        params = {
            **(extra_params or {}),
            "date_from": f"{year:04d}-{number:02d}-01",
            "date_to": f"{year:04d}-{number:02d}-{last_day:02d}",
        }
        gap = min(step * 0.25, 6) if step > 4 else 0.3
        bars.append(
            Bar(
                x=round(plot_left + index * step + gap / 2, 2),
                y=round(plot_bottom - bar_height, 2),
                width=round(step - gap, 2),
                height=round(max(bar_height, 1), 2),
                label=datetime.date(year, number, 1).strftime("%B %Y"),  # a bar is a month, said as one
                count=n,
                url=f"{list_url}?{urlencode(params)}",
            )
        )

    def position(day):
        days = calendar.monthrange(day.year, day.month)[1]
        return plot_left + (_month_index(day.year, day.month) - first + (day.day - 1) / days) * step

    periods, lanes, shown = [], [], []
    for lane, site in enumerate(sites):
        lane_y = lanes_top + lane * lane_stride + 18
        lanes.append((fit_label(f"Who held {site}", width - plot_left), lane_y - 6))
        rows = [row for row in changes if row[0] == site]
        # A change that leaves the site with its holder (a second statement of the same seizure)
        # does not start a new period.
        held = [row for n, row in enumerate(rows) if n == 0 or _actor_key(row) != _actor_key(rows[n - 1])]
        for number, row in enumerate(held):
            _site, day, actor, title, url, since, *_ = row
            key = _actor_key(row)[1]
            colour = colours.get(key, palette.ACTOR_PALETTE[-1])
            start_x = position(day)
            if number + 1 < len(held):
                following = held[number + 1]
                stop_x, until = position(following[1]), f"until {following[5]}"
            else:
                stop_x, until = plot_right, "to the end of the record"
            start_x = round(start_x, 2)
            period_width = round(max(round(stop_x, 2) - start_x, 1), 2)
            periods.append(
                Period(
                    x=start_x,
                    y=lane_y,
                    width=period_width,
                    height=lane_height,
                    actor=actor,
                    actor_key=key,
                    colour=colour,
                    text_colour=palette.text_on(colour),
                    title=f"{site}: held by {actor} from {since} {until} ({title})",
                    url=url,
                    label=fit_label(actor, period_width),
                )
            )
            if key not in [k for k, _a, _c in shown]:
                shown.append((key, actor, colour))

    gridlines = [
        (round(plot_bottom - (plot_bottom - plot_top) * fraction, 2), round(top * fraction)) for fraction in (0, 0.5, 1)
    ]
    if top < 2:
        gridlines = gridlines[::2]

    return Timeline(
        width=width,
        height=height,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        plot_left=plot_left,
        plot_right=plot_right,
        bars=bars,
        periods=periods,
        lanes=lanes,
        plot_height=plot_bottom - plot_top,
        ticks=_ticks(first, last, plot_left, step, width),
        gridlines=gridlines,
        legend=[(actor, colour) for _key, actor, colour in shown],
        legend_keys=tuple(key for key, _actor, _colour in shown),
        shade_plot=len(sites) == 1,
        total=sum(n for _, n in counts),
        first_month=month_name(first + 1),
        last_month=month_name(last - 1),
        undated=undated,
        coarse=coarse,
        note_y=note_y,
    )


def published_incidents(site=None):
    incidents = Incident.objects.public()
    return incidents.filter(site=site) if site is not None else incidents
