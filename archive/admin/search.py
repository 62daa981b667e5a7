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


class FullTextSearchMixin:
    # The path from the changelist's model to its incident ("" for the incident itself).
    search_incident = ""
    # Lookups also tried with the whole term: identifiers the index does not hold (a slug).
    search_exact = ()

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text or request.path.endswith("/autocomplete/"):
            return super().get_search_results(request, queryset, search_term)
        found = Incident.objects.search(text).values("pk")
        condition = Q(**{f"{self.search_incident}__in" if self.search_incident else "pk__in": found})
        for lookup in self.search_exact:
            condition |= Q(**{lookup: text})
        return queryset.filter(condition), False


class SourceSearchMixin:
    """Sources: their title, slug or publisher (`icontains` over the sources table alone, never
    over their received text), or a citation of an incident the index finds."""

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text or request.path.endswith("/autocomplete/"):
            return super().get_search_results(request, queryset, search_term)
        from ..models import Citation

        cited = Citation.objects.filter(incident__in=Incident.objects.search(text).values("pk")).values("source_id")
        condition = Q(title__icontains=text) | Q(slug__icontains=text) | Q(publisher__icontains=text)
        return queryset.filter(condition | Q(pk__in=cited)), False
