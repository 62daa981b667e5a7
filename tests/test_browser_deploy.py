"""`make serve` in Debian's chromium: DEBUG off, gunicorn, whitenoise, the media view and the
Content Security Policy. Every page is visited with the browser's CSP reports collected: the
`securitypolicyviolation` events of the page and the console messages chromium prints for them."""

import re

import pytest

from tests.test_deploy import ADMIN_PASSWORD, ADMIN_USERNAME, make_serve

pytestmark = pytest.mark.browser

# Records every CSP violation in the page, before any of the page's own code runs.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || location.href}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with make_serve(tmp_path_factory) as server:
        yield server


@pytest.fixture
def watched(browser):
    """A page whose console messages, page errors and CSP violations are all kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_messages_seen = []
    page.on(
        "console",
        lambda message: page.console_messages_seen.append(
            f"{message.type}: {message.text} ({message.location['url']})"
        ),
    )
    page.on("pageerror", lambda error: page.console_messages_seen.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and page.console_messages_seen.append(f"failed request: {response.status} {response.url}")
        ),
    )
    yield page
    context.close()


def assert_no_violation(page, *, answered_404=False):
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"{page.url}: {violations}"
    seen = page.console_messages_seen
    # The archive has no favicon: chromium's own request for /favicon.ico is not the page's.
    seen = [m for m in seen if not m.endswith("/favicon.ico)")]
    if answered_404:  # the page's own status, not a resource of it
        seen = [m for m in seen if not m.endswith((page.url, f"({page.url})"))]
    problems = [m for m in seen if m.startswith(("error", "pageerror", "failed")) or "Content Security" in m]
    assert problems == [], f"{page.url}: {problems}"


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    assert "content-security-policy" in response.headers
    assert_no_violation(page)
    return response


def test_public_pages_and_image_under_make_serve(served, watched, screenshot_dir):
    page = watched
    visit(page, f"{served.url}/")
    assert page.locator("h1").inner_text() == "Heritage-damage archive"
    assert page.locator("svg.site-plan").is_visible() and page.locator("svg.timeline").is_visible()
    # The stylesheet applied: the header has the archive's colour, not the browser's default.
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") != (
        "rgba(0, 0, 0, 0)"
    )
    page.screenshot(path=screenshot_dir / "1-home.png", full_page=True)

    visit(page, f"{served.url}/incidents/temple-of-bel-destroyed/")
    assert page.locator("h1").inner_text() == "Temple of Bel destroyed"
    page.screenshot(path=screenshot_dir / "2-incident.png", full_page=True)

    page.locator('a[href^="/sources/"][href*="#citation-"]').first.click()
    page.wait_for_url(re.compile(r"/sources/[\w-]+/"))
    page.wait_for_load_state("load")
    assert page.locator("mark").first.is_visible()
    assert_no_violation(page)
    page.screenshot(path=screenshot_dir / "3-source.png", full_page=True)

    # The Temple of Bel's page shows the cleaned image (its thumbnail), loaded through the media view.
    visit(page, f"{served.url}/monuments/temple-of-bel/")
    picture = page.locator("figure img").first
    picture.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    page.screenshot(path=screenshot_dir / "4-monument-image.png", full_page=True)

    image = page.request.get(f"{served.url}{served.image_url}")
    assert image.status == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.body().startswith(b"\xff\xd8")

    missing = page.goto(f"{served.url}/incidents/no-such-incident/")
    assert missing.status == 404
    assert page.locator(".site-header").is_visible() and page.locator("h1").inner_text() == "Page not found"
    assert_no_violation(page, answered_404=True)


def test_admin_login_and_incident_form_under_make_serve(served, watched, screenshot_dir):
    page = watched
    visit(page, f"{served.url}/admin/login/")
    page.screenshot(path=screenshot_dir / "1-admin-login.png", full_page=True)
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert_no_violation(page)

    visit(page, f"{served.url}/admin/archive/incident/?q=Temple+of+Bel+destroyed")
    page.screenshot(path=screenshot_dir / "2-incident-changelist.png", full_page=True)
    page.get_by_role("link", name="Temple of Bel destroyed", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/archive/incident/\d+/change/"))
    page.wait_for_load_state("load")
    assert page.locator("#incident_form").is_visible()
    # The admin's scripts ran: autocomplete widgets are built by select2.
    page.wait_for_selector(".select2-container")
    assert_no_violation(page)
    page.screenshot(path=screenshot_dir / "2-incident-change-form.png", full_page=True)

    # The lockouts list (django-axes) is in the admin.
    visit(page, f"{served.url}/admin/axes/accessattempt/")
