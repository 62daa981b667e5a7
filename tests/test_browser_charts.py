"""The charts in Debian's chromium: one colour per actor across every chart, text of 11 px or more
on a 390 px phone, no label clipped or colliding, the plan's links; and the README's screenshots.

Set UPDATE_DOCS_SCREENSHOTS=1 to write docs/palmyra-plan.png and docs/timeline.png from the
curated record (otherwise they go to test-output/ like every other screenshot)."""

import os
import re
from io import StringIO
from itertools import combinations
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

from tests.factories import make_incident, make_site
from tests.test_public_pages import palmyra_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parent.parent / "docs"

# Every band, shade and legend swatch of every chart on the page, by actor.
ACTOR_FILLS = """() => {
  const found = {};
  const add = (actor, colour) => (found[actor] ||= []).push(colour.toLowerCase());
  for (const el of document.querySelectorAll('svg[data-chart] [data-actor]')) {
    add(el.dataset.actor, el.getAttribute('fill'));
  }
  for (const li of document.querySelectorAll('ul.legend li[data-actor]')) {
    add(li.dataset.actor, li.querySelector('.swatch').dataset.colour);
  }
  return found;
}"""
# The rendered size of every text of every chart the reader can see, and whether it leaves its chart.
TEXTS = """() => {
  const texts = [];
  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    if (!svg.checkVisibility()) continue;
    const box = svg.viewBox.baseVal;
    const scale = svg.getBoundingClientRect().width / box.width;
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect(), edge = svg.getBoundingClientRect();
      const inside = r.left >= edge.left - 0.5 && r.right <= edge.right + 0.5
        && r.top >= edge.top - 0.5 && r.bottom <= edge.bottom + 0.5;
      const px = parseFloat(getComputedStyle(text).fontSize) * scale;
      texts.push({chart: svg.dataset.chart, text: text.textContent, px: px, inside: inside});
    }
  }
  return texts;
}"""
PLAN_LABELS = """() => [...document.querySelectorAll('svg.site-plan text.plan-label')].map(t => {
  const b = t.getBBox(); return [t.textContent, b.x, b.y, b.x + b.width, b.y + b.height];
})"""


def a_second_site(record):
    """Tadmur, where the army is the first (and only) actor to hold the town."""
    tadmur = make_site(name="Tadmur", slug="tadmur")
    make_incident(
        site=tadmur,
        kind="control_change",
        occurred="2017-02-28",
        perpetrator=record["army"],
        citations=1,
        status="published",
    )
    return tadmur


@pytest.mark.parametrize("width", [1280, 390])
def test_each_actor_has_one_colour_in_every_chart_and_text_is_legible(live_server, browser, width, screenshot_dir):
    cache.clear()
    record = palmyra_record()
    tadmur = a_second_site(record)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    colours, checked = {}, 0
    for path in ("/", record["site"].get_absolute_url(), tadmur.get_absolute_url()):
        page.goto(f"{live_server.url}{path}")
        for actor, found in page.evaluate(ACTOR_FILLS).items():
            colours.setdefault(actor, set()).update(found)
        for text in page.evaluate(TEXTS):
            checked += 1
            assert text["px"] >= 11, (path, width, text)
            assert text["inside"], (path, width, text)  # no "20" for "2016"
        page.screenshot(path=screenshot_dir / f"{path.strip('/').replace('/', '-') or 'home'}.png", full_page=True)
    context.close()
    assert checked > 40
    assert set(colours) == {"islamic-state", "syrian-government"}
    assert all(len(found) == 1 for found in colours.values()), colours
    assert colours["islamic-state"] != colours["syrian-government"]


def test_phone_shows_the_narrow_timeline_and_a_desktop_the_wide_one(live_server, browser):
    cache.clear()
    palmyra_record()
    for width, visible, hidden in (
        (390, "svg.timeline-compact", "svg.timeline"),
        (1280, "svg.timeline", "svg.timeline-compact"),
    ):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        assert page.locator(visible).is_visible() and not page.locator(hidden).is_visible()
        context.close()


def test_the_plan_links_each_monument_and_its_labels_do_not_collide(live_server, page, screenshot_dir):
    cache.clear()
    record = palmyra_record()
    page.goto(f"{live_server.url}{record['site'].get_absolute_url()}")
    plan = page.locator("svg.site-plan")
    assert "© OpenStreetMap contributors" in plan.inner_html()
    labels = page.evaluate(PLAN_LABELS)
    assert len(labels) == 4
    for (name_a, *a), (name_b, *b) in combinations(labels, 2):
        shared = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        assert shared == 0, (name_a, name_b)
    plan.screenshot(path=screenshot_dir / "plan.png")
    page.locator('svg.site-plan a[data-monument="temple-of-bel"] .shape').click()
    page.wait_for_url(re.compile(r"/monuments/temple-of-bel/$"))
    assert page.locator("h1").inner_text() == "Temple of Bel"


def test_screenshots_of_the_curated_record_for_the_readme(live_server, browser, screenshot_dir):
    cache.clear()
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())
    target = DOCS if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" else screenshot_dir
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{live_server.url}/sites/palmyra/")
    labels = page.evaluate(PLAN_LABELS)
    assert len(labels) == 10
    for (name_a, *a), (name_b, *b) in combinations(labels, 2):
        shared = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        assert shared == 0, (name_a, name_b)
    page.locator("svg.site-plan").screenshot(path=target / "palmyra-plan.png")
    page.goto(f"{live_server.url}/")
    page.locator("svg.timeline").screenshot(path=target / "timeline.png")
    context.close()
