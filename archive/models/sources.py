"""Sources: the documents every claim is tied to, first of all news articles."""

import hashlib
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from .. import duplicates
from ..boilerplate import reading_text
from ..originals import MEDIA_TYPES, original_name, sha256_of_bytes, store_original
from ..texts import normalise_received_text
from .choices import DatePrecision, SourceKind
from .versioning import Versioned

CITED_TEXT_IS_EVIDENCE = "This source is cited, so its received text is evidence and cannot be changed."
# Refused: the archive holds this source already (admin, CSV import and import_seeds say this).
DUPLICATE_TEXT = "This exact text is already in the archive as the source “%(title)s” (%(slug)s)."
DUPLICATE_FILE = "This file is already in the archive as the source “%(title)s” (%(slug)s)."
DUPLICATE_URL = "This URL is already in the archive as the source “%(title)s” (%(slug)s)."
# Flagged, not refused: the curator may proceed, and the flag is recorded on the source.
SAME_ARTICLE_MESSAGE = (
    "This looks like the same article as “%(title)s” (%(slug)s): %(ratio)d%% of the text is alike, "
    "%(shared)d%% of its passages are the same."
)
WIRE_COPY_MESSAGE = (
    "This shares most of its body (%(shared)d%% of its passages) with “%(title)s” (%(slug)s), printed by "
    "%(publisher)s: the same wire copy. That source's origin is “%(origin)s”: two outlets printing one wire "
    "copy share one origin."
)


