"""Images of monuments and incidents: photographs before and after, satellite and drone views."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ..images import store_clean_image
from .choices import ImageKind


class Image(models.Model):
    monument = models.ForeignKey("Monument", null=True, blank=True, on_delete=models.CASCADE, related_name="images")
    incident = models.ForeignKey("Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(
        upload_to="images/%Y/%m/",
        width_field="width",
        height_field="height",
        help_text="JPEG, PNG or WebP. Metadata (EXIF, GPS) is removed on upload.",
    )
    thumbnail = models.ImageField(upload_to="thumbnails/%Y/%m/", blank=True, editable=False)
    file_sha256 = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the stored file, recorded when it is stored; verify_fixity checks it.",
    )
    thumbnail_sha256 = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the stored thumbnail, recorded when it is stored; verify_fixity checks it.",
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    kind = models.CharField(max_length=20, choices=ImageKind, default=ImageKind.OTHER)
    caption = models.CharField(max_length=500)
    credit = models.CharField(max_length=300, help_text="Photographer or provider.")
    licence = models.CharField(max_length=200, help_text="e.g. CC BY-SA 4.0, or “used with permission”.")
    taken_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["taken_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monument__isnull=False, incident__isnull=True)
                | Q(monument__isnull=True, incident__isnull=False),
                name="%(app_label)s_%(class)s_one_subject",
            ),
            models.CheckConstraint(condition=Q(kind__in=ImageKind.values), name="%(app_label)s_%(class)s_kind_valid"),
        ]

    def __str__(self):
        return self.caption

    def save(self, *args, **kwargs):
        # Whatever the path (admin, shell, import), a new file is checked and stored only as a
        # re-encoding without metadata: EXIF and GPS can endanger the photographer.
        if self.file and not self.file._committed:
            store_clean_image(self)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if (self.monument_id is None) == (self.incident_id is None):
            raise ValidationError({"monument": "An image shows either a monument or an incident: choose one."})
