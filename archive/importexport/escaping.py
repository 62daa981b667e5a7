"""Spreadsheet formula escaping: the one place that decides how a cell is written and read back.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula. Every CSV this archive writes (admin export, `export_archive`, public downloads) passes
its cells through `escape_cell`, and every CSV it reads passes them through `unescape_cell`.

The rule is reversible, so that evidence (received texts, quotes) round-trips byte for byte:
- a cell that starts with a trigger, possibly after apostrophes, gets one more leading `'`
  (`=1+1` → `'=1+1`, and a stored `'=1+1` → `''=1+1`);
- on reading, one leading `'` is removed when apostrophes followed by a trigger start the cell.
A plain negative number (`-33.5`) is a number, not a formula, and is left alone.
"""

import re

FORMULA_TRIGGERS = "=+-@\t\r"

_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


def escape_cell(value: str) -> str:
    """The cell as written to a CSV file: safe to open in a spreadsheet."""
    if _NEEDS_ESCAPE.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The stored value of a cell read from a CSV file (the inverse of `escape_cell`)."""
    if _ESCAPED.match(value):
        return value[1:]
    return value