def sha256_of(text):
    """The SHA-256 of a received text, as stored: of its UTF-8 bytes, after normalisation (archive.texts)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Resemblance(models.TextChoices):
    SAME_ARTICLE = "same_article", "The same article"
    WIRE_COPY = "wire_copy", "The same wire copy"


@dataclass(frozen=True)
class Finding:
    """A stored source that a text resembles (Source.find_resemblances)."""

    source: "Source"
    kind: str
    comparison: duplicates.Comparison

    @property
    def message(self):
        return resemblance_message(self.kind, self.source, self.comparison)


def resemblance_message(kind, other, comparison):
    template = WIRE_COPY_MESSAGE if kind == Resemblance.WIRE_COPY else SAME_ARTICLE_MESSAGE
    return template % {
        "title": other.title,
        "slug": other.slug,
        "publisher": other.publisher,
        "origin": other.origin,
        "ratio": comparison.ratio,
        "shared": round(comparison.shared * 100),
    }


def duplicate_error(template, existing):
    """The refusal, with the existing source in its params (the admin links to it)."""
    return ValidationError(
        template, code="duplicate", params={"title": existing.title, "slug": existing.slug, "source": existing}
    )


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

    def with_text(self, text):
        """The source whose received text is `text` once normalised."""
        return self.filter(sha256=sha256_of(normalise_received_text(text)))

    def with_original(self, sha256):
        """The source kept from the file whose bytes have this SHA-256; none for no hash."""
        return self.filter(original_sha256=sha256) if sha256 else self.none()

    def with_url(self, url):
        """Sources at the same address as `url` (archive.duplicates.url_key); none for no URL."""
        key = duplicates.url_key(url)
        return self.filter(url_key=key) if key else self.none()

    def resembling(self, texts):
        """Stored sources each reading text resembles, for many texts at once (the CSV import).

        `texts` maps a key to (reading text, publisher, pk of the source itself or None); returns
        key -> [Finding], most alike first. Candidates come from the stored sketches (one indexed
        query per ~500 hashes), and only those few are compared, exactly."""
        sketches = {key: duplicates.sketch(text) for key, (text, _publisher, _pk) in texts.items()}
        holders: dict[int, set[int]] = {}
        hashes = sorted({h for sketch in sketches.values() for h in sketch})
        for start in range(0, len(hashes), 500):
            rows = SourceShingle.objects.filter(hash__in=hashes[start : start + 500]).values_list("hash", "source_id")
            for digest, source_id in rows:
                holders.setdefault(digest, set()).add(source_id)
        wanted = {}
        for key, sketch in sketches.items():
            counts: dict[int, int] = {}
            for digest in sketch:
                for source_id in holders.get(digest, ()):
                    counts[source_id] = counts.get(source_id, 0) + 1
            own = texts[key][2]
            ranked = sorted(
                (
                    source_id
                    for source_id, n in counts.items()
                    if n >= duplicates.MIN_SHARED_HASHES and source_id != own
                ),
                key=lambda source_id: (-counts[source_id], source_id),
            )
            wanted[key] = ranked[: duplicates.MAX_CANDIDATES]
        ids = sorted({source_id for ranked in wanted.values() for source_id in ranked})
        stored = {}
        for start in range(0, len(ids), 500):
            chunk = self.filter(pk__in=ids[start : start + 500]).only(
                "pk", "slug", "title", "publisher", "origin", "reading_text"
            )
            stored.update((source.pk, source) for source in chunk)
        found = {}
        for key, ranked in wanted.items():
            text, publisher, _pk = texts[key]
            findings = []
            for source_id in ranked:
                other = stored.get(source_id)
                if other is None:
                    continue
                comparison = duplicates.compare(text, other.reading_text)
                if comparison.similar:
                    same = duplicates.same_outlet(publisher, other.publisher)
                    kind = Resemblance.SAME_ARTICLE if same else Resemblance.WIRE_COPY
                    findings.append(Finding(other, kind, comparison))
            findings.sort(key=lambda f: (-f.comparison.ratio, -f.comparison.shared, f.source.slug))
            found[key] = findings
        return found

    def store_sketches(self):
        """(Re)write the stored sketch of each of these sources, from its reading text."""
        pks = list(self.values_list("pk", flat=True))
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            SourceShingle.objects.filter(source_id__in=chunk).delete()
            rows = [
                SourceShingle(source_id=pk, hash=digest)
                for pk, text in Source.objects.filter(pk__in=chunk).values_list("pk", "reading_text")
                for digest in duplicates.sketch(text)
            ]
            SourceShingle.objects.bulk_create(rows, batch_size=1000)


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
    url_key = models.CharField(
        max_length=1000,
        blank=True,
        editable=False,
        db_index=True,  # "is this URL in the archive already?" (Source.check_not_duplicate)
        help_text="The URL as two addresses of one page share it (archive.duplicates.url_key).",
    )
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
    original = models.FileField(
        "original file",
        max_length=200,
        blank=True,
        editable=False,
        help_text="The file's bytes exactly as received, kept as evidence under their SHA-256 and never "
        "modified (archive.originals); staff only.",
    )
    original_sha256 = models.CharField("SHA-256 of the original file", max_length=64, blank=True, editable=False)
    original_media_type = models.CharField("type of the original file", max_length=50, blank=True, editable=False)
    original_size = models.PositiveBigIntegerField("size of the original file", null=True, blank=True, editable=False)
    resembles = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="resembled_by",
        help_text="A source already in the archive that this one looked like when it was added.",
    )
    resemblance = models.CharField(
        max_length=20,
        choices=Resemblance,
        blank=True,
        editable=False,
        help_text="How it resembles that source: the same article, or the same wire copy printed by another outlet.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceManager()
    history = HistoricalRecords(excluded_fields=["reading_text", "url_key"])

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SourceKind.values), name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values),
                name="%(app_label)s_%(class)s_date_precision_valid",
            ),
            models.CheckConstraint(condition=~Q(received_text=""), name="%(app_label)s_%(class)s_text_not_empty"),
            models.CheckConstraint(
                condition=Q(resemblance__in=["", *Resemblance.values]),
                name="%(app_label)s_%(class)s_resemblance_valid",
            ),
            # One source per original file ("is this file in the archive already?" uses it too).
            models.UniqueConstraint(
                fields=["original_sha256"],
                condition=~Q(original_sha256=""),
                name="%(app_label)s_%(class)s_one_source_per_original",
            ),
        ]
        indexes = [
            # The public source list is ordered by date.
            models.Index(fields=["published_on", "title"], name="archive_source_date_idx"),
            # The admin's filters list these columns' values: an index lets SQLite skip from one value
            # to the next instead of reading every source.
            models.Index(fields=["origin"], name="archive_source_origin_idx"),
            models.Index(fields=["publisher"], name="archive_source_publisher_idx"),
            models.Index(fields=["language"], name="archive_source_language_idx"),
            # The public list's order (newest first, undated last, then slug) has an index too,
            # archive_source_list_idx, created by migration 0014 in each database's own words
            # (SQLite has no NULLS LAST in an index; its DESC puts nulls last anyway).
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.normalise_new_text()
        self.guard_received_text()
        digest = sha256_of(self.received_text)
        text_is_new = self._state.adding or digest != self.sha256
        self.sha256 = digest
        self.reading_text = reading_text(self.received_text)
        self.url_key = duplicates.url_key(self.url)
        super().save(*args, **kwargs)
        if text_is_new:
            Source.objects.filter(pk=self.pk).store_sketches()

    def get_absolute_url(self):
        return reverse("archive:source-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        super().clean()
        self.normalise_new_text()
        self.guard_received_text()
        if not self.received_text.strip():
            raise ValidationError({"received_text": "The received text is empty."})
        self.check_not_duplicate()

    def normalise_new_text(self):
        """Apply archive.texts' rule to a new or changed received text; a stored text is never rewritten."""
        if self.received_text is None:
            return
        normalised = normalise_received_text(self.received_text)
        if normalised == self.received_text:
            return
        if self.pk is not None and Source.objects.filter(pk=self.pk, received_text=self.received_text).exists():
            return
        self.received_text = normalised

    @classmethod
    def from_file(cls, extracted, file_name, url=""):
        """A new, unsaved source with what an original file says of itself (archive.intake): the
        curator reviews it before it is saved. The origin is proposed as the publisher (the
        outlet's own reporting) and must be checked: a wire copy's origin is the agency."""
        title = extracted.title or file_name
        base = slugify(title)[:80].strip("-") or "source"
        if extracted.published_on:
            base = f"{extracted.published_on:%Y-%m-%d}-{base}"
        return cls(
            slug=unique_slug(base),
            title=title[:500],
            publisher=extracted.publisher[:200],
            origin=extracted.publisher[:200],
            byline=extracted.byline[:300],
            url=url or extracted.url,
            published_on=extracted.published_on,
            date_precision=extracted.date_precision,
            date_note=extracted.date_note,
            language=extracted.language or "en",
            received_text=extracted.received_text,
            file_name=file_name[:255],
            original_sha256=extracted.sha256,
            original_media_type=extracted.media_type,
            original_size=extracted.size,
        )

    def keep_original(self, data, extension):
        """Record the original file's bytes on this source; they are written to storage, under
        their SHA-256, when the transaction commits, so a refused save leaves nothing behind."""
        digest = sha256_of_bytes(data)
        self.original_sha256 = digest
        self.original_size = len(data)
        self.original_media_type = MEDIA_TYPES[extension]
        self.original.name = original_name(digest, extension)
        transaction.on_commit(partial(store_original, data, extension, self.original.storage))

    def check_not_duplicate(self):
        """Refuse a file, a text or a URL the archive holds already, naming the source that holds it."""
        errors = {}
        others = Source.objects.exclude(pk=self.pk) if self.pk is not None else Source.objects.all()
        same_file = others.with_original(self.original_sha256).first()
        if same_file is not None:
            # The same bytes: that says it all (its text and URL are that source's too).
            raise ValidationError({NON_FIELD_ERRORS: [duplicate_error(DUPLICATE_FILE, same_file)]})
        twin = others.with_text(self.received_text or "").first()
        if twin is not None:
            errors["received_text"] = [duplicate_error(DUPLICATE_TEXT, twin)]
        same_url = others.with_url(self.url).first()
        if same_url is not None:
            errors["url"] = [duplicate_error(DUPLICATE_URL, same_url)]
        if errors:
            raise ValidationError(errors)

    def find_resemblances(self):
        """The stored sources this text looks like (the same article, the same wire copy), most
        alike first: a warning, not a refusal (see record_resemblance)."""
        text = reading_text(normalise_received_text(self.received_text or ""))
        return Source.objects.resembling({None: (text, self.publisher, self.pk)})[None]

    def record_resemblance(self, findings):
        """Keep the closest finding on the source (or clear the flag when there is none)."""
        first = findings[0] if findings else None
        self.resembles = first.source if first else None
        self.resemblance = first.kind if first else ""

    @property
    def resemblance_note(self):
        if not self.resemblance or self.resembles is None:
            return ""
        return resemblance_message(
            self.resemblance, self.resembles, duplicates.compare(self.reading_text, self.resembles.reading_text)
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


def unique_slug(base):
    """`base`, or `base-2`, `base-3`… : the first no source has."""
    taken = set(Source.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


class SourceShingle(models.Model):
    """One hash of a source's sketch (archive.duplicates.sketch): derived, rewritten with the text."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="shingles")
    hash = models.BigIntegerField()

    class Meta:
        indexes = [
            # Candidates for "does this text look like one in the archive?" (SourceQuerySet.resembling).
            models.Index(fields=["hash"], name="archive_source_shingle_idx"),
        ]

    def __str__(self):
        return f"{self.source_id}: {self.hash}"
