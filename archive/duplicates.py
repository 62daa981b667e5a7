"""Recognising a source the archive already holds: the same URL, the same article, the same wire copy.

Pure functions; the queries and the messages are the model layer's (archive.models.sources).

- `url_key(url)`: the form two addresses of one page share (scheme and host in lower case, no
  default port, no "www.", no fragment, no trailing slash, no tracking parameters, the remaining
  query parameters sorted). Identical keys are refused as duplicates.
- `sketch(text)`: a bottom-k MinHash sketch of a reading text — the SKETCH_SIZE smallest 63-bit
  hashes of its word SHINGLE_WORDS-grams (words lower-cased, so reflowed whitespace and line
  breaks change nothing). Stored per source (SourceShingle, indexed by hash), it selects the few
  candidates that share at least MIN_SHARED_HASHES of them with a new text: an index lookup,
  whatever the archive's size, instead of comparing with every text.
- `compare(a, b)`: the exact comparison of a candidate, run on those few only.

Why rapidfuzz rather than datasketch's MinHash LSH: the archive holds thousands, at most ~100,000
sources, so one indexed lookup of 16 hashes finds the candidates in the database itself (no LSH
index to keep in memory or in sync with the table), and the decision is then made on the texts
themselves — exact similarity (rapidfuzz's `fuzz.ratio`, the library quotes.py already uses) and
exact shingle containment, not an estimate from hash collisions. A curator sees a percentage that
is the real one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rapidfuzz import fuzz

SHINGLE_WORDS = 5
SKETCH_SIZE = 16
# A candidate shares at least this many of the sketch's hashes (one shared hash can be a
# coincidence of a common phrase; two are rare between different articles).
MIN_SHARED_HASHES = 2
# Candidates compared exactly, most shared hashes first.
MAX_CANDIDATES = 20
# The same article: whole reading texts this similar (rapidfuzz ratio, 0–100) …
SAME_TEXT_RATIO = 90.0
# … or the shorter text's shingles this much contained in the other's (a wire copy, an article
# printed with another headline, a paragraph trimmed or a credit added).
SHARED_BODY = 0.6

TRACKING_PARAMETERS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "ocid",
    "cmpid",
    "ito",
    "smid",
    "ref",
    "ref_src",
    "cid",
    "at_medium",
    "at_campaign",
}
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_WORDS = re.compile(r"\w+")


def url_key(url: str) -> str:
    """The form shared by two addresses of the same page ("" for no URL)."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port if parts.port is not None else None
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if scheme in _DEFAULT_PORTS:
        scheme = "https"  # the same page over http and https
    path = parts.path.rstrip("/")
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in TRACKING_PARAMETERS
    )
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def shingles(text: str) -> set[int]:
    tokens = words(text)
    if len(tokens) < SHINGLE_WORDS:
        return {_hash(" ".join(tokens))} if tokens else set()
    return {_hash(" ".join(tokens[i : i + SHINGLE_WORDS])) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def sketch(text: str) -> list[int]:
    """The SKETCH_SIZE smallest shingle hashes of `text` (a reading text), ascending."""
    return sorted(shingles(text))[:SKETCH_SIZE]


def _hash(shingle: str) -> int:
    # 63 bits: fits a signed 64-bit integer column on every database.
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big") >> 1


@dataclass(frozen=True)
class Comparison:
    ratio: float  # similarity of the whole reading texts, 0–100
    shared: float  # share of the shorter text's shingles found in the other, 0–1

    @property
    def similar(self) -> bool:
        return self.ratio >= SAME_TEXT_RATIO or self.shared >= SHARED_BODY


def compare(text: str, other: str) -> Comparison:
    """How much of two reading texts is the same (spacing and case ignored)."""
    a, b = " ".join(words(text)), " ".join(words(other))
    ratio = fuzz.ratio(a, b)
    mine, theirs = shingles(text), shingles(other)
    shorter = min(len(mine), len(theirs))
    shared = len(mine & theirs) / shorter if shorter else 0.0
    return Comparison(ratio=ratio, shared=shared)


def same_outlet(publisher: str, other: str) -> bool:
    """Two publishers are one outlet when named alike (or when either is not given)."""
    a, b = " ".join(words(publisher or "")), " ".join(words(other or ""))
    return not a or not b or a == b
