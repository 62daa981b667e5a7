"""Filters of the public incident list (django-filter). Every choice comes from published incidents."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from .models import Actor, ActorRole, Assessment, Incident, IncidentActor, IncidentKind, Monument, Site

SEARCH_MAX_LENGTH = 200
REVERSED_RANGE = "“To” ({end}) is before “From” ({start}): swap them, or leave one empty."


def _published():
    return Incident.objects.public()


def perpetrators():
    """Actors a published incident names as perpetrator: a draft must not put a name in the list."""
    links = IncidentActor.objects.filter(actor=OuterRef("pk"), role=ActorRole.PERPETRATOR, incident__in=_published())
    return Actor.objects.public().filter(Exists(links))


def monuments():
    return Monument.objects.public().filter(Exists(_published().filter(monuments=OuterRef("pk")))).order_by("name")


def sites():
    return Site.objects.public().filter(Exists(_published().filter(site=OuterRef("pk"))))


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
    site = django_filters.ModelChoiceFilter(queryset=sites(), to_field_name="slug", empty_label="Any site")
    monument = django_filters.ModelChoiceFilter(
        field_name="monuments", label="Monument", queryset=monuments(), to_field_name="slug", empty_label="Any monument"
    )
    perpetrator = django_filters.ModelChoiceFilter(
        queryset=perpetrators(), to_field_name="slug", empty_label="Anyone (or unattributed)", method="by_perpetrator"
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
        return queryset.search(value) if value else queryset

    @property
    def search_text(self):
        """The text searched for, if any (valid filters only)."""
        if not self.is_bound or not self.is_valid():
            return ""
        return (self.form.cleaned_data.get("q") or "").strip()

    @property
    def ranked(self):
        """Whether the list is in order of relevance: text is searched and no other order chosen."""
        return bool(self.search_text) and not self.form.cleaned_data.get("ordering")

    @property
    def descending(self):
        """Whether the list is asked for newest first (the paginator does the ordering itself)."""
        if not self.is_bound or not self.is_valid():
            return False
        return (self.form.cleaned_data.get("ordering") or ["date"])[0] == "-date"

    def clean_params(self):
        """The filters as given, without pagination: for download links and page links."""
        return {name: value for name, value in self.data.items() if name in self.filters and value not in ("", None)}
