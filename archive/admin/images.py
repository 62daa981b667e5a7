from django import forms
from django.contrib import admin
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from ..images import check_image, store_clean_image
from ..importexport.resources import ImageResource
from ..models import Image, Status
from ..models.incidents import can_publish
from ..models.review import needs_review
from .mixins import AdminModelForm, CurationAdminMixin

UNDER_REVIEW = (
    "Images of a published incident reach the public with it, so an editor adds, changes or removes them; "
    "curators attach images to draft incidents."
)


class CheckedImageField(forms.ImageField):
    """An image field whose refusals say what is wrong (too big, not an image, truncated, a
    decompression bomb) before Django's own generic "not a valid image" check runs."""

    def to_python(self, data):
        if data not in self.empty_values and hasattr(data, "read") and getattr(data, "size", 1):
            check_image(data)
        return super().to_python(data)


class ImageForm(AdminModelForm):
    class Meta:
        model = Image
        fields = ["monument", "incident", "file", "kind", "caption", "credit", "licence", "taken_on"]
        field_classes = {"file": CheckedImageField}


def preview(image, size=120):
    picture = image.thumbnail or image.file
    if not picture:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" style="max-width:{}px;max-height:{}px">', picture.url, image.caption, size, size
    )


class ImageInline(admin.StackedInline):
    """Photographs and views of a monument or an incident, uploaded on its own page."""

    model = Image
    form = ImageForm
    extra = 0
    show_change_link = True
    fields = ["thumbnail_preview", "file", "kind", "caption", "credit", "licence", "taken_on"]
    readonly_fields = ["thumbnail_preview"]

    @admin.display(description="preview")
    def thumbnail_preview(self, image):
        return preview(image, 240)

    def has_add_permission(self, request, obj=None):
        # An image belongs to a saved monument or incident: add images once it exists.
        return obj is not None and super().has_add_permission(request, obj)


class MonumentImageInline(ImageInline):
    fk_name = "monument"


class IncidentImageInline(ImageInline):
    fk_name = "incident"

    # A curator's change to a published incident waits for review, and images are not part of a
    # proposed change: for a curator, a published incident's images are read-only here.
    def has_add_permission(self, request, obj=None):
        return not (obj is not None and needs_review(obj, request.user)) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not (obj is not None and needs_review(obj, request.user)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and needs_review(obj, request.user)) and super().has_delete_permission(request, obj)


class CleansImagesMixin:
    """For admins with image inlines: images are re-encoded without metadata before saving."""

    def save_formset(self, request, form, formset, change):
        if formset.model is Image:
            for image_form in formset.forms:
                deleted = formset.can_delete and formset._should_delete_form(image_form)
                if not deleted and "file" in image_form.changed_data:
                    store_clean_image(image_form.instance)
        super().save_formset(request, form, formset, change)


@admin.register(Image)
class ImageAdmin(CurationAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [ImageResource]
    form = ImageForm
    list_display = ["thumbnail_preview", "caption", "kind", "subject", "credit", "licence", "taken_on"]
    list_display_links = ["thumbnail_preview", "caption"]
    list_filter = ["kind", "licence", "monument__site"]
    search_fields = ["caption", "credit", "licence", "monument__name", "incident__title"]
    date_hierarchy = "taken_on"
    autocomplete_fields = ["monument", "incident"]
    list_select_related = ["monument", "incident"]
    ordering = ["-created_at"]
    readonly_fields = ["thumbnail_preview", "width", "height", "created_at"]
    fieldsets = [
        (None, {"fields": ["monument", "incident"], "description": "What the image shows: a monument or an incident."}),
        (None, {"fields": ["thumbnail_preview", "file", ("width", "height")]}),
        (None, {"fields": ["kind", "caption", "credit", "licence", "taken_on", "created_at"]}),
    ]

    @admin.display(description="preview")
    def thumbnail_preview(self, image):
        return preview(image)

    def _under_review(self, request, image):
        return image is not None and image.incident_id is not None and needs_review(image.incident, request.user)

    def has_change_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._under_review(request, obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "incident" and not can_publish(request.user):
            field.queryset = field.queryset.exclude(status=Status.PUBLISHED)
            field.help_text = UNDER_REVIEW
        return field

    @admin.display(description="shows")
    def subject(self, image):
        return image.monument or image.incident

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data:
            store_clean_image(obj)
        super().save_model(request, obj, form, change)
