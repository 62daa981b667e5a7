"""When an incident happened, as its sources give it: an EDTF value (the Library of Congress's
Extended Date/Time Format, parsed by the `edtf` package) and the bounds derived from it.

The record keeps what the sources say — a day (2016-03-24), a month (2015-05), a season (2015-21,
spring), a year, an interval (2015-05/2016-03), an open or unknown end (../2016-03-24: on or before
that day), an approximate (~) or uncertain (?) value — or nothing at all: an undated incident. The
earliest and latest days the value allows are stored beside it for ordering, filtering and indexes.
A bound the sources do not give is stored as the date type's extreme (NO_EARLIER, NO_LATER), so
ordering needs no NULL handling; it is never shown: pages and charts describe the EDTF value.
"""

import calendar
import datetime
import functools
import re
from dataclasses import dataclass

from edtf import parse_edtf, struct_time_to_date
from edtf.parser.edtf_exceptions import EDTFParseException
from edtf.parser.parser_classes import (
    Date,
    Interval,
    Level1Interval,
    Season,
    UncertainOrApproximate,
)

NO_EARLIER = datetime.date.min  # the sources give no lower bound
NO_LATER = datetime.date.max  # the sources give no upper bound

NOT_EDTF = (
    "“{value}” is not a date the archive can record. Write it in EDTF: 2016-03-24 (a day), 2015-05 (a month), "
    "2015 (a year), 2015-21 (spring 2015), 2015-05/2016-03 (from … to), ../2016-03-24 (on or before), "
    "2016-03~ (about), 2016-03? (uncertain); leave it empty when the sources give no date."
)

SEASONS = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}


@dataclass(frozen=True)
class When:
    """A parsed EDTF value. `earliest`/`latest` are None where the sources give no bound."""

    edtf: str
    earliest: datetime.date | None
    latest: datetime.date | None
    precision: str  # day, month, season, year, interval, open, undated
    text: str  # how a reader is told: “10–11 December 2016”, “by 24 March 2016”

    @property
    def is_dated(self):
        """Both ends known: the incident can be drawn on a timeline."""
        return self.earliest is not None and self.latest is not None

    @property
    def stored_bounds(self):
        return (self.earliest or NO_EARLIER, self.latest or NO_LATER)


UNDATED = When("", None, None, "undated", "Undated")


def say_day(day):
    """A day in words, as every page writes it: “24 March 2016”."""
    return f"{day.day} {day:%B %Y}"


def say_days(first, last):
    """A range of days in words, as compact as it reads: “10–11 December 2016”, “28 February –
    2 March 2017”, “30 December 2016 – 2 January 2017”; one day: “24 March 2016”."""
    if first == last:
        return say_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {say_day(last)}"
    return f"{say_day(first)} – {say_day(last)}"


def _date(struct):
    return struct_time_to_date(struct)


def _qualifier(text):
    text = text.strip()
    if text.endswith("%") or ("?" in text and "~" in text):
        return "uncertain, approximate"
    if text.endswith("~"):
        return "approximate"
    if text.endswith("?"):
        return "uncertain"
    return ""


def _point(node, text):
    """(earliest, latest, precision, qualifier, node) of one EDTF date, season or year (`text`: its EDTF)."""
    qualifier = _qualifier(text)
    if isinstance(node, UncertainOrApproximate):
        node = node.date
    if isinstance(node, Season):
        return _date(node.lower_strict()), _date(node.upper_strict()), "season", qualifier, node
    if type(node) is Date:
        if "X" in str(node).upper():
            raise ValueError("unspecified digits")
        return _date(node.lower_strict()), _date(node.upper_strict()), node.precision, qualifier, node
    raise ValueError(f"unsupported {type(node).__name__}")


def _say_point(node, precision, qualifier):
    if precision == "season":
        text = f"{SEASONS.get(int(node.season), 'season')} {node.year}"
    elif precision == "year":
        text = str(int(node.year))
    elif precision == "month":
        text = datetime.date(int(node.year), int(node.month), 1).strftime("%B %Y")
    else:
        text = say_day(datetime.date(int(node.year), int(node.month), int(node.day)))
    if qualifier == "approximate":
        return f"about {text}"
    if qualifier:
        return f"{text} ({qualifier})"
    return text


