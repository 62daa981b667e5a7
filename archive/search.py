"""Full-text search of incidents: the one place that decides what a search reads, how a query is
understood, and how the index is kept current. `Incident.objects.search(query)` is how the
public list, the downloads and the admin changelists search; nothing else queries the index.

What is indexed (one IncidentSearchDocument per incident, in four weighted parts): the title; the
names and other names (`aliases`) of its site, monuments and actors, so that "Tadmur", "Daesh",
"Roman theater" or "Baal Shamin" find what "Palmyra", "Islamic State", "theatre" or "Baalshamin"
find; the description and the victims; the quotes of its citations. Every text is normalised
(`normalise`) before it is indexed and every query before it is searched, so that a reader need
not type the vowel marks, the hamza or the accents the sources use.

The databases: PostgreSQL matches a stored, weighted tsvector (English configuration: stemming,
English stop words) under a GIN index, ranks with ts_rank and writes snippets with ts_headline.
One English vector, not an English and a 'simple' one: the English parser reads Arabic words as
words and its stemmer leaves non-Latin letters as they are, so the normalised Arabic is indexed
word for word anyway; a second vector would double the index for the sake of English stop words
alone ("IS", an alias of the Islamic State, is one: on PostgreSQL it finds nothing by itself).
SQLite matches an FTS5 table (tokenizer `porter unicode61 remove_diacritics 2`), ranks with bm25
and writes snippets with snippet(). Both are asked the same parsed query (`parse`).

Kept current by signals (`connect_signals`), not by explicit calls in each save(): a document
depends on six models and on the monuments' many-to-many table, which the admin's forms, its
inlines, `Incident.merge` and the importer change in different orders, and m2m_changed and
post_delete reach every one of those paths from here. Database triggers could not normalise
Arabic on SQLite. The paths that skip signals — the CSV importer's and generate_synthetic's bulk
writes, QuerySet.update() — call `reindex(ids)` for what they wrote.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, FloatField, Func, Value
from django.db.models.functions import Cast
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils.html import escape
from django.utils.safestring import mark_safe

REINDEX_BATCH = 500
MAX_TERMS = 32
# Marks around a matched word in a raw snippet: private-use characters, removed from every
# indexed text (normalise), so that a document cannot forge them; `highlight` turns them into
# <mark> after escaping everything else.
START, STOP = "\ue000", "\ue001"
SNIPPET_WORDS = 24
# bm25 weights of the FTS5 columns (title, names, body, quotes); PostgreSQL's ts_rank gives its
# weights A, B, C, D 1.0, 0.4, 0.2 and 0.1.
FTS_WEIGHTS = (10.0, 4.0, 2.0, 1.0)

# Arabic letters written in more than one way: alef wasla and the alef with hamza or madda (the
# latter decompose under NFD, see normalise), taa marbuta, alef maqsura.
_LETTERS = str.maketrans({"\u0671": "\u0627", "\u0629": "\u0647", "\u0649": "\u064a", START: " ", STOP: " "})
_DROPPED = dict.fromkeys(map(ord, "\u0640\u200c\u200d\u00ad"))  # tatweel, zero-width (non-)joiner, soft hyphen
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """`text` as it is indexed and searched: vowel marks, shadda, sukun, the dagger alef and
    every other combining mark removed (Arabic harakat U+064B–U+065F and U+0670, Latin accents:
    “Bēl” is “Bel”), hamza and madda taken off the alef (أ إ آ ٱ → ا), ة → ه, ى → ي, tatweel
    removed. Case is kept (the databases fold it) so that snippets read as written."""
    decomposed = unicodedata.normalize("NFD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).translate(_DROPPED).translate(_LETTERS)


def words(text: str) -> list[str]:
    """The words of `text` as a query sees them: normalised, lower-cased, punctuation dropped."""
    return _WORD.findall(normalise(text).lower())


# Documents ---------------------------------------------------------------------------------


def _models(apps=None):
    if apps is None:
        from django.apps import apps
    Incident = apps.get_model("archive", "Incident")
    return (
        Incident,
        Incident._meta.get_field("monuments").remote_field.through,
        apps.get_model("archive", "IncidentActor"),
        apps.get_model("archive", "Citation"),
        apps.get_model("archive", "IncidentSearchDocument"),
    )


def _names(name, aliases):
    return [name, *(line.strip() for line in (aliases or "").replace(";", "\n").splitlines() if line.strip())]


def documents(incident_ids, apps=None) -> dict:
    """{incident id: IncidentSearchDocument (unsaved)} for the incidents among `incident_ids`
    that exist; four queries. `apps`: a migration's app registry (its historical models)."""
    Incident, Through, IncidentActor, Citation, Document = _models(apps)
    ids = list(incident_ids)
    names, quotes = {}, {}
    for incident_id, name, aliases in Through.objects.filter(incident_id__in=ids).values_list(
        "incident_id", "monument__name", "monument__aliases"
    ):
        names.setdefault(incident_id, []).extend(_names(name, aliases))
    for incident_id, name, aliases in IncidentActor._base_manager.filter(incident_id__in=ids).values_list(
        "incident_id", "actor__name", "actor__aliases"
    ):
        names.setdefault(incident_id, []).extend(_names(name, aliases))
    for incident_id, quote in (
        Citation._base_manager.filter(incident_id__in=ids).order_by("pk").values_list("incident_id", "quote")
    ):
        quotes.setdefault(incident_id, []).append(quote)
    found = {}
    for pk, title, description, victims, site, site_aliases in Incident._base_manager.filter(pk__in=ids).values_list(
        "pk", "title", "description", "victims", "site__name", "site__aliases"
    ):
        # Each name once, in order: an alias shared by two monuments should not weigh double.
        every_name = list(dict.fromkeys([*_names(site, site_aliases), *names.get(pk, [])]))
        found[pk] = Document(
            incident_id=pk,
            title=normalise(title),
            names=normalise("\n".join(every_name)),
            body=normalise("\n".join(part for part in (description, victims) if part)),
            quotes=normalise("\n".join(quotes.get(pk, []))),
        )
    return found


