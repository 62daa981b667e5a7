"""What every curated model's admin shares: reverting is an editor's act, malformed ids in URLs
are not server errors, links may prefill forms, and deleted records keep a reachable history."""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from simple_history.utils import get_history_model_for_model

from ..importexport.formats import ArchiveCSV
from ..models import EditedMeanwhile


def count_of(queryset, field):
    """A subquery counting the rows of `queryset` whose `field` is the outer row: a count column
    that costs no extra query per row and does not multiply joins."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


class VersionField(forms.IntegerField):
    """The version the form was loaded at: bookkeeping, never a change in itself."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        return False


class AdminModelForm(forms.ModelForm):
    """A model form that (1) refuses to save over changes someone else saved since the form was
    loaded — the record's version travels in a hidden field and the model checks it on save —
    and (2) shows model validation errors about fields it does not show (read-only for this
    user, or set by the admin) at the top of the form, with the field's name, where Django would
    raise ValueError."""

    loaded_version = VersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not hasattr(self.instance, "version"):
            del self.fields["loaded_version"]
        elif self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_version")
        if "loaded_version" not in self.fields or self.instance.pk is None or loaded is None:
            return cleaned
        if not self.has_changed():
            return cleaned  # an untouched inline row is not saved, so it overwrites nothing
        model = type(self.instance)
        current = model._base_manager.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if current is not None and current != loaded:
            # Shown again, the form carries the current version: saving it again is a choice.
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = current
            raise self.instance.edited_meanwhile(loaded)
        self.instance.version = loaded
        return cleaned

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            placed = {}
            for name, errors in error.error_dict.items():
                if name == NON_FIELD_ERRORS or name in self.fields:
                    placed.setdefault(name, []).extend(errors)
                    continue
                try:
                    label = capfirst(self._meta.model._meta.get_field(name).verbose_name)
                except FieldDoesNotExist:
                    label = name
                texts = ValidationError(errors).messages
                placed.setdefault(NON_FIELD_ERRORS, []).extend(f"{label}: {text}" for text in texts)
            error = ValidationError(placed)
        super().add_error(field, error)


class CurationAdminMixin:
    """Put first, before `ImportExportModelAdmin, SimpleHistoryAdmin`."""

    form = AdminModelForm
    # The archive's CSV only: its reader keeps received texts byte for byte, and its writer
    # escapes spreadsheet formulas.
    formats = [ArchiveCSV]
    change_list_template = "admin/archive/change_list.html"
    deleted_records_template = "admin/archive/deleted_records.html"
    list_per_page = 50

    # History: anyone who may see a record sees its history; reverting it to an earlier version
    # is an editor's act (the Editor group holds "change" on the historical models).
    def has_view_history_permission(self, request, obj=None):
        return self.has_view_or_change_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        history_opts = get_history_model_for_model(self.model)._meta
        codename = get_permission_codename("change", history_opts)
        return self.has_change_permission(request, obj) and request.user.has_perm(
            f"{history_opts.app_label}.{codename}"
        )

    def history_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_ids(object_id, version_id)
        # simple-history hides the Revert button from those who may not revert, but would
        # still save a POST: refuse it.
        if request.method == "POST" and not self.has_change_history_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _check_ids(self, object_id, version_id="0"):
        """A malformed id in a history URL is a page that does not exist, not a server error."""
        try:
            self.opts.pk.to_python(unquote(object_id))
            int(version_id)
        except (ValidationError, ValueError):
            raise Http404(f"No {self.opts.verbose_name} version with this id.") from None

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and hasattr(obj, "version") and "loaded_version" not in flatten_fieldsets(fieldsets):
            fieldsets = [*fieldsets, (None, {"fields": ["loaded_version"], "classes": ["hidden"]})]
        return fieldsets

    def reverting(self, request):
        return getattr(request.resolver_match, "url_name", "").endswith("_simple_history")

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Reverting builds the form on an old version of the record: it is a change made now,
        # on top of the current version.
        if obj is not None and hasattr(obj, "version") and self.reverting(request):
            current = self.model._base_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
            if current is not None:
                obj.version = current
        return super().get_form(request, obj, change=change, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The view saves in one transaction, so a rule the model enforces on save (a published
        # incident keeps a supporting citation; another save landed between this form's version
        # check and its own) rolls the whole save back; the model's message is shown.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            prefix = "" if isinstance(error, EditedMeanwhile) else "Nothing was saved. "
            self.message_user(request, prefix + " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_changeform_initial_data(self, request):
        """Initial values from the query string (links prefill forms); a malformed id for a
        relation is dropped rather than left to fail in the autocomplete widget."""
        initial = super().get_changeform_initial_data(request)
        for name in list(initial):
            try:
                field = self.opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation:
                continue
            related_pk = field.related_model._meta.pk
            values = initial[name] if isinstance(initial[name], list) else [initial[name]]
            valid = []
            for value in values:
                try:
                    related_pk.to_python(value)
                except ValidationError:
                    continue
                if value not in ("", None):
                    valid.append(value)
            if isinstance(initial[name], list):
                initial[name] = valid
            elif valid:
                initial[name] = valid[0]
            else:
                del initial[name]
        return initial

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        deleted = path("deleted/", self.admin_site.admin_view(self.deleted_view), name="{}_{}_deleted".format(*info))
        return [deleted, *super().get_urls()]

    def deleted_view(self, request):
        """Records deleted and not restored, newest first, each linking to its kept history."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        history = get_history_model_for_model(self.model)
        pk_name = self.opts.pk.attname
        still_there = self.model._default_manager.filter(pk=OuterRef(pk_name))
        records = (
            history.objects.filter(history_type="-")
            .exclude(Exists(still_there))
            .select_related("history_user")
            .order_by("-history_date")[:200]
        )
        info = self.opts.app_label, self.opts.model_name
        rows = []
        for record in records:
            try:
                label = str(record.instance)
            except ObjectDoesNotExist:  # e.g. a citation whose incident went with it
                label = f"{self.opts.verbose_name} {getattr(record, pk_name)}"
            rows.append(
                {
                    "label": label,
                    "record": record,
                    "history_url": reverse("admin:{}_{}_history".format(*info), args=[getattr(record, pk_name)]),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "rows": rows,
            "can_revert": self.has_change_history_permission(request),
        }
        return TemplateResponse(request, self.deleted_records_template, context)


class ReadOnlyInlineMixin:
    """An inline that only shows related rows; they are edited on their own pages."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
