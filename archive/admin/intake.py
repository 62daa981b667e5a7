"""Adding a source from a file in the admin: upload, review, save.

1. "Add from a file": the curator uploads an HTML page, a PDF or a text file (and its address, if
   known). It is read at once (archive.intake); a malformed file, or one the archive holds already
   (the same file, text or URL), is refused there with the reason, and nothing is written.
2. The accepted file waits for review (archive.originals.stage) and the usual "Add source" form
   opens, filled with what the file says of itself: title, publisher, byline, date, language,
   address. The extracted text is shown but cannot be edited: it is what the archive will cite,
   and it is derived from the kept original. The model's checks run as for a pasted text (the same
   article, the same wire copy: "Save anyway").
3. Saved, the original's bytes are kept under their SHA-256 (Source.keep_original), served to staff
   only from the source's page.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import intake, originals
from ..models import Source
from ..originals import KIND_OF_FILE

REVIEW_GONE = (
    "That upload is no longer waiting for review (it was saved, or left for over a day). Upload the file again."
)


class SourceFileForm(forms.Form):
    file = forms.FileField(
        label="Article file",
        allow_empty_file=True,  # archive.intake refuses it, naming the file
        help_text="An HTML page as saved by a browser (“Save page as…”), a PDF with a text layer, or a UTF-8 text "
        "file.",
    )
    url = forms.URLField(
        label="URL",
        required=False,
        assume_scheme="https",
        max_length=1000,
        help_text="The page's address, if known (a page that names its own canonical address fills it in).",
    )

    def __init__(self, *args, link=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.link = link
        self.fields["file"].help_text += f" At most {filesizeformat(settings.SOURCE_FILE_MAX_BYTES)}."
        self.extracted = self.data_bytes = None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        limit = settings.SOURCE_FILE_MAX_BYTES
        if upload.size > limit:  # refused before it is read
            raise ValidationError(
                {
                    "file": f"“{upload.name}” is {filesizeformat(upload.size)}; source files may be at most "
                    f"{filesizeformat(limit)}."
                }
            )
        data = upload.read()
        try:
            extracted = intake.extract(data, upload.name)
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from None
        candidate = Source.from_file(extracted, upload.name, cleaned.get("url") or "")
        try:
            candidate.check_not_duplicate()
        except ValidationError as error:
            refusals = [
                format_html("{} {}", each.message % each.params, self.link(each.params["source"]))
                for errors in error.error_dict.values()
                for each in errors
            ]
            raise ValidationError({"file": refusals}) from None
        self.extracted, self.data_bytes = extracted, data
        return cleaned


class SourceIntakeAdminMixin:
    """The SourceAdmin's "Add from a file" view, its review mode of the add form, and the staff-only
    download of a kept original."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "add-from-file/",
                self.admin_site.admin_view(self.add_from_file_view),
                name="{}_{}_add_from_file".format(*info),
            ),
            path(
                "<path:object_id>/original/",
                self.admin_site.admin_view(self.original_view),
                name="{}_{}_original".format(*info),
            ),
            *super().get_urls(),
        ]

    # -- step 1: the upload --------------------------------------------------------------------

    def add_from_file_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = SourceFileForm(request.POST, request.FILES, link=self.source_link)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                token = originals.stage(form.data_bytes, upload.name, form.cleaned_data.get("url") or "")
                return HttpResponseRedirect(f"{reverse('admin:archive_source_add')}?intake={token}")
        else:
            form = SourceFileForm(link=self.source_link)
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a source from a file",
            "opts": self.opts,
            "form": form,
            "paste_url": reverse("admin:archive_source_add"),
        }
        return TemplateResponse(request, "admin/archive/source/add_from_file.html", context)

    @staticmethod
    def source_link(source):
        url = reverse("admin:archive_source_change", args=[source.pk])
        return format_html('<a href="{}">Open “{}”</a>.', url, source.title)

    # -- step 2: the review --------------------------------------------------------------------

    def intake_of(self, request):
        """(staged upload, extracted) for an add form opened from an upload, else None. Read once
        per request; the text is extracted again from the kept bytes, never taken from the form."""
        if "intake" not in request.GET or request.resolver_match.url_name != "archive_source_add":
            return None
        if not hasattr(request, "_source_intake"):
            staged = originals.staged(request.GET["intake"])
            extracted = None
            if staged is not None:
                try:
                    extracted = intake.extract(staged.data, staged.file_name)
                except ValidationError:
                    staged = None
            request._source_intake = (staged, extracted) if staged is not None else False
        return request._source_intake

    def add_view(self, request, form_url="", extra_context=None):
        review = self.intake_of(request)
        if review is False:
            self.message_user(request, REVIEW_GONE, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:archive_source_add_from_file"))
        if review and request.method == "GET":
            staged, extracted = review
            self.message_user(
                request,
                f"Read from “{staged.file_name}” ({KIND_OF_FILE[extracted.media_type]}, "
                f"{filesizeformat(extracted.size)}). Check the title, publisher, origin, byline and date against "
                "the file before saving: they are what the file says of itself. The text is what the archive will "
                "keep and cite; it cannot be edited here.",
                messages.INFO,
            )
            candidate = Source.from_file(extracted, staged.file_name, staged.url)
            for finding in candidate.find_resemblances():
                self.message_user(
                    request, format_html("{} {}", finding.message, self.source_link(finding.source)), messages.WARNING
                )
        extra_context = {**(extra_context or {}), "intake": review or None}
        return super().add_view(request, form_url, extra_context)

    def get_changeform_initial_data(self, request):
        review = self.intake_of(request)
        if not review:
            return super().get_changeform_initial_data(request)
        staged, extracted = review
        candidate = Source.from_file(extracted, staged.file_name, staged.url)
        fields = [
            "slug", "title", "kind", "publisher", "origin", "byline", "url", "published_on", "date_precision",
            "date_note", "language", "received_text", "file_name",
        ]  # fmt: skip
        return {name: getattr(candidate, name) for name in fields}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None or not self.intake_of(request):
            return form

        staged, extracted = self.intake_of(request)
        from_the_file = {"received_text": extracted.received_text, "file_name": staged.file_name[:255]}

        class ReviewForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name, value in from_the_file.items():
                    if name in self.fields:
                        # The value comes from the kept file, never from the post.
                        self.fields[name].disabled = True
                        self.initial[name] = value
                self.fields["origin"].help_text = (
                    "Proposed as the publisher: check it. A wire agency's copy (AFP, Reuters, AP) has the agency "
                    "as its origin. " + self.fields["origin"].help_text
                )

        return ReviewForm

    def save_model(self, request, obj, form, change):
        review = None if change else self.intake_of(request)
        if review:
            staged, extracted = review
            obj.received_text = extracted.received_text
            obj.file_name = staged.file_name[:255]
            obj.keep_original(staged.data, extracted.extension)
            transaction.on_commit(lambda: originals.discard(staged.token))
        super().save_model(request, obj, form, change)

    # -- the kept original ---------------------------------------------------------------------

    def original_view(self, request, object_id):
        source = self.get_object(request, object_id)
        if source is None or not source.original:
            raise Http404("This source has no original file.")
        if not self.has_view_permission(request, source):
            raise PermissionDenied
        try:
            handle = source.original.open("rb")
        except (FileNotFoundError, OSError):
            raise Http404("The original file is missing from storage: run verify_fixity.") from None
        extension = source.original.name.rsplit(".", 1)[-1]
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=source.file_name or f"{source.slug}.{extension}",
            content_type=source.original_media_type or "application/octet-stream",
        )
        # An HTML original can carry scripts: it is a download, and never runs on this site.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
