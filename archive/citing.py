"""What a reader needs to verify and cite a public record: when it last changed in a way the public
could see, and how to cite an incident.

"Last updated" is read from the record's history (django-simple-history). For an incident only
the versions the public could see count: a history row whose status is published. A curator's
draft, or the withdrawal itself, does not move it. A site, monument, actor or source has no
unpublished state: each saved version is its public one.
"""

import datetime

from django.utils import timezone

from .dates import say_day
from .models import Incident, Status

ARCHIVE_NAME = "Heritage-damage archive"


def last_updated(record) -> datetime.datetime | None:
    """The date of the newest version of `record` the public could see (None if it has none)."""
    history = record.history.all()
    if isinstance(record, Incident):
        history = history.filter(status=Status.PUBLISHED)
    return history.order_by("-history_date").values_list("history_date", flat=True).first()


def how_to_cite(incident, url: str, updated: datetime.datetime | None, today: datetime.date) -> str:
    """One line to cite an incident by: its title and identifier, the archive, the version's date,
    its permanent address and the day it was consulted."""
    version = f", last updated {say_day(timezone.localtime(updated).date())}" if updated else ""
    return f"“{incident.title}” ({incident.identifier}). {ARCHIVE_NAME}{version}. {url} (consulted {say_day(today)})."
