"""Incidents — one thing that happened, once — and the citations that tie them to sources."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .. import summaries
from ..dates import NO_EARLIER, NO_LATER, parse_when
from ..quotes import QuoteNotFound, anchor_at, locate
from .assessment import assess, effective_origin, origin_count_expression
from .choices import ActorRole, Assessment, EvidenceKind, IncidentKind, Measure, Presentation, Stance, Status
from .identifiers import assign_identifiers, format_identifier, parse_identifier
from .versioning import Versioned

# The rules of publication, each written once. The admin, the importer, the commands and the
# views call the functions below, which raise ValidationError with these messages.
PUBLISH_PERMISSION = "archive.publish_incident"


def can_publish(user):
    """Whether `user` is an editor: may publish, withdraw and approve changes to published incidents."""
    return user is not None and user.has_perm(PUBLISH_PERMISSION)


NEEDS_CITATION = "An incident cannot be published without at least one supporting citation."
KEEPS_CITATION = (
    "“{incident}” is published, so it must keep at least one supporting citation: add another first, "
    "or have an editor withdraw the incident."
)
NEEDS_REASON = "Say why the incident is withdrawn: the reason is kept and shown."
OVERRIDE_NEEDS_REASON = "Say why the derived assessment is overridden: the reason is shown with it."
CHOOSE_CONTRADICTED = "Choose the citation this one contradicts."
ONLY_CONTRADICTING = "Only a contradicting citation names the citation it contradicts."
NOT_ITSELF = "A citation cannot contradict itself."
NEEDS_ACTOR = (
    "Name who the sources hold responsible, each with their role: choose “Unattributed” as the perpetrator "
    "when the sources name no one."
)
RANGE_ORDERED = "The high end of the range is below its low end."
MERGE_PERMISSION = "Only an editor merges incidents: a merge changes what the public sees."
MERGE_ITSELF = "An incident cannot be merged into itself."
ALREADY_MERGED = "“{incident}” was already merged into “{survivor}”."


def check_keeps_citation(incident, stances):
    """For a form about to save an incident's citations: raise ValidationError if the incident
    is published and none of the citations it would keep (their `stances`) supports it."""
    if incident.status == Status.PUBLISHED and Stance.SUPPORTS not in set(stances):
        raise ValidationError(KEEPS_CITATION.format(incident=incident), code="keeps_citation")


def check_published_keep_citations(incident_ids):
    """Raise ValidationError if any published incident among `incident_ids` is left without a
    supporting citation. Called after a change, inside its transaction, which the error then
    rolls back: moving, deleting or re-labelling citations in any way is judged by the result."""
    orphans = Incident.objects.filter(pk__in=list(incident_ids)).published().uncited()
    titles = list(orphans.values_list("title", flat=True)[:20])
    if titles:
        raise ValidationError([KEEPS_CITATION.format(incident=title) for title in titles], code="keeps_citation")


def check_published_keep_actors(incident_ids):
    """Raise ValidationError if a published incident among `incident_ids` is left naming no actor
    (called inside the change's transaction, which the error rolls back)."""
    titles = list(
        Incident.objects.filter(pk__in=list(incident_ids)).published().without_actors().values_list("title", flat=True)
    )
    if titles:
        raise ValidationError([f"“{title}” is published: {NEEDS_ACTOR}" for title in titles], code="keeps_actor")


# Kinds under which the same event may be recorded: a temple blown up may first be reported
# damaged, a shelling as an attack or as damage (likely_duplicates_of).
COMPATIBLE_KINDS = {
    IncidentKind.DESTRUCTION: {IncidentKind.DESTRUCTION, IncidentKind.DAMAGE},
    IncidentKind.DAMAGE: {IncidentKind.DAMAGE, IncidentKind.DESTRUCTION, IncidentKind.ATTACK},
    IncidentKind.ATTACK: {IncidentKind.ATTACK, IncidentKind.DAMAGE},
}
LIKELY_DUPLICATES_SHOWN = 5


class IncidentQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create bypasses save(): the identifiers are given here (one counter update per prefix).
        objs = list(objs)
        assign_identifiers(objs)
        return super().bulk_create(objs, *args, **kwargs)

    def by_identifier(self, text):
        """The incidents whose identifier is `text` ("PAL-0007"): none when it is not one."""
        parsed = parse_identifier(text)
        if parsed is None:
            return self.none()
        return self.filter(identifier_prefix=parsed[0], identifier_number=parsed[1])

    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def public(self):
        """What the public may see: published incidents. Every public view and download starts here."""
        return self.published()

    def withdrawn_from_public(self):
        """Incidents once published (their history has a published version), then withdrawn and not
        merged: their address answers 410 with a notice. One withdrawn before it was ever published
        stays unknown to the public."""
        was_published = Incident.history.model.objects.filter(id=OuterRef("pk"), status=Status.PUBLISHED)
        return self.filter(models.Exists(was_published), status=Status.WITHDRAWN, merged_into__isnull=True)

    def dated(self):
        """Incidents whose sources give both ends of when they happened: what a timeline may draw.
        The others (undated, or with an open end) are shown apart, never at an invented date."""
        return self.exclude(occurred_from=NO_EARLIER).exclude(occurred_to=NO_LATER)

    def undated(self):
        return self.filter(Q(occurred_from=NO_EARLIER) | Q(occurred_to=NO_LATER))

    def overlapping(self, start=None, end=None):
        """Incidents that may have happened between `start` and `end` (either may be None): their
        range overlaps it. An incident from May 2015 to March 2016 is found from 2016-01-01."""
        queryset = self
        if start is not None:
            queryset = queryset.filter(occurred_to__gte=start)
        if end is not None:
            queryset = queryset.filter(occurred_from__lte=end)
        return queryset

    def likely_duplicates_of(
        self,
        *,
        monuments=(),
        site=None,
        actor=None,
        kind=None,
        start=None,
        end=None,
        town_wide=False,
        limit=LIKELY_DUPLICATES_SHOWN,
    ):
        """The few incidents (at most `limit`, latest first) that may be the same event as one at
        `monuments` (any shared), or at `site` when no monument is given (with `town_wide`, only
        the site's incidents naming no monument either), or with `actor` in any role; of a
        compatible `kind` (COMPATIBLE_KINDS) when one is given; whose dates overlap `start`..`end`
        (None, or an incident's unknown bound, overlaps everything). Withdrawn and merged
        incidents are left out. A list. Bounded: a query with LIMIT per status, each walking the
        status's incidents by date (archive_inc_status_date_idx, archive_inc_site_date_idx)."""
        monument_ids = [getattr(monument, "pk", monument) for monument in monuments]
        queryset = self
        if monument_ids:
            through = Incident.monuments.through.objects.filter(
                incident_id=OuterRef("pk"), monument_id__in=monument_ids
            )
            queryset = queryset.filter(models.Exists(through))
        elif site is not None:
            queryset = queryset.filter(site=site)
            if town_wide:
                located = Incident.monuments.through.objects.filter(incident_id=OuterRef("pk"))
                queryset = queryset.filter(~models.Exists(located))
        elif actor is not None:
            queryset = queryset.filter(
                models.Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor=actor))
            )
        else:
            return []
        if kind:
            queryset = queryset.filter(kind__in=COMPATIBLE_KINDS.get(kind, {kind}))
        queryset = queryset.overlapping(start, end).order_by("-occurred_from", "slug")
        # One query per status, each walking (status, occurred_from) backwards and asking about
        # each row (EXISTS) until it has `limit`: given both statuses at once, or the target's
        # incidents as a list, SQLite sorts all of the target's incidents (thousands) instead.
        found = [row for status in (Status.PUBLISHED, Status.DRAFT) for row in queryset.filter(status=status)[:limit]]
        found.sort(key=lambda row: row.slug)
        found.sort(key=lambda row: row.occurred_from, reverse=True)
        return found[:limit]

    def with_perpetrator(self, actor):
        """Incidents the sources attribute to `actor` as perpetrator."""
        return self.filter(
            models.Exists(
                IncidentActor.objects.filter(incident=OuterRef("pk"), actor=actor, role=ActorRole.PERPETRATOR)
            )
        )

    def with_actor(self, actor):
        """Incidents `actor` takes part in, in any role."""
        return self.filter(models.Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor=actor)))

    def without_actors(self):
        """Incidents naming no actor: they cannot be published (NEEDS_ACTOR)."""
        return self.filter(~models.Exists(IncidentActor.objects.filter(incident=OuterRef("pk"))))

    def uncited(self):
        """Incidents with no supporting citation: they cannot be published, nor stay published."""
        supporting = Citation.objects.filter(incident=OuterRef("pk"), stance=Stance.SUPPORTS)
        return self.filter(~models.Exists(supporting))

    def curated(self):
        """Everything but the synthetic rows made for benchmarks."""
        return self.filter(is_synthetic=False)

    def search(self, query, broad=None):
        """The incidents the words of `query` find, annotated with `search_rank` (higher: more
        relevant; alike for a broad search). The index, the query syntax, the ranking and what is
        broad are archive.search's."""
        from ..search import search

        return search(self, query, broad=broad)

    def with_counts(self):
        """Annotate `citation_count` and `origin_count` (independent origins among supporting
        citations: two outlets printing the same wire copy count once), in the database."""
        citations = Citation.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
        return self.annotate(
            citation_count=Coalesce(Subquery(citations.annotate(n=Count("pk")).values("n")), 0),
            # The assessment's own rule (archive.models.assessment): firm, supporting claims that name it.
            origin_count=origin_count_expression(Citation.objects.filter(incident=OuterRef("pk")).order_by()),
        )

    def refresh_assessments(self, chunk_size=1000):
        """Derive and store the assessment of every incident here from its citations: after any
        change to citations, and after bulk writes that bypass save() (imports, fixtures). A few
        queries per chunk of incidents; only changed rows are written."""
        ids = list(self.order_by().values_list("pk", flat=True))
        Through = Incident.monuments.through
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            incidents = list(Incident._base_manager.filter(pk__in=chunk))
            located = set(Through.objects.filter(incident_id__in=chunk).values_list("incident_id", flat=True))
            claims = {}
            for citation in (
                Citation.objects.filter(incident_id__in=chunk)
                .select_related("source")
                .only("incident_id", "stance", "presentation", "names_monument", "origin", "claimant", "source__origin")
            ):
                claims.setdefault(citation.incident_id, []).append(citation)
            changed = []
            for incident in incidents:
                derived = incident.derive_assessment(claims.get(incident.pk, []), has_monuments=incident.pk in located)
                if derived != (incident.assessment, incident.assessment_reason):
                    incident.assessment, incident.assessment_reason = derived
                    changed.append(incident)
            Incident._base_manager.bulk_update(changed, ["assessment", "assessment_reason"], batch_size=500)