def reindex(incident_ids, apps=None, batch_size=REINDEX_BATCH) -> int:
    """Rebuild the documents of `incident_ids` (any iterable; ids of deleted incidents lose
    theirs), `batch_size` at a time: six queries a batch. Returns how many were written."""
    Document = _models(apps)[-1]
    ids = sorted(set(incident_ids) - {None})
    written = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        built = documents(batch, apps)
        # Delete and insert rather than update: on SQLite the FTS5 table follows by its triggers.
        Document._base_manager.filter(incident_id__in=batch).delete()
        Document._base_manager.bulk_create(built.values(), batch_size=batch_size)
        if connection.vendor == "postgresql":
            Document._base_manager.filter(incident_id__in=batch).update(vector=_vector())
        written += len(built)
    return written


def optimise() -> None:
    """After a large bulk load: merge SQLite's FTS5 index segments into one (queries read fewer)."""
    from .models.search import FTS_TABLE

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


def reindex_all(apps=None, batch_size=REINDEX_BATCH) -> int:
    Incident = _models(apps)[0]
    return reindex(Incident._base_manager.values_list("pk", flat=True).iterator(), apps, batch_size)


def _vector():
    from django.contrib.postgres.search import SearchVector

    parts = zip(("title", "names", "body", "quotes"), "ABCD", strict=True)
    vectors = [SearchVector(name, weight=weight, config="english") for name, weight in parts]
    return vectors[0] + vectors[1] + vectors[2] + vectors[3]


# Queries -----------------------------------------------------------------------------------


@dataclass
class Query:
    """A parsed query: every group must match (AND), a group matches when one of its terms does
    (OR), and no excluded term may match. A term is a word, or a phrase (words in a row)."""

    groups: list = field(default_factory=list)
    excluded: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.groups or self.excluded)


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"'})
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


