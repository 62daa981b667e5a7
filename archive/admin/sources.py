from collections import defaultdict
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..importexport.resources import SourceResource
from ..mentions import ACTOR, MONUMENT, SITE, mentions_in, suggest_kind
from ..models import Actor, Citation, Incident, Monument, Site, Source
from ..models.sources import sha256_of
from ..originals import KIND_OF_FILE
from .changelists import ScalableChangeListMixin, set_page_figures
from .intake import SourceIntakeAdminMixin
from .mixins import AdminModelForm, CurationAdminMixin, ReadOnlyInlineMixin, count_of
from .search import SourceSearchMixin

# Incidents offered per passage (monument, site or actor) for "cite it for an existing incident".
EXISTING_INCIDENTS_SHOWN = 6


class CitingIncidentsInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Citation
    fk_name = "source"
    fields = ["incident_link", "incident_status", "quote_excerpt", "stance"]
    readonly_fields = fields
    verbose_name = "citation"
    verbose_name_plural = "incidents citing this source"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("incident", "source").order_by("position_start")

    @admin.display(description="incident")
    def incident_link(self, citation):
        url = reverse("admin:archive_incident_change", args=[citation.incident_id])
        return format_html('<a href="{}">{}</a>', url, citation.incident.title)

    @admin.display(description="status")
    def incident_status(self, citation):
        return citation.incident.get_status_display()

    @admin.display(description="quote")
    def quote_excerpt(self, citation):
        return Truncator(citation.quote).chars(160)


def segments(text, passage):
    """The passage's sentence cut into (text, is_mention) pieces, for highlighting."""
    pieces, position = [], passage.start
    for start, end in sorted(passage.spans):
        pieces += [(text[position:start], False), (text[start:end], True)]
        position = end
    pieces.append((text[position : passage.end], False))
    return [piece for piece in pieces if piece[0]]


def incident_link(incident, query=""):
    url = reverse("admin:archive_incident_change", args=[incident.pk])
    return {"url": f"{url}?{query}" if query else url, "title": incident.title}


def mentions_panel(source):
    """Every monument, site and actor the source's received text names, sentence by sentence,
    with links that start an incident from the sentence or cite it for an existing one."""
    text = source.received_text
    groups = mentions_in(
        text,
        monuments=Monument.objects.select_related("site"),
        sites=Site.objects.all(),
        actors=Actor.objects.all(),
    )
    citations = list(source.citations.select_related("incident"))
    # Enough to show EXISTING_INCIDENTS_SHOWN after leaving out those the passage is cited for.
    wanted = EXISTING_INCIDENTS_SHOWN + len({citation.incident_id for citation in citations})
    matching = {}

    def existing_incidents(kind, target, suggested):
        """The incidents a sentence about `target` may be cited for: one query with LIMIT per
        target and suggested kind, so the panel's cost does not grow with the archive."""
        key = (kind, target.pk, suggested)
        if key not in matching:
            # An incident cannot have started after the article reporting it.
            matching[key] = list(
                Incident.objects.likely_duplicates_of(
                    **{"monuments": [target]} if kind == MONUMENT else {kind: target},
                    kind=suggested,
                    end=source.published_on,
                    limit=wanted,
                )
            )
        return matching[key]

    # The actors each sentence names: a new incident from it proposes them as perpetrators.
    actors_in = defaultdict(list)
    for group in groups:
        if group.kind == ACTOR:
            for passage in group.passages:
                actors_in[(passage.start, passage.end)].append(group.target.pk)

    add_url = reverse("admin:archive_incident_add")
    sections = []
    for kind, heading in ((MONUMENT, "Monuments"), (SITE, "Sites"), (ACTOR, "Actors")):
        cards = []
        for group in (group for group in groups if group.kind == kind):
            target, passages = group.target, []
            for passage in group.passages:
                sentence = text[passage.start : passage.end]
                cite = {"citation_source": source.pk, "citation_quote": sentence}
                # The actors the sentence names are proposed as perpetrators; the curator confirms.
                suggested = suggest_kind(sentence)
                prefill = {**cite, "kind": suggested, "actor": actors_in[(passage.start, passage.end)]}
                if kind == MONUMENT:
                    prefill.update(monuments=target.pk, site=target.site_id)
                elif kind == SITE:
                    prefill["site"] = target.pk
                cited = [
                    c.incident for c in citations if c.position_start < passage.end and passage.start < c.position_end
                ]
                others = [i for i in existing_incidents(kind, target, suggested) if i not in cited]
                passages.append(
                    {
                        "segments": segments(text, passage),
                        "repeats": passage.repeats,
                        "new_url": f"{add_url}?{urlencode({k: v for k, v in prefill.items() if v}, doseq=True)}",
                        "cited": [incident_link(incident) for incident in cited],
                        "others": [incident_link(i, urlencode(cite)) for i in others[:EXISTING_INCIDENTS_SHOWN]],
                    }
                )
            cards.append(
                {
                    "kind": kind,
                    "target": target,
                    "url": reverse(f"admin:archive_{kind}_change", args=[target.pk]),
                    "where": target.site if kind == MONUMENT else kind,
                    "count": group.count,
                    "names": group.names,
                    "passages": passages,
                }
            )
        if cards:
            sections.append({"kind": kind, "heading": heading, "cards": cards})
    return render_to_string("admin/archive/source/mentions_panel.html", {"sections": sections})


def source_link(source):
    url = reverse("admin:archive_source_change", args=[source.pk])
    return format_html('<a href="{}">Open “{}”</a>', url, source.title)


