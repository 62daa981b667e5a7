"""Changelist search through the incidents' full-text index (archive.search), not `icontains`.

Django's own search ORs an `icontains` (LIKE '%…%') per field and per word over joins to
citations, monuments and actors: a scan of every row, and the same miss of other names and of
Arabic written with vowel marks that the public search had. Here the incident changelist shows
the incidents `Incident.objects.search` finds (drafts and withdrawn ones included: the admin's
queryset is not the public one), the citation changelist the citations of those incidents.
`search_fields` stay declared: they show the search box, and the autocomplete widgets (which
need the prefix of a title as typed, not whole words) still use Django's search.
"""

from django.db.models import Q

from ..models import Incident
from ..search import condition, is_broad

# Up to this many incidents found, the changelist of their citations (or sources) is asked for
# their ids as a list, which the database looks up through the index on `incident_id`; given a
# subquery instead, SQLite's planner walks every citation in the changelist's order.
LISTED_IDS = 1000


def found_ids(text, exact=()):
    """The ids of the incidents `text` finds, or whose `exact` lookups (e.g. "slug") equal it: a
    list when few, else a subquery (then the exact matches, a slug, are among so many anyway)."""
    found = Incident.objects.search(text, broad=False).order_by().values_list("pk", flat=True)
    ids = list(found[: LISTED_IDS + 1])
    if len(ids) > LISTED_IDS:
        return found
    for lookup in exact:
        ids += Incident.objects.filter(**{lookup: text}).values_list("pk", flat=True)[:LISTED_IDS]
    return ids


class FullTextSearchMixin:
    # The path from the changelist's model to its incident ("" for the incident itself).
    search_incident = ""
    # Lookups on the incident also tried with the whole term: what the index does not hold (a slug).
    search_exact = ()

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text or request.path.endswith("/autocomplete/"):
            return super().get_search_results(request, queryset, search_term)
        path = self.search_incident or "pk"
        if is_broad(Incident.objects.all(), text):
            # Many incidents found: the changelist walks its own order and asks the index about
            # each row's incident, stopping at a page (a list of ids, or a subquery of them, would
            # hold every match). A slug (search_exact) is one among so many anyway.
            return queryset.filter(condition(text, path)), False
        lookup = f"{self.search_incident}__in" if self.search_incident else "pk__in"
        return queryset.filter(**{lookup: found_ids(text, self.search_exact)}), False


class SourceSearchMixin:
    """Sources: their title, slug or publisher (`icontains` over the sources table alone, never
    over their received text), or a citation of an incident the index finds."""

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text or request.path.endswith("/autocomplete/"):
            return super().get_search_results(request, queryset, search_term)
        from ..models import Citation

        cited = Citation.objects.filter(incident__in=found_ids(text)).values("source_id")
        condition = Q(title__icontains=text) | Q(slug__icontains=text) | Q(publisher__icontains=text)
        return queryset.filter(condition | Q(pk__in=cited)), False
