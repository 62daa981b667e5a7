"""Derive a clean reading text from a web article's received text.

The received text is evidence and is never altered; this only produces the copy people read:
web boilerplate removed (registration and paywall forms, sharing and comment prompts,
"READ SOME MORE", "Topics:" lines) and repeated lines such as photo captions printed twice.
"""

from __future__ import annotations

import re

# Lines that are page furniture, never reporting (compared case-insensitively, stripped).
FURNITURE_LINES = {
    "read some more",
    "read more",
    "share this post",
    "share this article",
    "send this to a friend",
    "leave a reply",
    "scroll to top",
    "updated",
    "first posted",
    "comments",
    "advertisement",
}
FURNITURE_PREFIXES = ("topics:",)

# Where a paywall or registration form begins, everything after it is the form.
FORM_STARTS = (
    "register for free to continue reading",
    "join our new commenting forum",
    "subscribe to continue reading",
)

_BLANK_RUNS = re.compile(r"\n{3,}")


def reading_text(received: str) -> str:
    text = received.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")

    kept: list[str] = []
    previous = None
    for line in lines:
        stripped = line.strip()
        lowered = stripped.lower()
        if lowered in FORM_STARTS:
            break
        if lowered in FURNITURE_LINES or lowered.startswith(FURNITURE_PREFIXES):
            continue
        if stripped and _same_line(stripped, previous):
            continue
        if stripped:
            previous = stripped
        kept.append(line.rstrip())

    cleaned = "\n".join(kept)
    return _BLANK_RUNS.sub("\n\n", cleaned).strip() + "\n"


def _same_line(line: str, previous: str | None) -> bool:
    """A repeat of the previous non-blank line (captions and headlines printed twice),
    ignoring differences in spacing."""
    if previous is None:
        return False
    return " ".join(line.split()) == " ".join(previous.split())
