"""Mention finding: the monuments, sites and actors a source text names, with the sentence around
each, shown on the source's admin page with links that turn a sentence into an incident."""

import datetime
import re
from io import StringIO
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.admin.sources import EXISTING_INCIDENTS_SHOWN
from archive.mentions import find_mentions, group_mentions, mentions_in, sentence_spans, suggest_kind
from archive.models import Citation, Incident, Source
from tests.factories import make_actor, make_citation, make_incident, make_monument, make_site, make_source
from tests.test_admin import changeform_data


def target(name, *aliases, kind="monument"):
    return (kind, SimpleNamespace(name=name), [name, *aliases])


def found(text, *targets):
    return [(m.kind, m.target.name, text[m.start : m.end]) for m in find_mentions(text, targets)]


# Matching


def test_names_match_as_whole_words_in_any_case():
    bel = target("Temple of Bel")
    assert found("the temple of bel fell; THE TEMPLE OF BEL", bel) == [
        ("monument", "Temple of Bel", "temple of bel"),
        ("monument", "Temple of Bel", "TEMPLE OF BEL"),
    ]
    assert found("the Temple of Belgium and the Temple of Beltane", bel) == []


def test_curly_and_straight_apostrophes_hyphens_and_line_breaks_are_the_same():
    castle = target("Qal'at Shirkuh", "Baal-Shamin")
    text = "They took Qal’at Shirkuh, then Baal Shamin and Baal-\nShamin."
    assert [found_name for _, _, found_name in found(text, castle)] == [
        "Qal’at Shirkuh",
        "Baal Shamin",
        "Baal-\nShamin",
    ]


def test_the_longest_name_wins_where_names_overlap():
    site = target("Palmyra", kind="site")
    museum = target("Palmyra Museum", "museum")
    other_museum = target("National Museum of Damascus", "museum")
    baalshamin = target("Temple of Baalshamin", "Baal Shamin", "Temple of Baal Shamin")
    text = "Killings in the courtyard of the Palmyra museum; the Temple of Baal Shamin; Palmyra itself."
    assert found(text, site, museum, other_museum, baalshamin) == [
        ("monument", "Palmyra Museum", "Palmyra museum"),
        ("monument", "Temple of Baalshamin", "Temple of Baal Shamin"),
        ("site", "Palmyra", "Palmyra"),
    ]


def test_where_names_partly_overlap_the_one_ending_later_wins():
    # "Temple of Baal" is an alias of the Temple of Bel; "Temple of Baal Shamin" is Baalshamin.
    bel = target("Temple of Bel", "Temple of Baal")
    baalshamin = target("Temple of Baalshamin", "Baal Shamin")
    text = "destroying the ancient Temple of Bel and the smaller Temple of Baal Shamin last year"
    assert found(text, bel, baalshamin) == [
        ("monument", "Temple of Bel", "Temple of Bel"),
        ("monument", "Temple of Baalshamin", "Baal Shamin"),
    ]


def test_a_name_two_records_share_is_offered_for_both():
    text = "They looted the museum."
    names = {name for _, name, _ in found(text, target("Palmyra Museum", "museum"), target("Aleppo Museum", "museum"))}
    assert names == {"Palmyra Museum", "Aleppo Museum"}


def test_short_capitalised_names_are_acronyms_matched_in_capitals_only():
    isis = target("Islamic State group", "IS", "Isis", kind="actor")
    text = "It is said IS fighters, or Isis, or ISIS, left."
    assert [name for _, _, name in found(text, isis)] == ["IS", "Isis", "ISIS"]


def test_sentences_end_at_stops_and_line_breaks_but_not_at_abbreviations():
    text = "Headline about Palmyra\nMr. Kerry met U.S. officials. They spoke of Palmyra! “Is it over?” He left."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Headline about Palmyra",
        "Mr. Kerry met U.S. officials.",
        "They spoke of Palmyra!",
        "“Is it over?”",
        "He left.",
    ]


