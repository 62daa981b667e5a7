"""A reader searches the public list in Debian's chromium: another name, an Arabic word without
its vowel marks and a phrase each list the right incidents, with the matched words marked."""

import pytest

from tests.test_search import UNVOWELED, record  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def search_for(page, live_server, text):
    page.goto(f"{live_server.url}/incidents/")
    page.locator("input[name=q]").fill(text)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    rows = page.locator("table.incidents tbody tr")
    titles = [rows.nth(i).locator("th a").first.inner_text() for i in range(rows.count())]
    marks = [mark.lower() for mark in page.locator("table.incidents .snippet mark").all_inner_texts()]
    return titles, marks


def test_search_by_alias_arabic_word_and_phrase(record, live_server, page, screenshot_dir):  # noqa: F811
    titles, marks = search_for(page, live_server, "Tadmur")
    assert set(titles) == {
        "Temple of Bel destroyed", "Baalshamin levelled", "Executions on the stage", "Priests of Bel",
        "Colonnade shelled", "Shelling of the old town",
    }  # fmt: skip
    assert "ZZDRAFTTITLE colonnade" not in titles
    assert marks and set(marks) == {"tadmur"}
    page.screenshot(path=screenshot_dir / "1-alias.png", full_page=True)

    titles, marks = search_for(page, live_server, UNVOWELED)
    assert "Arabic report" in titles and "Temple of Bel destroyed" in titles  # text, and the voweled alias
    assert set(marks) == {UNVOWELED}
    page.screenshot(path=screenshot_dir / "2-arabic.png", full_page=True)

    titles, marks = search_for(page, live_server, '"temple of bel"')
    assert titles[0] == "Temple of Bel destroyed"
    assert "Priests of Bel" not in titles  # "temple" and "Bel", but apart
    marked = " ".join(marks)  # SQLite marks the phrase as one, PostgreSQL word by word
    assert "temple" in marked and "bel" in marked
    assert page.locator("input[name=q]").input_value() == '"temple of bel"'
    page.screenshot(path=screenshot_dir / "3-phrase.png", full_page=True)
