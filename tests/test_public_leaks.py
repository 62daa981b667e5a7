"""Nothing unpublished reaches the public: crawl every public page from home and look for it."""

import datetime
import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse

from archive.models import Citation, Incident, Monument
from tests.factories import make_actor, make_incident, make_monument, make_source
from tests.test_public_pages import palmyra_record

HIDDEN_TEXT = (
    "Leaked report\n\n"
    "Officials said ZZDRAFTQUOTE the Temple of Baalshamin was levelled at dawn.\n"
    "Later ZZWITHDRAWNQUOTE claims about the tetrapylon were retracted.\n"
)
UNPUBLISHED = [
    "ZZDRAFTTITLE",
    "ZZDRAFTDESCRIPTION",
    "ZZDRAFTQUOTE",
    "ZZWITHDRAWNTITLE",
    "ZZWITHDRAWNDESCRIPTION",
    "ZZWITHDRAWNQUOTE",
    "ZZHIDDENSOURCE",
    "zz-draft-incident",
    "zz-withdrawn-incident",
    "zz-hidden-source",
    "ZZPUBLICSOURCEDRAFT",
    "zz-draft-on-public-source",
    "Lonely Tetrapylon",
    "lonely-tetrapylon",
    "Lonely Militia",
    "lonely-militia",
    "Shadow Ally",
    "shadow-ally",
]
MAX_PAGES = 400


@pytest.fixture
def archive(db):
    cache.clear()
    records = palmyra_record()
    hidden_source = make_source(
        slug="zz-hidden-source", title="ZZHIDDENSOURCE leaked report", received_text=HIDDEN_TEXT
    )
    lonely_monument = make_monument(
        site=records["site"],
        name="Lonely Tetrapylon",
        slug="lonely-tetrapylon",
        latitude="34.55152",
        longitude="38.26802",
    )
    lonely_actor = make_actor(name="Lonely Militia", slug="lonely-militia")
    # Named only by a draft, and there as a supporting force, not a perpetrator.
    shadow_ally = make_actor(name="Shadow Ally", slug="shadow-ally", kind="foreign_state")
    # Reference data that no incident uses yet is public; one that only drafts use is not.
    reference_monument = make_monument(
        site=records["site"], name="Great Colonnade", slug="great-colonnade", kind="colonnade"
    )
    baalshamin = make_monument(
        site=records["site"],
        name="Temple of Baalshamin",
        slug="temple-of-baalshamin",
        latitude="34.553297",
        longitude="38.270467",
    )
    draft = make_incident(
        slug="zz-draft-incident",
        title="ZZDRAFTTITLE destruction",
        description="ZZDRAFTDESCRIPTION",
        kind="destruction",
        site=records["site"],
        actors=[(lonely_actor, "perpetrator"), (shadow_ally, "supporting")],
        monuments=[baalshamin, lonely_monument],
        occurred_from=datetime.date(2019, 1, 10),
        occurred_to=datetime.date(2019, 1, 10),
    )
    Citation.objects.create(incident=draft, source=hidden_source, quote="ZZDRAFTQUOTE the Temple of Baalshamin")
    withdrawn = make_incident(
        slug="zz-withdrawn-incident",
        title="ZZWITHDRAWNTITLE",
        description="ZZWITHDRAWNDESCRIPTION",
        kind="control_change",
        site=records["site"],
        perpetrator=lonely_actor,
        monuments=[lonely_monument],
        occurred_from=datetime.date(2020, 6, 1),
        occurred_to=datetime.date(2020, 6, 1),
    )
    Citation.objects.create(incident=withdrawn, source=hidden_source, quote="ZZWITHDRAWNQUOTE claims")
    withdrawn.status, withdrawn.withdrawn_reason = "withdrawn", "Retracted by the outlet."
    withdrawn.save()
    # A draft citing a source that the public sees: the source page must not list it.
    draft_on_public = make_incident(
        slug="zz-draft-on-public-source",
        title="ZZPUBLICSOURCEDRAFT looting",
        kind="looting",
        site=records["site"],
        perpetrator=records["isis"],
        monuments=[records["bel"]],
        occurred_from=datetime.date(2016, 3, 20),
        occurred_to=datetime.date(2016, 3, 20),
    )
    Citation.objects.create(
        incident=draft_on_public, source=records["article_a"], quote="FULLTEXT-ONLY sentence that no citation quotes."
    )
    records.update(
        draft=draft,
        withdrawn=withdrawn,
        hidden_source=hidden_source,
        lonely_monument=lonely_monument,
        lonely_actor=lonely_actor,
        shadow_ally=shadow_ally,
        baalshamin=baalshamin,
        reference_monument=reference_monument,
        draft_on_public=draft_on_public,
    )
    return records


DOWNLOADS = re.compile(r"^/(incidents|monuments|sources)/download/")


def links(html, base):
    for href in re.findall(r'href="([^"]*)"', html):
        href = unescape(href)
        if href.startswith("#") or href.startswith(("mailto:", "javascript:")):
            continue
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        if parts.netloc and parts.netloc != "testserver":
            continue  # the original article, Wikidata: not ours
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith(("/admin/", "/static/", "/media/")):
            continue
        yield path


