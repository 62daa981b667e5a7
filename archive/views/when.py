"""An incident's When for the public pages, charts and downloads, parsed once per EDTF value.

Parsing EDTF is slow (the `edtf` package's grammar: ~10–25 ms a value), and `Incident.when` parses
on every access; a page of 50 incidents or a download of 100,000 would spend seconds on it. Values
repeat, and a When is immutable, so each distinct value is parsed once per process.
"""

from functools import lru_cache

from ..dates import UNDATED, parse_when


@lru_cache(maxsize=16384)
def when_of(occurred):
    """The archive.dates.When of an EDTF value; Undated if it cannot be parsed (as Incident.when)."""
    try:
        return parse_when(occurred)
    except ValueError:
        return UNDATED


def incident_when(incident):
    return when_of(incident.occurred)