def test_each_mention_comes_with_its_sentence_and_repeated_sentences_count_once():
    caption = "A file photo shows the ancient city of Palmyra."
    text = f"{caption}\n{caption.replace(' the ', ' the  ')}\nPalmyra fell to Isis last May. Isis destroyed it."
    groups = group_mentions(text, find_mentions(text, [target("Palmyra", kind="site"), target("Isis", kind="actor")]))
    palmyra, isis = groups
    assert [p.text for p in palmyra.passages] == [caption, "Palmyra fell to Isis last May."]
    assert palmyra.passages[0].repeats == 2
    assert palmyra.count == 3
    assert [p.text for p in isis.passages] == ["Palmyra fell to Isis last May.", "Isis destroyed it."]


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("Isis destroyed the Temple of Bel.", "destruction"),
        ("Militants blew up the arch.", "destruction"),
        ("Antiquities were looted from the museum.", "looting"),
        ("They beheaded the former director.", "killing"),
        ("Shelling damaged the facade.", "damage"),
        ("Russian airstrikes hit the town.", "attack"),
        ("Government forces recaptured Palmyra.", "control_change"),
        ("The town is famous for its ruins.", ""),
        # Issue 10: every inflection of the verbs the articles use.
        ("Islamic State is blowing up the temples.", "destruction"),
        ("The group blows up monuments.", "destruction"),
        ("It dynamited a number of temples.", "destruction"),
        ("Militants are dynamiting the arch.", "destruction"),
        ("They destroy what they call idols.", "destruction"),
        ("Fighters loot the museum.", "looting"),
        ("He was executed in the theatre.", "killing"),
        ("They behead prisoners.", "killing"),
        ("Artillery shelled the old city.", "attack"),
        ("Isis seized the castle.", "control_change"),
        ("The army recaptures the town.", "control_change"),
    ],
)
def test_a_kind_is_suggested_from_the_sentence(sentence, kind):
    assert suggest_kind(sentence) == kind


# The panel on the source page


