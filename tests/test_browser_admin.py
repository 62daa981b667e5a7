"""The curation workflow in a real browser (Debian's chromium, headless): the demo curator turns a
seed article's sentence into an incident with a checked citation, cannot publish it, and an editor
publishes it; the history shows both."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from archive.models import Incident, Source
from archive.roles import EDITOR, ensure_groups
from tests.browsing import log_in, log_out
from tests.factories import make_actor, make_monument, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTICLE = "Syrian army close to retaking Palmyra from Islamic State"
RIGHT = "destroying the ancient Temple of Bel and the smaller Temple of Baal Shamin last year"
WRONG = "destroying the ancient Temple of Bel and the smaller Temple of Baal Shamin last month"


@pytest.fixture
def archive():
    # A transactional test starts from a flushed database: rebuild the groups the migration made.
    ensure_groups()
    call_command("import_seeds", stdout=StringIO())
    site = make_site(name="Palmyra", slug="palmyra", aliases="Tadmur")
    make_monument(site=site, name="Temple of Bel", slug="temple-of-bel", aliases="Temple of Baal")
    make_monument(site=site, name="Temple of Baalshamin", slug="temple-of-baalshamin", aliases="Baal Shamin")
    make_actor(name="Islamic State group", slug="islamic-state", aliases="Islamic State\nIsis\nIS")
    call_command("ensure_demo_curator", stdout=StringIO())
    editor = get_user_model().objects.create_user("editor", password="palmyra-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name=EDITOR))


def test_curator_creates_a_cited_incident_and_an_editor_publishes_it(live_server, archive, page, screenshot_dir):
    base = live_server.url
    log_in(page, base, "curator", "palmyra-curator")

    # The seed article's page: its mentions panel offers the Temple of Bel's sentence.
    page.goto(f"{base}/admin/archive/source/")
    page.get_by_role("link", name=ARTICLE).click()
    bel = page.locator(".mention-monument", has=page.locator("summary", has_text="Temple of Bel")).first
    bel.locator("blockquote mark", has_text="Temple of Bel").first.wait_for()
    page.screenshot(path=screenshot_dir / "1-mentions.png", full_page=True)
    bel.get_by_role("link", name="New incident from this sentence").first.click()

    # Prefilled: the monument, the site, the source and the sentence as the first citation.
    page.wait_for_selector("#id_title")
    assert "Temple of Bel" in page.locator(".field-monuments .select2-selection").inner_text()
    assert "Palmyra" in page.locator(".field-site .select2-selection").inner_text()
    assert RIGHT in page.input_value("#id_citations-0-quote")
    page.fill("#id_title", "Temples of Bel and Baalshamin destroyed")
    page.fill("#id_occurred", "2015-08-30")
    assert page.input_value("#id_actor_links-0-role") == "perpetrator"
    page.click("#actor_links-0 .field-actor .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "Isis")
    page.locator(".select2-results__option", has_text="Islamic State group").click()

    # A slightly wrong quote: refused, with the closest passage and what differs.
    page.fill("#id_citations-0-quote", WRONG)
    page.locator("input[name=_save]").last.click()
    error = page.locator(".field-quote .errorlist").first
    error.wait_for()
    page.screenshot(path=screenshot_dir / "2-wrong-quote.png", full_page=True)
    assert "The quote does not occur in the source text. Closest passage" in error.inner_text()
    assert "destroying the ancient Temple of Bel" in error.inner_text()
    assert "the quote has “month” where the source has “year" in error.inner_text()
    assert not Incident.objects.exists()

    # The right one is accepted and anchored in the article.
    page.fill("#id_citations-0-quote", RIGHT)
    page.locator("input[name=_save]").last.click()
    page.wait_for_selector("ul.messagelist .success")
    incident = Incident.objects.get()
    citation = incident.citations.get()
    assert citation.source == Source.objects.get(title=ARTICLE)
    assert citation.source.received_text[citation.position_start : citation.position_end] == RIGHT

    # A curator cannot publish: no action, no button.
    page.goto(f"{base}/admin/archive/incident/")
    assert page.locator("select[name=action] option[value=publish_selected]").count() == 0
    page.goto(f"{base}/admin/archive/incident/{incident.pk}/change/")
    assert page.get_by_role("button", name="Publish").count() == 0
    page.screenshot(path=screenshot_dir / "3-curator-cannot-publish.png", full_page=True)
    incident.refresh_from_db()
    assert incident.status == "draft"

    log_out(page)

    # An editor can, with the Publish button on the incident's page.
    log_in(page, base, "editor", "palmyra-editor")
    page.goto(f"{base}/admin/archive/incident/{incident.pk}/change/")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("ul.messagelist")
    assert f"Published: “{incident.title}”." in page.locator("ul.messagelist").inner_text()
    incident.refresh_from_db()
    assert incident.status == "published" and incident.published_by.username == "editor"

    # The history shows both: the curator's creation, the editor's publication.
    page.goto(f"{base}/admin/archive/incident/{incident.pk}/history/")
    page.screenshot(path=screenshot_dir / "4-history.png", full_page=True)
    rows = page.locator("#change-history tbody tr").all_inner_texts()
    assert re.search(r"Changed.*editor.*Published.*status:\s*draft\s*→\s*published", rows[0], re.S | re.I), rows[0]
    assert any(re.search(r"Created.*curator", row, re.S) for row in rows), rows

    # The curator's later edit waits for the editor; the public keeps the published title.
    log_out(page)
    log_in(page, base, "curator", "palmyra-curator")
    page.goto(f"{base}/admin/archive/incident/{incident.pk}/change/")
    page.fill("#id_title", "Temple of Bel destroyed")
    page.locator("input[name=_save]").last.click()
    page.wait_for_selector("ul.messagelist")
    assert "waiting for an editor's review" in page.locator("ul.messagelist").inner_text()
    page.goto(f"{base}{incident.get_absolute_url()}")
    assert "Temples of Bel and Baalshamin destroyed" in page.locator("h1").inner_text()
    page.goto(f"{base}/admin/")
    log_out(page)

    log_in(page, base, "editor", "palmyra-editor")
    page.goto(f"{base}/admin/archive/incident/{incident.pk}/change/")
    page.get_by_role("link", name="See the change and review it").click()
    page.wait_for_selector("table.review-diff")
    page.screenshot(path=screenshot_dir / "5-review.png", full_page=True)
    diff = page.locator("table.review-diff").inner_text()
    assert "Temples of Bel and Baalshamin destroyed" in diff and "Temple of Bel destroyed" in diff
    page.get_by_role("button", name="Approve and publish the change").click()
    page.wait_for_load_state()
    page.screenshot(path=screenshot_dir / "6-approved.png", full_page=True)
    page.wait_for_selector("ul.messagelist")
    page.goto(f"{base}{incident.get_absolute_url()}")
    assert "Temple of Bel destroyed" in page.locator("h1").inner_text()
