"""Images of monuments and incidents: photographs before and after, satellite and drone views."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ..images import needs_cleaning, store_clean_image
from .choices import ImageKind
from .versioning import Versioned

# What cleaning sets, added to a bulk_update that cleans.
CLEANED_FIELDS = ("file", "thumbnail", "width", "height", "file_sha256", "thumbnail_sha256")


class ImageQuerySet(models.QuerySet):
    def public(self):
        """Images the public may see: those of a public monument or a public incident."""
        from .incidents import Incident
        from .places import Monument

        return self.filter(Q(monument__in=Monument.objects.public()) | Q(incident__in=Incident.objects.public()))

    # bulk_create and bulk_update bypass save(): they clean too, so the CSV import (which writes
    # through them) stores only cleaned files.
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for image in objs:
            if needs_cleaning(image):
                store_clean_image(image)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        cleaned = False
        for image in objs:
            if needs_cleaning(image):
                store_clean_image(image)
                cleaned = True
        if cleaned:
            fields += [name for name in CLEANED_FIELDS if name not in fields]
        return super().bulk_update(objs, fields, *args, **kwargs)


class Image(Versioned):
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

    objects = ImageQuerySet.as_manager()
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
        # Whatever the path (admin, shell, import), a new file, or a stored one that is not the
        # cleaned copy recorded, is checked and stored only as a re-encoding without metadata: EXIF
        # and GPS can endanger the photographer.
        if needs_cleaning(self):
            store_clean_image(self)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if (self.monument_id is None) == (self.incident_id is None):
            raise ValidationError({"monument": "An image shows either a monument or an incident: choose one."})