class IncidentManager(models.Manager.from_queryset(IncidentQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Incident(Versioned):
    slug = models.SlugField(max_length=120, unique=True)
    identifier_prefix = models.CharField(
        max_length=8,
        editable=False,
        help_text="Its site's prefix when first saved (PAL, ALP); kept if the site changes.",
    )
    identifier_number = models.PositiveIntegerField(
        editable=False, help_text="Given once from a counter per prefix (archive.models.identifiers); never reused."
    )
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=IncidentKind)
    site = models.ForeignKey("Site", on_delete=models.PROTECT, related_name="incidents")
    monuments = models.ManyToManyField(
        "Monument", blank=True, related_name="incidents", help_text="None for a town-wide event."
    )
    actors = models.ManyToManyField(
        "Actor",
        through="IncidentActor",
        related_name="incidents",
        help_text="Who the sources say took part, each with a role; “Unattributed” when they name no one.",
    )
    victims = models.TextField(blank=True)
    occurred = models.CharField(
        "when (EDTF)",
        max_length=100,
        blank=True,
        help_text="When it happened, no more precisely than the sources say, in EDTF: 2016-03-24, 2015-05, "
        "2015-05/2016-03, ../2016-03-24 (on or before), 2016-03~ (about). Empty: undated.",
    )
    occurred_from = models.DateField(
        editable=False, default=NO_EARLIER, help_text="Earliest day the EDTF value allows (derived; for ordering)."
    )
    occurred_to = models.DateField(
        editable=False, default=NO_LATER, help_text="Latest day the EDTF value allows (derived; for ordering)."
    )
    date_wording = models.CharField(
        max_length=300,
        blank=True,
        help_text="The sources' own words for when, and how a relative date was resolved: “last May” (the "
        "article is of 24 March 2016).",
    )
    description = models.TextField(blank=True)
    assessment = models.CharField(
        max_length=20,
        choices=Assessment,
        default=Assessment.UNVERIFIED,
        editable=False,
        help_text="Derived from the citations by the archive's rules (the methodology page), or the "
        "curator's override.",
    )
    assessment_reason = models.TextField(blank=True, editable=False, help_text="Why: the rule that applied.")
    assessment_override = models.CharField(
        "override assessment",
        max_length=20,
        choices=Assessment,
        blank=True,
        help_text="Leave empty to use the derived assessment. An override needs a reason, which is shown.",
    )
    override_reason = models.TextField(blank=True, help_text="Why the derived assessment is overridden.")
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    withdrawn_reason = models.TextField(blank=True, help_text="Required when withdrawn; kept.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="absorbed",
        editable=False,
        help_text="Set when this incident was merged into another: its address then leads there.",
    )
    is_synthetic = models.BooleanField(
        default=False, editable=False, help_text="Made by generate_synthetic for benchmarks; never curated."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentManager()
    history = HistoricalRecords(m2m_fields=[monuments])

    class Meta:
        ordering = ["occurred_from", "slug"]
        permissions = [("publish_incident", "Can publish and withdraw incidents")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=IncidentKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(assessment__in=Assessment.values), name="%(app_label)s_%(class)s_assessment_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=Q(occurred_to__gte=F("occurred_from")),
                name="%(app_label)s_%(class)s_date_range_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.WITHDRAWN) | ~Q(withdrawn_reason=""),
                name="%(app_label)s_%(class)s_withdrawn_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(assessment_override="") | Q(assessment_override__in=Assessment.values),
                name="%(app_label)s_%(class)s_override_valid",
            ),
            models.CheckConstraint(
                condition=Q(assessment_override="") | ~Q(override_reason=""),
                name="%(app_label)s_%(class)s_override_has_reason",
            ),
            # Its index also answers by_identifier() and the counter's MAX(identifier_number).
            models.UniqueConstraint(
                fields=["identifier_prefix", "identifier_number"], name="%(app_label)s_%(class)s_identifier_unique"
            ),
        ]
        indexes = [
            # Public incident list, timeline and monument pages: published rows in date order.
            models.Index(fields=["status", "occurred_from", "slug"], name="archive_inc_status_date_idx"),
            # The same list filtered by kind (and the condition subqueries).
            models.Index(fields=["status", "kind", "occurred_from"], name="archive_inc_status_kind_idx"),
            # Filtered by site, in date order.
            models.Index(fields=["site", "status", "occurred_from"], name="archive_inc_site_date_idx"),
            # The admin's changelist filtered by status, newest first: without it SQLite reads every
            # row of the status from the indexes above and sorts them by key.
            models.Index(fields=["status", "id"], name="archive_inc_status_pk_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("archive:incident-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    @property
    def identifier(self):
        """The short identifier to cite it by, e.g. PAL-0007; "" before its first save."""
        if self.identifier_number is None:
            return ""
        return format_identifier(self.identifier_prefix, self.identifier_number)

    @property
    def when(self):
        """When it happened, parsed (archive.dates.When): its bounds, precision and wording."""
        try:
            return parse_when(self.occurred)
        except ValueError:
            return parse_when("")

    @property
    def date_precision(self):
        """day, month, season, year, interval, open or undated: from the EDTF value, never stored apart."""
        return self.when.precision

    def set_bounds(self):
        """Derive the stored bounds from the EDTF value; raise ValidationError naming the field."""
        try:
            when = parse_when(self.occurred)
        except ValueError as error:
            raise ValidationError({"occurred": str(error)}) from None
        self.occurred = when.edtf
        self.occurred_from, self.occurred_to = when.stored_bounds

    @property
    def actor_roles(self):
        """(actor, role label) pairs in the order curated; from a prefetch when there is one."""
        return [(link.actor, link.get_role_display()) for link in self.actor_links.all()]

    @property
    def perpetrators(self):
        return [link.actor for link in self.actor_links.all() if link.role == ActorRole.PERPETRATOR]

    @property
    def principal_actor(self):
        """The actor a table or chart names for the incident: its first perpetrator, else its first actor."""
        links = list(self.actor_links.all())
        for link in links:
            if link.role == ActorRole.PERPETRATOR:
                return link.actor
        return links[0].actor if links else None

    def has_actors(self):
        return self.pk is not None and not Incident.objects.filter(pk=self.pk).without_actors().exists()

    def clean(self):
        super().clean()
        errors = {}
        try:
            self.set_bounds()
        except ValidationError as error:
            errors.update(error.message_dict)
        if self.status == Status.WITHDRAWN and not self.withdrawn_reason.strip():
            errors["withdrawn_reason"] = NEEDS_REASON
        if self.assessment_override and not self.override_reason.strip():
            errors["override_reason"] = OVERRIDE_NEEDS_REASON
        # That a published incident has a supporting citation is not checked here: its citations
        # are saved after it. publish() checks it, and every change to citations is judged by
        # check_published_keep_citations() / check_keeps_citation().
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.set_bounds()
        self.assessment, self.assessment_reason = self.derive_assessment()
        if self.identifier_number is None:
            assign_identifiers([self])
        super().save(*args, **kwargs)
        # Publishing, withdrawing, an edit to a published incident: the whole-archive figures change.
        summaries.incident_saved(self)

    def derive_assessment(self, citations=None, *, has_monuments=None):
        """(assessment, reason): the rules applied to the citations (the stored ones unless
        given), or the curator's override with its reason."""
        if citations is None:
            citations = Citation.objects.filter(incident_id=self.pk).select_related("source") if self.pk else []
        if has_monuments is None:
            has_monuments = self.pk is not None and self.monuments.exists()
        level, reason = assess(citations, has_monuments=has_monuments)
        if self.assessment_override:
            derived = f"{Assessment(level).label}: {reason}"
            return (
                self.assessment_override,
                f"Curator's assessment: {self.override_reason.strip()} (the rules give {derived})",
            )
        return level, reason

    def has_citations(self):
        """Whether the incident has a supporting citation (what publishing needs)."""
        return self.pk is not None and self.citations.filter(stance=Stance.SUPPORTS).exists()

    def publish(self, user):
        if not self.has_citations():
            raise ValidationError({"status": NEEDS_CITATION})
        if not self.has_actors():
            raise ValidationError({"status": NEEDS_ACTOR})
        self.status = Status.PUBLISHED
        self.published_at = timezone.now()
        self.published_by = user
        # A republished incident keeps the reason it was once withdrawn for (shown to curators).
        self.save()

    def merge(self, absorbed, user):
        """Merge `absorbed` into this incident: its citations (with their figures), actors,
        monuments and images move here; it is withdrawn with the reason, keeps its slug (never
        reused) and points here, so its public address leads here. Both histories record it."""
        if not can_publish(user):
            raise ValidationError(MERGE_PERMISSION, code="merge_permission")
        if absorbed.pk == self.pk:
            raise ValidationError(MERGE_ITSELF, code="merge_itself")
        for incident in (absorbed, self):
            if incident.merged_into_id is not None:
                raise ValidationError(
                    ALREADY_MERGED.format(incident=incident, survivor=incident.merged_into), code="already_merged"
                )
        with transaction.atomic():
            absorbed.status = Status.WITHDRAWN
            absorbed.withdrawn_reason = f"Merged into “{self.title}” ({self.slug}): the same event."
            absorbed.withdrawn_at, absorbed.withdrawn_by = timezone.now(), user
            absorbed.merged_into = self
            absorbed._change_reason, absorbed._history_user = f"Merged into {self.slug}", user
            absorbed.save()
            kept = {(c.source_id, c.position_start): c for c in self.citations.all()}
            for citation in list(absorbed.citations.all()):
                twin = kept.get((citation.source_id, citation.position_start))
                if twin is not None:  # the same passage cited on both: keep one, with both's figures
                    citation.figures.update(citation=twin)
                    Citation.objects.filter(contradicts=citation).update(contradicts=twin)
                    Citation.objects.filter(pk=citation.pk).delete()
                else:
                    citation.incident = self
                    citation._change_reason, citation._history_user = f"Merged from {absorbed.slug}", user
                    citation.save()
            roles = set(self.actor_links.values_list("actor_id", "role"))
            for link in absorbed.actor_links.all():
                if (link.actor_id, link.role) not in roles:
                    IncidentActor.objects.create(incident=self, actor_id=link.actor_id, role=link.role)
            IncidentActor.objects.filter(incident=absorbed).delete()
            self.monuments.add(*absorbed.monuments.all())
            absorbed.images.update(incident=self)
            self._change_reason, self._history_user = f"Merged {absorbed.slug} into it", user
            self.save()

    def withdraw(self, user, reason):
        if not reason or not reason.strip():
            raise ValidationError({"withdrawn_reason": NEEDS_REASON})
        self.status = Status.WITHDRAWN
        self.withdrawn_reason = reason.strip()
        self.withdrawn_at = timezone.now()
        self.withdrawn_by = user
        self.save()


@receiver(pre_save, sender=Incident)
def identify_raw_incident(sender, instance, raw, **kwargs):
    """loaddata and restore save raw, bypassing save(): an incident they bring without an
    identifier gets one here (one brought with its identifier keeps it)."""
    if raw and instance.identifier_number is None:
        assign_identifiers([instance])


class IncidentActorQuerySet(models.QuerySet):
    def delete(self):
        with transaction.atomic():
            incidents = set(self.values_list("incident_id", flat=True))
            result = super().delete()
            check_published_keep_actors(incidents)
        return result

    delete.alters_data = True


class IncidentActorManager(models.Manager.from_queryset(IncidentActorQuerySet)):
    def get_by_natural_key(self, incident_slug, actor_slug, role):
        return self.get(incident__slug=incident_slug, actor__slug=actor_slug, role=role)


class IncidentActor(models.Model):
    """An actor in an incident, with the role the sources give them: perpetrator, supporting force
    (Russian air cover), claimed responsibility, or accused by a claimant."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actor_links")
    actor = models.ForeignKey("Actor", on_delete=models.PROTECT, related_name="incident_links")
    role = models.CharField(max_length=20, choices=ActorRole, default=ActorRole.PERPETRATOR)

    objects = IncidentActorManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "id"]
        verbose_name = "actor in the incident"
        verbose_name_plural = "actors in the incident"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=ActorRole.values), name="%(app_label)s_%(class)s_role_valid"),
            models.UniqueConstraint(fields=["incident", "actor", "role"], name="%(app_label)s_%(class)s_unique_role"),
        ]
        indexes = [models.Index(fields=["actor", "role", "incident"], name="archive_incactor_actor_idx")]

    def __str__(self):
        return f"{self.actor} ({self.get_role_display().lower()})"

    def natural_key(self):
        return (self.incident.slug, self.actor.slug, self.role)

    def delete(self, *args, **kwargs):
        pk = self.pk
        try:
            with transaction.atomic():
                result = super().delete(*args, **kwargs)
                check_published_keep_actors({self.incident_id})
        except ValidationError:
            self.pk = pk
            raise
        return result

    natural_key.dependencies = ["archive.incident", "archive.actor"]


class CitationQuerySet(models.QuerySet):
    def public(self):
        """Citations the public may see: those of published incidents."""
        return self.filter(incident__status=Status.PUBLISHED)

    # Bulk changes are judged like single ones: no published incident may be left without a
    # supporting citation (the change is rolled back and the error names the incidents).

    def delete(self):
        with transaction.atomic():
            incidents = set(self.values_list("incident_id", flat=True))
            result = super().delete()
            check_published_keep_citations(incidents)
            Incident.objects.filter(pk__in=incidents).refresh_assessments()
        return result

    delete.alters_data = True

    def update(self, **kwargs):
        with transaction.atomic():
            incidents = set(self.values_list("incident_id", flat=True))
            result = super().update(**kwargs)
            if {"incident", "incident_id", "stance"} & set(kwargs):
                check_published_keep_citations(incidents)
            if {"incident", "incident_id", "stance", "presentation", "names_monument", "origin"} & set(kwargs):
                Incident.objects.filter(pk__in=incidents).refresh_assessments()
        return result

    update.alters_data = True


class CitationManager(models.Manager.from_queryset(CitationQuerySet)):
    def get_by_natural_key(self, incident_slug, source_slug, position_start):
        return self.get(incident__slug=incident_slug, source__slug=source_slug, position_start=position_start)


class Citation(Versioned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey("Source", on_delete=models.PROTECT, related_name="citations")
    quote = models.TextField(
        help_text="The passage that reports the incident, verbatim. Paste it; curly or straight quotes "
        "and spacing may differ — the source's exact text is stored."
    )
    prefix = models.CharField(max_length=64, blank=True, editable=False, help_text="Text just before the quote.")
    suffix = models.CharField(max_length=64, blank=True, editable=False, help_text="Text just after the quote.")
    position_start = models.PositiveIntegerField(
        null=True, blank=True, help_text="Character offset of the quote in the received text (set on save)."
    )
    position_end = models.PositiveIntegerField(null=True, blank=True)
    claimant = models.CharField(
        max_length=300,
        blank=True,
        help_text="Who in the article makes the claim: the Syrian Observatory for Human Rights, SANA, "
        "local activists, Russia's Ministry of Defence…",
    )
    evidence_kind = models.CharField(max_length=30, choices=EvidenceKind, default=EvidenceKind.UNSPECIFIED)
    stance = models.CharField(max_length=12, choices=Stance, default=Stance.SUPPORTS)
    presentation = models.CharField(
        max_length=12,
        choices=Presentation,
        default=Presentation.ATTRIBUTED,
        help_text="How the source itself presents the claim: as fact, attributed (“activists said”), reported "
        "or alleged (“reportedly”, “said to have”), explicitly unverified, or denied by someone.",
    )
    names_monument = models.BooleanField(
        "names the monument",
        default=True,
        help_text="The passage names the incident's monument (for an incident at no monument: its place). A "
        "passage that only reports a broader event (“blew up temples”) does not count toward corroboration.",
    )
    origin = models.CharField(
        max_length=200,
        blank=True,
        help_text="The claim's own origin when the passage is not the outlet's own copy (an EPA caption inside "
        "an AFP article, an agency quote). Empty: the source's origin.",
    )
    contradicts = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contradicted_by",
        help_text="With the stance “contradicts”: the citation whose claim this one contradicts.",
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CitationManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "source__published_on", "position_start"]
        constraints = [
            models.CheckConstraint(condition=Q(stance__in=Stance.values), name="%(app_label)s_%(class)s_stance_valid"),
            models.CheckConstraint(
                condition=Q(presentation__in=Presentation.values), name="%(app_label)s_%(class)s_presentation_valid"
            ),
            models.CheckConstraint(
                condition=Q(stance=Stance.CONTRADICTS) | Q(contradicts__isnull=True),
                name="%(app_label)s_%(class)s_contradicts_only_when_contradicting",
            ),
            models.CheckConstraint(
                condition=Q(evidence_kind__in=EvidenceKind.values),
                name="%(app_label)s_%(class)s_evidence_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(position_start__isnull=False, position_end__gt=F("position_start")),
                name="%(app_label)s_%(class)s_position_range_valid",
            ),
            models.CheckConstraint(condition=~Q(quote=""), name="%(app_label)s_%(class)s_quote_not_empty"),
            models.UniqueConstraint(
                fields=["incident", "source", "position_start"], name="%(app_label)s_%(class)s_unique_passage"
            ),
        ]
        indexes = [
            # The citations contradicting those of a page: few citations contradict any, and the
            # foreign key's own index, mostly nulls, tells SQLite's planner that a value matches
            # thousands of rows (it then reads every published incident's citations instead).
            models.Index(
                fields=["contradicts"], condition=Q(contradicts__isnull=False), name="archive_citation_contra_idx"
            ),
        ]

    def __str__(self):
        return f"{self.source} → {self.incident}"

    def save(self, *args, **kwargs):
        try:
            self.anchor()
        except QuoteNotFound as error:
            raise ValidationError({"quote": error.message()}) from None
        with transaction.atomic():
            before = Citation._base_manager.filter(pk=self.pk).values_list("incident_id", flat=True).first()
            super().save(*args, **kwargs)
            if before is not None:  # moved to another incident, or no longer supporting
                check_published_keep_citations({before})
            Incident.objects.filter(pk__in={before, self.incident_id} - {None}).refresh_assessments()

    def delete(self, *args, **kwargs):
        pk = self.pk
        try:
            with transaction.atomic():
                result = super().delete(*args, **kwargs)
                check_published_keep_citations({self.incident_id})
                Incident.objects.filter(pk=self.incident_id).refresh_assessments()
        except ValidationError:
            self.pk = pk  # rolled back: the citation is still there
            raise
        return result

    def get_absolute_url(self):
        return f"{self.source.get_absolute_url()}#citation-{self.pk}"

    @property
    def is_public(self):
        """Whether the public may see this citation (the rule of CitationQuerySet.public())."""
        return self.incident.status == Status.PUBLISHED

    @property
    def public_contradicts(self):
        """The citation this one contradicts, if the public may see it (a draft's passage never shows)."""
        other = self.contradicts
        return other if other is not None and other.is_public else None

    @property
    def claim_origin(self):
        """Where the claim comes from: its own origin, or its source's."""
        return effective_origin(self)

    def natural_key(self):
        return (self.incident.slug, self.source.slug, self.position_start)

    natural_key.dependencies = ["archive.incident", "archive.source"]

    def clean(self):
        super().clean()
        if self.stance == Stance.CONTRADICTS and self.contradicts_id is None:
            raise ValidationError({"contradicts": CHOOSE_CONTRADICTED})
        if self.stance != Stance.CONTRADICTS and self.contradicts_id is not None:
            raise ValidationError({"contradicts": ONLY_CONTRADICTING})
        if self.contradicts_id is not None and self.contradicts_id == self.pk:
            raise ValidationError({"contradicts": NOT_ITSELF})
        if self.source_id is None or not self.quote:
            return
        try:
            self.anchor()
        except QuoteNotFound as error:
            raise ValidationError({"quote": error.message()}) from None

    def anchor(self):
        """Store the source's exact text for the quote, its context and its offsets."""
        text = self.source.received_text
        start, end = self.position_start, self.position_end
        if start is not None and end is not None and 0 <= start < end <= len(text) and text[start:end] == self.quote:
            found = anchor_at(text, start, end)
        else:
            found = locate(text, self.quote, prefix=self.prefix, suffix=self.suffix, near=start)
        self.quote, self.prefix, self.suffix = found.exact, found.prefix, found.suffix
        self.position_start, self.position_end = found.start, found.end
        return found

    def selectors(self):
        return anchor_at(self.source.received_text, self.position_start, self.position_end).as_selectors()


class FigureManager(models.Manager):
    def get_by_natural_key(self, incident_slug, source_slug, position_start, measure, low):
        return self.get(
            citation__incident__slug=incident_slug,
            citation__source__slug=source_slug,
            citation__position_start=position_start,
            measure=measure,
            low=low,
        )


class Figure(models.Model):
    """A number a passage gives — killed, wounded, airstrikes… — as a count or a range, with what is
    counted, so that competing figures stand side by side with who claims each."""

    citation = models.ForeignKey(Citation, on_delete=models.CASCADE, related_name="figures")
    measure = models.CharField(max_length=20, choices=Measure)
    low = models.PositiveIntegerField(help_text="The number, or the low end of a range (“dozens”: 24).")
    high = models.PositiveIntegerField(null=True, blank=True, help_text="The high end of a range, if one is given.")
    counted = models.CharField(
        max_length=200, blank=True, help_text="What is counted, in the passage's words: “civilians”, “IS militants”."
    )
    wording = models.CharField(
        max_length=200, blank=True, help_text="The passage's own words: “dozens”, “at least 25”."
    )

    objects = FigureManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["citation", "measure", "low"]
        constraints = [
            models.CheckConstraint(
                condition=Q(measure__in=Measure.values), name="%(app_label)s_%(class)s_measure_valid"
            ),
            models.CheckConstraint(
                condition=Q(high__isnull=True) | Q(high__gte=F("low")), name="%(app_label)s_%(class)s_range_ordered"
            ),
        ]

    def __str__(self):
        number = f"{self.low}–{self.high}" if self.high is not None else str(self.low)
        return f"{number} {self.counted or self.get_measure_display().lower()}"

    def natural_key(self):
        return (*self.citation.natural_key(), self.measure, self.low)

    natural_key.dependencies = ["archive.citation"]

    def clean(self):
        super().clean()
        if self.high is not None and self.low is not None and self.high < self.low:
            raise ValidationError({"high": RANGE_ORDERED})
