"""The one rule for every received text that enters the archive.

A source's received text is evidence: its SHA-256 (`Source.sha256`) and the character offsets
of every citation (`Citation.position_start`/`position_end`) refer to the text *after* this
normalisation, and to nothing else. It is applied once, when a new text (or a changed, uncited
one) comes in — the admin's paste, the CSV import, `import_seeds` — never to a stored text: a
cited text never changes (Source.guard_received_text and a database trigger).

The rule:
- line endings become LF: CRLF and a lone CR are each one "\\n" (browsers post textareas with
  CRLF; spreadsheets re-save CSV cells with CRLF);
- Unicode NFC: "é" typed as e + combining accent and "é" as one code point are the same text.

Nothing else: no trimming (a trailing newline is kept, as in the file), no change of spacing,
quotes or dashes — what was received is what is kept.
"""

from __future__ import annotations

import unicodedata


def normalise_received_text(text: str) -> str:
    """`text` with LF line endings, in Unicode NFC; otherwise unchanged."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def is_normalised(text: str) -> bool:
    return normalise_received_text(text) == text
