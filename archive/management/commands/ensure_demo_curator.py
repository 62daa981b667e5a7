"""Create the demo curator account used by `make run`, if it does not exist, and print its login.

Safe to re-run: an existing account keeps its password; it is only put back in the Curator group.
Development only: its password is public, so with DEBUG off the command refuses and creates nothing
(`make serve` never calls it).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "curator"
DEMO_PASSWORD = "palmyra-curator"


class Command(BaseCommand):
    help = "Create the demo curator account (curator / palmyra-curator) if it does not exist."

    def handle(self, *args, **options):
        # DEVELOPMENT is the environment's DEBUG (settings.DEBUG is off while the tests run).
        if not settings.DEVELOPMENT:
            raise CommandError(
                "The demo curator exists only in development (DEBUG on): its password is public. "
                "On this installation create accounts with `manage.py createsuperuser` or in the admin."
            )
        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_USERNAME, defaults={"is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        group = Group.objects.filter(name="Curator").first()
        if group is not None:
            user.groups.add(group)
        verb = "Created" if created else "Kept"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} the demo curator. Log in at /admin/ as "
                f"“{DEMO_USERNAME}” with password “{DEMO_PASSWORD}”"
                + ("" if created else " (unless you changed it)")
                + "."
            )
        )
