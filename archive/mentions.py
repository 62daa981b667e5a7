"""Finding the monuments, sites and actors a source text names, with the sentence around each.

This is how a curator turns a new article into incidents: the source's admin page lists every
mention, sentence by sentence, with a link that opens a new incident prefilled from it.

Matching is by whole words, case-insensitive (except short all-capital names such as "IS", which
would otherwise match the word "is"), tolerant of curly vs straight apostrophes, of hyphens vs
spaces and of line breaks inside a name. Where names overlap, the longest wins, so "Palmyra
museum" is one mention of the museum, not also one of the site Palmyra, and "Temple of Baal
Shamin" is not counted again as "Baal Shamin".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MONUMENT, SITE, ACTOR = "monument", "site", "actor"
KINDS = (MONUMENT, SITE, ACTOR)

_APOSTROPHES = "'\u2018\u2019\u02bc`\u00b4"
_WORD_GAP = r"[\s\-\u2010\u2011\u2012\u2013]+"
# Names written in capitals and this short are acronyms: "IS", "ISIS", "SAA", "YPG".
_ACRONYM_MAX = 5

# A sentence ends at . ! ? or … (with closing quotes or brackets) before whitespace and an
# opening capital, digit, quote or Arabic letter; a line break always ends one.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u0600-\u06ff])")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "capt", "sgt", "maj", "prof", "jr", "sr",
    "no", "mt", "vs", "etc", "u.s", "u.n", "e.g", "i.e", "jan", "feb", "aug", "sept", "oct", "nov", "dec",
}  # fmt: skip


@dataclass(frozen=True)
class Mention:
    kind: str  # MONUMENT, SITE or ACTOR
    target: object  # the Monument, Site or Actor
    name: str  # the name or alias that matched, as the record spells it
    start: int  # offsets of the matched words in the text
    end: int
    sentence_start: int
    sentence_end: int


@dataclass
class Passage:
    """One sentence naming a target, with every place it names it (offsets into the text)."""

    start: int
    end: int
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    repeats: int = 1  # the same sentence again elsewhere (repeated photo captions)


@dataclass
class TargetMentions:
    kind: str
    target: object
    names: list[str]
    passages: list[Passage]

    @property
    def count(self) -> int:
        return sum(len(passage.spans) * passage.repeats for passage in self.passages)


def name_pattern(name: str) -> re.Pattern | None:
    """A regex for `name` as whole words; None for a name with no word in it."""
    words = re.split(r"[\s\-\u2010\u2011\u2012\u2013]+", name.strip())
    words = [word for word in words if word]
    if not words or not any(re.search(r"\w", word) for word in words):
        return None
    parts = []
    for word in words:
        parts.append("".join(f"[{_APOSTROPHES}]" if char in _APOSTROPHES else re.escape(char) for char in word))
    body = _WORD_GAP.join(parts)
    letters = re.sub(r"\W", "", name)
    acronym = letters.isupper() and len(letters) <= _ACRONYM_MAX
    return re.compile(rf"(?<!\w){body}(?!\w)", 0 if acronym else re.IGNORECASE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, without its surrounding whitespace. Lines never join."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for end_mark in _SENTENCE_END.finditer(line.group()):
            stop = line.start() + end_mark.start()
            word = re.search(r"([\w.]+)$", text[start:stop])
            if word and (word.group(1).lower() in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", word.group(1))):
                continue  # "Mr. Kerry", "U.S. forces", "John F. Kennedy"
            spans.append((start, line.start() + end_mark.end()))
            start = line.start() + end_mark.end()
        spans.append((start, line.end()))
    trimmed = []
    for start, end in spans:
        chunk = text[start:end]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return trimmed


def find_mentions(text: str, targets: Iterable[tuple[str, object, list[str]]]) -> list[Mention]:
    """Every mention in `text` of the given targets, each `(kind, object, names)`, in text order."""
    candidates = []
    for order, (kind, target, names) in enumerate(targets):
        for name in names:
            pattern = name_pattern(name)
            if pattern is None:
                continue
            for match in pattern.finditer(text):
                candidates.append((match.start(), match.end(), KINDS.index(kind), order, kind, target, name))
    kept = _resolve_overlaps(candidates)

    sentences = sentence_spans(text)
    starts = [start for start, _ in sentences]
    mentions = []
    for start, end, kind, name, target in sorted(kept, key=lambda m: (m[0], m[1], KINDS.index(m[2]))):
        index = max(bisect.bisect_right(starts, start) - 1, 0)
        sentence_start, sentence_end = sentences[index] if sentences else (start, end)
        mentions.append(
            Mention(
                kind=kind,
                target=target,
                name=name,
                start=start,
                end=end,
                sentence_start=min(sentence_start, start),
                sentence_end=max(sentence_end, end),
            )
        )
    return mentions


def _resolve_overlaps(candidates):
    """Keep one reading of each stretch of text.

    A name inside a longer one gives way to it ("Palmyra" inside "Palmyra museum"). Where two
    names only partly overlap, the one ending later wins: names are right-headed, so in "Temple of
    Baal Shamin" the "Temple of Baal" (Bel's alias) gives way to "Baal Shamin". Two targets sharing
    the very same name at the same place are both kept: the text does not say which one it means.
    """
    kept = []
    for start, end, _, _, kind, target, name in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[0], c[2], c[3])):
        if any(k[0] == start and k[1] == end and k[4] is target for k in kept):
            continue  # the same target under two of its names
        clashes = [k for k in kept if start < k[1] and k[0] < end and (k[0], k[1]) != (start, end)]
        if any(k[0] <= start and end <= k[1] for k in clashes):
            continue  # inside a longer name
        if clashes and not all(end > k[1] for k in clashes):
            continue
        kept = [k for k in kept if k not in clashes]
        kept.append((start, end, kind, name, target))
    return kept


def group_mentions(text: str, mentions: list[Mention]) -> list[TargetMentions]:
    """Mentions grouped by target (monuments, then sites, then actors; each in order of first
    mention), sentence by sentence, identical sentences counted once."""
    groups: dict[tuple[str, int], TargetMentions] = {}
    for mention in mentions:
        key = (mention.kind, id(mention.target))
        group = groups.get(key)
        if group is None:
            group = groups[key] = TargetMentions(kind=mention.kind, target=mention.target, names=[], passages=[])
        if mention.name not in group.names:
            group.names.append(mention.name)
        passage = next(
            (p for p in group.passages if (p.start, p.end) == (mention.sentence_start, mention.sentence_end)), None
        )
        if passage is None:
            passage = Passage(
                start=mention.sentence_start,
                end=mention.sentence_end,
                text=text[mention.sentence_start : mention.sentence_end],
            )
            group.passages.append(passage)
        passage.spans.append((mention.start, mention.end))

    for group in groups.values():
        unique: dict[str, Passage] = {}
        for passage in group.passages:
            folded = " ".join(passage.text.split()).casefold()
            if folded in unique:
                unique[folded].repeats += 1
            else:
                unique[folded] = passage
        group.passages = list(unique.values())
    return sorted(groups.values(), key=lambda g: (KINDS.index(g.kind), g.passages[0].start))


def mentions_in(text: str, *, monuments, sites, actors) -> list[TargetMentions]:
    """Group the mentions of these monuments, sites and actors in `text`."""
    targets = [(MONUMENT, monument, monument.names) for monument in monuments]
    targets += [(SITE, site, [site.name, *site.alias_list]) for site in sites]
    targets += [(ACTOR, actor, actor.names) for actor in actors]
    return group_mentions(text, find_mentions(text, targets))


def suggest_kind(sentence: str) -> str:
    """The incident kind a sentence's verbs suggest, or "" when nothing clear does."""
    folded = sentence.casefold()
    cues = [
        (
            "destruction",
            r"\b(destr[ou]\w*|demolish\w*|(?:blow(?:s|ing|n)?|blew) (?:\w+ )?up|dynamit\w*|razed?|razing"
            r"|flatten\w*|levell?ed)\b",
        ),
        ("looting", r"\b(loot\w*|plunder\w*|smuggl\w*|stole|stolen)\b"),
        ("killing", r"\b(behead\w*|execut\w*|kill\w*|shot dead|murder\w*|massacre\w*)\b"),
        ("damage", r"\b(damag\w*|shell-?hit|scarred|hit by)\b"),
        ("attack", r"\b(air ?strikes?|bomb\w*|shell\w*|raids?|missiles?|artillery)\b"),
        ("control_change", r"\b(recaptur\w*|retak\w*|retook|seiz\w*|captur\w*|fell to|overr[au]n|took control)\b"),
    ]
    for kind, pattern in cues:
        if re.search(pattern, folded):
            return kind
    return ""