@pytest.fixture
def admin_client_(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.fixture
def palmyra(db):
    site = make_site(name="Palmyra", slug="palmyra", aliases="Tadmur")
    return SimpleNamespace(
        site=site,
        bel=make_monument(site=site, name="Temple of Bel", slug="temple-of-bel", aliases="Temple of Baal"),
        theatre=make_monument(site=site, name="Roman Theatre", slug="roman-theatre", aliases="amphitheatre"),
        isis=make_actor(name="Islamic State group", slug="islamic-state", aliases="Isis\nIS"),
    )


ARTICLE = (
    "Palmyra under fire\n\n"
    "Isis destroyed the Temple of Bel in August, activists said.\n"
    "The group used the Roman amphitheatre for <b>executions</b> & worse.\n"
)


def panel(client, source):
    html = client.get(reverse("admin:archive_source_change", args=[source.pk])).content.decode()
    start = html.index('<div class="mentions-panel">')
    return html[start : html.index("</div>", html.rindex("</details>", start)) + 6]


def test_the_panel_lists_each_mention_with_its_sentence_highlighted_and_escaped(admin_client_, palmyra):
    source = make_source(received_text=ARTICLE)
    html = panel(admin_client_, source)
    assert "Monuments (2)" in html and "Sites (1)" in html and "Actors (1)" in html
    assert "Isis destroyed the <mark>Temple of Bel</mark> in August, activists said." in html
    assert "The group used the Roman <mark>amphitheatre</mark> for &lt;b&gt;executions&lt;/b&gt; &amp; worse." in html
    assert "<b>executions</b>" not in html
    assert "<mark>Isis</mark> destroyed the Temple of Bel" in html
    assert reverse("admin:archive_monument_change", args=[palmyra.bel.pk]) in html


def test_a_script_in_a_source_or_a_name_is_shown_as_text(admin_client_, palmyra):
    make_monument(site=palmyra.site, name="<script>alert(1)</script> gate", slug="gate", aliases="gate")
    source = make_source(received_text="The gate <script>alert(2)</script> was shelled.\n")
    html = panel(admin_client_, source)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; gate" in html


def new_incident_link(html, sentence_start):
    """The "New incident from this sentence" link of the sentence starting with these words."""
    index = html.index(sentence_start)
    href = re.search(r'<a class="button mention-new" href="([^"]+)"', html[index:]).group(1)
    return href.replace("&amp;", "&")


def test_a_mention_opens_a_new_incident_prefilled_with_monument_source_and_sentence(admin_client_, palmyra):
    source = make_source(received_text=ARTICLE)
    url = new_incident_link(panel(admin_client_, source), "Isis destroyed the <mark>Temple of Bel")
    params = parse_qs(urlsplit(url).query)
    assert params["monuments"] == [str(palmyra.bel.pk)]

    response = admin_client_.get(url)
    form = response.context["adminform"].form
    assert form.initial["monuments"] == [str(palmyra.bel.pk)]
    assert form.initial["site"] == str(palmyra.site.pk)
    assert form.initial["kind"] == "destruction"
    citations = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Citation)
    [citation_form] = citations.formset.forms
    assert citation_form.initial == {
        "source": str(source.pk),
        "quote": "Isis destroyed the Temple of Bel in August, activists said.",
    }

    # The curator completes what the article cannot tell, and saves: one incident, one citation.
    data = changeform_data(response)
    data.update(
        title="Temple of Bel destroyed",
        slug="temple-of-bel-destroyed",
        occurred="2015-08",
        date_wording="in August",
        **{"actor_links-0-actor": str(palmyra.isis.pk), "actor_links-0-role": "perpetrator"},
    )
    assert admin_client_.post(url, data).status_code == 302
    incident = Incident.objects.get(slug="temple-of-bel-destroyed")
    assert list(incident.monuments.all()) == [palmyra.bel]
    citation = incident.citations.get()
    assert citation.source == source
    assert ARTICLE[citation.position_start : citation.position_end] == citation.quote
    assert citation.quote == "Isis destroyed the Temple of Bel in August, activists said."
    assert incident.perpetrators == [palmyra.isis] and incident.when.text == "August 2015"


def test_a_new_incident_proposes_the_actors_its_sentence_names_as_perpetrators(admin_client_, palmyra):
    source = make_source(received_text=ARTICLE)
    url = new_incident_link(panel(admin_client_, source), "Isis destroyed the <mark>Temple of Bel")
    assert parse_qs(urlsplit(url).query)["actor"] == [str(palmyra.isis.pk)]
    response = admin_client_.get(url)
    actors = next(i for i in response.context["inline_admin_formsets"] if i.formset.model.__name__ == "IncidentActor")
    assert [form.initial for form in actors.formset.forms] == [{"actor": palmyra.isis.pk, "role": "perpetrator"}]
    # A sentence naming no actor proposes none (an empty row to fill).
    theatre = new_incident_link(panel(admin_client_, source), "The group used the Roman <mark>amphitheatre")
    assert "actor" not in parse_qs(urlsplit(theatre).query)


def test_save_and_continue_leaves_the_prefill_behind(admin_client_, palmyra):
    # Issue 10: the prefill stayed in the address, a phantom second citation appeared on the
    # change page, and the next save failed ("This passage … is already cited").
    source = make_source(received_text=ARTICLE)
    url = new_incident_link(panel(admin_client_, source), "Isis destroyed the <mark>Temple of Bel")
    data = changeform_data(admin_client_.get(url))
    data.update(title="Temple of Bel destroyed", slug="bel", occurred="2015-08", _continue="1")
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    incident = Incident.objects.get(slug="bel")
    assert urlsplit(response["Location"]).path == reverse("admin:archive_incident_change", args=[incident.pk])
    assert "citation_quote" not in response["Location"] and "monuments=" not in response["Location"]
    page = admin_client_.get(response["Location"])
    citations = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Citation)
    assert len(citations.formset.forms) == 1  # the saved one, no phantom
    again = changeform_data(page)
    again["title"] = "Temple of Bel destroyed in August"
    assert admin_client_.post(response["Location"], again).status_code == 302
    assert incident.citations.count() == 1


