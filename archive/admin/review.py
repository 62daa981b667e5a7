"""The editors' review queue: changes curators proposed to published incidents, shown as a
field-by-field diff, approved or rejected (with a reason the author sees) by another editor."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ..models import ProposedChange, ReviewState
from ..models.incidents import can_publish


class ReviewForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Required to reject: the author sees it. Optional when approving.",
    )


@admin.register(ProposedChange)
class ProposedChangeAdmin(admin.ModelAdmin):
    list_display = ["incident", "author", "proposed_at", "state", "reviewed_by", "reviewed_at"]
    list_filter = ["state"]
    search_fields = ["incident__title", "author__username", "review_note"]
    list_select_related = ["incident", "author", "reviewed_by"]
    autocomplete_fields = ["incident"]
    date_hierarchy = "proposed_at"
    change_form_template = "admin/archive/proposedchange/review.html"
    # Not the curated models' changelist (admin/archive/change_list.html): no deleted-records view.
    change_list_template = "admin/change_list.html"

    # Anyone who curates incidents sees the queue; only editors decide; nobody edits a proposal.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("archive.change_incident")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None:
            raise Http404("No such proposed change.")
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        may_review = can_publish(request.user) and proposal.author_id != request.user.pk
        form = ReviewForm(request.POST or None)
        if request.method == "POST":
            if not can_publish(request.user):
                raise PermissionDenied
            if form.is_valid():
                note = form.cleaned_data["note"]
                try:
                    if "_approve" in request.POST:
                        proposal.approve(request.user, note)
                        self.message_user(request, f"Approved: {proposal}. It is now public.", messages.SUCCESS)
                    elif "_reject" in request.POST:
                        proposal.reject(request.user, note)
                        self.message_user(request, f"Rejected: {proposal}.", messages.SUCCESS)
                    else:
                        raise ValidationError("Choose Approve or Reject.")
                except ValidationError as error:
                    for text in error.messages:
                        form.add_error(None, text)
                else:
                    self.log_change(request, proposal, proposal.get_state_display())
                    return redirect(reverse("admin:archive_proposedchange_changelist") + "?state__exact=pending")
        context = {
            **self.admin_site.each_context(request),
            "title": str(proposal),
            "opts": self.opts,
            "original": proposal,
            "proposal": proposal,
            "diff": proposal.diff(),
            "form": form,
            "may_review": may_review and proposal.state == ReviewState.PENDING,
            "is_author": proposal.author_id == request.user.pk,
            "incident_url": reverse("admin:archive_incident_change", args=[proposal.incident_id]),
        }
        return TemplateResponse(request, self.change_form_template, context)
