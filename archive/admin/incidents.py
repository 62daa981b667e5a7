from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..importexport.resources import CitationResource, IncidentActorResource, IncidentResource
from ..models import ActorRole, Citation, Figure, Incident, IncidentActor, ProposedChange, ReviewState, Status
from ..models.assessment import origin_count_expression
from ..models.incidents import NEEDS_ACTOR, can_publish, check_keeps_citation
from ..models.review import CITATION_FIELDS, needs_review
from .changelists import ScalableChangeListMixin, set_page_figures
from .images import CleansImagesMixin, IncidentImageInline
from .mixins import AdminModelForm, CurationAdminMixin
from .search import FullTextSearchMixin

PUBLICATION_FIELDS = [
    "status",
    "withdrawn_reason",
    "published_at",
    "published_by_id",
    "withdrawn_at",
    "withdrawn_by_id",
]
EDITORS_ONLY = "Only an editor can publish or withdraw incidents"
ADMIN_PARAMETERS = {"_changelist_filters", IS_POPUP_VAR, TO_FIELD_VAR}
SENT_FOR_REVIEW = (
    "Your change to “{incident}” is waiting for an editor's review. The public sees the published version "
    "until an editor approves it."
)
NOTHING_CHANGED = "Nothing was changed, so nothing was sent for review."


def describe_dates(incident):
    """“30 August 2015”, “May 2015”, “by 24 March 2016”, “Undated”: the EDTF value in words."""
    return incident.when.text


def anchor_html(citation):
    """Where the quote was found: its offsets and the source's own text around it."""
    if citation.pk is None or citation.position_start is None:
        return "Found in the source text when saved; the source's exact wording is kept."
    return format_html(
        '<span class="quote-anchor">characters {}–{}: …{}<mark>{}</mark>{}…</span>',
        citation.position_start,
        citation.position_end,
        citation.prefix,
        citation.quote,
        citation.suffix,
    )


def citation_value(citation, name):
    """A citation field's value for a proposed change (a relation by its id)."""
    return getattr(citation, f"{name}_id" if name in ("source", "contradicts") else name)


# Citations


class FigureInline(admin.TabularInline):
    """The numbers the passage gives. Figures are not part of a proposed change: for a curator, a
    published incident's figures are read-only (an editor changes them)."""

    model = Figure
    extra = 0
    fields = ["measure", "low", "high", "counted", "wording"]

    def _under_review(self, request, citation):
        return citation is not None and needs_review(citation.incident, request.user)

    def has_add_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_delete_permission(request, obj)


def proposed_actors(request):
    """The actor ids a mention's link proposes (?actor=…), malformed ones dropped."""
    return list(dict.fromkeys(int(value) for value in request.GET.getlist("actor") if value.isdigit()))[:10]


class ActorFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.status != Status.PUBLISHED:
            return
        kept = [f for f in self.forms if f.cleaned_data and not (self.can_delete and self._should_delete_form(f))]
        if not kept:
            raise ValidationError(f"“{self.instance}” is published: {NEEDS_ACTOR}", code="keeps_actor")


ONLY_EDITORS_CHANGE_ACTORS = "The incident is published: only an editor changes its actors."


class IncidentActorForm(AdminModelForm):
    class Meta:
        model = IncidentActor
        fields = ["incident", "actor", "role"]

    def clean(self):
        cleaned = super().clean()
        incident = cleaned.get("incident")
        if incident is not None and needs_review(incident, self.user):
            raise ValidationError(ONLY_EDITORS_CHANGE_ACTORS)
        return cleaned


