from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.html import format_html
from django.utils.text import Truncator
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..importexport.resources import CitationResource, IncidentResource
from ..models import Citation, DatePrecision, Incident, Status
from .images import CleansImagesMixin, IncidentImageInline
from .mixins import AdminModelForm, CurationAdminMixin

PUBLICATION_FIELDS = [
    "status",
    "withdrawn_reason",
    "published_at",
    "published_by_id",
    "withdrawn_at",
    "withdrawn_by_id",
]
NO_CITATION = "An incident cannot be published without at least one citation"
EDITORS_ONLY = "Only an editor can publish or withdraw incidents"


def describe_dates(incident):
    """“30 Aug 2015”, “May 2015” or “Aug 2015 – Mar 2016”, as precise as the sources allow."""
    shape = {DatePrecision.DAY: "j M Y", DatePrecision.MONTH: "M Y", DatePrecision.YEAR: "Y"}
    shape = shape.get(incident.date_precision, "j M Y")
    start = formats.date_format(incident.occurred_from, shape)
    end = formats.date_format(incident.occurred_to, shape)
    return start if start == end else f"{start} – {end}"


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


# Citations


class CitationForm(AdminModelForm):
    class Meta:
        model = Citation
        fields = ["incident", "source", "quote", "claimant", "evidence_kind", "stance", "note"]
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

        incident = self.instance
        target = getattr(incident, "_requested_status", None) or incident.status
        if target == Status.PUBLISHED and not kept:
            if incident.status == Status.PUBLISHED:
                message = (
                    "This incident is published, so it must keep at least one citation: add one, or have an "
                    "editor withdraw the incident."
                )
            else:
                message = f"{NO_CITATION}: add one below, or keep it as a draft."
            raise ValidationError(message, code="no_citation")


