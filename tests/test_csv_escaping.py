"""Spreadsheet formula escaping: every export is safe to open, and every import gives back the text."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.importexport.csvfile import csv_lines, read_csv
from archive.importexport.escaping import FORMULA_TRIGGERS, escape_cell, unescape_cell
from archive.importexport.formats import ArchiveCSV

# Text made of what evidence holds and what attacks use: triggers, apostrophes, quotes, line ends.
tricky = st.text(
    alphabet=st.sampled_from(
        list(FORMULA_TRIGGERS) + ["'", '"', ",", "\n", "\r", "a", "1", ".", "\u00a0", "\u201c", "\u062a"]
    ),
    max_size=12,
) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)  # NUL: refused as binary; no lone surrogates


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("'=already", "''=already"),
        ("''+x", "'''+x"),
        ("-33.5", "-33.5"),  # a plain negative number is a number, not a formula
        ("-", "'-"),
        ("'quoted", "'quoted"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_escape_cell(stored, written):
    assert escape_cell(stored) == written
    assert unescape_cell(written) == stored


@given(tricky)
def test_escaping_is_reversible(value):
    assert unescape_cell(escape_cell(value)) == value


@given(tricky)
def test_an_escaped_cell_never_starts_a_formula(value):
    escaped = escape_cell(value)
    assert not escaped.startswith(tuple(FORMULA_TRIGGERS)) or escaped.lstrip("-").replace(".", "", 1).isdigit()


@given(st.lists(st.lists(tricky, min_size=3, max_size=3), max_size=5))
def test_a_csv_file_gives_back_exactly_what_was_written(rows):
    data = "".join(csv_lines(["a", "b", "c"], rows)).encode("utf-8")
    table = read_csv("t.csv", data)
    assert [cells for _line, cells in table.rows] == [row for row in rows if any(row)]


def test_the_written_file_is_escaped_where_a_spreadsheet_would_look():
    data = "".join(csv_lines(["slug", "title"], [["x", '=HYPERLINK("http://evil")'], ["y", "-1+1"]]))
    assert data == 'slug,title\r\nx,"\'=HYPERLINK(""http://evil"")"\r\ny,\'-1+1\r\n'


def test_the_admin_format_escapes_on_export_and_unescapes_on_import():
    import tablib

    dataset = tablib.Dataset(["a", "=cmd|' /C calc'!A0", "line\r\nbreak"], headers=["slug", "title", "description"])
    exported = ArchiveCSV().export_data(dataset)
    assert exported.startswith(b"slug,title,description\r\na,'=cmd")
    imported = ArchiveCSV().create_dataset(exported)
    assert imported.archive_table.rows == [(2, ["a", "=cmd|' /C calc'!A0", "line\r\nbreak"])]
