"""Server-side charts: the site plan and the timeline, drawn as SVG without tiles, scripts or fonts.

The functions here gather what a chart needs from the database (in SQL, a bounded number of
queries) and lay it out in SVG user units; templates in `templates/includes/` draw the result.
"""

from __future__ import annotations

import calendar
import datetime
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Func, Prefetch, Q, TextField
from django.db.models.functions import Substr
from django.urls import reverse

from .dates import NO_EARLIER, NO_LATER
from .models import Condition, Incident, IncidentActor, IncidentKind
from .views.when import when_of

METRES_PER_DEGREE = 111_320
CONDITION_ORDER = [Condition.DESTROYED, Condition.DAMAGED, Condition.INTACT, Condition.UNKNOWN]
# Colours for periods of control, assigned to actors in order of first appearance.
CONTROL_COLOURS = ["#7b5ea7", "#2f7f8f", "#b5651d", "#4f772d", "#8c2f39", "#3d5a80"]


class YearMonth(Func):
    """'YYYY-MM' of a date column, with each database's own C function (no Python UDF on SQLite)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="SUBSTR(CAST(%(expressions)s AS TEXT), 1, 7)")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="SUBSTR(%(expressions)s, 1, 7)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="TO_CHAR(%(expressions)s, 'YYYY-MM')")


# --- Site plan ---------------------------------------------------------------------------------


@dataclass
class Marker:
    name: str
    url: str
    condition: str
    condition_label: str
    x: float
    y: float
    label_x: float = 0
    label_y: float = 0
    label_anchor: str = "start"
    leader: bool = False

    @property
    def leader_y(self):
        return self.label_y - 4


@dataclass
class SitePlan:
    width: int
    height: int
    markers: list[Marker]
    scale_x: float
    scale_y: float
    scale_length: float
    scale_label: str
    legend_y: float = 0
    legend: list[tuple[str, str, float, float]] = field(default_factory=list)  # value, label, shape x, text x


def _nice_distance(metres):
    """The largest of 10, 20, 25, 50 × 10^k metres not above `metres`."""
    best = 10
    for exponent in range(1, 6):
        for step in (1, 2, 2.5, 5):
            candidate = step * 10**exponent
            if candidate <= metres:
                best = candidate
    return best


def _label_box(marker, x, anchor, y, text_width):
    left = x if anchor == "start" else x - text_width
    return (left, y - 11, left + text_width, y + 3)


def _overlap(a, b):
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def site_plan(monuments, width=640, max_height=460, margin=36):
    """Lay out `monuments` (with `condition` annotated, coordinates set) as a plan with a scale bar.

    Equirectangular projection about the mean latitude: over a few kilometres the error is far
    below what the coordinates themselves claim.
    """
    located = [m for m in monuments if m.latitude is not None and m.longitude is not None]
    if not located:
        return None
    lats = [float(m.latitude) for m in located]
    lons = [float(m.longitude) for m in located]
    lat0 = math.radians(sum(lats) / len(lats))
    # At least ~600 m across, so that a lone monument still gets a sensible scale.
    span_x = max((max(lons) - min(lons)) * math.cos(lat0), 0.0055)
    span_y = max(max(lats) - min(lats), 0.0055)
    plot_width = width - 2 * margin - 120  # room for labels on the right
    height = int(min(max_height, max(280, plot_width * span_y / span_x + 2 * margin + 50)))
    plot_height = height - 2 * margin - 50  # room for the scale bar and the legend
    unit = min(plot_width / span_x, plot_height / span_y)
    centre_x = (max(lons) + min(lons)) / 2 * math.cos(lat0)
    centre_y = (max(lats) + min(lats)) / 2
    mid_x, mid_y = margin + plot_width / 2, margin + plot_height / 2

    markers = []
    taken = []
    for monument in sorted(located, key=lambda m: (-float(m.latitude), float(m.longitude), m.name)):
        x = mid_x + (float(monument.longitude) * math.cos(lat0) - centre_x) * unit
        y = mid_y - (float(monument.latitude) - centre_y) * unit
        # Two monuments recorded at one point (a colonnade and a theatre): nudge the later one.
        while any(abs(x - m.x) < 6 and abs(y - m.y) < 6 for m in markers):
            y += 9
        condition = getattr(monument, "condition", Condition.UNKNOWN) or Condition.UNKNOWN
        markers.append(
            Marker(
                name=monument.name,
                url=monument.get_absolute_url(),
                condition=condition,
                condition_label=Condition(condition).label,
                x=round(x, 1),
                y=round(y, 1),
            )
        )
        taken.append((x - 6, y - 6, x + 6, y + 6))

    # Greedy label placement: the first candidate position that overlaps nothing placed yet.
    placed = list(taken)
    for marker in markers:
        text_width = 6.4 * len(marker.name) + 4
        candidates = [
            (marker.x + 9, "start", marker.y + 4),
            (marker.x - 9, "end", marker.y + 4),
            (marker.x + 9, "start", marker.y - 8),
            (marker.x + 9, "start", marker.y + 16),
            (marker.x - 9, "end", marker.y - 8),
            (marker.x - 9, "end", marker.y + 16),
            (marker.x + 9, "start", marker.y + 28),
            (marker.x + 9, "start", marker.y - 20),
        ]
        best, best_cost = None, None
        for index, (x, anchor, y) in enumerate(candidates):
            box = _label_box(marker, x, anchor, y, text_width)
            outside = max(0, -box[0]) + max(0, box[2] - width) + max(0, -box[1]) + max(0, box[3] - height)
            cost = sum(_overlap(box, other) for other in placed) + outside * 50 + index * 0.1
            if best_cost is None or cost < best_cost:
                best, best_cost = (x, anchor, y, box, index), cost
        x, anchor, y, box, index = best
        marker.label_x, marker.label_anchor, marker.label_y = round(x, 1), anchor, round(y, 1)
        marker.leader = index >= 2
        placed.append(box)

    metres_per_unit = METRES_PER_DEGREE / unit
    scale_metres = _nice_distance(plot_width * 0.3 * metres_per_unit)
    scale_label = f"{scale_metres / 1000:g} km" if scale_metres >= 1000 else f"{scale_metres:g} m"
    legend, x = [], margin
    for condition in CONDITION_ORDER:
        label = condition.label.lower()
        legend.append((condition.value, label, x + 6, x + 16))
        x += 30 + 7.2 * len(label)
    return SitePlan(
        width=width,
        height=height,
        markers=markers,
        scale_x=margin,
        scale_y=height - 44,
        scale_length=round(scale_metres / metres_per_unit, 1),
        scale_label=scale_label,
        legend_y=height - 14,
        legend=legend,
    )


# --- Timeline ----------------------------------------------------------------------------------


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


def control_changes(incidents):
    """Published changes of control whose sources date them to the month (as `month_counts`),
    oldest first, as plain tuples (so that they can be cached): (site, first day, actor, title,
    url, when) — `when` the sources' date in words. The actor is the incident's principal actor
    (its first perpetrator, else its first actor)."""
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
        name = actor.name if actor else ""
        changes.append(
            (row.site.name, row.occurred_from, name, row.title, row.get_absolute_url(), when_of(row.occurred).text)
        )
    return changes


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
    colour: str
    title: str
    url: str
    show_label: bool


@dataclass
class Tick:
    x: float
    label: str


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
    lanes: list[tuple[str, float]]
    plot_height: int
    ticks: list[Tick]
    gridlines: list[tuple[float, int]]
    legend: list[tuple[str, str]]
    shade_plot: bool
    total: int
    first_month: str
    last_month: str
    undated: int = 0  # incidents not drawn: undated, or with an open end
    coarse: int = 0  # incidents not drawn: dated only to a year or a season

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


def month_label(index):
    return datetime.date(index // 12, index % 12 + 1, 1).strftime("%b %Y")


def empty_timeline(width=800, unplaced=(0, 0)):
    """A timeline with nothing to draw: no incident is dated to the month (`unplaced` says why)."""
    undated, coarse = unplaced
    return Timeline(
        width=width, height=40, plot_top=0, plot_bottom=0, plot_left=12, plot_right=width - 12, bars=[], periods=[],
        lanes=[], plot_height=0, ticks=[], gridlines=[], legend=[], shade_plot=False, total=0,
        first_month="", last_month="", undated=undated, coarse=coarse,
    )  # fmt: skip


def timeline(counts, changes, extra_params=None, width=800, unplaced=(0, 0)):
    """Lay out month bars (from `month_counts`) and periods of control (from `control_changes`).
    `unplaced` (from `unplaced_counts`) is reported beside the chart, never drawn. None when there
    is nothing at all; a Timeline with nothing `drawn` when no incident can be put in a month."""
    undated, coarse = unplaced
    if not counts and not changes:
        return empty_timeline(width, unplaced) if undated or coarse else None
    months = [tuple(int(part) for part in month.split("-")) for month, _ in counts]
    months += [(day.year, day.month) for _, day, *_ in changes]
    first = min(_month_index(*m) for m in months)
    last = max(_month_index(*m) for m in months)
    span = last - first + 1

    sites = list(dict.fromkeys(site for site, *_ in changes))
    lane_height = 18
    plot_left, plot_right, plot_top = 44, width - 12, 12
    plot_bottom = plot_top + 170
    lanes_top = plot_bottom + 26
    lane_stride = lane_height + 20  # a caption line above each band
    height = lanes_top + len(sites) * lane_stride + 4
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
        bars.append(
            Bar(
                # Bars touch when months are many; a gap of a third of a month when few.
                x=round(plot_left + index * step + (step / 6 if step > 8 else min(0.5, step * 0.15)), 2),
                y=round(plot_bottom - bar_height, 2),
                width=round(step * 2 / 3 if step > 8 else max(step - min(1, step * 0.3), 0.8), 2),
                height=round(max(bar_height, 1), 2),
                label=datetime.date(year, number, 1).strftime("%B %Y"),
                count=n,
                url=f"{list_url}?{urlencode(params)}",
            )
        )

    colours = {}
    periods = []
    lanes = []
    end_x = plot_left + span * step
    for lane, site in enumerate(sites):
        lane_y = lanes_top + lane * lane_stride + 16
        lanes.append((site, lane_y - 5))
        rows = [row for row in changes if row[0] == site]
        for position, (_, day, actor, title, url, *when) in enumerate(rows):
            # Said as the sources date it (“May 2015”), not as the first day it allows.
            since = when[0] if when else f"{day.day} {day:%B %Y}"
            colour = colours.setdefault(actor, CONTROL_COLOURS[len(colours) % len(CONTROL_COLOURS)])
            start_x = plot_left + (_month_index(day.year, day.month) - first + (day.day - 1) / 31) * step
            if position + 1 < len(rows):
                following, following_when = rows[position + 1][1], rows[position + 1][5:]
                stop_x = (
                    plot_left
                    + (_month_index(following.year, following.month) - first + (following.day - 1) / 31) * step
                )
                until = f"until {following_when[0] if following_when else f'{following.day} {following:%B %Y}'}"
            else:
                stop_x, until = end_x, "to the end of the record"
            period_width = max(stop_x - start_x, 1)
            periods.append(
                Period(
                    x=round(start_x, 2),
                    y=lane_y,
                    width=round(period_width, 2),
                    height=lane_height,
                    actor=actor,
                    colour=colour,
                    title=f"{site}: held by {actor} from {since} {until} ({title})",
                    url=url,
                    show_label=period_width >= 6.5 * len(actor) + 8,
                )
            )

    ticks = []
    if span <= 36:
        # A short record: a tick every quarter, named by month and year.
        for index in range(first, last + 1):
            if index % 3 == 0 or index == first:
                if ticks and index - first - (ticks[-1].x - plot_left) / step < 2:
                    continue
                ticks.append(Tick(x=round(plot_left + (index - first) * step, 2), label=month_label(index)))
    else:
        years = range(first // 12, last // 12 + 2)
        every = 1 if len(years) <= 12 else 2
        for year in years:
            index = _month_index(year, 1) - first
            if 0 <= index <= span and year % every == 0:
                ticks.append(Tick(x=round(plot_left + index * step, 2), label=str(year)))
    if not ticks:
        ticks.append(Tick(x=plot_left, label=str(first // 12)))

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
        ticks=ticks,
        gridlines=gridlines,
        legend=list(colours.items()),
        shade_plot=len(sites) == 1,
        total=sum(n for _, n in counts),
        first_month=month_name(first),
        last_month=month_name(last),
        undated=undated,
        coarse=coarse,
    )


def published_incidents(site=None):
    incidents = Incident.objects.public()
    return incidents.filter(site=site) if site is not None else incidents
