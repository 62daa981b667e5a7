"""Quote anchoring: tolerant matching, exact offsets, and a helpful message when a quote is absent."""

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from archive.quotes import QuoteNotFound, closest_passage, describe_differences, locate, normalize

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
TEXTS = [path.read_text(encoding="utf-8") for path in SEEDS]

STRAIGHTEN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def mangle_spacing(text, pattern):
    """Replace every whitespace run with a different run, chosen by `pattern`."""
    runs = [" ", "  ", "\n", " \t ", "\u00a0"]
    out, i = [], 0
    for word in text.split():
        out.append(word)
        out.append(runs[pattern[i % len(pattern)] % len(runs)])
        i += 1
    return "".join(out[:-1])


@settings(max_examples=200, deadline=None)
@given(
    text_index=st.integers(0, len(TEXTS) - 1),
    start=st.integers(0, 10_000),
    length=st.integers(12, 300),
    pattern=st.lists(st.integers(0, 4), min_size=1, max_size=5),
    straighten=st.booleans(),
)
def test_a_mangled_passage_of_a_seed_is_found_at_its_offsets(text_index, start, length, pattern, straighten):
    text = TEXTS[text_index]
    start %= len(text)
    passage = text[start : start + length].strip()
    assume(len(passage) >= 12 and passage.split())
    start = text.index(passage, start)
    pasted = mangle_spacing(passage, pattern)
    if straighten:
        pasted = pasted.translate(STRAIGHTEN)
    anchor = locate(text, pasted, near=start)
    assert text[anchor.start : anchor.end] == anchor.exact
    assert normalize(anchor.exact)[0] == normalize(passage)[0]
    assert anchor.start == start or text.count(passage) > 1 or normalize(text)[0].count(normalize(passage)[0]) > 1


@settings(max_examples=200, deadline=None)
@given(quote=st.text(max_size=200))
def test_any_input_either_anchors_exactly_or_says_why(quote):
    text = TEXTS[0]
    try:
        anchor = locate(text, quote)
    except QuoteNotFound as error:
        assert error.message()
    else:
        assert text[anchor.start : anchor.end] == anchor.exact
        assert anchor.prefix == text[max(0, anchor.start - 32) : anchor.start]


def test_closest_passage_points_at_the_typo():
    text = TEXTS[0]
    with pytest.raises(QuoteNotFound) as caught:
        locate(text, "destroying the ancient Temple of Bell and the smaller Temple of Baal Shamin")
    closest = caught.value.closest
    assert closest is not None
    assert "Temple of Bel and the smaller Temple of Baal Shamin" in closest.text
    assert text[closest.start : closest.end] == closest.text
    assert "the quote has “Bell” where the source has “Bel”" in caught.value.message()


def test_nothing_alike_says_so():
    with pytest.raises(QuoteNotFound) as caught:
        locate("Palmyra", "zzzzzzzzzzzzzzzzzzzzzz qqqqqq")
    assert caught.value.closest is None
    assert "nothing in it comes close" in caught.value.message()


def test_empty_quote_is_refused():
    with pytest.raises(QuoteNotFound, match="empty"):
        locate("Palmyra", "   ")


def test_differences_are_phrased_for_a_curator():
    assert describe_differences("the old temple fell", "the temple fell down") == [
        "the quote adds “old”, which the source does not have",
        "the source has “down”, which the quote leaves out",
    ]


def test_closest_passage_of_empty_text_is_none():
    assert closest_passage("", "anything") is None


def test_closest_passage_is_whole_words_so_the_difference_is_the_changed_word():
    text = TEXTS[0]
    quote = "destroying the ancient Temple of Bel and the smaller Temple of Baal Shamin last month"
    with pytest.raises(QuoteNotFound) as caught:
        locate(text, quote)
    closest = caught.value.closest
    assert closest.text.startswith("destroying") or closest.text.split()[0] in text.split()
    assert closest.text.endswith("last year,") or closest.text.endswith("last year")
    assert closest.differences[0].startswith("the quote has “month” where the source has “year")
