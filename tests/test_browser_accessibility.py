"""Accessibility (issue 11, item 5): axe-core, run inside chromium, reports no violation on every
kind of public page, at desktop and phone widths, nor on the admin's incident and source forms; and
on a phone the tables keep their headings and the filters fold away."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from archive.models import Actor, Incident, Monument, Site, Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def axe_page(browser):
    if not AXE.exists():
        message = "axe-core is not installed: run `npm ci` (make test does)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    # axe is injected as a script of the page: the archive's Content Security Policy would refuse it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def record():
    call_command("import_seeds", stdout=StringIO())
    call_command("load_curated_record", stdout=StringIO())


def violations(page):
    """axe-core's violations on the loaded page, WCAG 2.1 A and AA, as readable lines."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const rules = {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}};
            const result = await axe.run(document, rules);
            const why = (node) => node.failureSummary.split("\\n").slice(0, 2).join(" ");
            const where = (node) => node.target.join(" ") + " — " + why(node);
            return result.violations.map((v) => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(where)}));
        }"""
    )
    return [f"{v['id']}: {v['help']}: {'; '.join(v['nodes'])}" for v in result]


def public_pages():
    incident = Incident.objects.published().order_by("slug").first()
    monument = Monument.objects.public().order_by("slug").first()
    source = Source.objects.public().order_by("slug").first()
    actor = Actor.objects.order_by("slug").first()
    site = Site.objects.get(slug="palmyra")
    return [
        "/",
        "/incidents/",
        "/incidents/?q=temple&kind=destruction",
        "/incidents/?date_from=garbage",
        incident.get_absolute_url(),
        "/monuments/",
        monument.get_absolute_url(),
        site.get_absolute_url(),
        "/sources/",
        source.get_absolute_url(),
        "/actors/",
        actor.get_absolute_url(),
        reverse("archive:methodology"),
    ]


def test_every_public_page_has_no_accessibility_violation(live_server, record, axe_page):
    found = {}
    for width in ({"width": 1280, "height": 900}, PHONE):
        axe_page.set_viewport_size(width)
        for path in public_pages():
            response = axe_page.goto(f"{live_server.url}{path}")
            assert response.status == (400 if "garbage" in path else 200), path
            problems = violations(axe_page)
            if problems:
                found[f"{path} at {width['width']} px"] = problems
    assert found == {}, "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in found.items())


def test_the_admin_incident_and_source_forms_have_no_accessibility_violation(live_server, record, axe_page):
    get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-axe")
    axe_page.goto(f"{live_server.url}/admin/login/")
    axe_page.fill("#id_username", "root")
    axe_page.fill("#id_password", "pw-for-axe")
    axe_page.click("input[type=submit]")
    axe_page.wait_for_selector("#user-tools")
    incident = Incident.objects.published().order_by("slug").first()
    source = Source.objects.order_by("slug").first()
    found = {}
    for path in (
        "/admin/archive/incident/add/",
        f"/admin/archive/incident/{incident.pk}/change/",
        "/admin/archive/source/add/",
        f"/admin/archive/source/{source.pk}/change/",
        "/admin/archive/source/add-from-file/",
    ):
        axe_page.goto(f"{live_server.url}{path}")
        problems = violations(axe_page)
        if problems:
            found[path] = problems
    assert found == {}, "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in found.items())


def test_on_a_phone_tables_keep_their_headings_and_the_filters_fold_away(live_server, record, page):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/incidents/")
    first_row = page.locator("table.incidents tbody tr").first
    labels = first_row.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert '"When"' in labels and '"Assessment"' in labels, labels
    # The filters are folded: the first result is on the first screen.
    assert first_row.bounding_box()["y"] < PHONE["height"]
    assert not page.locator("#id_kind").is_visible()
    page.get_by_text("Filter incidents").click()
    assert page.locator("#id_kind").is_visible()

    page.goto(f"{live_server.url}/sources/")
    labels = (
        page.locator("tbody tr")
        .first.locator("td")
        .evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    )
    assert '"Outlet"' in labels, labels

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/incidents/")
    assert page.locator("#id_kind").is_visible()  # open on a wide screen
