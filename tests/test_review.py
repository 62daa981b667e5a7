"""Review before publication: a curator's change to a published incident waits for another
editor; the public keeps the approved version; the editor sees a diff and decides."""

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from archive.models import Citation, ProposedChange, ReviewState
from archive.models.incidents import KEEPS_CITATION
from tests.factories import make_citation, make_incident, make_source
from tests.test_admin import changeform_data

pytestmark = pytest.mark.django_db


def member(group, username):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def people():
    return {
        "curator": member("Curator", "curator1"),
        "editor": member("Editor", "editor1"),
        "other_editor": member("Editor", "editor2"),
    }


@pytest.fixture
def published():
    return make_incident(citations=1, status="published", title="Temple of Bel destroyed", slug="bel")


def curator_edits(client, incident, **changes):
    url = reverse("admin:archive_incident_change", args=[incident.pk])
    data = changeform_data(client.get(url))
    data.update(changes)
    return client.post(url, data, follow=True)


def public_page(incident):
    return unescape(Client().get(incident.get_absolute_url()).content.decode())


def test_a_curators_edit_to_a_published_incident_waits_and_the_public_keeps_the_approved_version(people, published):
    _, curator = people["curator"]
    response = curator_edits(curator, published, title="Temple of Bel damaged", kind="damage")
    assert "is waiting for an editor's review" in unescape(response.content.decode())
    published.refresh_from_db()
    assert (published.title, published.kind) == ("Temple of Bel destroyed", "destruction")
    page = public_page(published)
    assert "Temple of Bel destroyed" in page and "Temple of Bel damaged" not in page
    proposal = ProposedChange.objects.get()
    assert proposal.state == ReviewState.PENDING and proposal.author.username == "curator1"
    assert ("Title", "Temple of Bel destroyed", "Temple of Bel damaged") in proposal.diff()
    assert ("Kind", "Destruction", "Damage") in proposal.diff()


def test_the_incident_changelist_filters_incidents_whose_change_waits(people, published):
    curator_user, _ = people["curator"]
    _, editor = people["editor"]
    other = make_incident(citations=1, status="published", title="Theatre damaged")
    ProposedChange.propose(published, curator_user, fields={"title": "Proposed"})
    response = editor.get(reverse("admin:archive_incident_changelist") + "?review=waiting")
    shown = [incident.pk for incident in response.context["cl"].result_list]
    assert shown == [published.pk] and other.pk not in shown


def test_a_new_citation_on_a_published_incident_waits_for_review_too(people, published):
    _, curator = people["curator"]
    source = make_source(slug="second-article")
    data = {
        "citations-TOTAL_FORMS": "2",
        "citations-1-source": str(source.pk),
        "citations-1-quote": "destroyed the Temple of Bel last year",
        "citations-1-evidence_kind": "unspecified",
        "citations-1-presentation": "attributed",
        "citations-1-stance": "supports",
    }
    curator_edits(curator, published, **data)
    assert published.citations.count() == 1
    proposal = ProposedChange.objects.get()
    (label, current, proposed) = proposal.diff()[0]
    assert label == "Citation added" and "destroyed the Temple of Bel last year" in proposed
    # The editor's page shows the diff, citations included.
    _, editor = people["editor"]
    page = unescape(editor.get(reverse("admin:archive_proposedchange_change", args=[proposal.pk])).content.decode())
    assert "Citation added" in page and "destroyed the Temple of Bel last year" in page
    editor.post(reverse("admin:archive_proposedchange_change", args=[proposal.pk]), {"_approve": "1", "note": ""})
    assert published.citations.count() == 2
    assert "second-article" in public_page(published)


def test_an_editor_approves_and_history_records_both(people, published):
    curator_user, curator = people["curator"]
    editor_user, editor = people["editor"]
    curator_edits(curator, published, title="Temple of Bel damaged")
    proposal = ProposedChange.objects.get()
    url = reverse("admin:archive_proposedchange_change", args=[proposal.pk])
    editor.post(url, {"_approve": "1", "note": ""})
    published.refresh_from_db()
    assert published.title == "Temple of Bel damaged"
    assert "Temple of Bel damaged" in public_page(published)
    proposal.refresh_from_db()
    assert proposal.state == ReviewState.APPROVED and proposal.reviewed_by == editor_user
    latest = published.history.first()
    assert latest.history_user == curator_user
    assert latest.history_change_reason == "Change proposed by curator1, approved by editor1"


def test_a_rejection_needs_a_reason_which_the_author_sees(people, published):
    _, curator = people["curator"]
    _, editor = people["editor"]
    curator_edits(curator, published, title="Wrong title")
    proposal = ProposedChange.objects.get()
    url = reverse("admin:archive_proposedchange_change", args=[proposal.pk])
    response = editor.post(url, {"_reject": "1", "note": "  "})
    assert "Say why the change is rejected" in unescape(response.content.decode())
    editor.post(url, {"_reject": "1", "note": "The article says destroyed, not damaged."})
    proposal.refresh_from_db()
    assert proposal.state == ReviewState.REJECTED
    published.refresh_from_db()
    assert published.title == "Temple of Bel destroyed"
    page = unescape(curator.get(reverse("admin:archive_incident_change", args=[published.pk])).content.decode())
    assert "was rejected by editor1" in page and "The article says destroyed, not damaged." in page