def parse(text: str) -> Query:
    """Read `text` as websearch syntax: words are all required, "a phrase" in quotes, -word or
    -"a phrase" excluded, `or` between two terms accepts either. Anything else is plain words:
    punctuation is dropped, a quote left unclosed is ignored, FTS5 or tsquery operators (NEAR(,
    *, &, !, :) are never passed on. Never raises."""
    text = (text or "").translate(_QUOTES)
    if text.count('"') % 2:
        head, _, tail = text.rpartition('"')
        text = f"{head} {tail}"
    query, either, after_term = Query(), False, False
    for match in _TOKEN.finditer(text):
        negated, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            either = after_term  # joins the terms either side; ignored after an exclusion
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        term = tuple(words(phrase if bare is None else bare))
        if not term or len(query.groups) + len(query.excluded) >= MAX_TERMS:
            either = after_term = False
            continue
        if negated:
            query.excluded.append(term)
        elif either:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        either, after_term = False, not negated
    return query


def _fts5(query: Query) -> str:
    def term(words):
        return '"' + " ".join(words) + '"'  # an FTS5 string: a word, or a phrase; words hold no quote

    def either(terms):
        return "(" + " OR ".join(term(t) for t in terms) + ")"

    expression = " AND ".join(either(group) for group in query.groups)
    if query.excluded:
        expression += " NOT " + either(query.excluded)
    return expression


def _tsquery(query: Query) -> str:
    def term(words):
        return " <-> ".join(f"'{word}'" for word in words)  # to_tsquery stems each; words hold no quote

    def either(terms):
        return "(" + " | ".join(term(t) for t in terms) + ")"

    expression = " & ".join(either(group) for group in query.groups)
    if query.excluded:
        expression += " & !" + either(query.excluded)
    return expression


def _matching(queryset, query: Query, ranked=True):
    """`queryset` (of incidents) filtered to those matching `query`'s groups, annotated with
    `search_rank` (higher: better) when `ranked`."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        tsquery = SearchQuery(_tsquery(query), search_type="raw", config="english")
        queryset = queryset.filter(search_document__vector=tsquery)
        if ranked:
            rank = Cast(SearchRank(F("search_document__vector"), tsquery), FloatField())
            queryset = queryset.annotate(search_rank=rank)
        return queryset
    queryset = queryset.filter(full_text__fts__match=_fts5(query))
    if ranked:
        weights = [Value(weight) for weight in FTS_WEIGHTS]
        bm25 = Func(F("full_text__fts"), *weights, function="bm25", output_field=FloatField())
        queryset = queryset.annotate(search_rank=bm25 * Value(-1.0))
    return queryset


# A search that finds more incidents than this is "broad": it is not ranked (ranking reads every
# match: 120 ms for a word in 60,000 incidents, growing with the archive), and the list is walked
# in its own order, each row asked whether it matches (`_probe`), stopping once a page is full; a
# narrow search is read from the index and ranked.
RANKED_AT_MOST = 1000


class _Unindexed(Func):
    """SQLite's unary plus: the same value, which the planner may not look up through an index."""

    template = "+%(expressions)s"


def _probe(query: Query, incident="pk"):
    """Whether the incident at `incident` (a path, e.g. "incident" from a citation) matches
    `query`'s groups, asked row by row as a list is walked in its own order.

    PostgreSQL: EXISTS, one look-up of that incident's document (its tsvector, in memory). SQLite:
    membership of the set of matching ids, which FTS5 lists once (a phrase's or a word's doclist:
    ~9 ms at 100,000 incidents); an FTS5 look-up per row costs ~0.1 ms, too much for a search
    whose rows are sparse. The unary plus keeps the planner walking the list's index instead of
    starting from the set and sorting it."""
    from django.db.models import Exists, IntegerField, OuterRef
    from django.db.models.lookups import In

    from .models.search import IncidentFullText, IncidentSearchDocument

    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        tsquery = SearchQuery(_tsquery(query), search_type="raw", config="english")
        return Exists(IncidentSearchDocument.objects.filter(incident=OuterRef(incident), vector=tsquery))
    matching = IncidentFullText.objects.filter(fts__match=_fts5(query)).values("incident_id")
    return In(_Unindexed(F(incident), output_field=IntegerField()), matching)


def is_broad(queryset, text) -> bool:
    """Whether `text` finds more than RANKED_AT_MOST incidents of `queryset` (counted up to there)."""
    query = parse(text)
    if not query.groups:
        return bool(query.excluded)  # only exclusions: everything but a few
    return _matching(queryset, query, ranked=False).order_by().values("pk")[: RANKED_AT_MOST + 1].count() > (
        RANKED_AT_MOST
    )


