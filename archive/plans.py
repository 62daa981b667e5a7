"""Site plans: each site's monuments drawn over OpenStreetMap outlines and streets, as SVG.

Drawn offline from the files in `archive/data/osm/` (© OpenStreetMap contributors, ODbL; see the
README there): the archaeological area, the ruins and buildings, the streets faint, and each
monument as its outline or its line — matched to OSM by the table `plans.json`, never by logic
here — coloured by its condition. A monument the table does not match, or a site without OSM
data, is drawn as a point at its recorded coordinates.

Only the monuments given are named, coloured or linked: the views pass `Monument.objects.public()`,
so an outline the table matches to a monument the public may not see is drawn as any other ruin.

Equirectangular projection about the plan's mean latitude: over a few kilometres its error is far
below what the coordinates themselves claim.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from . import colours

DATA = Path(__file__).resolve().parent / "data" / "osm"
METRES_PER_DEGREE = 111_320
CONDITION_ORDER = ["destroyed", "damaged", "intact", "unknown"]
FONT_SIZE = 12
CHAR_WIDTH = 6.8  # a generous average advance of 12-unit system sans-serif: labels are never wider
LINE_HEIGHT = 14
WIDTH = 960
CREDIT = "© OpenStreetMap contributors"
CREDIT_URL = "https://www.openstreetmap.org/copyright"


# --- The OSM data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteData:
    area: tuple  # rings of the archaeological area
    ruins: tuple  # (osm id, ring) of historic features
    buildings: tuple  # (osm id, ring) of the rest
    streets: tuple  # (name, highway, line)
    outlines: dict  # monument slug → rings
    lines: dict  # monument slug → lines


@functools.cache
def _table():
    return json.loads((DATA / "plans.json").read_text(encoding="utf-8"))


@functools.cache
def site_data(slug):
    """The OSM outlines and streets of the site `slug`, or None when the archive has none."""
    entry = _table().get(slug)
    if entry is None:
        return None
    buildings = json.loads((DATA / entry["buildings"]).read_text(encoding="utf-8"))["features"]
    streets = json.loads((DATA / entry["streets"]).read_text(encoding="utf-8"))["features"]
    by_id = {}
    area, ruins, others = [], [], []
    area_ids = set(entry.get("area", []))
    for feature in buildings:
        properties, geometry = feature["properties"], feature["geometry"]
        if geometry["type"] != "Polygon":
            continue
        ring = tuple(tuple(point) for point in geometry["coordinates"][0])
        osm_id = properties.get("osm_id")
        by_id.setdefault(osm_id, []).append(ring)
        if osm_id in area_ids:
            area.append(ring)
        elif properties.get("historic"):
            ruins.append((osm_id, ring))
        else:
            others.append((osm_id, ring))
    lines = []
    for feature in streets:
        if feature["geometry"]["type"] == "LineString":
            properties = feature["properties"]
            line = tuple(tuple(point) for point in feature["geometry"]["coordinates"])
            lines.append((properties.get("name", ""), properties.get("highway", ""), line))
    outlines = {
        slug: tuple(ring for osm_id in match["osm_ids"] for ring in by_id.get(osm_id, []))
        for slug, match in entry.get("outlines", {}).items()
    }
    matched_lines = {
        slug: tuple(line for name, _highway, line in lines if name in match["street_names"])
        for slug, match in entry.get("lines", {}).items()
    }
    return SiteData(
        area=tuple(area),
        ruins=tuple(ruins),
        buildings=tuple(others),
        streets=tuple(lines),
        outlines=outlines,
        lines=matched_lines,
    )


# --- The plan ------------------------------------------------------------------------------------


@dataclass
class Mark:
    """A monument on the plan: its outline, line or point, and its label."""

    name: str
    url: str
    slug: str
    condition: str
    shape: str  # outline, line or point
    x: float  # where the label points to
    y: float
    path: str = ""  # SVG path of the outline or line
    label_x: float = 0
    label_y: float = 0
    label_anchor: str = "start"
    leader: bool = False
    box: tuple = ()  # the label's box, for tests: (left, top, right, bottom)
    extent: tuple = ()  # the outline's box

    @property
    def colour(self):
        return colours.CONDITION_COLOURS[self.condition]

    @property
    def words(self):
        return colours.CONDITION_WORDS[self.condition]

    @property
    def corner(self):
        """Top left of a square point marker."""
        return (round(self.x - 5.5, 1), round(self.y - 5.5, 1))

    @property
    def leader_end(self):
        """Where a leader line from the shape meets the label: its nearest edge."""
        left, top, right, bottom = self.box
        return (min(max(self.x, left), right), min(max(self.y, top), bottom))


@dataclass
class LegendItem:
    condition: str
    words: str
    colour: str
    x: float
    text_x: float


@dataclass
class SitePlan:
    width: int
    height: int
    marks: list[Mark]
    plot: tuple  # (left, top, right, bottom) of the drawing
    scale_x: float
    scale_y: float
    scale_length: float
    scale_label: str
    area: list[str] = field(default_factory=list)  # SVG paths
    ruins: list[str] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    ancient_streets: list[str] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    legend_y: float = 0
    osm: bool = False  # drawn from OpenStreetMap: the credit is due
    north_x: float = 0
    north_y: float = 0

    @property
    def credit(self):
        return CREDIT if self.osm else ""

    @property
    def credit_url(self):
        return CREDIT_URL

    @property
    def ground(self):
        return colours.PLAN_GROUND

    @property
    def colours(self):
        return colours.CONDITION_COLOURS

    @property
    def clip(self):
        left, top, right, bottom = self.plot
        return (left, top, right - left, bottom - top)

    @property
    def swatch_y(self):
        return self.legend_y - 10

    @property
    def credit_x(self):
        return self.width - 14

    @property
    def credit_y(self):
        return self.scale_y + 4

    @property
    def markers(self):  # the name the templates and tests of the point plan used
        return self.marks


class Projection:
    """Longitude and latitude to plan units: north up, east right, one scale both ways."""

    def __init__(self, points, box):
        lons = [lon for lon, _lat in points]
        lats = [lat for _lon, lat in points]
        self.cos = math.cos(math.radians((max(lats) + min(lats)) / 2))
        left, top, right, bottom = box
        # At least ~600 m across, so that a lone monument still gets a sensible scale.
        span_x = max((max(lons) - min(lons)) * self.cos, 0.0055)
        span_y = max(max(lats) - min(lats), 0.0055)
        self.unit = min((right - left) / span_x, (bottom - top) / span_y)
        self.centre = ((max(lons) + min(lons)) / 2 * self.cos, (max(lats) + min(lats)) / 2)
        self.middle = ((left + right) / 2, (top + bottom) / 2)

    def __call__(self, lon, lat):
        return (
            self.middle[0] + (lon * self.cos - self.centre[0]) * self.unit,
            self.middle[1] - (lat - self.centre[1]) * self.unit,
        )

    @property
    def metres_per_unit(self):
        return METRES_PER_DEGREE / self.unit


def _path(project, points, closed):
    coordinates = [project(lon, lat) for lon, lat in points]
    text = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    return text + " Z" if closed else text


def _inside(project, points, box, slack=40):
    left, top, right, bottom = box
    return any(
        left - slack <= x <= right + slack and top - slack <= y <= bottom + slack
        for x, y in (project(lon, lat) for lon, lat in points)
    )


def _centroid(rings):
    points = [point for ring in rings for point in ring[:-1] or ring]
    return (sum(lon for lon, _ in points) / len(points), sum(lat for _, lat in points) / len(points))


def _middle_of(lines):
    """The point halfway along the longest of `lines` (where a street's label points)."""
    line = max(lines, key=lambda points: sum(math.dist(a, b) for a, b in zip(points, points[1:], strict=False)))
    lengths = [math.dist(a, b) for a, b in zip(line, line[1:], strict=False)]
    remaining = sum(lengths) / 2
    for (a, b), length in zip(zip(line, line[1:], strict=False), lengths, strict=True):
        if remaining <= length and length:
            t = remaining / length
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        remaining -= length
    return line[0]


def nice_distance(metres):
    """The largest of 10, 20, 25, 50 × 10^k metres not above `metres`."""
    best = 10
    for exponent in range(1, 6):
        for step in (1, 2, 2.5, 5):
            candidate = step * 10**exponent
            if candidate <= metres:
                best = candidate
    return best


def overlap(a, b):
    """The area two boxes (left, top, right, bottom) share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def label_box(x, y, anchor, text):
    width = CHAR_WIDTH * len(text) + 2
    left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
    return (left, y - FONT_SIZE + 1, left + width, y + 4)


def _candidates(x, y):
    """Label positions around (x, y), nearest first: (x, baseline y, anchor, distance)."""
    for distance in (9, 20, 34, 52, 74):
        diagonal = distance * 0.72
        yield x + distance, y + 4, "start", distance
        yield x - distance, y + 4, "end", distance
        yield x, y - distance, "middle", distance
        yield x, y + distance + 10, "middle", distance
        yield x + diagonal, y - diagonal, "start", distance
        yield x - diagonal, y - diagonal, "end", distance
        yield x + diagonal, y + diagonal + 8, "start", distance
        yield x - diagonal, y + diagonal + 8, "end", distance


def place_labels(marks, obstacles, bounds):
    """Greedy placement, most crowded first: each label at the nearest position that overlaps no
    label placed before it and no monument's point, inside `bounds`; a label away from its shape
    gets a leader line. Labels never overlap one another (the tests check it)."""
    placed = []
    left, top, right, bottom = bounds

    def crowding(mark):
        return -sum(1 for other in marks if abs(other.x - mark.x) < 60 and abs(other.y - mark.y) < 40)

    for mark in sorted(marks, key=lambda m: (crowding(m), m.y, m.x, m.name)):
        best = None
        for x, y, anchor, distance in _candidates(mark.x, mark.y):
            box = label_box(x, y, anchor, mark.name)
            outside = max(0, left - box[0]) + max(0, box[2] - right) + max(0, top - box[1]) + max(0, box[3] - bottom)
            clash = sum(overlap(box, other) for other in placed)
            covers = sum(overlap(box, other) for other in obstacles)
            cost = (1e6 if clash or outside else 0) + covers * 4 + distance
            if best is None or cost < best[0]:
                best = (cost, x, y, anchor, box, distance)
            if cost < 1e6 and covers == 0:
                break
        _cost, x, y, anchor, box, distance = best
        mark.label_x, mark.label_y, mark.label_anchor, mark.box = round(x, 1), round(y, 1), anchor, box
        mark.leader = distance > 9 or mark.shape == "line"
        placed.append(box)
    return marks


def site_plan(monuments, site=None, width=WIDTH, max_height=640, margin=14):
    """The plan of `monuments` (with `condition` annotated), over the OSM data of `site` when the
    archive has it; None when no monument has coordinates."""
    located = [m for m in monuments if m.latitude is not None and m.longitude is not None]
    if not located:
        return None
    data = site_data(site.slug) if site is not None else None
    shown = {m.slug: m for m in located}
    points = [(float(m.longitude), float(m.latitude)) for m in located]
    if data is not None:
        for slug in shown:
            for ring in data.outlines.get(slug, ()):
                points.extend(ring)
            for line in data.lines.get(slug, ()):
                points.extend(line)

    # The plot's proportions follow the data's; room below for the scale, legend and credit.
    lons, lats = [lon for lon, _ in points], [lat for _, lat in points]
    cos = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * cos, 0.0055)
    span_y = max(max(lats) - min(lats), 0.0055)
    plot_width = width - 2 * margin
    footer = 64
    label_room = 40  # labels may stand beyond the outermost monuments
    height = int(min(max_height, max(300, plot_width * span_y / span_x + 2 * label_room + footer)))
    box = (margin + label_room, margin + label_room, width - margin - label_room, height - footer - label_room)
    project = Projection(points, box)
    plot = (margin, margin, width - margin, height - footer)

    marks = []
    for monument in sorted(located, key=lambda m: m.name):
        condition = getattr(monument, "condition", None) or "unknown"
        outline = data.outlines.get(monument.slug, ()) if data else ()
        lines = data.lines.get(monument.slug, ()) if data else ()
        extent = ()
        if outline:
            x, y = project(*_centroid(outline))
            path, shape = " ".join(_path(project, ring, True) for ring in outline), "outline"
            corners = [project(*point) for ring in outline for point in ring]
            extent = (
                min(cx for cx, _ in corners),
                min(cy for _, cy in corners),
                max(cx for cx, _ in corners),
                max(cy for _, cy in corners),
            )
        elif lines:
            x, y = project(*_middle_of(lines))
            path, shape = " ".join(_path(project, line, False) for line in lines), "line"
        else:
            x, y = project(float(monument.longitude), float(monument.latitude))
            path, shape = "", "point"
        marks.append(
            Mark(
                name=monument.name,
                url=monument.get_absolute_url(),
                slug=monument.slug,
                condition=condition,
                shape=shape,
                x=round(x, 1),
                y=round(y, 1),
                path=path,
                extent=extent,
            )
        )
    # Two points recorded at one place: nudge the later one so both can be seen and clicked.
    for index, mark in enumerate(marks):
        if mark.shape == "point":
            while any(abs(mark.x - m.x) < 10 and abs(mark.y - m.y) < 10 for m in marks[:index] if m.shape == "point"):
                mark.y += 11
    obstacles = [(m.x - 7, m.y - 7, m.x + 7, m.y + 7) for m in marks if m.shape == "point"]
    obstacles += [m.extent for m in marks if m.extent]
    place_labels(marks, obstacles, plot)

    plan = SitePlan(
        width=width,
        height=height,
        marks=marks,
        plot=plot,
        scale_x=margin + 6,
        scale_y=height - footer + 20,
        scale_length=0,
        scale_label="",
        north_x=width - margin - 18,
        north_y=margin + 22,
    )
    scale_metres = nice_distance((box[2] - box[0]) * 0.25 * project.metres_per_unit)
    plan.scale_length = round(scale_metres / project.metres_per_unit, 1)
    plan.scale_label = f"{scale_metres / 1000:g} km" if scale_metres >= 1000 else f"{scale_metres:g} m"
    if data is not None:
        plan.osm = True
        matched = {osm_id for slug in shown for osm_id in _matched_ids(site.slug, slug)}
        plan.area = [_path(project, ring, True) for ring in data.area]
        plan.ruins = [
            _path(project, ring, True)
            for osm_id, ring in data.ruins
            if osm_id not in matched and _inside(project, ring, plot)
        ]
        plan.buildings = [
            _path(project, ring, True)
            for osm_id, ring in data.buildings
            if osm_id not in matched and _inside(project, ring, plot)
        ]
        drawn_lines = {line for slug in shown for line in data.lines.get(slug, ())}
        for name, highway, line in data.streets:
            if line in drawn_lines or not _inside(project, line, plot):
                continue
            target = plan.ancient_streets if name and highway in ("path", "pedestrian") else plan.streets
            target.append(_path(project, line, False))
    x = margin + 6
    for condition in CONDITION_ORDER:
        words = colours.CONDITION_WORDS[condition]
        plan.legend.append(LegendItem(condition, words, colours.CONDITION_COLOURS[condition], x, x + 16))
        x += 30 + CHAR_WIDTH * len(words)
    plan.legend_y = height - 12
    return plan


def _matched_ids(site_slug, monument_slug):
    return _table()[site_slug].get("outlines", {}).get(monument_slug, {}).get("osm_ids", [])
