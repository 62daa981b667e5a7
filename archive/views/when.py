"""An incident's When for the public pages, charts and downloads: archive.dates.parse_when (which
reads plain days, months and years without the EDTF grammar and parses the rest once per value),
with an unreadable stored value shown as Undated, as Incident.when does."""

from ..dates import UNDATED, parse_when


def when_of(occurred):
    """The archive.dates.When of an EDTF value; Undated if it cannot be parsed (as Incident.when)."""
    try:
        return parse_when(occurred)
    except ValueError:
        return UNDATED


def incident_when(incident):
    return when_of(incident.occurred)


def precision_of(occurred):
    """day, month, season, year, interval, open or undated."""
    return when_of(occurred).precision