def _say_range(lower, upper):
    """“10–11 December 2016”, “May 2015 – March 2016”, “10 December 2016 – 2 January 2017”."""
    (lo_node, lo_precision, lo_qualifier), (up_node, up_precision, up_qualifier) = lower, upper
    if not lo_qualifier and not up_qualifier and lo_precision == up_precision == "day":
        days = [datetime.date(int(node.year), int(node.month), int(node.day)) for node in (lo_node, up_node)]
        return say_days(*days)
    if not lo_qualifier and not up_qualifier and lo_precision == up_precision == "month":
        if lo_node.year == up_node.year:
            first = datetime.date(int(lo_node.year), int(lo_node.month), 1).strftime("%B")
            return f"{first} – {_say_point(up_node, up_precision, '')}"
    return f"{_say_point(lo_node, lo_precision, lo_qualifier)} – {_say_point(up_node, up_precision, up_qualifier)}"


def parse_when(value):
    """The When of an EDTF string; raises ValueError(NOT_EDTF) when it cannot be recorded."""
    return _parse_when((value or "").strip())


_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"\d{4}")


def _plain(value):
    """The When of a plain day, month or year, read without the EDTF grammar (which costs 10–25 ms
    a value: a download of thousands of distinct days would take minutes); None for the rest."""
    try:
        if found := _DAY.fullmatch(value):
            day = datetime.date(*(int(part) for part in found.groups()))
            return When(value, day, day, "day", say_day(day))
        if found := _MONTH.fullmatch(value):
            year, month = int(found.group(1)), int(found.group(2))
            first = datetime.date(year, month, 1)
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
            return When(value, first, last, "month", first.strftime("%B %Y"))
        if _YEAR.fullmatch(value) and value != "0000":
            year = int(value)
            return When(value, datetime.date(year, 1, 1), datetime.date(year, 12, 31), "year", str(year))
    except ValueError:
        return None
    return None


@functools.lru_cache(maxsize=16384)  # the grammar costs milliseconds; an archive has few distinct values
def _parse_when(value):
    if not value:
        return UNDATED
    plain = _plain(value)
    if plain is not None:
        return plain
    try:
        parsed = parse_edtf(value)
        if isinstance(parsed, (Interval, Level1Interval)):
            return _interval(value, parsed)
        earliest, latest, precision, qualifier, node = _point(parsed, value)
        return When(value, earliest, latest, precision, _say_point(node, precision, qualifier))
    except (EDTFParseException, ValueError, TypeError, AttributeError, OverflowError):
        raise ValueError(NOT_EDTF.format(value=value)) from None


def _interval(value, parsed):
    start_text, _, end_text = value.partition("/")
    lower = upper = None
    if start_text not in ("", ".."):
        earliest, _latest, lo_precision, lo_qualifier, lo_node = _point(parsed.lower, start_text)
        lower = (lo_node, lo_precision, lo_qualifier)
    else:
        earliest = None
    if end_text not in ("", ".."):
        _earliest, latest, up_precision, up_qualifier, up_node = _point(parsed.upper, end_text)
        upper = (up_node, up_precision, up_qualifier)
    else:
        latest = None
    if lower is None and upper is None:
        raise ValueError("no end")
    if earliest is not None and latest is not None and latest < earliest:
        raise ValueError("reversed")
    if lower is None:
        text = f"by {_say_point(*upper)}"
        precision = "open"
    elif upper is None:
        text = f"from {_say_point(*lower)} (end not given)"
        precision = "open"
    else:
        text = _say_range(lower, upper)
        precision = "interval"
    return When(value, earliest, latest, precision, text)


def edtf_of_bounds(start, end, precision="day"):
    """The EDTF value of a date range kept at a precision (day, month, year), for the records
    made before dates were EDTF (migration 0007, CSV format v2). It reproduces the range exactly —
    never wider, never narrower: each end is written as a year or a month only where the
    precision allows it and the end falls on that year's or month's edge, else as a day
    (2015-05-01..2016-03-23 at month precision is "2015-05/2016-03-23")."""
    coarsest = {"year": 2, "month": 1}.get(precision, 0)

    def first(day):
        if coarsest >= 2 and (day.month, day.day) == (1, 1):
            return f"{day.year:04d}"
        if coarsest >= 1 and day.day == 1:
            return f"{day.year:04d}-{day.month:02d}"
        return day.isoformat()

    def last(day):
        following = day + datetime.timedelta(days=1)
        if coarsest >= 2 and (day.month, day.day) == (12, 31):
            return f"{day.year:04d}"
        if coarsest >= 1 and following.day == 1:
            return f"{day.year:04d}-{day.month:02d}"
        return day.isoformat()

    lower, upper = first(start), last(end)
    if lower == upper:
        return lower
    if start == end:
        return start.isoformat()
    return f"{lower}/{upper}"
