"""Whole-archive aggregates (counts, incidents per month), computed in the database and cached.

The whole-archive figures (`SUMMARIES`: the home page's counts, the timelines, a site's count) are
summaries kept for every worker and renewed when incidents are published or withdrawn
(archive.summaries). The others — the count of a filtered list — are cached as below, in the
cache every worker shares (settings.CACHES: the database, or Redis when REDIS_URL is set).

A count or a GROUP BY over every published incident reads every row: ~30 ms at 100,000 incidents
on SQLite, against ~1 ms at 1,000. The home and site pages need them on every view, and the lists
show how many rows match (counted up to a cap, which for a sparse filter still means reading many
rows), so these results are cached under a fingerprint of the data that costs three index
look-ups: the newest history row of incidents and of citations (every save, publish, withdrawal
or deletion through the ORM writes one) and the newest incident row (bulk inserts write no
history). Any such change gives a new key, so the cache never serves figures from before it.
Writes that bypass all three (`QuerySet.update()`, `loaddata` of changed rows) are caught by the
timeout.
"""

import hashlib

from django.core.cache import cache

from .. import summaries
from ..models import Citation, Incident

TIMEOUT = 60
# Names of the whole-archive figures (a name's prefix, before ":").
SUMMARIES = ("home-counts", "timeline", "site-count")


def data_version():
    newest_history = Incident.history.order_by("-history_id").values_list("history_id", "history_date").first()
    newest_citation = Citation.history.order_by("-history_id").values_list("history_id", "history_date").first()
    newest_row = Incident.objects.order_by("-pk").values_list("pk", "created_at").first()
    return "|".join(
        "-".join(str(part) for part in row) if row else "none" for row in (newest_history, newest_citation, newest_row)
    )


def cached(name, compute, version=None):
    """`compute()`, cached under `name` for the current `data_version()`; a whole-archive figure
    is read from its summary instead."""
    if name.split(":", 1)[0].split("-v", 1)[0] in SUMMARIES:
        # The page's version ends with the newest incident row (bulk inserts write no history).
        return summaries.figure(name, compute, newest=version.rsplit("|", 1)[-1] if version else None)
    fingerprint = hashlib.sha256(f"{name}|{version or data_version()}".encode()).hexdigest()[:40]
    key = f"archive:{fingerprint}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value
