"""Anchoring quotes in source texts, the way the W3C Web Annotation model does it.

A citation stores the exact passage (TextQuoteSelector `exact`) with a little context before and
after it (`prefix`, `suffix`) and its character offsets in the received text
(TextPositionSelector `start`, `end`). Curators paste passages from browsers and word processors,
so matching tolerates curly vs straight quotes and runs of whitespace; what is stored is always the
source's own text at the stored offsets.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

CONTEXT_CHARS = 32

# One character for one character, so that offsets survive the mapping.
_EQUIVALENT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QuoteAnchor:
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str

    def as_selectors(self) -> list[dict]:
        """The anchor as W3C Web Annotation selectors."""
        return [
            {"type": "TextQuoteSelector", "exact": self.exact, "prefix": self.prefix, "suffix": self.suffix},
            {"type": "TextPositionSelector", "start": self.start, "end": self.end},
        ]


@dataclass(frozen=True)
class ClosestPassage:
    start: int
    end: int
    text: str
    score: float
    differences: list[str]


class QuoteNotFound(ValueError):
    def __init__(self, quote: str, closest: ClosestPassage | None):
        self.quote = quote
        self.closest = closest
        super().__init__(self.message())

    def message(self) -> str:
        if not self.quote.strip():
            return "The quote is empty."
        if self.closest is None:
            return "The quote does not occur in the source text, and nothing in it comes close."
        diffs = "; ".join(self.closest.differences[:5]) or "differences in characters the check does not forgive"
        return (
            "The quote does not occur in the source text. "
            f"Closest passage (characters {self.closest.start}–{self.closest.end}, "
            f"{self.closest.score:.0f}% alike): “{self.closest.text}”. Differences: {diffs}."
        )


def normalize(text: str) -> tuple[str, list[int]]:
    """Fold quote marks and whitespace runs; return the folded text and, per folded character,
    the index of the original character it stands for."""
    folded = text.translate(_EQUIVALENT)
    chars: list[str] = []
    index: list[int] = []
    in_space = False
    for position, char in enumerate(folded):
        if char.isspace():
            if not in_space:
                chars.append(" ")
                index.append(position)
            in_space = True
        else:
            chars.append(char)
            index.append(position)
            in_space = False
    return "".join(chars), index


def _normalized_quote(quote: str) -> str:
    return _WHITESPACE.sub(" ", quote.translate(_EQUIVALENT)).strip()


def _occurrences(haystack: str, needle: str) -> list[int]:
    found = []
    position = haystack.find(needle)
    while position != -1:
        found.append(position)
        position = haystack.find(needle, position + 1)
    return found


def anchor_at(text: str, start: int, end: int) -> QuoteAnchor:
    return QuoteAnchor(
        start=start,
        end=end,
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
    )


def locate(text: str, quote: str, *, prefix: str = "", suffix: str = "", near: int | None = None) -> QuoteAnchor:
    """Find `quote` in `text`; raise QuoteNotFound (with the closest passage) when it is absent.

    When the quote occurs more than once, the occurrence whose context best matches `prefix` and
    `suffix` wins, then the one nearest `near`, then the first.
    """
    needle = _normalized_quote(quote)
    if not needle:
        raise QuoteNotFound(quote, None)
    haystack, index = normalize(text)
    hits = _occurrences(haystack, needle)
    if not hits:
        raise QuoteNotFound(quote, closest_passage(text, quote))

    def span(hit: int) -> tuple[int, int]:
        return index[hit], index[hit + len(needle) - 1] + 1

    def fit(hit: int) -> tuple[float, int, int]:
        start, end = span(hit)
        context = 0.0
        if prefix:
            context += fuzz.ratio(
                _normalized_quote(prefix), _normalized_quote(text[max(0, start - len(prefix)) : start])
            )
        if suffix:
            context += fuzz.ratio(_normalized_quote(suffix), _normalized_quote(text[end : end + len(suffix)]))
        distance = abs(start - near) if near is not None else 0
        return (-context, distance, hit)

    best = min(hits, key=fit)
    start, end = span(best)
    return anchor_at(text, start, end)


def closest_passage(text: str, quote: str) -> ClosestPassage | None:
    """The passage of `text` most like `quote`, and how the two differ, word by word."""
    needle = _normalized_quote(quote)
    haystack, index = normalize(text)
    if not needle or not haystack:
        return None
    alignment = fuzz.partial_ratio_alignment(needle, haystack)
    if alignment is None or alignment.score < 40:
        return None
    # The alignment may cut words in two; widen it to whole words so the differences read well.
    first, last = alignment.dest_start, max(alignment.dest_end, alignment.dest_start + 1)
    while first > 0 and not haystack[first - 1].isspace():
        first -= 1
    while last < len(haystack) and not haystack[last].isspace():
        last += 1
    while first < last and haystack[first].isspace():
        first += 1
    first, last = _trim_to_quote(needle, haystack, first, last)
    start = index[first]
    end = index[last - 1] + 1
    passage = text[start:end]
    return ClosestPassage(
        start=start,
        end=end,
        text=passage,
        score=alignment.score,
        differences=describe_differences(needle, _normalized_quote(passage)),
    )


def _trim_to_quote(needle: str, haystack: str, first: int, last: int) -> tuple[int, int]:
    """Drop whole words at either end of haystack[first:last] that the quote does not have."""
    words = [(match.start() + first, match.end() + first) for match in re.finditer(r"\S+", haystack[first:last])]
    source = [haystack[a:b] for a, b in words]
    opcodes = difflib.SequenceMatcher(a=needle.split(), b=source, autojunk=False).get_opcodes()
    keep_from, keep_to = 0, len(words)
    if opcodes and opcodes[0][0] == "insert":
        keep_from = opcodes[0][4]
    if opcodes and opcodes[-1][0] == "insert":
        keep_to = opcodes[-1][3]
    if keep_from >= keep_to:
        return first, last
    return words[keep_from][0], words[keep_to - 1][1]


def describe_differences(quote: str, passage: str) -> list[str]:
    """Word-level differences, phrased for a curator: what the quote has where the source has what."""
    quoted, source = quote.split(), passage.split()
    differences = []
    # Punctuation at a word's edge (a comma the quote stops before) is not worth reporting.
    matcher = difflib.SequenceMatcher(a=_bare(quoted), b=_bare(source), autojunk=False)
    for operation, q1, q2, s1, s2 in matcher.get_opcodes():
        ours, theirs = " ".join(quoted[q1:q2]), " ".join(source[s1:s2])
        if operation == "replace":
            differences.append(f"the quote has “{ours}” where the source has “{theirs}”")
        elif operation == "delete":
            differences.append(f"the quote adds “{ours}”, which the source does not have")
        elif operation == "insert":
            differences.append(f"the source has “{theirs}”, which the quote leaves out")
    return differences


def _bare(words: list[str]) -> list[str]:
    return [word.strip(_EDGE_PUNCTUATION) or word for word in words]


_EDGE_PUNCTUATION = ".,;:!?\"'()[]"