def test_site_and_actor_mentions_prefill_the_site_or_the_perpetrator(admin_client_, palmyra):
    source = make_source(received_text=ARTICLE)
    html = panel(admin_client_, source)
    site_section = html[html.index('class="mentions-site"') :]
    params = parse_qs(urlsplit(new_incident_link(site_section, "<mark>Palmyra</mark>")).query)
    assert params["site"] == [str(palmyra.site.pk)] and "monuments" not in params
    actor_section = html[html.index('class="mentions-actor"') :]
    link = new_incident_link(actor_section, "<mark>Isis</mark>")
    params = parse_qs(urlsplit(link).query)
    assert params["actor"] == [str(palmyra.isis.pk)]
    # The new incident's page proposes the actor as perpetrator; the curator confirms.
    response = admin_client_.get(link.replace("&amp;", "&"))
    actors = next(i for i in response.context["inline_admin_formsets"] if i.formset.model.__name__ == "IncidentActor")
    assert actors.formset.forms[0].initial == {"actor": palmyra.isis.pk, "role": "perpetrator"}


def test_a_sentence_already_cited_says_so_and_others_offer_existing_incidents(admin_client_, palmyra):
    source = make_source(received_text=ARTICLE)
    cited = make_incident(site=palmyra.site, monuments=[palmyra.bel], title="Bel destroyed")
    make_citation(incident=cited, source=source, quote="Temple of Bel in August")
    executions = make_incident(
        site=palmyra.site, monuments=[palmyra.theatre], kind="killing", title="Executions at the theatre"
    )
    html = panel(admin_client_, source)

    bel = html[html.index("Isis destroyed the <mark>Temple of Bel") :][:2000]
    assert "Already cited for" in bel and "Bel destroyed" in bel

    theatre = html[html.index("Roman <mark>amphitheatre") :][:2000]
    assert "Cite it for an existing incident:" in theatre
    link = re.search(r'existing incident: <a href="([^"]+)">Executions at the theatre', theatre).group(1)
    response = admin_client_.get(link.replace("&amp;", "&"))
    assert response.context["original"] == executions
    citations = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Citation)
    assert citations.formset.forms[-1].initial["quote"].startswith("The group used the Roman amphitheatre")


EXISTING = "Cite it for an existing incident:"


def offered(html, sentence_start):
    """The titles offered to cite the sentence starting with these words for, before "New incident"."""
    index = html.index(sentence_start)
    links = html[index : html.index("</li>", index)]
    if EXISTING not in links:
        return []
    start = links.index(EXISTING)
    assert start < links.index("mention-new")  # the existing incidents come first
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', links[start : links.index("</span>", start)])


def test_site_and_actor_mentions_offer_existing_incidents_of_a_compatible_kind_and_date(admin_client_, palmyra):
    text = "Isis destroyed the Temple of Bel in Palmyra in August.\n"
    source = make_source(received_text=text, published_on=datetime.date(2015, 9, 1))
    at_site = make_incident(site=palmyra.site, kind="damage", occurred="2015-08", title="Town centre damaged")
    make_incident(site=palmyra.site, kind="looting", occurred="2015-08", title="Museum looted")
    make_incident(site=palmyra.site, kind="destruction", occurred="2016-03", title="Destroyed after the article")
    make_incident(site=palmyra.site, kind="destruction", title="Undated before", occurred="")
    by_isis = make_incident(perpetrator=palmyra.isis, kind="destruction", occurred="2015-05", title="Isis elsewhere")
    html = panel(admin_client_, source)

    site_section = html[html.index('class="mentions-site"') : html.index('class="mentions-actor"')]
    # "destroyed" suggests destruction: damage is compatible, looting is not, and an incident
    # cannot have started after the article (1 September 2015) that reports it.
    assert offered(site_section, "Isis destroyed") == [at_site.title, "Undated before"]
    actor_section = html[html.index('class="mentions-actor"') :]
    assert offered(actor_section, "<mark>Isis</mark> destroyed") == [by_isis.title]