def condition(text, incident="pk"):
    """A condition for any queryset whose rows lead to an incident through `incident` (a path
    e.g. "incident" from a citation): that `text` finds it, asked row by row (`_probe`): for
    broad searches (is_broad), walked in the list's own order."""
    from django.db.models import Q

    query = parse(text)
    if query.groups:
        return _probe(query, incident)  # the query's exclusions are part of it
    if query.excluded:  # only exclusions: everything but what they find
        return ~_probe(Query(groups=[query.excluded]), incident)
    return Q(pk__in=[])


def search(queryset, text, broad=None):
    """The incidents of `queryset` that `text` finds, annotated with `search_rank`: ranked when
    the search is narrow, every row alike when it is broad (is_broad, unless the caller has
    judged it already: then the caller's order rules). Called by Incident.objects.search."""
    query = parse(text)
    if query.groups:
        if is_broad(queryset, text) if broad is None else broad:
            return queryset.filter(condition(text)).annotate(search_rank=_NO_RANK)
        return _matching(queryset, query)
    if query.excluded:  # only exclusions: everything but what they find
        excluded = _matching(queryset.model._base_manager.all(), Query(groups=[query.excluded]), ranked=False)
        return queryset.exclude(pk__in=excluded.values("pk")).annotate(search_rank=_NO_RANK)
    return queryset.none().annotate(search_rank=_NO_RANK)


# Every row alike; an expression, not a constant, which PostgreSQL refuses in ORDER BY.
_NO_RANK = Cast(Value(0.0), FloatField())


# The parts a snippet is taken from, in order of preference: the first that holds a match (the
# title is shown anyway; a list of names tells less than a sentence).
SNIPPET_PARTS = ("body", "quotes", "names")


def with_snippets(queryset, text):
    """The rows of a queryset that `search(…, text)` returned, as a list, each with `snippet`:
    a passage of its description, of a quote or of its names, the matched words in <mark>
    (safe HTML, all else escaped). For a page of results: computed for every row."""
    query = parse(text)
    if not query.groups:
        rows = list(queryset)
        for row in rows:
            row.snippet = ""
        return rows
    if connection.vendor == "sqlite":
        rows = list(queryset)
        found = _fts5_snippets(query, [row.pk for row in rows])
        for row in rows:
            row.snippet = _best(found.get(row.pk, [""]))
        return rows
    snippets = {f"search_snippet_{part}": _headline(part, query) for part in SNIPPET_PARTS}
    rows = list(queryset.annotate(**snippets))
    for row in rows:
        row.snippet = _best([getattr(row, name) or "" for name in snippets])
    return rows


def _best(raws):
    """The first raw snippet that marks a word found (else the first), highlighted."""
    return highlight(next((raw for raw in raws if START in raw), raws[0]))


def _fts5_snippets(query: Query, ids) -> dict:
    """SQLite: each incident's raw snippets (SNIPPET_PARTS), by id. snippet() needs the MATCH in
    its own query; asked by rowid, FTS5 looks each row up (`rowid IN` reaches its index, where a
    condition on the incidents' id would have it read every match first)."""
    if not ids:
        return {}
    from .models.search import FTS_TABLE

    columns = ("title", "names", "body", "quotes")
    parts = ", ".join(f"snippet({FTS_TABLE}, {columns.index(part)}, %s, %s, %s, %s)" for part in SNIPPET_PARTS)
    marks = [START, STOP, "…", SNIPPET_WORDS] * len(SNIPPET_PARTS)
    holes = ", ".join(["%s"] * len(ids))
    sql = f"SELECT rowid, {parts} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid IN ({holes})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*marks, _fts5(query), *ids])
        return {row[0]: [raw or "" for raw in row[1:]] for row in cursor.fetchall()}


def _headline(part, query):
    """PostgreSQL: ts_headline of the document's `part`, the matched words between the marks."""
    from django.contrib.postgres.search import SearchHeadline, SearchQuery

    return SearchHeadline(
        F(f"search_document__{part}"),
        SearchQuery(_tsquery(query), search_type="raw", config="english"),
        config="english",
        start_sel=START,
        stop_sel=STOP,
        max_words=SNIPPET_WORDS,
        min_words=SNIPPET_WORDS // 2,
    )


