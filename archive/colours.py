"""The colours of the charts and the site plan, decided here and nowhere else.

Actors take their colour from Okabe and Ito's colour-blind-safe palette (“Color Universal Design”,
2008) by a stable rule: the actors who hold a site in the archive's published changes of control,
ordered by when their record was created (primary key), take the palette's colours in turn. An
actor therefore has one colour on every page and in every chart, whatever order a chart meets it
in, and a newly recorded actor takes the next colour without moving anyone else's.

Conditions of monuments: dark, saturated colours that read at 4.5:1 or more on the plan's ground
and on white (WCAG 2.x), so that a label written in its condition's colour is legible; "no damage
reported" is a neutral grey, never a green that would read as "undamaged".
"""

from __future__ import annotations

# Okabe–Ito, in an order that keeps the first two (the most common pair, two sides of a war) far
# apart for every kind of colour vision.
ACTOR_PALETTE = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]
INK = "#1d1d1b"
BLACK = "#000000"
WHITE = "#ffffff"
PLAN_GROUND = "#faf8f3"

# Condition value → colour. Keys are archive.models.Condition values (kept as strings so that this
# module imports nothing from the app).
CONDITION_COLOURS = {
    "destroyed": "#9b1c1c",
    "damaged": "#9a4a00",
    "intact": "#5a5a5a",
    "unknown": "#6b6b6b",
}
# How the plan and its legend name each condition (the model's label for "intact" is longer).
CONDITION_WORDS = {
    "destroyed": "destroyed",
    "damaged": "damaged",
    "intact": "no damage reported",
    "unknown": "no incident published",
}


def actor_colours(actors):
    """{actor key: colour} for `actors`, an iterable of (primary key, key) pairs — every actor that
    holds a site in the published record, not only those one chart shows."""
    ordered = sorted(set(actors))
    return {key: ACTOR_PALETTE[index % len(ACTOR_PALETTE)] for index, (_pk, key) in enumerate(ordered)}


def _channel(value):
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def luminance(colour):
    """WCAG relative luminance of a #rrggbb colour."""
    colour = colour.lstrip("#")
    red, green, blue = (int(colour[index : index + 2], 16) for index in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(first, second):
    """WCAG contrast ratio of two #rrggbb colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(background):
    """Black or white, whichever reads better on `background` (a band's label)."""
    return BLACK if contrast(BLACK, background) >= contrast(WHITE, background) else WHITE
