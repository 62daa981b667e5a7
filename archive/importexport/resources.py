"""django-import-export resources, one per curated model, keyed by natural keys (slugs)."""

from import_export import resources

from ..models import Actor, Citation, Image, Incident, Monument, Site, Source


class SiteResource(resources.ModelResource):
    class Meta:
        model = Site
        import_id_fields = ["slug"]


class MonumentResource(resources.ModelResource):
    class Meta:
        model = Monument
        import_id_fields = ["slug"]


class ActorResource(resources.ModelResource):
    class Meta:
        model = Actor
        import_id_fields = ["slug"]


class SourceResource(resources.ModelResource):
    class Meta:
        model = Source
        import_id_fields = ["slug"]


class IncidentResource(resources.ModelResource):
    class Meta:
        model = Incident
        import_id_fields = ["slug"]


class CitationResource(resources.ModelResource):
    class Meta:
        model = Citation


class ImageResource(resources.ModelResource):
    class Meta:
        model = Image