class CitationInline(admin.StackedInline):
    model = Citation
    form = CitationForm
    formset = CitationFormSet
    extra = 0
    show_change_link = True
    autocomplete_fields = ["source"]
    fields = ["source", "quote", "anchor", ("claimant", "evidence_kind", "stance"), "note"]
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
class CitationAdmin(CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [CitationResource]
    form = CitationForm
    list_display = ["quote_excerpt", "incident", "source", "claimant", "evidence_kind", "stance"]
    list_filter = ["stance", "evidence_kind", "incident__status", "source__origin"]
    search_fields = ["quote", "claimant", "note", "incident__title", "source__title"]
    date_hierarchy = "source__published_on"
    autocomplete_fields = ["incident", "source"]
    list_select_related = ["incident", "source"]
    ordering = ["-created_at"]
    readonly_fields = ["anchor", "created_at"]
    fields = ["incident", "source", "quote", "anchor", "claimant", "evidence_kind", "stance", "note", "created_at"]

    @admin.display(description="quote", ordering="quote")
    def quote_excerpt(self, citation):
        return Truncator(citation.quote).chars(120)

    @admin.display(description="found at")
    def anchor(self, citation):
        return anchor_html(citation)

    def delete_view(self, request, object_id, extra_context=None):
        citation = self.get_object(request, unquote(object_id))
        if citation is not None and self._is_last_of_published(citation):
            self.message_user(
                request,
                f"“{citation.incident}” is published and this is its only citation: add another citation, "
                "or have an editor withdraw the incident, before removing it.",
                messages.ERROR,
            )
            return redirect("admin:archive_citation_change", citation.pk)
        return super().delete_view(request, object_id, extra_context)

    def delete_queryset(self, request, queryset):
        kept = [citation for citation in queryset.select_related("incident") if self._is_last_of_published(citation)]
        if kept:
            self.message_user(
                request,
                "Not deleted, because each is the only citation of a published incident: "
                + "; ".join(str(citation) for citation in kept),
                messages.ERROR,
            )
        queryset.exclude(pk__in=[citation.pk for citation in kept]).delete()

    def _is_last_of_published(self, citation):
        incident = citation.incident
        return incident.status == Status.PUBLISHED and not incident.citations.exclude(pk=citation.pk).exists()


# Incidents


class IncidentForm(AdminModelForm):
    class Meta:
        model = Incident
        fields = [
            "title", "slug", "kind", "site", "monuments", "perpetrator", "victims", "occurred_from", "occurred_to",
            "date_precision", "date_wording", "assessment", "description", "status", "withdrawn_reason",
        ]  # fmt: skip
        widgets = {
            "victims": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 5}),
            "withdrawn_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "occurred_to" in self.fields:
            self.fields["occurred_to"].required = False
            self.fields["occurred_to"].help_text += " Leave it empty for a single day."

    def clean(self):
        cleaned = super().clean()
        if "occurred_to" in self.fields and not cleaned.get("occurred_to") and cleaned.get("occurred_from"):
            cleaned["occurred_to"] = cleaned["occurred_from"]
        # Publishing and withdrawing go through Incident.publish()/withdraw(), which record who
        # and when, after the citations below are saved (a new incident's citations only exist
        # in its inline forms until then). The form keeps the current status; the admin applies
        # the change in save_related().
        self.instance._requested_status = None
        if "status" in self.fields and cleaned.get("status"):
            current = self.instance.status if self.instance.pk else Status.DRAFT
            requested = cleaned["status"]
            if requested != current and requested in (Status.PUBLISHED, Status.WITHDRAWN):
                cleaned["status"] = current
                self.instance._requested_status = requested
                if requested == Status.WITHDRAWN and not (cleaned.get("withdrawn_reason") or "").strip():
                    self.add_error(
                        "withdrawn_reason", "Say why the incident is withdrawn: the reason is kept and shown."
                    )
        # The model checks a published incident's citations in the database; the citation
        # formset checks them as edited on this page (added, removed) and decides. Model
        # validation sees a draft; the status is restored right after it (validate_unique).
        self._held_status = None
        status = cleaned.get("status") if "status" in self.fields else self.instance.status
        if status == Status.PUBLISHED:
            self._held_status = status
            if "status" in self.fields:
                cleaned["status"] = Status.DRAFT
            else:
                self.instance.status = Status.DRAFT
        return cleaned

    def validate_unique(self):
        if getattr(self, "_held_status", None):
            self.instance.status = self._held_status
        super().validate_unique()


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
        # `citation_count` and `origin_count` come from Incident.objects.with_counts().
        if self.value() == "none":
            return queryset.filter(citation_count=0)
        if self.value() == "single":
            return queryset.filter(origin_count=1)
        if self.value() == "several":
            return queryset.filter(origin_count__gte=2)
        return queryset


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        error_messages={"required": "Reason: say why these incidents are withdrawn; the reason is kept and shown."},
        help_text="Kept with each incident and shown with it.",
    )


