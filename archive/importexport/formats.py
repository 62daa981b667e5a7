"""The admin's CSV format for django-import-export: the archive's own reader and writer.

django-import-export's CSV format decodes in text mode (which turns a received text's CRLF into
LF), only strips a leading `=` on export, and reports unreadable files by exception class name.
This one reads the upload's bytes with archive.importexport.csvfile — size limit, UTF-8, strict
CSV, physical line numbers — and writes with the same formula escaping as every other export.
The admin classes name it (archive.admin.mixins.CurationAdminMixin.formats).
"""

import tablib
from import_export.formats.base_formats import CSV

from .csvfile import CSVFileError, csv_lines, read_csv


class ArchiveCSV(CSV):
    def is_binary(self):
        # Binary, so that the admin hands over the upload's bytes untouched.
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream):
        """A tablib Dataset for django-import-export, carrying the parsed table (or the one problem
        that makes the file unreadable) for ArchiveResource.import_data."""
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        dataset = tablib.Dataset()
        try:
            table = read_csv("the file", in_stream)
        except CSVFileError as error:
            # A row, so that the admin does not answer "no valid data" instead of the reason.
            dataset.headers = ["problem"]
            dataset.append([error.message])
            dataset.archive_problem = error
            return dataset
        width = len(table.header)
        dataset.headers = table.header
        for _line, cells in table.rows:
            dataset.append((cells + [""] * width)[:width])
        dataset.archive_table = table
        return dataset

    def export_data(self, dataset, **kwargs):
        return "".join(csv_lines(dataset.headers or [], dataset)).encode("utf-8")
