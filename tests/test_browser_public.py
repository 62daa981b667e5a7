"""A reader's walk through the public archive in Debian's chromium, with screenshots of each page."""

import re

import pytest
from django.core.cache import cache

from tests.factories import make_incident
from tests.test_public_pages import palmyra_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reader_follows_plan_incident_citation_and_filters(live_server, page, screenshot_dir):
    cache.clear()
    record = palmyra_record()
    citation = record["bel_destroyed"].citations.get(source=record["article_a"])
    # Undated, and named with two actors in different roles.
    make_incident(
        slug="museum-looted",
        title="Looting of the museum",
        kind="looting",
        site=record["site"],
        occurred="",
        actors=[(record["isis"], "perpetrator"), (record["army"], "accused")],
        monuments=[record["museum"]],
        citations=1,
        status="published",
    )

    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Heritage-damage archive"
    assert page.locator("svg.site-plan").is_visible() and page.locator("svg.timeline").is_visible()
    # The undated incident is not drawn, but counted beside the timeline.
    assert "undated or open-ended: 1" in page.locator(".timeline-unplaced").inner_text()
    page.screenshot(path=screenshot_dir / "1-home.png", full_page=True)

    # The site plan's marker for the Temple of Bel leads to its page.
    page.locator('svg.site-plan a[href="/monuments/temple-of-bel/"]').click()
    page.wait_for_url(re.compile(r"/monuments/temple-of-bel/$"))
    assert page.locator("h1").inner_text() == "Temple of Bel"
    assert page.get_by_text("Destroyed", exact=True).first.is_visible()
    page.screenshot(path=screenshot_dir / "2-temple-of-bel.png", full_page=True)

    page.get_by_role("link", name="Destruction of the Temple of Bel").first.click()
    page.wait_for_url(re.compile(r"/incidents/temple-of-bel-destroyed/$"))
    assert page.locator("h1").inner_text() == "Destruction of the Temple of Bel"
    assert page.locator("ul.actors").inner_text() == "Islamic State group (perpetrator)"
    assert page.locator("dl.facts time").first.get_attribute("datetime") == "2015-08-30"
    page.screenshot(path=screenshot_dir / "3-incident.png", full_page=True)

    # A citation leads to its passage in the source, highlighted.
    page.locator(f'a[href="/sources/article-a/#citation-{citation.pk}"]').click()
    page.wait_for_url(re.compile(rf"/sources/article-a/#citation-{citation.pk}$"))
    passage = page.locator(f"#citation-{citation.pk}")
    assert passage.is_visible()
    assert passage.locator("mark").inner_text() == "blew up the Temple of Bel on Sunday"
    assert page.evaluate("document.querySelector(':target').id") == f"citation-{citation.pk}"
    page.screenshot(path=screenshot_dir / "4-source-passage.png", full_page=True)

    # Filter the incident list by perpetrator and date, without JavaScript's help: a plain GET form.
    page.get_by_role("link", name="Incidents", exact=True).click()
    page.select_option("#id_perpetrator", label="Islamic State group")
    page.fill("#id_date_from", "2015-07-01")
    page.fill("#id_date_to", "2015-09-30")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"perpetrator=islamic-state"))
    assert "date_from=2015-07-01" in page.url and "date_to=2015-09-30" in page.url
    results = page.locator("table.incidents tbody").inner_text()
    assert "Destruction of the Temple of Bel" in results and "Public executions in the Roman theatre" in results
    assert "Islamic State seizes Palmyra" not in results and "Government forces retake Palmyra" not in results
    page.screenshot(path=screenshot_dir / "5-filtered-incidents.png", full_page=True)

    # The undated incident is listed as such, with both its actors; the accused's page lists it too.
    page.goto(f"{live_server.url}/incidents/?ordering=-date")
    row = page.locator("table.incidents tbody tr", has_text="Looting of the museum")
    assert row.locator("td").first.inner_text() == "Undated"
    assert "Islamic State group (perpetrator); Syrian government forces (accused by a claimant)" in row.inner_text()
    row.get_by_role("link", name="Syrian government forces").click()
    page.wait_for_url(re.compile(r"/actors/syrian-government/$"))
    row = page.locator("table.incidents tbody tr", has_text="Looting of the museum")
    assert "accused by a claimant" in row.inner_text()
    page.screenshot(path=screenshot_dir / "5b-actor-roles.png", full_page=True)

    # The methodology page says how dates are recorded.
    page.goto(f"{live_server.url}{record['bel_destroyed'].get_absolute_url()}")
    page.get_by_role("link", name="(how dates are recorded)").click()
    page.wait_for_url(re.compile(r"/about/methodology/#dates$"))
    assert page.locator("#dates").is_visible()

    # Readable on a phone: no sideways scrolling of the page itself.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{record['bel_destroyed'].get_absolute_url()}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=screenshot_dir / "6-incident-phone.png", full_page=True)
