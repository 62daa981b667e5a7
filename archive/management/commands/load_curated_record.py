"""Load the curated record (fixtures/palmyra.json) without ever overwriting a curator's work.

`loaddata palmyra` writes every object in the fixture, so running it again would put back the
fixture's version of a record a curator has since corrected. This command adds only the objects
whose natural key (slug; a citation's incident, source and offset) is not in the archive yet and
leaves every existing record as it is, so `make run` can call it every time. Each object it adds
gets a first history row with this command as the reason. All or nothing.
"""

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import transaction
from simple_history.utils import get_history_manager_for_model

from archive.importexport.engine import analyze


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

        added, kept = [], 0
        try:
            with transaction.atomic():
                for deserialized in serializers.deserialize("json", data, handle_forward_references=True):
                    if deserialized.object.pk is not None:
                        kept += 1  # already in the archive (found by natural key): leave it as it is
                        continue
                    deserialized.save()
                    added.append(deserialized.object)
                by_model = {}
                for instance in added:
                    by_model.setdefault(type(instance), []).append(instance)
                for model, instances in by_model.items():
                    get_history_manager_for_model(model).bulk_history_create(
                        instances, default_change_reason=f"load_curated_record {path.name}"
                    )
        except DeserializationError as error:
            raise CommandError(f"{path}: {error}") from None

        if added:
            analyze({type(instance) for instance in added})
            self.stdout.write(
                self.style.SUCCESS(f"Added {len(added)} object(s) from {path.name}; kept {kept} already there.")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Nothing to add: all {kept} object(s) of {path.name} are already in the archive.")
            )
