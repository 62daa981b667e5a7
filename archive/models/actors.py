"""Actors: the parties the sources name in incidents (perpetrators, supporting forces, the accused)."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .choices import ActorKind
from .places import SYNTHETIC_SLUG_PREFIX, SlugNaturalKeyManager, public_through_incidents, split_names
from .versioning import Versioned


class ActorQuerySet(models.QuerySet):
    def public(self):
        return public_through_incidents(self, "actor_links__actor")

    def curated(self):
        """Everything but generate_synthetic's benchmark rows (never exported)."""
        return self.exclude(slug__startswith=SYNTHETIC_SLUG_PREFIX)


class ActorManager(SlugNaturalKeyManager.from_queryset(ActorQuerySet)):
    pass


class Actor(Versioned, models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=ActorKind)
    aliases = models.TextField(
        blank=True, help_text="Other names the sources use, one per line (“Isis”, “IS”, “Daesh”…)."
    )
    description = models.TextField(blank=True)

    objects = ActorManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActorKind.values), name="%(app_label)s_%(class)s_kind_valid"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:actor-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    @property
    def alias_list(self):
        return split_names(self.aliases)

    @property
    def names(self):
        return [self.name, *[alias for alias in self.alias_list if alias != self.name]]