def crawl(client, starts):
    seen, queue, pages = set(starts), deque(starts), {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        pages[url] = response
        if (
            response.status_code != 200
            or "html" not in response.get("Content-Type", "")
            and "svg" not in response.get("Content-Type", "")
        ):
            continue
        for link in links(response.content.decode(), f"http://testserver{url}"):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages


def test_crawl_finds_no_error_no_broken_link_and_nothing_unpublished(client, archive):
    starts = [
        reverse("archive:home"),
        reverse("archive:incident-list"),
        reverse("archive:monument-list"),
        reverse("archive:source-list"),
        reverse("archive:actor-list"),
        reverse("archive:timeline-svg"),
        reverse("archive:site-plan-svg", args=["palmyra"]),
        # Every filter choice, and the filter the draft would match if it leaked.
        reverse("archive:incident-list") + "?kind=destruction&ordering=-date",
        reverse("archive:incident-list") + "?date_from=2019-01-01&date_to=2020-12-31",
        reverse("archive:incident-list") + "?q=ZZDRAFTQUOTE",
        reverse("archive:incident-list") + "?q=ZZWITHDRAWNTITLE",
    ]
    pages = crawl(client, starts)
    assert len(pages) > 30, "the crawl should reach every kind of page"
    assert len(pages) < MAX_PAGES, "the crawl did not finish"
    for url, response in pages.items():
        body = unescape(response.content.decode()) if not response.streaming else ""
        if DOWNLOADS.match(url):
            # Another module's pages: only that they do not fail or leak.
            assert response.status_code in (200, 404), url
        else:
            assert response.status_code == 200, f"broken link: {url} answered {response.status_code}"
        if "q=" in url:
            # A search echoes its own words in the form and in links: look at the page's text.
            body = re.sub(r'(value|href)="[^"]*"', "", body)
        for secret in UNPUBLISHED:
            assert secret not in body, f"{secret!r} leaked on {url}"

    crawled = set(pages)
    for obj in ("bel", "bel_destroyed", "article_a", "isis", "site"):
        assert archive[obj].get_absolute_url() in crawled, obj
    assert archive["reference_monument"].get_absolute_url() in crawled  # reference data is listed...
    for obj in ("lonely_monument", "baalshamin", "lonely_actor", "shadow_ally"):  # ...what only drafts use is not
        assert archive[obj].get_absolute_url() not in crawled, obj


def test_unpublished_incidents_and_their_only_source_answer_404(client, archive):
    for obj in (
        "draft", "withdrawn", "hidden_source", "draft_on_public", "lonely_monument", "lonely_actor", "shadow_ally",
    ):  # fmt: skip
        assert client.get(archive[obj].get_absolute_url()).status_code == 404
        assert client.head(archive[obj].get_absolute_url()).status_code == 404


def test_unpublished_incidents_count_nowhere(client, archive):
    home = unescape(client.get(reverse("archive:home")).content.decode())
    assert Incident.objects.count() == 8
    assert re.search(r"<strong>5</strong> published incidents", home)
    assert re.search(r"<strong>2</strong> sources cited", home)
    # No bar for the months of the draft and the withdrawn incident, and no period of control
    # from the withdrawn change of control.
    assert "date_from=2019-01-01" not in home and "date_from=2020-06-01" not in home
    assert "Lonely Militia" not in home

    listing = unescape(client.get(reverse("archive:incident-list")).content.decode())
    assert "5 incidents" in listing
    # ...but no filter offers a party or a monument that only unpublished incidents mention.
    assert 'value="lonely-militia"' not in listing and 'value="lonely-tetrapylon"' not in listing
    assert 'value="temple-of-baalshamin"' not in listing
    assert client.get(reverse("archive:incident-list") + "?perpetrator=lonely-militia").status_code == 400

    # The monuments only they mention stay "unknown", whatever the draft says happened to them,
    # and are not public at all; nor is the party only they name.
    for monument in (archive["lonely_monument"], archive["baalshamin"]):
        assert Monument.objects.with_condition().get(pk=monument.pk).condition == "unknown"
        assert client.get(monument.get_absolute_url()).status_code == 404
    assert client.get(archive["lonely_actor"].get_absolute_url()).status_code == 404
    assert client.get(archive["shadow_ally"].get_absolute_url()).status_code == 404
    actors = client.get(reverse("archive:actor-list")).content.decode()
    assert actors.count("Lonely Militia") == 0 and actors.count("Shadow Ally") == 0
    assert (
        "Shadow Ally" not in listing
        and client.get(reverse("archive:incident-list") + "?perpetrator=shadow-ally").status_code == 400
    )
    monuments_page = unescape(client.get(reverse("archive:monument-list")).content.decode())
    assert "Great Colonnade" in monuments_page and "Lonely Tetrapylon" not in monuments_page
    assert "Temple of Baalshamin" not in monuments_page
    plan = client.get(reverse("archive:site-plan-svg", args=["palmyra"])).content.decode()
    assert "Lonely Tetrapylon" not in plan and "Baalshamin" not in plan
    for fmt in ("csv", "json", "geojson"):
        body = b"".join(client.get(reverse("archive:monument-download", args=[fmt])).streaming_content).decode()
        assert "Great Colonnade" in body and "lonely-tetrapylon" not in body and "baalshamin" not in body, fmt
        incidents = b"".join(client.get(reverse("archive:incident-download", args=[fmt])).streaming_content).decode()
        assert "shadow-ally" not in incidents and "lonely-militia" not in incidents, fmt
        assert "islamic-state" in incidents, fmt  # the actors column is there
    source_page = unescape(client.get(archive["article_a"].get_absolute_url()).content.decode())
    assert "ZZPUBLICSOURCEDRAFT" not in source_page and "zz-draft-on-public-source" not in source_page

    sources = unescape(client.get(reverse("archive:source-list")).content.decode())
    assert "2 sources" in sources
