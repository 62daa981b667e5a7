"""Reading and writing the archive's CSV files: UTF-8, a header row, RFC 4180 quoting.

Writing escapes spreadsheet formulas and reading reverses it (archive.importexport.escaping), so
every path — admin, commands, public downloads — goes through `csv_lines` and `read_csv` (an
upload, in memory, within CSV_IMPORT_MAX_BYTES) or `CSVFile` (a file on disk, of any size, read row
by row). Reading never raises anything but `CSVFileError`, whose message is one clear sentence
naming the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .escaping import escape_cell, unescape_cell

# A received text is one cell; the csv module refuses cells over 128 KiB by default.
csv.field_size_limit(sys.maxsize)


class CSVFileError(ValueError):
    """A file that cannot be read as the archive's CSV at all (one message for the whole file)."""

    def __init__(self, file: str, message: str, line: int | None = None):
        self.file, self.message, self.line = file, message, line
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass
class CSVTable:
    """A parsed CSV file: its header and its rows, each with the line it starts on."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


class CSVFile:
    """A CSV file on disk, read row by row each time `rows` is iterated: memory does not grow
    with the file. `scan()` first checks the whole file once (UTF-8, not binary, not empty) and
    returns its SHA-256, so that a file is refused before any of its rows is planned."""

    BLOCK = 1 << 20

    def __init__(self, name: str, path: Path, count: int | None = None):
        self.name, self.path, self.count = name, Path(path), count
        self.header: list[str] = []

    def scan(self) -> str:
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        offset, blank = 0, True
        with self.path.open("rb") as stream:
            while block := stream.read(self.BLOCK):
                digest.update(block)
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as error:
                    raise CSVFileError(self.name, _not_utf8(offset + error.start)) from None
                if "\x00" in text:
                    raise CSVFileError(self.name, BINARY)
                blank = blank and not text.strip()
                offset += len(block)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as error:
                raise CSVFileError(self.name, _not_utf8(offset + error.start)) from None
        if blank:
            raise CSVFileError(self.name, EMPTY)
        self.header = next(self._records(), (1, []))[1]
        return digest.hexdigest()

    @property
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        records = self._records()
        next(records, None)
        for line, cells in records:
            yield line, [unescape_cell(cell) for cell in cells]

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        with self.path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream, strict=True)
            try:
                for line, cells in _records(reader):
                    yield line, ([cell.strip() for cell in cells] if line == 1 else cells)
            except csv.Error as error:
                raise CSVFileError(self.name, f"not valid CSV ({error}).", line=reader.line_num) from None


EMPTY = "the file is empty; it needs a header row."
BINARY = "not a CSV file: it holds binary data (a spreadsheet? Save it as CSV UTF-8)."


def _not_utf8(byte: int) -> str:
    return f"not UTF-8 text (byte {byte} cannot be read); save the file as “CSV UTF-8”."


class _Line:
    """A file-like object that hands back what the csv writer wrote to it."""

    def __init__(self):
        self.value = ""

    def write(self, text):
        self.value = text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[str]]) -> Iterator[str]:
    """The header and each row as one CSV record (with its CRLF), every cell escaped against
    formulas. A generator, so that a download streams row by row."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow([escape_cell(cell) for cell in header])
    yield line.value
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
        yield line.value


def write_csv(stream, header: Iterable[str], rows: Iterable[Iterable[str]]) -> int:
    """Write a header and rows to a text stream; return the number of rows."""
    count = -1
    for count, record in enumerate(csv_lines(header, rows)):  # noqa: B007
        stream.write(record)
    return count


def max_bytes() -> int:
    return settings.CSV_IMPORT_MAX_BYTES


def read_csv(name: str, data: bytes) -> CSVTable:
    """Parse `data` (the file's bytes) into a CSVTable, or raise CSVFileError."""
    limit = max_bytes()
    if len(data) > limit:
        raise CSVFileError(
            name,
            f"the file is {_size(len(data))}, over the import limit of {_size(limit)} "
            "(CSV_IMPORT_MAX_BYTES); split it or ask an administrator to raise the limit.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CSVFileError(name, _not_utf8(error.start)) from None
    if not text.strip():
        raise CSVFileError(name, EMPTY)
    if "\x00" in text:
        raise CSVFileError(name, BINARY)

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: Iterator[tuple[int, list[str]]] = _records(reader)
    try:
        first = next(records, None)
        if first is None:
            raise CSVFileError(name, EMPTY)
        table = CSVTable(name=name, header=[cell.strip() for cell in first[1]])
        for line, cells in records:
            table.rows.append((line, [unescape_cell(cell) for cell in cells]))
    except csv.Error as error:
        raise CSVFileError(name, f"not valid CSV ({error}).", line=reader.line_num) from None
    return table


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on (a quoted cell may span several lines)."""
    start = 1
    for cells in reader:
        if cells and any(cells):
            yield start, cells
        start = reader.line_num + 1


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
