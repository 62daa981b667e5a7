from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..importexport.resources import MonumentResource, SiteResource
from ..models import Condition, Image, Incident, Monument, Site
from .images import CleansImagesMixin, MonumentImageInline
from .incidents import describe_dates
from .mixins import CurationAdminMixin, count_of

COORDINATES = ("Coordinates and identifiers", {"fields": [("latitude", "longitude"), "coordinate_precision",
                                                          "coordinate_source", "wikidata", "pleiades"]})  # fmt: skip


def wikidata_link(record):
    if not record.wikidata:
        return ""
    return format_html('<a href="{}" rel="noopener" target="_blank">{}</a>', record.wikidata_url, record.wikidata)


@admin.register(Site)
class SiteAdmin(CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [SiteResource]
    list_display = [
        "name",
        "kind",
        "parent",
        "country",
        "unesco_status",
        "monument_count",
        "incident_count",
        "wikidata_id",
    ]
    list_filter = ["kind", "country", "unesco_status"]
    search_fields = ["name", "aliases", "slug", "country"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "parent", "aliases", "country", "unesco_status", "description"]}),
        COORDINATES,
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                monument_count=count_of(Monument.objects, "site"),
                incident_count=count_of(Incident.objects, "site"),
            )
        )

    @admin.display(description="monuments", ordering="monument_count")
    def monument_count(self, site):
        return site.monument_count

    @admin.display(description="incidents", ordering="incident_count")
    def incident_count(self, site):
        return site.incident_count

    @admin.display(description="Wikidata", ordering="wikidata")
    def wikidata_id(self, site):
        return wikidata_link(site)


class ConditionFilter(admin.SimpleListFilter):
    """The condition derived from published incidents (annotated by `with_condition`)."""

    title = "condition"
    parameter_name = "condition"

    def lookups(self, request, model_admin):
        return Condition.choices

    def queryset(self, request, queryset):
        if self.value() in Condition.values:
            return queryset.filter(condition=self.value())
        return queryset


@admin.register(Monument)
class MonumentAdmin(CleansImagesMixin, CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [MonumentResource]
    list_display = ["name", "site", "kind", "condition", "incident_count", "image_count", "wikidata_id"]
    list_filter = ["site", "kind", ConditionFilter]
    search_fields = ["name", "aliases", "slug", "site__name"]
    autocomplete_fields = ["site"]
    list_select_related = ["site"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["site__name", "name"]
    readonly_fields = ["condition", "incident_table"]
    fieldsets = [
        (None, {"fields": ["site", "name", "slug", "aliases", "kind", "period", "description", "condition"]}),
        COORDINATES,
        ("Incidents at this monument", {"fields": ["incident_table"]}),
    ]
    inlines = [MonumentImageInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_condition()
            .annotate(
                incident_count=count_of(Incident.monuments.through.objects, "monument"),
                image_count=count_of(Image.objects, "monument"),
            )
        )

    @admin.display(description="condition", ordering="condition")
    def condition(self, monument):
        if getattr(monument, "condition", None) is None:
            return "—"
        return Condition(monument.condition).label

    @admin.display(description="incidents", ordering="incident_count")
    def incident_count(self, monument):
        return monument.incident_count

    @admin.display(description="images", ordering="image_count")
    def image_count(self, monument):
        return monument.image_count

    @admin.display(description="Wikidata", ordering="wikidata")
    def wikidata_id(self, monument):
        return wikidata_link(monument)

    @admin.display(description="incidents")
    def incident_table(self, monument):
        if monument.pk is None:
            return "Save the monument to record incidents at it."
        add_url = (
            reverse("admin:archive_incident_add")
            + "?"
            + urlencode({"monuments": monument.pk, "site": monument.site_id})
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:archive_incident_change", args=[incident.pk]),
                    incident.title,
                    incident.get_kind_display(),
                    describe_dates(incident),
                    incident.get_status_display(),
                    incident.citation_count,
                )
                for incident in monument.incidents.with_counts().order_by("occurred_from", "slug")
            ),
        )
        table = ""
        if rows:
            table = format_html(
                '<table class="monument-incidents"><thead><tr><th>Incident</th><th>Kind</th><th>When</th>'
                "<th>Status</th><th>Citations</th></tr></thead><tbody>{}</tbody></table>",
                rows,
            )
        return format_html(
            '{}<p><a class="addlink" href="{}">Record an incident at this monument</a></p>', table, add_url
        )
