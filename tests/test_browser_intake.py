"""The whole intake of a new article in a real browser (issue 10, "Done when"): a curator uploads
an HTML page → reviews what was read from it → the mentions panel → cites one sentence for an
incident the archive holds and starts a new draft incident from it → an editor publishes → the
public pages show it with the passage highlighted. The same file again, or the page without its
headline, is caught."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from archive.models import Citation, Incident, Source
from archive.models.choices import ActorRole
from archive.roles import EDITOR, ensure_groups
from tests.browsing import log_in, log_out
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site
from tests.intake_files import news_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SENTENCE = "including the 2,000-year-old Temple of Bel and Arch of Triumph"
BEL_QUOTE = "destroying the ancient Temple of Bel and the smaller Temple of Baal Shamin last year"
TITLE = "Syria civil war: Government troops set to retake ancient city of Palmyra from Isis"


@pytest.fixture
def archive(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_groups()
    call_command("import_seeds", stdout=StringIO())
    # The page is built from this seed's text: the archive must not hold it already.
    Source.objects.filter(file_name="001_3fd48a2bf4d62dac.txt").delete()
    site = make_site(name="Palmyra", slug="palmyra", aliases="Tadmur")
    bel = make_monument(site=site, name="Temple of Bel", slug="temple-of-bel", aliases="Temple of Baal")
    make_monument(site=site, name="Monumental Arch", slug="monumental-arch", aliases="Arch of Triumph")
    isis = make_actor(name="Islamic State group", slug="islamic-state", aliases="Islamic State\nIsis\nIS")
    existing = make_incident(
        title="Temple of Bel destroyed",
        slug="temple-of-bel-destroyed",
        site=site,
        monuments=[bel],
        occurred="2015-08-30",
        actors=[(isis, ActorRole.PERPETRATOR)],
    )
    seed = Source.objects.get(file_name="000_aae2f3adf396e9ec.txt")
    make_citation(incident=existing, source=seed, quote=BEL_QUOTE)
    call_command("ensure_demo_curator", stdout=StringIO())
    editor = get_user_model().objects.create_user("editor", password="palmyra-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name=EDITOR))
    return existing


def upload(page, base, data, name):
    page.goto(f"{base}/admin/archive/source/")
    page.get_by_role("link", name="Add from a file").click()
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/html", "buffer": data}])
    page.get_by_role("button", name="Read the file").click()
    page.wait_for_load_state()


def test_a_curator_takes_an_article_file_to_a_published_cited_incident(live_server, archive, page, screenshot_dir):
    base = live_server.url
    log_in(page, base, "curator", "palmyra-curator")

    # Upload → review: what the file says of itself, the text locked to the file.
    upload(page, base, news_page(), "independent-palmyra.html")
    page.wait_for_selector("#id_title")
    assert page.input_value("#id_title") == TITLE
    assert page.input_value("#id_publisher") == "The Independent"
    assert page.input_value("#id_published_on") == "2016-03-23"
    assert page.locator("#id_received_text").is_disabled()
    text = page.input_value("#id_received_text")
    assert text.startswith(TITLE + "\n\n") and "Great article" not in text
    assert "Check the title, publisher, origin, byline and date" in page.locator("ul.messagelist").inner_text()
    page.screenshot(path=screenshot_dir / "1-review.png", full_page=True)
    page.fill("#id_origin", "The Independent")
    page.locator("input[name=_continue]").last.click()
    page.wait_for_selector("ul.messagelist .success")
    source = Source.objects.get(title=TITLE)
    assert source.original_media_type == "text/html" and source.file_name == "independent-palmyra.html"
    assert page.get_by_role("link", name="Download the original").count() == 1

    # The mentions panel: the Temple of Bel's sentence offers the incident the archive holds.
    bel = page.locator(".mention-monument", has=page.locator("summary", has_text="Temple of Bel")).first
    passage = bel.locator("li", has_text=SENTENCE).first
    page.screenshot(path=screenshot_dir / "2-mentions.png", full_page=True)
    passage.get_by_role("link", name="Temple of Bel destroyed").click()
    page.wait_for_selector("#id_title")
    assert SENTENCE in page.locator("textarea[name$='-quote']:not([name*='__prefix__'])").last.input_value()
    page.locator("input[name=_save]").last.click()
    page.wait_for_selector("ul.messagelist .success")
    assert Citation.objects.filter(incident=archive, source=source).count() == 1

    # …and starts a new incident from the same sentence, for the arch.
    page.goto(f"{base}/admin/archive/source/{source.pk}/change/")
    arch = page.locator(".mention-monument", has=page.locator("summary", has_text="Monumental Arch")).first
    arch.locator("li", has_text=SENTENCE).first.get_by_role("link", name="New incident from this sentence").click()
    page.wait_for_selector("#id_title")
    assert page.input_value("#id_kind") == "destruction"  # "destroyed"
    assert "Monumental Arch" in page.locator(".field-monuments .select2-selection").inner_text()
    page.fill("#id_title", "Monumental Arch destroyed")
    # "It destroyed…": the sentence names no actor, so none is proposed; the curator says who.
    assert page.locator("#actor_links-0 .field-actor").inner_text().strip() in ("", "---------")
    page.click("#actor_links-0 .field-actor .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "Isis")
    page.locator(".select2-results__option", has_text="Islamic State group").click()
    page.locator("input[name=_save]").last.click()
    page.wait_for_selector("ul.messagelist .success")
    arch_incident = Incident.objects.get(title="Monumental Arch destroyed")
    assert arch_incident.status == "draft"
    citation = arch_incident.citations.get()
    assert source.received_text[citation.position_start : citation.position_end] == citation.quote
    log_out(page)

    # An editor publishes it.
    log_in(page, base, "editor", "palmyra-editor")
    page.goto(f"{base}/admin/archive/incident/{arch_incident.pk}/change/")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("ul.messagelist")
    arch_incident.refresh_from_db()
    assert arch_incident.status == "published"
    log_out(page)

    # The public pages show it, with the passage highlighted in the source.
    page.goto(f"{base}{arch_incident.get_absolute_url()}")
    assert "Monumental Arch destroyed" in page.locator("h1").inner_text()
    assert SENTENCE in page.locator("main").inner_text()
    page.goto(f"{base}{source.get_absolute_url()}")
    marks = page.locator("main mark").all_inner_texts()
    assert any(SENTENCE in mark for mark in marks), marks
    page.screenshot(path=screenshot_dir / "3-public-source.png", full_page=True)


def test_the_same_file_twice_and_the_page_without_its_headline_are_caught(live_server, archive, page, screenshot_dir):
    base = live_server.url
    log_in(page, base, "curator", "palmyra-curator")
    upload(page, base, news_page(), "palmyra.html")
    page.fill("#id_origin", "The Independent")
    page.locator("input[name=_save]").last.click()
    page.wait_for_selector("ul.messagelist .success")
    first = Source.objects.get(title=TITLE)

    upload(page, base, news_page(), "palmyra-again.html")
    error = page.locator(".field-file .errorlist")
    assert f"This file is already in the archive as the source “{TITLE}”" in error.inner_text()
    error.get_by_role("link", name=f"Open “{TITLE}”").wait_for()
    page.screenshot(path=screenshot_dir / "1-same-file.png", full_page=True)

    upload(page, base, news_page(with_headline=False, canonical_url=""), "no-headline.html")
    page.wait_for_selector("#id_title")
    assert "This looks like the same article as" in page.locator("ul.messagelist").inner_text()
    page.fill("#id_title", "Palmyra (copy without its headline)")
    page.fill("#id_publisher", "The Independent")
    page.fill("#id_origin", "The Independent")
    page.locator("input[name=_save]").last.click()
    error = page.locator(".field-received_text .errorlist")
    error.wait_for()
    assert "Save anyway" in error.inner_text()
    page.screenshot(path=screenshot_dir / "2-headline-removed.png", full_page=True)
    assert Source.objects.count() == Source.objects.filter(pk=first.pk).count() + 4  # the four other seeds
