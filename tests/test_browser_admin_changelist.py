"""The admin's incident changelist at 1366 × 768, the commonest laptop screen: its key columns —
title, status, citations, origins — are on screen without scrolling sideways, and a curator is
offered no action an editor's role is needed for."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from archive.roles import CURATOR, ensure_groups
from tests.factories import make_actor, make_incident, make_monument, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY_COLUMNS = ["title", "status", "citation_count", "origin_count"]


@pytest.fixture
def archive():
    ensure_groups()  # a transactional test starts from a flushed database
    site = make_site(name="Palmyra", slug="palmyra")
    monuments = [
        make_monument(site=site, name="Temple of Baalshamin"),
        make_monument(site=site, name="Monumental Arch of Palmyra"),
        make_monument(site=site, name="Tower Tomb of Elahbel"),
    ]
    actors = [(make_actor(name="Islamic State of Iraq and the Levant"), "perpetrator"),
              (make_actor(name="Syrian Arab Army and allied militias"), "accused")]  # fmt: skip
    for n in range(12):
        make_incident(
            site=site,
            actors=actors,
            monuments=monuments,
            citations=2,
            status="published" if n % 2 else "draft",
            title=f"Temples of Bel and Baalshamin, the Monumental Arch and tower tombs destroyed, report {n}",
        )
    curator = get_user_model().objects.create_user("curator", password="palmyra-curator", is_staff=True)
    curator.groups.add(Group.objects.get(name=CURATOR))


def test_key_columns_fit_1366_pixels_and_curators_see_no_editor_actions(live_server, archive, browser, screenshot_dir):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/archive/incident/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "palmyra-curator")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    page.screenshot(path=screenshot_dir / "incident-changelist-1366.png")

    # The table scrolls inside its box (div.results): each key column lies within the box's view.
    view = page.locator("#changelist .results").bounding_box()
    for column in KEY_COLUMNS:
        box = page.locator(f"#result_list th.column-{column}").bounding_box()
        assert box is not None, column
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (column, box, view)
    # The page itself does not scroll sideways (the table's further columns scroll in their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    # Publish, withdraw, merge and delete are an editor's: a curator is offered none of them.
    options = page.locator("select[name=action] option").all_inner_texts()
    assert not [option for option in options if option.strip("-")], options
    context.close()
