"""No lost edits: every curated record carries a version number, checked and raised on save.

Two curators open the same record; the first saves; the second's save finds the version moved on
and is refused with `EditedMeanwhile`, naming who changed what, instead of silently writing over
the first one's work. The check is a conditional UPDATE (`WHERE version = <the version the
editor loaded>`) in the same transaction as the save, so it holds on both databases however the
two requests interleave.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

EDITED_MEANWHILE = (
    "{record} was changed by {who} at {when} (version {loaded} → {current}) while you were editing it, "
    "so your changes were not saved. Their changes: {changes}. Your entries are still in the form below: "
    "compare them with the current record and save again."
)


class EditedMeanwhile(ValidationError):
    """The record changed since the editor loaded it; the message names the other changes."""


def changes_since(record, loaded_version):
    """What changed in `record` since `loaded_version`, from its history: (who, when, "field: a → b; …")."""
    history = record.history.filter(version__gte=loaded_version).order_by("history_date", "history_id")
    rows = list(history)
    if not rows:
        return "someone", "an unknown time", "not recorded"
    base = next((row for row in rows if row.version == loaded_version), None)
    newest = rows[-1]
    changes = []
    if base is not None and base is not newest:
        delta = newest.diff_against(base, excluded_fields=["version", "updated_at"])
        for change in delta.changes:
            label = record._meta.get_field(change.field).verbose_name
            changes.append(f"{label}: “{change.old}” → “{change.new}”")
    who = newest.history_user or "another user"
    return who, newest.history_date.strftime("%Y-%m-%d %H:%M UTC"), "; ".join(changes) or "no field you can see"


class Versioned(models.Model):
    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Raised on every save; a save from a form loaded at an older version is refused.",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is None or self._state.adding or kwargs.get("force_insert"):
            return super().save(*args, **kwargs)
        with transaction.atomic():
            moved_on = (
                type(self)._base_manager.filter(pk=self.pk, version=self.version).update(version=F("version") + 1) == 0
            )
            if moved_on and type(self)._base_manager.filter(pk=self.pk).exists():
                raise self.edited_meanwhile(self.version)
            self.version += 1
            return super().save(*args, **kwargs)

    def edited_meanwhile(self, loaded_version):
        current = type(self)._base_manager.filter(pk=self.pk).values_list("version", flat=True).first()
        who, when, changes = changes_since(self, loaded_version)
        message = EDITED_MEANWHILE.format(
            record=f"“{self}”", who=who, when=when, loaded=loaded_version, current=current, changes=changes
        )
        return EditedMeanwhile(message, code="edited_meanwhile")
