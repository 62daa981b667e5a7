"""An incident's When for the public pages, charts and downloads, without parsing EDTF per row.

Parsing EDTF is slow (the `edtf` package's grammar: ~10–25 ms a value), and `Incident.when` parses
on every access: a page of 50 incidents, or a download of 100,000 with thousands of distinct days,
would spend seconds to minutes on it. Most values are a plain day, month or year, which are read
here directly, exactly as archive.dates.parse_when reads them (tests/test_public_dates_and_roles.py
checks that they agree); anything else is parsed once per distinct value per process.
"""

import calendar
import datetime
import re
from functools import lru_cache

from ..dates import UNDATED, When, parse_when

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"\d{4}")
# One end of a value, as far as its precision goes: a day, a month, a season (21–24) or a year,
# approximate or uncertain or not.
_PART = re.compile(r"\d{4}(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?[~?%]?")


def _plain(occurred):
    """The When of a plain day, month or year, read without the EDTF grammar; None for the rest."""
    try:
        if found := _DAY.fullmatch(occurred):
            day = datetime.date(*(int(part) for part in found.groups()))
            return When(occurred, day, day, "day", f"{day.day} {day:%B %Y}")
        if found := _MONTH.fullmatch(occurred):
            year, month = int(found.group(1)), int(found.group(2))
            first = datetime.date(year, month, 1)
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
            return When(occurred, first, last, "month", first.strftime("%B %Y"))
        if _YEAR.fullmatch(occurred) and occurred != "0000":
            year = int(occurred)
            return When(occurred, datetime.date(year, 1, 1), datetime.date(year, 12, 31), "year", str(year))
    except ValueError:
        return None
    return None


@lru_cache(maxsize=16384)
def _parsed(occurred):
    try:
        return parse_when(occurred)
    except ValueError:
        return UNDATED


def when_of(occurred):
    """The archive.dates.When of an EDTF value; Undated if it cannot be parsed (as Incident.when)."""
    occurred = (occurred or "").strip()
    if not occurred:
        return UNDATED
    return _plain(occurred) or _parsed(occurred)


def incident_when(incident):
    return when_of(incident.occurred)


def _part_precision(part):
    found = _PART.fullmatch(part)
    if found is None or part.startswith("0000"):
        return None
    if found.group("day"):
        return "day"
    month = found.group("month")
    if month is None:
        return "year"
    return "season" if month in ("21", "22", "23", "24") else "month"


def precision_of(occurred):
    """When(occurred).precision, for a value the archive stored (so valid EDTF), read from its shape:
    day, month, season, year, interval, open or undated. Anything unusual is parsed."""
    occurred = (occurred or "").strip()
    if not occurred:
        return "undated"
    start, slash, end = occurred.partition("/")
    if not slash:
        return _part_precision(occurred) or _parsed(occurred).precision
    known = [part for part in (start, end) if part not in ("", "..")]
    if all(_part_precision(part) for part in known) and known:
        return "interval" if len(known) == 2 else "open"
    return _parsed(occurred).precision
