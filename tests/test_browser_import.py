"""The admin CSV import in a real browser (Debian's chromium, headless): a curator uploads a file,
sees the dry-run preview (new / update / skipped / invalid), fixes the file, confirms, and finds the
rows in the changelist — written only after confirming, with the curator in their history."""

from io import StringIO

import pytest
from django.core.management import call_command

from archive.models import Incident
from archive.roles import ensure_groups
from tests.browsing import log_in
from tests.factories import make_actor, make_incident, make_monument, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A file in the format before EDTF dates and actor roles (v2): the import converts it.
HEADER = "slug,title,kind,site,monuments,perpetrator,occurred_from,occurred_to,status\r\n"
ROWS = (
    "bel-destroyed,Temple of Bel destroyed,destruction,palmyra,temple-of-bel,islamic-state,"
    "2015-08-30,2015-08-30,draft\r\n"
    "theatre-executions,Executions in the Roman theatre,killing,palmyra,,islamic-state,2015-07-04,2015-07-04,draft\r\n"
    "museum-looted,Museum looted (retitled),looting,palmyra,,islamic-state,2015-05-21,2015-05-21,draft\r\n"
)
BAD_ROW = (
    "arch-destroyed,Arch destroyed,destruction,palmyra,monumental-arch,islamic-state,2015-10-04,2015-10-04,draft\r\n"
)


@pytest.fixture
def archive():
    # A transactional test starts from a flushed database: rebuild the groups the migration made.
    ensure_groups()
    site = make_site(name="Palmyra", slug="palmyra")
    make_monument(site=site, name="Temple of Bel", slug="temple-of-bel")
    actor = make_actor(name="Islamic State group", slug="islamic-state")
    make_incident(
        slug="theatre-executions", title="Executions in the Roman theatre", kind="killing", site=site,
        perpetrator=actor, occurred="2015-07-04",
    )  # fmt: skip
    make_incident(
        slug="museum-looted", title="Museum looted", kind="looting", site=site, perpetrator=actor,
        occurred="2015-05-21",
    )  # fmt: skip
    call_command("ensure_demo_curator", stdout=StringIO())


def upload(page, path):
    page.set_input_files("input[name=import_file]", str(path))
    page.locator("input[type=submit][value=Submit]").click()


def test_curator_imports_incidents_through_the_preview(live_server, archive, page, screenshot_dir, tmp_path):
    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}/admin/archive/incident/")
    page.get_by_role("link", name="Import").click()
    page.wait_for_selector("input[name=import_file]")

    # A file with a bad row: the preview lists it with its line and column, and cannot be confirmed.
    bad = tmp_path / "incidents.csv"
    bad.write_text(HEADER + ROWS + BAD_ROW, encoding="utf-8")
    upload(page, bad)
    page.wait_for_selector("text=Some rows failed to validate")
    invalid = page.locator("table.import-preview tbody tr")
    assert invalid.count() == 1
    assert invalid.first.locator("td").first.inner_text().strip() == "5"
    assert "no monument with slug “monumental-arch”" in invalid.first.inner_text()
    assert page.locator("input[value='Confirm import']").count() == 0
    page.screenshot(path=screenshot_dir / "1-invalid.png", full_page=True)

    # The corrected file: a dry-run preview, row by row.
    good = tmp_path / "incidents-fixed.csv"
    good.write_text(HEADER + ROWS, encoding="utf-8")
    upload(page, good)
    page.wait_for_selector("text=Below is a preview of data to be imported")
    kinds = [cell.strip() for cell in page.locator("table.import-preview td.import-type").all_inner_texts()]
    assert kinds == ["New", "Skipped", "Update"]
    assert "Museum looted (retitled)" in page.locator("table.import-preview tr.update").inner_text()
    page.screenshot(path=screenshot_dir / "2-preview.png", full_page=True)
    assert not Incident.objects.filter(slug="bel-destroyed").exists()  # a dry run wrote nothing

    page.locator("input[value='Confirm import']").click()
    page.wait_for_selector("ul.messagelist")
    assert "Import finished: 1 new, 1 updated" in page.locator("ul.messagelist").inner_text()
    assert page.get_by_role("link", name="Temple of Bel destroyed").count() == 1
    assert page.get_by_role("link", name="Museum looted (retitled)").count() == 1
    page.screenshot(path=screenshot_dir / "3-imported.png", full_page=True)

    created = Incident.objects.get(slug="bel-destroyed")
    assert [m.slug for m in created.monuments.all()] == ["temple-of-bel"]
    assert created.history.get().history_user.username == "curator"