def panel_queries(client, source):
    with CaptureQueriesContext(connection) as queries:
        panel(client, source)
    return len(queries)


def test_the_panel_costs_the_same_and_shows_a_handful_however_many_incidents_match(admin_client_, palmyra):
    source = make_source(received_text="Isis destroyed the Temple of Bel in Palmyra in August.\n")
    isis = [(palmyra.isis, "perpetrator")]
    for n in range(1, 6):
        make_incident(
            site=palmyra.site, monuments=[palmyra.bel], actors=isis, occurred=f"2015-08-0{n}", title=f"August {n}"
        )
    few = panel_queries(admin_client_, source)
    for n in range(55):
        make_incident(site=palmyra.site, monuments=[palmyra.bel], actors=isis, occurred=f"2014-{n % 12 + 1:02}")
    assert panel_queries(admin_client_, source) == few
    html = panel(admin_client_, source)
    for section in ("mentions-monument", "mentions-site", "mentions-actor"):
        part = html[html.index(f'class="{section}"') :]
        titles = offered(part, "destroyed the")
        # The latest first: the five of August 2015, then the latest of 2014.
        assert len(titles) == EXISTING_INCIDENTS_SHOWN
        assert titles[:5] == ["August 5", "August 4", "August 3", "August 2", "August 1"]


def test_a_source_naming_nothing_known_says_so(admin_client_, palmyra):
    source = make_source(received_text="Nothing here names a known place.\n")
    html = admin_client_.get(reverse("admin:archive_source_change", args=[source.pk])).content.decode()
    assert "The text names no monument, site or actor in the archive." in html


def test_the_seed_articles_name_what_curators_expect(db):
    """On the real articles: the names they use for Palmyra's monuments are all found."""
    call_command("import_seeds", stdout=StringIO())
    site = make_site(name="Palmyra", slug="palmyra", aliases="Tadmur\nTadmor")
    monuments = [
        make_monument(site=site, name="Temple of Bel", aliases="Temple of Baal"),
        make_monument(site=site, name="Temple of Baalshamin", aliases="Baal Shamin\nBaalshamin\nTemple of Baal Shamin"),
        make_monument(
            site=site,
            name="Roman Theatre of Palmyra",
            aliases="Roman amphitheatre\namphitheatre\nRoman-era theater\nRoman theater\nstone theater",
        ),  # fmt: skip
        make_monument(site=site, name="Monumental Arch", aliases="Arch of Triumph"),
        make_monument(site=site, name="Palmyra Museum", aliases="museum"),
        make_monument(site=site, name="Tetrapylon"),
    ]
    actors = [make_actor(name="Islamic State group", aliases="Islamic State\nIsis\nIS")]
    found_names = set()
    for source in Source.objects.all():
        for group in mentions_in(source.received_text, monuments=monuments, sites=[site], actors=actors):
            found_names |= {(group.target.name, name) for name in group.names}
    assert {
        ("Temple of Bel", "Temple of Bel"),
        ("Temple of Baalshamin", "Temple of Baal Shamin"),
        ("Roman Theatre of Palmyra", "Roman amphitheatre"),
        ("Roman Theatre of Palmyra", "Roman-era theater"),
        ("Monumental Arch", "Arch of Triumph"),
        ("Palmyra Museum", "Palmyra Museum"),
        ("Tetrapylon", "Tetrapylon"),
        ("Palmyra", "Tadmur"),
        ("Islamic State group", "Isis"),
        ("Islamic State group", "IS"),
    } <= found_names
    # "Palmyra museum" is the museum, not also the site; "Baal Shamin" is not counted twice.
    assert ("Temple of Baalshamin", "Baal Shamin") not in found_names