def highlight(raw: str):
    """A raw snippet as HTML: everything escaped, then the match marks made <mark> elements."""
    text = escape(" ".join((raw or "").split()))
    if text.count(START) != text.count(STOP):
        text = text.replace(START, "").replace(STOP, "")
    return mark_safe(text.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308 (escaped above)


# Keeping the index current -------------------------------------------------------------------


def _incident_of(sender, instance, origin=None, **kwargs):
    # Deleted along with its incident: the incident's document goes by the cascade.
    meta = getattr(getattr(origin, "model", type(origin)), "_meta", None)
    if meta is not None and meta.label == "archive.Incident":
        return
    reindex([instance.incident_id])


def _incident_saved(sender, instance, **kwargs):
    reindex([instance.pk])


def _citation_before(sender, instance, **kwargs):
    # A citation moved to another incident leaves the old one's document too.
    instance._search_before = (
        type(instance)._base_manager.filter(pk=instance.pk).values_list("incident_id", flat=True).first()
        if instance.pk
        else None
    )


def _citation_saved(sender, instance, **kwargs):
    reindex({instance.incident_id, getattr(instance, "_search_before", None)})


def _monuments_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        reindex([instance.pk])
    elif action == "pre_clear":
        instance._search_cleared = list(sender.objects.filter(monument_id=instance.pk).values_list("incident_id"))
    else:
        ids = pk_set or [pk for (pk,) in getattr(instance, "_search_cleared", [])]
        reindex(ids)


_RELATED = {"Monument": "monuments", "Site": "site", "Actor": "actor_links__actor"}


def _named_before(sender, instance, **kwargs):
    instance._search_names = (
        type(instance)._base_manager.filter(pk=instance.pk).values_list("name", "aliases").first()
        if instance.pk
        else None
    )


def _named_saved(sender, instance, created, **kwargs):
    """A site, monument or actor renamed, or given other names: its incidents' documents change."""
    if created or instance._search_names == (instance.name, instance.aliases):
        return
    from .models import Incident

    relation = _RELATED[sender.__name__]
    reindex(Incident._base_manager.filter(**{relation: instance}).values_list("pk", flat=True).distinct())


def _named_deleting(sender, instance, **kwargs):
    from .models import Incident

    relation = _RELATED[sender.__name__]
    instance._search_incidents = list(
        Incident._base_manager.filter(**{relation: instance}).values_list("pk", flat=True)
    )


def _named_deleted(sender, instance, **kwargs):
    reindex(getattr(instance, "_search_incidents", []))


def connect_signals():
    """Called once, when archive.models is loaded (archive/models/search.py)."""
    uid = "archive.search"
    post_save.connect(_incident_saved, sender="archive.Incident", dispatch_uid=f"{uid}.incident")
    for model in ("archive.IncidentActor", "archive.Citation"):
        post_delete.connect(_incident_of, sender=model, dispatch_uid=f"{uid}.{model}.delete")
    post_save.connect(_incident_of, sender="archive.IncidentActor", dispatch_uid=f"{uid}.actorlink.save")
    pre_save.connect(_citation_before, sender="archive.Citation", dispatch_uid=f"{uid}.citation.before")
    post_save.connect(_citation_saved, sender="archive.Citation", dispatch_uid=f"{uid}.citation.save")
    m2m_changed.connect(_monuments_changed, sender="archive.Incident_monuments", dispatch_uid=f"{uid}.monuments")
    for model in ("archive.Monument", "archive.Site", "archive.Actor"):
        pre_save.connect(_named_before, sender=model, dispatch_uid=f"{uid}.{model}.before")
        post_save.connect(_named_saved, sender=model, dispatch_uid=f"{uid}.{model}.save")
        pre_delete.connect(_named_deleting, sender=model, dispatch_uid=f"{uid}.{model}.deleting")
        post_delete.connect(_named_deleted, sender=model, dispatch_uid=f"{uid}.{model}.deleted")