def test_nobody_approves_their_own_change_and_curators_cannot_approve(people, published):
    curator_user, curator = people["curator"]
    editor_user, _ = people["editor"]
    proposal = ProposedChange.propose(published, editor_user, fields={"title": "Editor's own"})
    with pytest.raises(ValidationError, match="You proposed this change"):
        proposal.approve(editor_user)
    url = reverse("admin:archive_proposedchange_change", args=[proposal.pk])
    assert curator.post(url, {"_approve": "1"}).status_code == 403
    with pytest.raises(ValidationError, match="Only an editor"):
        proposal.approve(curator_user)
    other_user, _ = people["other_editor"]
    proposal.approve(other_user)
    published.refresh_from_db()
    assert published.title == "Editor's own"


def test_an_editors_own_edit_to_a_published_incident_is_published_directly(people, published):
    _, editor = people["editor"]
    curator_edits(editor, published, title="Corrected by an editor")
    published.refresh_from_db()
    assert published.title == "Corrected by an editor"
    assert not ProposedChange.objects.exists()


def test_a_proposal_that_would_leave_no_supporting_citation_is_refused_on_approval(people, published):
    curator_user, _ = people["curator"]
    editor_user, _ = people["editor"]
    citation = published.citations.get()
    other = make_incident(title="Elsewhere")
    # A curator moves the only citation away on the citation's own page: it becomes a proposal...
    _, curator = people["curator"]
    url = reverse("admin:archive_citation_change", args=[citation.pk])
    data = changeform_data(curator.get(url))
    data["incident"] = str(other.pk)
    curator.post(url, data)
    citation.refresh_from_db()
    assert citation.incident_id == published.pk
    proposal = ProposedChange.objects.get()
    # ...which the model refuses to apply.
    with pytest.raises(ValidationError) as refused:
        proposal.approve(editor_user)
    assert KEEPS_CITATION.format(incident=published.title) in refused.value.messages
    citation.refresh_from_db()
    assert citation.incident_id == published.pk and proposal.state == ReviewState.PENDING


def test_a_stale_proposal_is_not_applied_over_a_later_change(people, published):
    curator_user, _ = people["curator"]
    editor_user, _ = people["editor"]
    proposal = ProposedChange.propose(published, curator_user, fields={"title": "Proposed"})
    published.title = "Changed since"
    published.save()
    with pytest.raises(ValidationError, match="has changed since this was proposed"):
        proposal.approve(editor_user)
    published.refresh_from_db()
    assert published.title == "Changed since"


def test_curators_cannot_delete_a_published_incidents_citation_directly(people, published):
    make_citation(incident=published)
    _, curator = people["curator"]
    citation = published.citations.first()
    curator.post(reverse("admin:archive_citation_delete", args=[citation.pk]), {"post": "yes"})
    assert Citation.objects.filter(pk=citation.pk).exists()
    response = curator.post(
        reverse("admin:archive_citation_changelist"),
        {"action": "delete_selected", "_selected_action": [citation.pk], "post": "yes"},
    )
    assert response.status_code == 403  # Django's delete action: no permission for this row
    assert Citation.objects.filter(pk=citation.pk).exists()


def test_a_published_incidents_images_are_read_only_for_curators(people, published, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image as PILImage

    from archive.models import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    PILImage.new("RGB", (20, 20), "red").save(buffer, "JPEG")
    image = Image.objects.create(
        incident=published, file=SimpleUploadedFile("a.jpg", buffer.getvalue()), caption="c", credit="c", licence="l"
    )
    _, curator = people["curator"]
    page = curator.get(reverse("admin:archive_incident_change", args=[published.pk]))
    images = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Image)
    assert not images.has_add_permission and not images.has_change_permission
    change = curator.get(reverse("admin:archive_image_change", args=[image.pk]))
    assert "file" not in change.context["adminform"].form.fields  # view only
    add = curator.get(reverse("admin:archive_image_add"))
    assert published not in add.context["adminform"].form.fields["incident"].queryset
    _, editor = people["editor"]
    page = editor.get(reverse("admin:archive_incident_change", args=[published.pk]))
    images = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Image)
    assert images.has_add_permission and images.has_change_permission


def test_figures_a_curator_adds_to_drafts_and_only_reads_on_a_published_incident(people, published):
    from archive.models import Figure

    _, curator = people["curator"]
    draft_citation = make_citation(incident=make_incident())
    page = curator.get(reverse("admin:archive_citation_change", args=[draft_citation.pk]))
    figures = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Figure)
    assert figures.has_add_permission and figures.has_change_permission
    page = curator.get(reverse("admin:archive_citation_change", args=[published.citations.get().pk]))
    figures = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Figure)
    assert not figures.has_add_permission and not figures.has_change_permission
