"""No lost edits through an import: planning runs outside the write transaction, so a record a
curator saves meanwhile must not be overwritten by the plan's older reading of it."""

import csv
import io

import pytest

from archive.importexport.csvfile import read_csv
from archive.importexport.engine import import_tables
from archive.importexport.tables import TABLES_BY_KEY
from tests.factories import make_site

pytestmark = pytest.mark.django_db


def sites_csv(site, **changes):
    table = TABLES_BY_KEY["sites"]
    row = dict(zip(table.header, table.row(site), strict=True)) | changes
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerow([row[name] for name in table.header])
    return {"sites": read_csv("sites.csv", out.getvalue().encode("utf-8"))}


class SaveMeanwhile:
    """A progress bar factory that, as the write phase begins, has a curator save the site."""

    def __init__(self, site):
        self.site = site

    def __call__(self, description, total):
        if description == "Writing":
            self.site.refresh_from_db()
            self.site.description = "A curator's correction, saved during the import."
            self.site.save()
        return self

    def update(self, n):
        pass

    def close(self):
        pass


def test_an_import_does_not_overwrite_a_record_saved_while_it_was_being_checked():
    site = make_site(slug="palmyra", name="Palmyra")
    report = import_tables(sites_csv(site, name="Tadmur"), progress=SaveMeanwhile(site))
    assert not report.ok
    assert "saved by someone else while the import was being checked (version 1 → 2)" in str(report.problems[0])
    site.refresh_from_db()
    assert (site.name, site.description) == ("Palmyra", "A curator's correction, saved during the import.")


def test_an_import_raises_the_version_of_what_it_changes():
    site = make_site(slug="palmyra", name="Palmyra")
    assert import_tables(sites_csv(site, name="Tadmur")).ok
    site.refresh_from_db()
    assert (site.name, site.version) == ("Tadmur", 2)
    assert site.history.first().version == 2
