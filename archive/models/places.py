"""Places: sites (Palmyra, the Old City of Aleppo) and the monuments they hold."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .choices import Condition, IncidentKind, MonumentKind, SiteKind, UnescoStatus
from .identifiers import site_prefix
from .versioning import Versioned

wikidata_validator = RegexValidator(r"^Q[1-9][0-9]*$", "A Wikidata id is a Q followed by digits, e.g. Q5747.")


def split_names(text):
    """Aliases are stored one per line (`;` also accepted on input)."""
    names = []
    for line in text.replace(";", "\n").splitlines():
        name = line.strip()
        if name and name not in names:
            names.append(name)
    return names


def public_through_incidents(queryset, relation):
    """Rows of `queryset` the public may see, judged by the incidents that refer to them through
    `relation`: those a published incident refers to, and reference records no incident refers to
    yet (a monument from the reference table). A record that only drafts or withdrawn incidents
    use stays out of sight, so a draft cannot be guessed from the names it brings in."""
    from .incidents import Incident

    referring = Incident.objects.filter(**{relation: OuterRef("pk")})
    return queryset.filter(Exists(referring.public()) | ~Exists(referring))


# generate_synthetic's benchmark rows: incidents have is_synthetic, the rest this slug prefix.
SYNTHETIC_SLUG_PREFIX = "synthetic-"


class SlugNaturalKeyManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class SiteQuerySet(models.QuerySet):
    def public(self):
        return public_through_incidents(self, "site")

    def curated(self):
        """Everything but generate_synthetic's benchmark rows (never exported)."""
        return self.exclude(slug__startswith=SYNTHETIC_SLUG_PREFIX)


class SiteManager(SlugNaturalKeyManager.from_queryset(SiteQuerySet)):
    pass


class Located(models.Model):
    """Coordinates in WGS 84 decimal degrees, both or neither, on the globe."""

    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="WGS 84 decimal degrees, −90 to 90.",
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text="WGS 84 decimal degrees, −180 to 180.",
    )
    coordinate_precision = models.CharField(
        max_length=100, blank=True, help_text="How exact the point is: building, site centre, approximate…"
    )
    coordinate_source = models.CharField(max_length=200, blank=True, help_text="Where the coordinates come from.")
    wikidata = models.CharField(
        "Wikidata id", max_length=20, blank=True, validators=[wikidata_validator], help_text="e.g. Q5747"
    )
    pleiades = models.CharField("Pleiades id", max_length=20, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="%(app_label)s_%(class)s_latitude_on_globe",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="%(app_label)s_%(class)s_longitude_on_globe",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="%(app_label)s_%(class)s_coordinates_both_or_neither",
            ),
        ]

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            missing = "latitude" if self.latitude is None else "longitude"
            raise ValidationError({missing: "Give both latitude and longitude, or neither."})

    @property
    def wikidata_url(self):
        return f"https://www.wikidata.org/wiki/{self.wikidata}" if self.wikidata else ""


class Site(Versioned, Located):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    aliases = models.TextField(
        "other names", blank=True, help_text="One per line: English variants and names in Arabic."
    )
    kind = models.CharField(
        max_length=20,
        choices=SiteKind,
        default=SiteKind.HERITAGE_SITE,
        help_text="A heritage site, a historic quarter, a town or city, a region: where a town-wide or "
        "city-wide event happened, not only heritage sites.",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The place that contains it: the Old City of Aleppo within Aleppo.",
    )
    country = models.CharField(max_length=100)
    unesco_status = models.CharField(
        "UNESCO status", max_length=20, choices=UnescoStatus, default=UnescoStatus.NOT_RECORDED
    )
    description = models.TextField(blank=True)

    objects = SiteManager()
    history = HistoricalRecords()

    class Meta(Located.Meta):
        ordering = ["name"]
        constraints = [
            *Located.Meta.constraints,
            models.CheckConstraint(
                condition=Q(unesco_status__in=UnescoStatus.values), name="%(app_label)s_%(class)s_unesco_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=SiteKind.values), name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="%(app_label)s_%(class)s_not_own_parent"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:site-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    @property
    def alias_list(self):
        return split_names(self.aliases)

    @property
    def identifier_prefix(self):
        """The prefix of the identifiers its incidents get when first saved (PAL, ALP; site_prefix)."""
        return site_prefix(self.slug, self.parent.slug if self.parent_id else "")


class MonumentQuerySet(models.QuerySet):
    def public(self):
        """Monuments the public may see (see `public_through_incidents`), on a public site."""
        return public_through_incidents(self, "monuments").filter(site__in=Site.objects.public())

    def curated(self):
        """Everything but generate_synthetic's benchmark rows (never exported)."""
        return self.exclude(slug__startswith=SYNTHETIC_SLUG_PREFIX)

    def with_condition(self):
        """Annotate `condition` from published incidents, computed in the database.

        destroyed: a published incident of kind destruction touches it;
        damaged: a published damage or looting incident does;
        intact: published incidents touch it but none reports damage;
        unknown: no published incident mentions it.
        """
        from .incidents import Incident

        published = Incident.objects.published().filter(monuments=OuterRef("pk"))
        return self.annotate(
            condition=models.Case(
                models.When(
                    Exists(published.filter(kind=IncidentKind.DESTRUCTION)),
                    then=Value(Condition.DESTROYED),
                ),
                models.When(
                    Exists(published.filter(kind__in=[IncidentKind.DAMAGE, IncidentKind.LOOTING])),
                    then=Value(Condition.DAMAGED),
                ),
                models.When(Exists(published), then=Value(Condition.INTACT)),
                default=Value(Condition.UNKNOWN),
                output_field=models.CharField(),
            )
        )


class MonumentManager(SlugNaturalKeyManager.from_queryset(MonumentQuerySet)):
    pass


class Monument(Versioned, Located):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="monuments")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    aliases = models.TextField(
        blank=True,
        help_text="Every other name or spelling the sources use, one per line "
        "(“Baal Shamin”, “Arch of Triumph”, “amphitheatre”…).",
    )
    kind = models.CharField(max_length=20, choices=MonumentKind)
    period = models.CharField(max_length=200, blank=True, help_text="e.g. “1st century AD”.")
    description = models.TextField(blank=True)

    objects = MonumentManager()
    history = HistoricalRecords()

    class Meta(Located.Meta):
        ordering = ["site__name", "name"]
        constraints = [
            *Located.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=MonumentKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:monument-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    @property
    def alias_list(self):
        return split_names(self.aliases)

    @property
    def names(self):
        """The name and every alias: what a text may call this monument."""
        return [self.name, *[alias for alias in self.alias_list if alias != self.name]]

    def current_condition(self):
        return Monument.objects.with_condition().values_list("condition", flat=True).get(pk=self.pk)
