"""Load the curated record (fixtures/palmyra.json) without ever overwriting a curator's work.

`loaddata palmyra` writes every object in the fixture, so running it again would put back the
fixture's version of a record a curator has since corrected. This command adds only the objects
whose natural key (slug; a citation's incident, source and offset; an actor's incident, actor and
role; a figure's citation, measure and low end) is not in the archive yet and leaves every existing
record as it is, so `make run` can call it every time.

Deserializing bypasses the models' save(), so in the same transaction the command then does what
save() would have done: it derives the date bounds of the incidents it added from their EDTF value,
derives the assessment of those incidents and of every incident that got a citation, and checks
that each published incident it added has a supporting citation and an actor. Each object it adds
gets a first history row, with this command as the reason, holding those derived values. All or
nothing: any problem rolls the whole load back.
"""

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import transaction
from simple_history.utils import get_history_manager_for_model

from archive.importexport.engine import analyze
from archive.models import Citation, Incident, IncidentActor, Source, Status
from archive.models.incidents import NEEDS_ACTOR, NEEDS_CITATION


class Command(BaseCommand):
    help = "Add the curated Palmyra record's objects that are not in the archive yet; never overwrite."

    def add_arguments(self, parser):
        parser.add_argument(
            "fixture", nargs="?", type=Path, default=Path(settings.BASE_DIR) / "fixtures" / "palmyra.json"
        )

    def handle(self, *args, **options):
        path = options["fixture"]
        try:
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot be read ({error}).") from None

        self.check_sources(data, path)
        try:
            with transaction.atomic():
                added, kept = self.add_new_objects(data)
                self.derive(added)
                self.record_history(added, path.name)
        except DeserializationError as error:
            raise CommandError(f"{path}: {error}") from None
        except ValidationError as error:
            raise CommandError(f"{path}: nothing was added: {'; '.join(error.messages)}") from None

        if added:
            analyze({type(instance) for instance in added})
            self.stdout.write(
                self.style.SUCCESS(f"Added {len(added)} object(s) from {path.name}; kept {kept} already there.")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Nothing to add: all {kept} object(s) of {path.name} are already in the archive.")
            )

    def check_sources(self, data, path):
        """The record cites the seed articles, which import_seeds loads: say so if they are missing."""
        try:
            objects = json.loads(data)
            cited = {tuple(entry["fields"]["source"]) for entry in objects if entry.get("model") == "archive.citation"}
        except (ValueError, TypeError, KeyError, AttributeError):
            return  # the deserializer reports what is wrong with the file
        stored = set(Source.objects.filter(slug__in=[key[0] for key in cited]).values_list("slug", flat=True))
        missing = sorted(key[0] for key in cited if key[0] not in stored)
        if missing:
            raise CommandError(
                f"{path}: nothing was added: the record cites sources that are not in the archive "
                f"({', '.join(missing)}). Load the seed articles first: manage.py import_seeds."
            )

    def add_new_objects(self, data):
        """Save the fixture's objects that are not in the archive (by natural key); leave the others."""
        added, kept, deferred = [], 0, []
        for deserialized in serializers.deserialize("json", data, handle_forward_references=True):
            if deserialized.object.pk is not None:
                kept += 1  # already in the archive (found by natural key): leave it as it is
                continue
            # The history rows are written once everything is derived (record_history), not
            # when the monuments are set on a half-made incident.
            deserialized.object.skip_history_when_saving = True
            deserialized.save()
            added.append(deserialized.object)
            if deserialized.deferred_fields:
                deferred.append(deserialized)
        for deserialized in deferred:  # references to objects further down the file
            deserialized.save_deferred_fields()
        return added, kept

    def derive(self, added):
        """What Incident.save() and Citation.save() derive, for the objects just added."""
        incidents = [instance for instance in added if isinstance(instance, Incident)]
        for incident in incidents:
            try:
                incident.set_bounds()
            except ValidationError as error:
                raise ValidationError(f"{incident.slug}: {'; '.join(error.messages)}") from None
        Incident._base_manager.bulk_update(incidents, ["occurred", "occurred_from", "occurred_to"], batch_size=500)

        touched = {incident.pk for incident in incidents}
        touched |= {instance.incident_id for instance in added if isinstance(instance, Citation)}
        Incident.objects.filter(pk__in=touched).refresh_assessments()

        published = Incident.objects.filter(pk__in=[incident.pk for incident in incidents], status=Status.PUBLISHED)
        problems = [f"{slug}: {NEEDS_CITATION}" for slug in published.uncited().values_list("slug", flat=True)]
        with_actors = IncidentActor.objects.filter(incident__in=published).values("incident")
        problems += [
            f"{slug}: {NEEDS_ACTOR}" for slug in published.exclude(pk__in=with_actors).values_list("slug", flat=True)
        ]
        if problems:
            raise ValidationError(problems)

    def record_history(self, added, name):
        """A first history row for each added object, holding its derived values."""
        by_model = {}
        for instance in added:
            by_model.setdefault(type(instance), []).append(instance)
        if Incident in by_model:  # re-read: bounds and assessments were written after the objects
            by_model[Incident] = list(Incident._base_manager.filter(pk__in=[i.pk for i in by_model[Incident]]))
        reason = f"load_curated_record {name}"
        for model, instances in by_model.items():
            for instance in instances:
                instance.__dict__.pop("skip_history_when_saving", None)
            get_history_manager_for_model(model).bulk_history_create(instances, default_change_reason=reason)
        if Incident in by_model:
            self.record_monuments_history([incident.pk for incident in by_model[Incident]], reason)

    def record_monuments_history(self, incident_ids, reason):
        """The monuments of each added incident, in its first history row (what simple-history
        records for a many-to-many field on save, and bulk_history_create does not)."""
        Through = Incident.monuments.through
        HistoricalMonuments = apps.get_model(Incident._meta.app_label, f"Historical{Incident.__name__}_monuments")
        rows = {
            row.id: row
            for row in Incident.history.filter(id__in=incident_ids, history_change_reason=reason).order_by("history_id")
        }
        HistoricalMonuments.objects.bulk_create(
            [
                HistoricalMonuments(
                    history=rows[link.incident_id],
                    id=link.id,
                    incident_id=link.incident_id,
                    monument_id=link.monument_id,
                )
                for link in Through.objects.filter(incident_id__in=incident_ids)
            ],
            batch_size=500,
        )
