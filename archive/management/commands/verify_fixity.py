"""Re-hash every source's received text and every stored image file and thumbnail, and compare
each with its recorded SHA-256.

Exits 0 with a summary when everything matches; otherwise names each mismatch (source slug or
file path, expected and found) and exits non-zero. It only reads, so it is safe to run at any time
and as often as you like (CI runs it on the curated record).
"""

from django.core.management.base import BaseCommand, CommandError

from archive.fixity import verify_fixity


class Command(BaseCommand):
    help = "Check every source text and stored file against its recorded SHA-256; non-zero exit on a mismatch."

    def handle(self, *args, **options):
        report = verify_fixity()
        for mismatch in report.mismatches:
            self.stderr.write(self.style.ERROR(str(mismatch)))
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
