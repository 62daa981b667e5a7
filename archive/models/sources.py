"""Sources: the documents every claim is tied to, first of all news articles."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..boilerplate import reading_text
from .choices import DatePrecision, SourceKind
from .versioning import Versioned

CITED_TEXT_IS_EVIDENCE = "This source is cited, so its received text is evidence and cannot be changed."


def sha256_of(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SourceQuerySet(models.QuerySet):
    def cited(self):
        """Sources some citation quotes: their received text never changes (a database trigger
        refuses it too)."""
        from .incidents import Citation

        return self.filter(models.Exists(Citation.objects.filter(source=models.OuterRef("pk"))))

    def public(self):
        """Sources the public may see: those cited by at least one published incident."""
        from .incidents import Citation

        return self.filter(models.Exists(Citation.objects.public().filter(source=models.OuterRef("pk"))))

    def curated(self):
        """Everything but generate_synthetic's benchmark rows (never exported)."""
        from .places import SYNTHETIC_SLUG_PREFIX

        return self.exclude(slug__startswith=SYNTHETIC_SLUG_PREFIX)


class SourceManager(models.Manager.from_queryset(SourceQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Source(Versioned):
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind, default=SourceKind.NEWS_ARTICLE)
    title = models.CharField(max_length=500)
    publisher = models.CharField(max_length=200, help_text="The outlet that printed it (The Guardian, Gulf News…).")
    origin = models.CharField(
        max_length=200,
        help_text="The wire agency or newsroom that wrote it (AFP, Reuters/AP, the Guardian's own reporting). "
        "Two outlets printing the same wire copy share one origin: they are not independent.",
    )
    byline = models.CharField(max_length=300, blank=True)
    url = models.URLField("URL", max_length=1000, blank=True)
    published_on = models.DateField(
        null=True, blank=True, help_text="First day of the period the precision allows (1 March for “March”)."
    )
    date_precision = models.CharField(max_length=10, choices=DatePrecision, default=DatePrecision.DAY)
    date_note = models.TextField(blank=True, help_text="How the publication date was established.")
    language = models.CharField(max_length=20, default="en", help_text="BCP 47 code: en, ar, fr…")
    received_text = models.TextField(
        help_text="The text exactly as received. It is evidence: once cited it can never change."
    )
    sha256 = models.CharField(
        "SHA-256", max_length=64, unique=True, editable=False, help_text="Hash of the received text (UTF-8)."
    )
    reading_text = models.TextField(
        editable=False, help_text="Derived from the received text with web boilerplate removed."
    )
    file_name = models.CharField(max_length=255, blank=True, help_text="The file it was imported from, if any.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceManager()
    history = HistoricalRecords(excluded_fields=["reading_text"])

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SourceKind.values), name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values),
                name="%(app_label)s_%(class)s_date_precision_valid",
            ),
            models.CheckConstraint(condition=~Q(received_text=""), name="%(app_label)s_%(class)s_text_not_empty"),
        ]
        indexes = [
            # The public source list is ordered by date.
            models.Index(fields=["published_on", "title"], name="archive_source_date_idx"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.guard_received_text()
        self.sha256 = sha256_of(self.received_text)
        self.reading_text = reading_text(self.received_text)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("archive:source-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        super().clean()
        self.guard_received_text()
        if not self.received_text.strip():
            raise ValidationError({"received_text": "The received text is empty."})
        duplicate = Source.objects.filter(sha256=sha256_of(self.received_text)).exclude(pk=self.pk).first()
        if duplicate is not None:
            raise ValidationError(
                {"received_text": f"This exact text is already in the archive as the source “{duplicate}”."}
            )

    def guard_received_text(self):
        """Refuse to change the received text of a source that is cited."""
        if self.pk is None:
            return
        stored = Source.objects.filter(pk=self.pk).values_list("received_text", flat=True).first()
        if stored is None or stored == self.received_text:
            return
        if self.citations.exists():
            raise ValidationError({"received_text": CITED_TEXT_IS_EVIDENCE})

    def delete(self, *args, **kwargs):
        # Citation.source is PROTECT, so the database refuses too; this gives the reason in words.
        if self.citations.exists():
            raise models.ProtectedError(
                f"The source “{self}” is cited by {self.citations.count()} citation(s) and cannot be deleted.",
                set(self.citations.all()),
            )
        return super().delete(*args, **kwargs)
