"""Filters of the public incident list (django-filter). Every choice comes from published incidents."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.functional import cached_property

from . import summaries
from .models import Actor, ActorRole, Assessment, Incident, IncidentKind, Monument, Site
from .search import is_broad

SEARCH_MAX_LENGTH = 200
REVERSED_RANGE = "“To” ({end}) is before “From” ({start}): swap them, or leave one empty."


def _published():
    return Incident.objects.public()


def perpetrators():
    """Actors a published incident names as perpetrator: a draft must not put a name in the list."""
    # A correlated EXISTS (one index probe an actor), not `incident__in=<published>`, which
    # would list every published incident's key for every request.
    named = _published().filter(actor_links__actor=OuterRef("pk"), actor_links__role=ActorRole.PERPETRATOR)
    return Actor.objects.public().filter(Exists(named))


def monuments():
    return Monument.objects.public().filter(Exists(_published().filter(monuments=OuterRef("pk")))).order_by("name")


def sites():
    return Site.objects.public().filter(Exists(_published().filter(site=OuterRef("pk"))))


def _choice_keys(request=None):
    """The keys of every filter's choices, a whole-archive figure (archive.summaries): computed
    once per generation for every worker — each asks, for every row of a table, whether a
    published incident refers to it — and renewed whenever what the public sees changes. Read
    once per request."""
    memo = getattr(request, "_archive_choice_keys", None)
    if memo is None:
        memo = summaries.figure(
            "filter-choices",
            lambda: {make.__name__: list(make().order_by().values_list("pk", flat=True)) for make in CHOICES},
        )
        if request is not None:
            request._archive_choice_keys = memo
    return memo


def kept(choices):
    """`choices` as a callable queryset (django-filter calls it with the request): the rows whose
    keys `_choice_keys` keeps, still judged by `choices` itself (a kept key never outlives the
    rule: each row's check stops at its first published incident), in `choices`' order."""

    def queryset(request=None):
        return choices().filter(pk__in=_choice_keys(request)[choices.__name__])

    return queryset


CHOICES = (sites, monuments, perpetrators)


# Typed as YYYY-MM-DD, as in the admin (heritage/formats): a browser's date input shows its own
# locale's format (mm/dd/yyyy in American English), which is ambiguous to half the readers.
ISO_DATE = forms.DateInput(
    format="%Y-%m-%d",
    attrs={"placeholder": "YYYY-MM-DD", "inputmode": "numeric", "pattern": r"\d{4}-\d{2}-\d{2}", "size": 10},
)


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Text",
        method="search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Words in the title, the description, a quoted passage, or a name of its place, monument or "
        'actor (other names and Arabic included). "A phrase" in quotes, -word to leave a word out, or between '
        "two words for either.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = django_filters.ChoiceFilter(choices=IncidentKind.choices, empty_label="Any kind")
    site = django_filters.ModelChoiceFilter(queryset=kept(sites), to_field_name="slug", empty_label="Any site")
    monument = django_filters.ModelChoiceFilter(
        field_name="monuments",
        label="Monument",
        queryset=kept(monuments),
        to_field_name="slug",
        empty_label="Any monument",
    )
    perpetrator = django_filters.ModelChoiceFilter(
        queryset=kept(perpetrators),
        to_field_name="slug",
        empty_label="Anyone (or unattributed)",
        method="by_perpetrator",
    )
    assessment = django_filters.ChoiceFilter(choices=Assessment.choices, empty_label="Any assessment")
    # An incident is found when the time it may have happened overlaps the range: one from May 2015
    # to March 2016 is found from 2016-01-01 (Incident.objects.overlapping).
    date_from = django_filters.DateFilter(
        method="by_dates",
        label="From",
        help_text="May have happened on or after (YYYY-MM-DD). Undated incidents may have happened at any time: "
        "they are included.",
        widget=ISO_DATE,
    )
    date_to = django_filters.DateFilter(
        method="by_dates",
        label="To",
        help_text="May have happened on or before (YYYY-MM-DD), undated incidents included.",
        widget=ISO_DATE,
    )
    ordering = django_filters.OrderingFilter(
        fields=(("occurred_from", "date"),),
        choices=[("date", "Oldest first"), ("-date", "Newest first")],
        empty_label="Best match first (oldest first without text)",
        label="Order",
    )

    class Meta:
        model = Incident
        fields = ["q", "kind", "site", "monument", "perpetrator", "assessment", "date_from", "date_to"]

    def by_perpetrator(self, queryset, name, value):
        return queryset.with_perpetrator(value) if value else queryset

    def by_dates(self, queryset, name, value):
        if name == "date_from":
            return queryset.overlapping(start=value)
        return queryset.overlapping(end=value)

    def get_form_class(self):
        """The filters' form, which refuses a reversed range (From after To) with REVERSED_RANGE
        instead of silently finding nothing; the list answers 400 and the download says why."""
        base = super().get_form_class()

        class DateRangeForm(base):
            def clean(self):
                data = super().clean()
                start, end = data.get("date_from"), data.get("date_to")
                if start and end and start > end:
                    self.add_error("date_to", REVERSED_RANGE.format(start=start, end=end))
                return data

        return DateRangeForm

    def search(self, queryset, name, value):
        value = value.strip()
        # Judged once, on the public incidents, for the order (ranked) and for the query alike.
        return queryset.search(value, broad=self.broad) if value else queryset

    @property
    def search_text(self):
        """The text searched for, if any (valid filters only)."""
        if not self.is_bound or not self.is_valid():
            return ""
        return (self.form.cleaned_data.get("q") or "").strip()

    @cached_property
    def broad(self):
        """Whether the text finds too many incidents to rank (archive.search.is_broad)."""
        return bool(self.search_text) and is_broad(self.queryset, self.search_text)

    @property
    def ranked(self):
        """Whether the list is in order of relevance: text is searched, no other order chosen, and
        the search is not broad (then the list is in date order, and the page says so)."""
        return bool(self.search_text) and not self.form.cleaned_data.get("ordering") and not self.broad

    @property
    def descending(self):
        """Whether the list is asked for newest first (the paginator does the ordering itself)."""
        if not self.is_bound or not self.is_valid():
            return False
        return (self.form.cleaned_data.get("ordering") or ["date"])[0] == "-date"

    def clean_params(self):
        """The filters as given, without pagination: for download links and page links."""
        return {name: value for name, value in self.data.items() if name in self.filters and value not in ("", None)}
