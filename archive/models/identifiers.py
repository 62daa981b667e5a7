"""Incidents' short identifiers (PAL-0007): a site prefix and a number never given twice.

The number comes from a counter per prefix, raised by one atomic statement (an upsert with
RETURNING, on SQLite and PostgreSQL alike): two curators saving at once on PostgreSQL queue on
the counter's row, and each gets its own number. The counter only rises, so a number stays spent
after its incident is deleted or merged; it never falls below the highest number already stored
(an incident restored from a backup or imported with its identifier), so it cannot hand that out.

The identifier is stored on the incident when it is first saved and never derived again: moving
an incident to another site does not change it.
"""

import re

from django.db import connection, models

PALMYRA, ALEPPO = "PAL", "ALP"
# Words in a site's slug that name a place with a prefix of its own; the modern town of Palmyra
# (Tadmur) shares Palmyra's.
KNOWN_PREFIXES = {"palmyra": PALMYRA, "tadmur": PALMYRA, "aleppo": ALEPPO}
IDENTIFIER_PATTERN = re.compile(r"^([A-Z]{3})-0*([1-9][0-9]*)$")


def site_prefix(slug: str, parent_slug: str = "") -> str:
    """The prefix of a site's incidents: PAL for Palmyra (and Tadmur), ALP for Aleppo and its
    quarters, else the parent site's, else the first three letters of the slug (SYN, RAQ…)."""
    for candidate in (slug, parent_slug):
        for word in (candidate or "").split("-"):
            if word in KNOWN_PREFIXES:
                return KNOWN_PREFIXES[word]
    if parent_slug:
        return site_prefix(parent_slug)
    letters = re.sub(r"[^a-z]", "", (slug or "").lower())
    return (letters[:3] or "inc").upper().ljust(3, "X")


def format_identifier(prefix: str, number: int) -> str:
    return f"{prefix}-{number:04d}"


def parse_identifier(text: str) -> tuple[str, int] | None:
    """("PAL", 7) for "PAL-0007" (or "pal-7"); None when it is not an identifier."""
    match = IDENTIFIER_PATTERN.match((text or "").strip().upper())
    return (match[1], int(match[2])) if match else None


class IdentifierCounter(models.Model):
    """The last number given to an incident under each prefix."""

    prefix = models.CharField(max_length=8, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.prefix}: {self.last_number}"


def reserve_numbers(prefix: str, count: int = 1, *, above: int = 0) -> range:
    """Spend `count` numbers under `prefix` and return them (a range), in one statement; all
    above `above` too (an import's own identifiers, not stored yet)."""
    from .incidents import Incident

    quote = connection.ops.quote_name
    counter, incident = quote(IdentifierCounter._meta.db_table), quote(Incident._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    sql = (
        f"INSERT INTO {counter} (prefix, last_number) VALUES "
        f"(%s, {greatest}(COALESCE((SELECT MAX(identifier_number) FROM {incident} WHERE identifier_prefix = %s), 0), "
        f"%s) + %s) "
        f"ON CONFLICT (prefix) DO UPDATE SET last_number = "
        f"{greatest}({counter}.last_number + %s, excluded.last_number) RETURNING last_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, prefix, above, count, count])
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def assign_identifiers(incidents) -> None:
    """Give each of `incidents` that has none its site's prefix and a fresh number (in the order
    given); those that have one keep it."""
    from .places import Site

    missing = [incident for incident in incidents if incident.identifier_number is None]
    if not missing:
        return
    site_ids = {incident.site_id for incident in missing if not incident.identifier_prefix}
    sites = Site.objects.filter(pk__in=site_ids).select_related("parent")
    prefixes = {site.pk: site.identifier_prefix for site in sites}
    by_prefix = {}
    for incident in missing:
        incident.identifier_prefix = incident.identifier_prefix or prefixes[incident.site_id]
        by_prefix.setdefault(incident.identifier_prefix, []).append(incident)
    for prefix, group in by_prefix.items():
        for incident, number in zip(group, reserve_numbers(prefix, len(group)), strict=True):
            incident.identifier_number = number
