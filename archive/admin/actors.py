from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..importexport.resources import ActorResource
from ..models import Actor, Incident
from .mixins import CurationAdminMixin, count_of


@admin.register(Actor)
class ActorAdmin(CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [ActorResource]
    list_display = ["name", "kind", "other_names", "incident_count"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]
    fields = ["name", "slug", "kind", "aliases", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(incident_count=count_of(Incident.objects, "actor_links__actor"))

    @admin.display(description="other names")
    def other_names(self, actor):
        return "; ".join(actor.alias_list)

    @admin.display(description="incidents (any role)", ordering="incident_count")
    def incident_count(self, actor):
        return actor.incident_count