@admin.register(IncidentActor)
class IncidentActorAdmin(CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    """Every incident's actors in one list, for the CSV import and export of incident_actors.csv
    and for finding an actor's roles. Edited usually on the incident's page."""

    resource_classes = [IncidentActorResource]
    form = IncidentActorForm
    fields = ["incident", "actor", "role"]
    list_display = ["incident", "actor", "role"]
    list_filter = ["role"]
    search_fields = ["incident__title", "incident__slug", "actor__name", "actor__aliases"]
    autocomplete_fields = ["incident", "actor"]
    list_select_related = ["incident", "actor"]
    ordering = ["incident__slug", "id"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and needs_review(obj.incident, request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and needs_review(obj.incident, request.user):
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect("admin:archive_incidentactor_change", unquote(object_id))

    def delete_queryset(self, request, queryset):
        try:
            queryset.delete()
        except ValidationError as error:
            self.message_user(request, "Nothing was deleted. " + " ".join(error.messages), messages.ERROR)


class ActorInline(admin.TabularInline):
    """Who the sources say took part, each with a role. Like figures, not part of a proposed change:
    for a curator, a published incident's actors are read-only (an editor changes them)."""

    model = IncidentActor
    formset = ActorFormSet
    extra = 0
    fields = ["actor", "role"]
    autocomplete_fields = ["actor"]

    def get_extra(self, request, obj=None, **kwargs):
        # A new incident gets a row for each actor a mention's link proposes, or one empty row.
        return max(1, len(proposed_actors(request))) if obj is None else 0

    def _under_review(self, request, incident):
        return incident is not None and needs_review(incident, request.user)

    def has_add_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_delete_permission(request, obj)


class CitationForm(AdminModelForm):
    class Meta:
        model = Citation
        fields = [
            "incident", "source", "quote", "claimant", "evidence_kind", "presentation", "names_monument", "origin",
            "stance", "contradicts", "note",
        ]  # fmt: skip
        widgets = {"quote": forms.Textarea(attrs={"rows": 4}), "note": forms.Textarea(attrs={"rows": 2})}

    def validate_unique(self):
        super().validate_unique()
        # The constraint on (incident, source, position_start) is skipped by model validation
        # because the offsets are not form fields; check it here rather than fail on save.
        citation = self.instance
        if self.has_error("quote") or citation.incident_id is None or citation.position_start is None:
            return
        clash = Citation.objects.filter(
            incident_id=citation.incident_id, source_id=citation.source_id, position_start=citation.position_start
        ).exclude(pk=citation.pk)
        if clash.exists():
            self.add_error("quote", f"This passage of “{citation.source}” is already cited for this incident.")


class CitationFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        seen = {}
        for number, form in enumerate(kept, start=1):
            key = (form.instance.source_id, form.instance.position_start)
            if key in seen:
                raise ValidationError(
                    f"Citations {seen[key]} and {number} quote the same passage of “{form.instance.source}”: keep one.",
                    code="duplicate",
                )
            seen[key] = number

        # The rule and its message are the model's: a published incident keeps a supporting citation.
        check_keeps_citation(self.instance, [form.instance.stance for form in kept])


class CitationInline(admin.StackedInline):
    model = Citation
    form = CitationForm
    formset = CitationFormSet
    extra = 0
    show_change_link = True
    autocomplete_fields = ["source"]
    fields = [
        "source", "quote", "anchor", ("claimant", "evidence_kind", "presentation"),
        ("names_monument", "origin"), ("stance", "contradicts"), "note", "loaded_version",
    ]  # fmt: skip
    raw_id_fields = ["contradicts"]
    readonly_fields = ["anchor"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    def get_extra(self, request, obj=None, **kwargs):
        # A mention's "add as citation" link prefills one citation form.
        return 1 if request.GET.get("citation_quote") else 0

    @admin.display(description="found at")
    def anchor(self, citation):
        return anchor_html(citation)


@admin.register(Citation)
class CitationAdmin(
    FullTextSearchMixin, ScalableChangeListMixin, CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin
):
    resource_classes = [CitationResource]
    form = CitationForm
    list_display = ["quote_excerpt", "incident", "source", "claimant", "evidence_kind", "stance"]
    list_filter = ["stance", "presentation", "names_monument", "evidence_kind", "incident__status", "source__origin"]
    search_fields = ["quote", "claimant", "note", "incident__title", "source__title"]  # autocomplete only
    # The search box finds the citations of the incidents the full-text index finds (admin/search.py).
    search_incident = "incident"
    search_exact = ["slug"]
    # No date hierarchy: it would truncate every citation's source date (a join over all rows).
    autocomplete_fields = ["incident", "source", "contradicts"]
    list_select_related = ["incident", "source"]
    # Newest first by the primary key (its index), not by created_at (none).
    ordering = ["-pk"]
    readonly_fields = ["anchor", "created_at"]
    fields = [
        "incident", "source", "quote", "anchor", "claimant", "evidence_kind", "presentation", "names_monument",
        "origin", "stance", "contradicts", "note", "created_at",
    ]  # fmt: skip
    inlines = [FigureInline]

    @admin.display(description="quote", ordering="quote")
    def quote_excerpt(self, citation):
        return Truncator(citation.quote).chars(120)

    @admin.display(description="found at")
    def anchor(self, citation):
        return anchor_html(citation)

    def delete_view(self, request, object_id, extra_context=None):
        # The model refuses to leave a published incident without a supporting citation; its
        # message is shown here (the whole deletion was rolled back).
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect("admin:archive_citation_change", unquote(object_id))

    def has_delete_permission(self, request, obj=None):
        # Removing a published incident's citation is a change to it: a curator proposes it on
        # the incident's page, for an editor's review.
        if obj is not None and needs_review(obj.incident, request.user):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        # A curator never gets here with a published incident's citation: Django's delete action
        # refuses rows has_delete_permission() refuses.
        try:
            queryset.delete()
        except ValidationError as error:
            self.message_user(request, "Nothing was deleted. " + " ".join(error.messages), messages.ERROR)

    def _reviewed_incident(self, request, obj):
        """The published incident whose review this curator's citation change waits for, if any:
        the one the citation is stored on, or the one it is moved or added to."""
        stored = Citation.objects.filter(pk=obj.pk).values_list("incident_id", flat=True).first() if obj.pk else None
        for incident_id in (stored, obj.incident_id):
            if incident_id is not None and needs_review(Incident(pk=incident_id), request.user):
                return Incident.objects.get(pk=incident_id)
        return None

    def save_model(self, request, obj, form, change):
        incident = self._reviewed_incident(request, obj)
        if incident is None:
            return super().save_model(request, obj, form, change)
        entry = {"id": obj.pk, "incident": obj.incident_id}
        entry.update({name: citation_value(obj, name) for name in CITATION_FIELDS})
        ProposedChange.propose(incident, request.user, citations=[entry])
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # kept as a proposed change, not saved
            self.message_user(request, SENT_FOR_REVIEW.format(incident=obj.incident), messages.WARNING)
            return redirect("admin:archive_incident_change", obj.incident_id)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        incident = self._reviewed_incident(request, obj)
        if incident is not None:
            self.message_user(request, SENT_FOR_REVIEW.format(incident=incident), messages.WARNING)
            return redirect("admin:archive_incident_change", incident.pk)
        return super().response_change(request, obj)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            return super().log_addition(request, obj, message)
        return None


# Incidents


DIFFERENT_INCIDENT = "It is a different incident"
LIKELY_DUPLICATE = (
    "The archive may already hold this incident (at the same {where}, of a compatible kind, at overlapping "
    "dates): {incidents}. Cite the source there instead, or tick “{different}” and save again."
)


def duplicate_link(incident):
    url = reverse("admin:archive_incident_change", args=[incident.pk])
    return format_html(
        '<a href="{}">{}</a> ({}, {})', url, incident.title, incident.when.text, incident.get_kind_display()
    )


class IncidentForm(AdminModelForm):
    """The incident's content. Its publication changes only through Publish and Withdraw (model
    methods that record who and when), never through this form. A new incident that looks like
    one the archive holds (Incident.objects.likely_duplicates_of) is not saved until the curator
    ticks "It is a different incident"."""

    different_incident = forms.BooleanField(
        label=DIFFERENT_INCIDENT,
        required=False,
        help_text="Tick to add this incident although it resembles one the archive already holds.",
    )

    class Meta:
        model = Incident
        fields = [
            "title", "slug", "kind", "site", "monuments", "victims", "occurred", "date_wording", "assessment_override",
            "override_reason", "description",
        ]  # fmt: skip
        widgets = {
            "victims": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 5}),
            "override_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        super()._post_clean()
        incident = self.instance
        if self.errors or incident.pk is not None or self.cleaned_data.get("different_incident"):
            return
        monuments = list(self.cleaned_data.get("monuments") or ())
        duplicates = list(
            Incident.objects.likely_duplicates_of(
                monuments=monuments,
                site=self.cleaned_data.get("site"),
                town_wide=True,
                kind=self.cleaned_data.get("kind"),
                start=incident.occurred_from,
                end=incident.occurred_to,
            )
        )
        if duplicates:
            message = format_html(
                LIKELY_DUPLICATE,
                where="monuments" if monuments else "site, naming no monument",
                incidents=format_html_join(", ", "{}", ((duplicate_link(each),) for each in duplicates)),
                different=DIFFERENT_INCIDENT,
            )
            self.add_error(None, ValidationError(message, code="likely_duplicate"))


class CitationsFilter(admin.SimpleListFilter):
    title = "citations"
    parameter_name = "citations"

    def lookups(self, request, model_admin):
        return [
            ("none", "None yet (cannot be published)"),
            ("single", "One independent origin"),
            ("several", "Two or more independent origins"),
        ]

    def queryset(self, request, queryset):
        # The counts are filtered on, not selected (alias): the page's own are fetched for its rows.
        citations = Citation.objects.filter(incident=OuterRef("pk")).order_by()
        if self.value() == "none":
            return queryset.filter(~Exists(citations))
        if self.value() == "single":
            return queryset.alias(origins=origin_count_expression(citations)).filter(origins=1)
        if self.value() == "several":
            return queryset.alias(origins=origin_count_expression(citations)).filter(origins__gte=2)
        return queryset


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("dated", "Both ends given"), ("undated", "Undated or an open end")]

    def queryset(self, request, queryset):
        if self.value() == "dated":
            return queryset.dated()
        if self.value() == "undated":
            return queryset.undated()
        return queryset


class ReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("waiting", "A change waits for review")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(Exists(ProposedChange.objects.pending().filter(incident=OuterRef("pk"))))
        return queryset


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        error_messages={"required": "Reason: say why these incidents are withdrawn; the reason is kept and shown."},
        help_text="Kept with each incident and shown with it.",
    )


@admin.register(Incident)
class IncidentAdmin(
    FullTextSearchMixin,
    ScalableChangeListMixin,
    CleansImagesMixin,
    CurationAdminMixin,
    ImportExportModelAdmin,
    SimpleHistoryAdmin,
):
    resource_classes = [IncidentResource]
    form = IncidentForm
    # The columns a curator scans first come first: at 1366 px they are on screen, the rest scroll.
    list_display = [
        "title",
        "status",
        "citation_count",
        "origin_count",
        "assessment",
        "kind",
        "when",
        "monument_names",
        "actor_names",
    ]
    list_filter = [
        "status",
        "kind",
        "assessment",
        CitationsFilter,
        ReviewFilter,
        WhenFilter,
        "site",
        # All actors and monuments, not only those used ("RelatedOnly" reads every incident's links).
        "actors",
        "monuments",
    ]
    search_fields = [
        "title",
        "slug",
        "description",
        "victims",
        "date_wording",
        "site__name",
        "site__aliases",
        "monuments__name",
        "monuments__aliases",
        "actors__name",
        "actors__aliases",
        "citations__quote",
        "citations__claimant",
    ]  # for the autocomplete widgets; the search box goes through the full-text index (admin/search.py)
    search_exact = ["slug"]
    # No date hierarchy: it would draw the stored bounds, which an undated incident does not have.
    autocomplete_fields = ["site", "monuments"]
    list_select_related = ["site"]
    # Newest records first, through the primary key: no index serves a date order over every row.
    ordering = ["-pk"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["publication", "derived_assessment", "created_at", "updated_at"]
    inlines = [ActorInline, CitationInline, IncidentImageInline]
    actions = ["publish_selected", "withdraw_selected", "merge_selected"]
    history_list_display = ["status"]
    save_on_top = True

    def get_queryset(self, request):
        actors = Prefetch("actor_links", IncidentActor.objects.select_related("actor"))
        return super().get_queryset(request).prefetch_related("monuments", actors)

    def annotate_page(self, rows):
        set_page_figures(rows, Incident.objects.with_counts(), ["citation_count", "origin_count"])

    def has_publish_permission(self, request):
        return can_publish(request.user)

    def get_actions(self, request):
        # Curators see only the actions they may use.
        actions = super().get_actions(request)
        if not self.has_publish_permission(request):
            for name in ("publish_selected", "withdraw_selected", "merge_selected"):
                actions.pop(name, None)
        return actions

    def get_fieldsets(self, request, obj=None):
        if self.has_publish_permission(request):
            description = "Publish and Withdraw (above) are an editor's: publishing needs a supporting citation; "
            description += "withdrawing needs a reason, which is kept."
        else:
            description = f"{EDITORS_ONLY}. Changes to a published incident wait for an editor's review."
        fieldsets = [
            (None, {"fields": ["title", "slug", "kind", "site", "monuments", "victims"]}),
            ("When", {"fields": ["occurred", "date_wording"]}),
            (
                "Assessment",
                {
                    "fields": ["derived_assessment", ("assessment_override", "override_reason"), "description"],
                    "description": "Derived from the citations by the archive's rules; override only with a reason.",
                },
            ),
            ("Publication", {"fields": ["publication"], "description": description}),
            ("Record", {"fields": [("created_at", "updated_at")], "classes": ["collapse"]}),
        ]
        if obj is not None:
            fieldsets.append((None, {"fields": ["loaded_version"], "classes": ["hidden"]}))
        elif request.method == "POST":
            # Shown once the form has been sent: it answers the likely-duplicate warning.
            fieldsets[0][1]["fields"].append("different_incident")
        return fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = self.get_object(request, unquote(object_id)) if object_id else None
        extra_context = dict(extra_context or {})
        if incident is not None:
            proposals = incident.proposed_changes.select_related("author", "reviewed_by")
            extra_context["pending_changes"] = list(proposals.pending())
            # The author sees why an editor turned their change down.
            extra_context["rejected_changes"] = list(
                proposals.filter(state=ReviewState.REJECTED, author=request.user)[:5]
            )
            extra_context["can_publish"] = self.has_publish_permission(request)
        return super().change_view(request, object_id, form_url, extra_context)

    # Columns

    @admin.display(description="when", ordering="occurred_from")
    def when(self, incident):
        return describe_dates(incident)

    @admin.display(description="actors")
    def actor_names(self, incident):
        return "; ".join(f"{actor} ({role.lower()})" for actor, role in incident.actor_roles) or "—"

    @admin.display(description="monuments")
    def monument_names(self, incident):
        return ", ".join(monument.name for monument in incident.monuments.all()) or "—"

    # Not sortable: sorting by a count computes it for every incident.
    @admin.display(description="citations")
    def citation_count(self, incident):
        return incident.citation_count

    @admin.display(description="origins")
    def origin_count(self, incident):
        return incident.origin_count

    @admin.display(description="assessment")
    def derived_assessment(self, incident):
        if incident.pk is None:
            return "Derived from the citations once saved."
        return format_html("<strong>{}</strong>: {}", incident.get_assessment_display(), incident.assessment_reason)

    @admin.display(description="publication")
    def publication(self, incident):
        def by(when, who):
            when = f" {formats.date_format(when, 'DATETIME_FORMAT')}" if when else ""
            return f"{when} by {who}" if who else when

        if incident.pk is None or incident.status == Status.DRAFT:
            lines = ["Draft: not public."]
        elif incident.status == Status.PUBLISHED:
            lines = [f"Published{by(incident.published_at, incident.published_by)}."]
        else:
            lines = [f"Withdrawn{by(incident.withdrawn_at, incident.withdrawn_by)}: {incident.withdrawn_reason}"]
            if incident.published_at:
                lines.append(f"Had been published{by(incident.published_at, incident.published_by)}.")
        return format_html("<br>".join(["{}"] * len(lines)), *lines)

    # Forms

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        # A mention's link prefills the first citation: ?citation_source=<id>&citation_quote=<sentence>.
        if isinstance(inline, CitationInline) and request.method == "GET":
            source, quote = request.GET.get("citation_source", ""), request.GET.get("citation_quote", "")
            if quote:
                kwargs["initial"] = [{"source": source if source.isdigit() else None, "quote": quote}]
        # A mention's link proposes the actors its sentence names as perpetrators: ?actor=<id>&actor=….
        if isinstance(inline, ActorInline) and request.method == "GET" and (obj is None or obj.pk is None):
            actors = proposed_actors(request)
            if actors:
                kwargs["initial"] = [{"actor": actor, "role": ActorRole.PERPETRATOR} for actor in actors]
        return kwargs

    # Reverting to an earlier version restores its content. Publication changes only through
    # publishing and withdrawing, which record who and when: a revert keeps the current
    # publication, and a deleted incident comes back as a draft (its citations went with it).

    def get_form(self, request, obj=None, change=False, **kwargs):
        # simple-history builds the revert form on the old version: give it today's publication
        # before it is validated and saved.
        if obj is not None and self.reverting(request):
            current = Incident.objects.filter(pk=obj.pk).values(*PUBLICATION_FIELDS).first()
            if current is None:
                obj.status = Status.DRAFT
            else:
                for name, value in current.items():
                    setattr(obj, name, value)
        return super().get_form(request, obj, change=change, **kwargs)

    # Saving: a curator's change to a published incident is kept for review, not written.

    def save_model(self, request, obj, form, change):
        if not needs_review(obj, request.user):
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        incident = form.instance
        if not needs_review(incident, request.user):
            return super().save_related(request, form, formsets, change)
        names = [name for name in form.changed_data if name in form._meta.fields and name != "monuments"]
        fields = {name: form.cleaned_data[name] for name in names}
        monuments = form.cleaned_data["monuments"] if "monuments" in form.changed_data else None
        citations = []
        for formset in formsets:
            # Nothing of the formsets is saved; the admin's change message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is not Citation:
                continue
            for inline in formset.forms:
                if formset.can_delete and formset._should_delete_form(inline):
                    if inline.instance.pk:
                        citations.append({"id": inline.instance.pk, "delete": True})
                elif inline.has_changed():
                    citation = inline.instance
                    entry = {"id": citation.pk}
                    entry.update({name: citation_value(citation, name) for name in CITATION_FIELDS})
                    citations.append(entry)
        if fields or monuments is not None or citations:
            ProposedChange.propose(incident, request.user, fields=fields, monuments=monuments, citations=citations)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        # Django carries the add page's whole query string to the next page; for a mention's link
        # that is the prefill, which would put a phantom citation on the change page. Keep only
        # the admin's own parameters (the changelist's filters, a popup's).
        response = super().response_add(request, obj, post_url_continue)
        location = response.get("Location") if response.status_code in (301, 302) else None
        if location:
            parts = urlsplit(location)
            kept = [(key, value) for key, value in parse_qsl(parts.query) if key in ADMIN_PARAMETERS]
            response["Location"] = urlunsplit(parts._replace(query=urlencode(kept)))
        return response

    def response_change(self, request, obj):
        if needs_review(obj, request.user):
            waiting = obj.proposed_changes.pending().filter(author=request.user).exists()
            text = SENT_FOR_REVIEW.format(incident=obj) if waiting else NOTHING_CHANGED
            self.message_user(request, text, messages.WARNING if waiting else messages.INFO)
            return redirect("admin:archive_incident_change", obj.pk)
        return super().response_change(request, obj)

    # Actions

    @admin.action(description="Publish selected incidents", permissions=["change"])
    def publish_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            self.message_user(request, f"{EDITORS_ONLY}: ask an editor to review these.", messages.ERROR)
            return
        published, refused, already = [], {}, []
        for incident in queryset:
            if incident.status == Status.PUBLISHED:
                already.append(incident)
                continue
            incident._change_reason = "Republished" if incident.status == Status.WITHDRAWN else "Published"
            incident._history_user = request.user
            try:
                incident.publish(request.user)
            except ValidationError as error:  # the model's rule, in the model's words
                refused.setdefault(" ".join(error.messages), []).append(incident)
                continue
            self.log_change(request, incident, f"{incident._change_reason}.")
            published.append(incident)
        self._report(request, published, "Published", messages.SUCCESS)
        for reason, incidents in refused.items():
            self._report(
                request, incidents, f"Not published — {reason[0].lower()}{reason[1:].rstrip('.')}", messages.ERROR
            )
        self._report(request, already, "Already published", messages.INFO)

    @admin.action(description="Withdraw selected incidents…", permissions=["change"])
    def withdraw_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            self.message_user(request, f"{EDITORS_ONLY}: ask an editor to review these.", messages.ERROR)
            return None
        form = WithdrawForm(request.POST if "confirm_withdrawal" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            withdrawn, skipped = [], []
            for incident in queryset:
                if incident.status != Status.PUBLISHED:
                    skipped.append(incident)
                    continue
                incident._change_reason = f"Withdrawn: {reason}"
                incident._history_user = request.user
                incident.withdraw(request.user, reason)
                self.log_change(request, incident, f"Withdrawn: {reason}")
                withdrawn.append(incident)
            self._report(request, withdrawn, "Withdrawn", messages.SUCCESS)
            self._report(request, skipped, "Not withdrawn — not published", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Withdraw incidents",
            "opts": self.opts,
            "form": form,
            "incidents": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/archive/incident/withdraw_confirmation.html", context)

    @admin.action(description="Merge two selected incidents…", permissions=["change"])
    def merge_selected(self, request, queryset):
        incidents = list(queryset.order_by("occurred_from", "slug"))
        if len(incidents) != 2:
            self.message_user(request, "Select exactly two incidents to merge: the same event recorded twice.",
                              messages.ERROR)  # fmt: skip
            return None
        survivor_pk = request.POST.get("survivor", "")
        if "confirm_merge" in request.POST and survivor_pk.isdigit():
            survivor = next((i for i in incidents if i.pk == int(survivor_pk)), None)
            absorbed = next((i for i in incidents if survivor is not None and i.pk != survivor.pk), None)
            if survivor is not None:
                try:
                    survivor.merge(absorbed, request.user)
                except ValidationError as error:  # the model's rule, in the model's words
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                    return None
                self.log_change(request, survivor, f"Merged “{absorbed}” into it.")
                self.log_change(request, absorbed, f"Merged into “{survivor}”.")
                self.message_user(request, f"Merged “{absorbed}” into “{survivor}”.", messages.SUCCESS)
                return redirect("admin:archive_incident_change", survivor.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge incidents",
            "opts": self.opts,
            "incidents": incidents,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/archive/incident/merge_confirmation.html", context)

    def _report(self, request, incidents, verb, level):
        if incidents:
            titles = "; ".join(f"“{incident}”" for incident in incidents)
            self.message_user(request, f"{verb}: {titles}.", level)