class SourceAdminForm(AdminModelForm):
    """The model's refusals (a duplicate text or URL) link to the source the archive holds; its
    warnings (Source.find_resemblances: the same article, the same wire copy) stop the save until
    the curator ticks "Save anyway", and are then recorded on the source."""

    save_anyway = forms.BooleanField(
        label="Save anyway",
        required=False,
        help_text="Tick to add a text that looks like a source already in the archive: "
        "the resemblance is recorded on this source.",
    )

    def add_error(self, field, error):
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            error = ValidationError(
                {name: [self._linked(each) for each in errors] for name, errors in error.error_dict.items()}
            )
        super().add_error(field, error)

    @staticmethod
    def _linked(error):
        if error.code != "duplicate" or not error.params:
            return error
        return ValidationError(
            format_html("{} {}.", error.message % error.params, source_link(error.params["source"])),
            code="duplicate",
        )

    def _post_clean(self):
        super()._post_clean()
        source = self.instance
        if self.errors or "received_text" not in self.fields or source.received_text is None:
            return
        if source.pk is not None and source.sha256 == sha256_of(source.received_text):
            return  # the text is not new: it was checked when it came in
        findings = source.find_resemblances()
        if findings and not self.cleaned_data.get("save_anyway"):
            warnings = [format_html("{} {}.", finding.message, source_link(finding.source)) for finding in findings]
            warnings.append("Tick “Save anyway” to add it all the same; the resemblance is recorded on the source.")
            self.add_error("received_text", warnings)
            return
        source.record_resemblance(findings)


@admin.register(Source)
class SourceAdmin(
    SourceSearchMixin,
    ScalableChangeListMixin,
    SourceIntakeAdminMixin,
    CurationAdminMixin,
    ImportExportModelAdmin,
    SimpleHistoryAdmin,
):
    form = SourceAdminForm
    change_list_template = "admin/archive/source/change_list.html"  # + "Add from a file"
    resource_classes = [SourceResource]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "title",
        "publisher",
        "origin",
        "published_on",
        "date_precision",
        "language",
        "citation_count",
        "incident_count",
    ]
    list_filter = ["origin", "publisher", "kind", "language", "date_precision", "resemblance"]
    # The autocomplete widgets' search; the search box's is SourceSearchMixin's (no received_text scan).
    search_fields = ["title", "slug", "publisher", "origin", "byline", "url", "received_text"]
    # No date hierarchy: it truncates every source's date. The order is archive_source_date_idx's.
    ordering = ["-published_on", "-title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CitingIncidentsInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "publisher", "origin", "byline", "url", "language"]}),
        ("Date", {"fields": [("published_on", "date_precision"), "date_note"]}),
        (
            "Text as received",
            {
                "fields": [
                    "received_text",
                    "save_anyway",
                    "sha256",
                    "resemblance_flag",
                    "file_name",
                    "original_file",
                    "created_at",
                ]
            },
        ),
        (
            "Mentions",
            {
                "fields": ["mentions"],
                "description": "Monuments, sites and actors this text names (by name or alias), sentence by "
                "sentence. Open one to start an incident from its sentence, or to cite it for an incident "
                "already in the archive.",
            },
        ),
    ]

    def annotate_page(self, rows):
        set_page_figures(rows, self.with_figures(Source.objects.all()), ["citation_count", "incident_count"])

    def with_figures(self, queryset):
        incidents = (
            Citation.objects.filter(source=OuterRef("pk"))
            .order_by()
            .values("source")
            .annotate(n=Count("incident", distinct=True))
            .values("n")
        )
        return queryset.annotate(
            citation_count=count_of(Citation.objects, "source"),
            incident_count=Coalesce(Subquery(incidents), 0),
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["sha256", "resemblance_flag", "original_file", "created_at", "mentions"]
        if obj is not None and obj.citations.exists():
            # Cited text is evidence (Source.guard_received_text refuses changes too).
            readonly.append("received_text")
        return readonly

    def get_fieldsets(self, request, obj=None):
        if obj is None or not obj.citations.exists():
            return self.fieldsets
        # A cited text never changes, so there is nothing to save anyway.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "save_anyway"]})
            for name, options in self.fieldsets
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "received_text":
            kwargs["strip"] = False  # a trailing newline is part of the text (archive.texts)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="original file")
    def original_file(self, source):
        if source.pk is None or not source.original:
            return "—" if source.pk is not None else "Kept when the source is saved from a file."
        url = reverse("admin:archive_source_original", args=[source.pk])
        return format_html(
            '<a href="{}">Download the original</a> ({}, {}; SHA-256 <code>{}</code>). Kept exactly as received; '
            "staff only.",
            url,
            KIND_OF_FILE.get(source.original_media_type, source.original_media_type),
            filesizeformat(source.original_size or 0),
            source.original_sha256,
        )

    @admin.display(description="resembles")
    def resemblance_flag(self, source):
        if source.pk is None or not source.resemblance or source.resembles is None:
            return "—"
        return format_html("{} {}.", source.resemblance_note, source_link(source.resembles))

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        result = getattr(response, "context_data", {}).get("result")
        self._warn(request, result)  # the preview: shown above the rows to import
        return response

    def process_result(self, result, request):
        self._warn(request, result)  # imported: shown with the success message
        return super().process_result(result, request)

    @staticmethod
    def _warn(request, result):
        for warning in getattr(result, "archive_warnings", ()):
            messages.warning(request, warning)

    # Not sortable: sorting by a count computes it for every source.
    @admin.display(description="citations")
    def citation_count(self, source):
        return source.citation_count

    @admin.display(description="incidents")
    def incident_count(self, source):
        return source.incident_count

    @admin.display(description="mentions")
    def mentions(self, source):
        if source.pk is None:
            return "Save the source to see the monuments, sites and actors its text names."
        return mentions_panel(source)
