"""Review before publication (the two-person rule).

A curator's change to a published incident, or to its citations, is not written to the record:
it is kept as a `ProposedChange` — the field values and citation edits it would make — until an
editor other than its author approves it (then it is applied, in one transaction, and recorded
in the incident's history with both names) or rejects it with a reason the author sees. The
public reads the live record, so it keeps seeing the last approved version meanwhile.

Editors' own changes to published incidents are applied directly: they are the reviewers, every
change is in the history with who made it, and an editor can withdraw or revert. A proposal can
never be approved by its own author, even an editor's.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .choices import Status
from .incidents import can_publish

# The citation fields a proposal may set, in the order they are shown.
CITATION_FIELDS = [
    "source", "quote", "claimant", "evidence_kind", "presentation", "names_monument", "origin", "stance",
    "contradicts", "note",
]  # fmt: skip
OWN_CHANGE = "You proposed this change: another editor must review it."
NOT_PENDING = "This proposed change was already {state}."
STALE = (
    "The incident has changed since this was proposed (version {base} → {current}): reject it, and ask "
    "{author} to propose the change again on the current record."
)


def needs_review(incident, user):
    """Whether `user`'s change to `incident` must wait for an editor: the incident is published
    (as stored) and the user may not publish."""
    if incident.pk is None:
        return False
    stored = type(incident)._base_manager.filter(pk=incident.pk).values_list("status", flat=True).first()
    return stored == Status.PUBLISHED and not can_publish(user)


class ReviewState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ProposedChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=ReviewState.PENDING)


class ProposedChange(models.Model):
    incident = models.ForeignKey("Incident", on_delete=models.CASCADE, related_name="proposed_changes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    base_version = models.PositiveIntegerField(help_text="The incident's version the change was made on.")
    fields = models.JSONField(default=dict, blank=True, help_text="Field name → new value, as text.")
    monuments = models.JSONField(null=True, blank=True, help_text="The new list of monument ids, if changed.")
    citations = models.JSONField(
        default=list,
        blank=True,
        help_text="Citation edits: {id (none for a new one), delete, and the citation fields}.",
    )
    state = models.CharField(max_length=10, choices=ReviewState, default=ReviewState.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, help_text="The reviewer's reason; required to reject.")

    objects = ProposedChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ReviewState.values), name="%(app_label)s_%(class)s_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=ReviewState.REJECTED) | ~Q(review_note=""),
                name="%(app_label)s_%(class)s_rejection_has_reason",
            ),
        ]
        indexes = [
            # The editors' review queue and the incident page's notice: pending changes per incident.
            models.Index(fields=["state", "incident"], name="archive_proposal_state_idx"),
        ]

    def __str__(self):
        return f"Change to “{self.incident}” proposed by {self.author}"

    # Making one

    @classmethod
    def propose(cls, incident, author, *, fields=None, monuments=None, citations=()):
        """Keep `author`'s change to the published `incident` for review. `fields` maps model
        field names to new values (Python values); `monuments` is the new set (or None);
        `citations` lists {"id": pk or None, "delete": bool, field: value…}."""
        stored = type(incident)._base_manager.get(pk=incident.pk)
        serialised = {}
        for name, value in (fields or {}).items():
            field = stored._meta.get_field(name)
            probe = type(stored)(**{field.attname: getattr(value, "pk", value)})
            serialised[name] = field.value_to_string(probe)
        entries = []
        for entry in citations:
            entry = dict(entry)
            if entry.get("source") is not None and hasattr(entry["source"], "pk"):
                entry["source"] = entry["source"].pk
            entries.append(entry)
        return cls.objects.create(
            incident=stored,
            author=author,
            base_version=stored.version,
            fields=serialised,
            monuments=None if monuments is None else sorted(int(getattr(m, "pk", m)) for m in monuments),
            citations=entries,
        )

    # Reading one

    def diff(self):
        """[(label, current, proposed)] for every field and citation the change touches."""
        from .incidents import Citation
        from .places import Monument
        from .sources import Source

        incident = self.incident
        rows = []
        for name, text in self.fields.items():
            field = incident._meta.get_field(name)
            value = field.to_python(text) if not field.is_relation else text
            if field.is_relation:
                target = field.related_model._base_manager.filter(pk=value).first()
                proposed, current = str(target or "—"), str(getattr(incident, name) or "—")
            elif field.choices:
                proposed = dict(field.flatchoices).get(value, value)
                current = getattr(incident, f"get_{name}_display")()
            else:
                proposed, current = (
                    str(value if value not in (None, "") else "—"),
                    str(getattr(incident, name) if getattr(incident, name) not in (None, "") else "—"),
                )
            rows.append((str(field.verbose_name).capitalize(), current, proposed))
        if self.monuments is not None:
            current = ", ".join(m.name for m in incident.monuments.order_by("name")) or "—"
            proposed = ", ".join(
                Monument.objects.filter(pk__in=self.monuments).order_by("name").values_list("name", flat=True)
            )
            rows.append(("Monuments", current, proposed or "—"))
        sources = {s.pk: s for s in Source.objects.filter(pk__in=[e.get("source") for e in self.citations])}
        for entry in self.citations:
            existing = Citation.objects.filter(pk=entry.get("id")).select_related("source").first()
            if entry.get("delete"):
                rows.append(("Citation removed", _describe(existing), "—"))
                continue
            proposed = {**{name: getattr(existing, name, "") for name in CITATION_FIELDS}, **entry}
            proposed["source"] = sources.get(proposed.get("source")) or getattr(existing, "source", "")
            rows.append(
                ("Citation changed" if existing else "Citation added", _describe(existing), _describe(proposed))
            )
        return rows

    # Deciding on it

    def approve(self, editor, note=""):
        """Apply the change to the incident, recorded in its history with both names."""
        self._check_reviewer(editor)
        from .incidents import Citation, check_published_keep_citations

        with transaction.atomic():
            incident = type(self.incident)._base_manager.select_for_update().get(pk=self.incident_id)
            if incident.version != self.base_version:
                raise ValidationError(
                    STALE.format(base=self.base_version, current=incident.version, author=self.author)
                )
            for name, text in self.fields.items():
                field = incident._meta.get_field(name)
                setattr(incident, field.attname, field.to_python(text) if not field.is_relation else text)
            incident.full_clean(exclude=["slug"] if "slug" not in self.fields else None, validate_unique=True)
            incident._history_user = self.author
            incident._change_reason = f"Change proposed by {self.author}, approved by {editor}"
            incident.save()
            if self.monuments is not None:
                incident.monuments.set(self.monuments)
            touched = {incident.pk}
            for entry in self.citations:
                citation = Citation.objects.filter(pk=entry.get("id")).first() if entry.get("id") else None
                if entry.get("delete"):
                    if citation is not None:
                        citation._history_user = self.author
                        citation.delete()
                    continue
                citation = citation or Citation(incident=incident)
                touched.add(citation.incident_id)
                for name in CITATION_FIELDS + ["incident"]:
                    if name in entry:
                        relation = name in ("source", "incident", "contradicts")
                        setattr(citation, f"{name}_id" if relation else name, entry[name])
                citation._history_user = self.author
                citation._change_reason = f"Change proposed by {self.author}, approved by {editor}"
                citation.full_clean(exclude=["incident"])
                citation.save()
                touched.add(citation.incident_id)
            check_published_keep_citations(touched)
            self._decide(ReviewState.APPROVED, editor, note)

    def reject(self, editor, reason):
        self._check_reviewer(editor)
        if not (reason or "").strip():
            raise ValidationError({"review_note": "Say why the change is rejected: the author sees the reason."})
        self._decide(ReviewState.REJECTED, editor, reason.strip())

    def _check_reviewer(self, editor):
        if self.state != ReviewState.PENDING:
            raise ValidationError(NOT_PENDING.format(state=self.get_state_display().lower()))
        if not can_publish(editor):
            raise ValidationError("Only an editor can review proposed changes.")
        if editor.pk == self.author_id:
            raise ValidationError(OWN_CHANGE)

    def _decide(self, state, editor, note):
        self.state, self.reviewed_by, self.reviewed_at, self.review_note = state, editor, timezone.now(), note
        self.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])


def _describe(citation):
    """A citation (or a dict of its fields) in one line for the diff."""
    if not citation:
        return "—"
    get = citation.get if isinstance(citation, dict) else lambda name, default="": getattr(citation, name, default)
    parts = [f"“{get('quote', '')}”", f"in {get('source', '')}"]
    for name in ("claimant", "evidence_kind", "stance", "note"):
        if get(name, ""):
            parts.append(f"{name.replace('_', ' ')}: {get(name, '')}")
    return "; ".join(parts)
