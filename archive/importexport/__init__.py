"""CSV import and export of the whole archive.

- `tables`: each model's CSV columns and natural key (one definition for both directions);
- `escaping` and `csvfile`: formula escaping, and reading and writing the files;
- `engine` (with `rules`): the bulk import, all or nothing;
- `directory`: a whole archive as a folder of CSV files plus a manifest (the commands);
- `resources` and `formats`: the admin's import and export buttons (django-import-export).

docs/csv-format.md describes the format for the people who write the files.
"""