@admin.register(Incident)
class IncidentAdmin(CleansImagesMixin, CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [IncidentResource]
    form = IncidentForm
    list_display = [
        "title",
        "kind",
        "occurred",
        "monument_names",
        "perpetrator",
        "assessment",
        "status",
        "citation_count",
        "origin_count",
    ]
    list_filter = [
        "status",
        "kind",
        "assessment",
        CitationsFilter,
        "site",
        ("perpetrator", admin.RelatedOnlyFieldListFilter),
        ("monuments", admin.RelatedOnlyFieldListFilter),
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
        "perpetrator__name",
        "perpetrator__aliases",
        "citations__quote",
        "citations__claimant",
    ]
    date_hierarchy = "occurred_from"
    autocomplete_fields = ["site", "monuments", "perpetrator"]
    list_select_related = ["site", "perpetrator"]
    ordering = ["-occurred_from", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["publication", "created_at", "updated_at"]
    inlines = [CitationInline, IncidentImageInline]
    actions = ["publish_selected", "withdraw_selected"]
    history_list_display = ["status"]
    save_on_top = True

    def get_queryset(self, request):
        return super().get_queryset(request).with_counts().prefetch_related("monuments")

    def has_publish_permission(self, request):
        return request.user.has_perm("archive.publish_incident")

    def get_fieldsets(self, request, obj=None):
        if self.has_publish_permission(request) and not self._reverting(request):
            publication = {
                "fields": ["status", "withdrawn_reason", "publication"],
                "description": "Publishing needs at least one citation; withdrawing needs a reason, which is kept.",
            }
        else:
            publication = {"fields": ["publication"], "description": f"{EDITORS_ONLY}."}
        return [
            (None, {"fields": ["title", "slug", "kind", "site", "monuments", "perpetrator", "victims"]}),
            ("When", {"fields": [("occurred_from", "occurred_to"), "date_precision", "date_wording"]}),
            ("Assessment", {"fields": ["assessment", "description"]}),
            ("Publication", publication),
            ("Record", {"fields": [("created_at", "updated_at")], "classes": ["collapse"]}),
        ]

    # Columns

    @admin.display(description="when", ordering="occurred_from")
    def occurred(self, incident):
        return describe_dates(incident)

    @admin.display(description="monuments")
    def monument_names(self, incident):
        return ", ".join(monument.name for monument in incident.monuments.all()) or "—"

    @admin.display(description="citations", ordering="citation_count")
    def citation_count(self, incident):
        return incident.citation_count

    @admin.display(description="independent origins", ordering="origin_count")
    def origin_count(self, incident):
        return incident.origin_count

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
        return kwargs

    # Reverting to an earlier version restores its content. Publication changes only through
    # publishing and withdrawing, which record who and when: a revert keeps the current
    # publication, and a deleted incident comes back as a draft (its citations went with it).

    def _reverting(self, request):
        return getattr(request.resolver_match, "url_name", "").endswith("_simple_history")

    def get_form(self, request, obj=None, change=False, **kwargs):
        # simple-history builds the revert form on the old version: give it today's publication
        # before it is validated and saved.
        if obj is not None and self._reverting(request):
            current = Incident.objects.filter(pk=obj.pk).values(*PUBLICATION_FIELDS).first()
            if current is None:
                obj.status = Status.DRAFT
            else:
                for name, value in current.items():
                    setattr(obj, name, value)
        return super().get_form(request, obj, change=change, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        incident = form.instance
        requested = getattr(incident, "_requested_status", None)
        if requested is None:
            return
        incident._requested_status = None
        incident._history_user = request.user
        try:
            if requested == Status.PUBLISHED:
                incident._change_reason = "Published"
                incident.publish(request.user)
            elif requested == Status.WITHDRAWN:
                incident._change_reason = f"Withdrawn: {incident.withdrawn_reason}"
                incident.withdraw(request.user, incident.withdrawn_reason)
        except ValidationError as error:  # the citation formset checks first; this is a guard
            status = incident.get_status_display()
            self.message_user(request, f"Saved as {status}, but: {error.messages[0]}", messages.ERROR)

    # Actions

    @admin.action(description="Publish selected incidents", permissions=["change"])
    def publish_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            self.message_user(request, f"{EDITORS_ONLY}: ask an editor to review these.", messages.ERROR)
            return
        incidents = queryset.annotate(has_citation=Exists(Citation.objects.filter(incident=OuterRef("pk"))))
        published, uncited, already, withdrawn = [], [], [], []
        for incident in incidents:
            if incident.status == Status.PUBLISHED:
                already.append(incident)
            elif incident.status == Status.WITHDRAWN:
                withdrawn.append(incident)
            elif not incident.has_citation:
                uncited.append(incident)
            else:
                incident._change_reason = "Published"
                incident._history_user = request.user
                incident.publish(request.user)
                self.log_change(request, incident, "Published.")
                published.append(incident)
        self._report(request, published, "Published", messages.SUCCESS)
        self._report(request, uncited, f"Not published — {NO_CITATION[0].lower()}{NO_CITATION[1:]}", messages.ERROR)
        self._report(request, already, "Already published", messages.INFO)
        self._report(
            request,
            withdrawn,
            "Not republished in bulk — withdrawn; set the status on each incident's page to republish it",
            messages.WARNING,
        )

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

    def _report(self, request, incidents, verb, level):
        if incidents:
            titles = "; ".join(f"“{incident}”" for incident in incidents)
            self.message_user(request, f"{verb}: {titles}.", level)
