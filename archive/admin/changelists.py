"""Admin changelists whose cost does not grow with the archive.

Django's changelist, left to itself, does four things per request that read every row: it counts
the list (`COUNT(*)`, twice: filtered and unfiltered), it selects the page with `OFFSET`, which
walks every skipped row (and evaluates every correlated subquery in the select list for each of
them), it draws the date hierarchy (a `DISTINCT` truncation of every row's date), and it offers
"Show all". Here:

- `CappedPaginator` counts exactly only up to `COUNT_CAP` rows (a `COUNT(*)` over a `LIMIT`ed
  subquery); beyond that, PostgreSQL's planner estimate is shown as "about N" (`pg_class.reltuples`
  for the whole table, `EXPLAIN` for a filtered list), and where there is none (SQLite) "more
  than N". The list is never counted unfiltered a second time (`show_full_result_count = False`).
- The pages in the second half are read from the end, in the reverse order, so that the last page
  costs what the first costs. When the count is an estimate, the last page shows the last
  `per_page` rows and the pages just before it are numbered from the estimate.
- A page's rows are found by key first (`rows_by_key`), then fetched with what they show.
- `PageCountsChangeList` leaves per-row counts out of the list's query and asks for them for the
  page's rows only, in one grouped query (the admin's `annotate_page(rows)`).
"""

import json

from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Page, Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 1000


class RowCount(int):
    """A changelist's row count: exact, an estimate ("about"), or a floor ("more than")."""

    def __new__(cls, value, kind="exact"):
        count = super().__new__(cls, value)
        count.kind = kind
        return count

    @property
    def is_exact(self):
        return self.kind == "exact"

    def describe(self):
        if self.kind == "estimate":
            return f"about {self:,}"
        if self.kind == "floor":
            return f"more than {COUNT_CAP:,}"
        return f"{self:,}"


def planner_estimate(queryset):
    """PostgreSQL's estimate of how many rows `queryset` holds, without reading them, or None
    (another database, or a table never analysed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.order_by().values("pk").query
    with connection.cursor() as cursor:
        if not query.where:
            table = queryset.model._meta.db_table
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            row = cursor.fetchone()
            return row[0] if row and row[0] >= 0 else None
        sql, params = query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])


class CappedPaginator(Paginator):
    """A paginator whose count and pages cost the same at a thousand rows and at a million."""

    @cached_property
    def count(self):
        capped = self.object_list.order_by()[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            return RowCount(capped)
        estimate = planner_estimate(self.object_list)
        if estimate is not None and estimate > COUNT_CAP:
            return RowCount(estimate, "estimate")
        return RowCount(COUNT_CAP + 1, "floor")

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        last = number == self.num_pages
        # A floor ("more than N") knows nothing past N: only its last page is read from the end.
        from_end = number > 1 and (last if self.count.kind == "floor" else bottom >= self.count // 2)
        if not from_end:
            return Page(rows_by_key(self.object_list, bottom, top), number, self)
        # The reverse order's first rows, which an index gives as cheaply as the first page's.
        # Without an exact count there are no exact last rows: the last page is the last full page.
        start, stop = self.count - top, self.count - bottom
        if last and not self.count.is_exact:
            start, stop = 0, self.per_page
        rows = rows_by_key(self.object_list.reverse(), start, stop)
        rows.reverse()
        return Page(rows, number, self)


def rows_by_key(queryset, start, stop):
    """Rows `start`–`stop` of `queryset`: their keys first, in a query of the keys alone (no join
    to the related tables shown, so the database walks the ordering's index and stops after
    `stop` rows; SQLite, given the joins, starts from the smallest table and sorts everything),
    then those rows, with their related rows, by key."""
    keys = list(queryset.values_list("pk", flat=True)[start:stop])
    found = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
    return [found[key] for key in keys if key in found]


class PageCountsChangeList(ChangeList):
    """A changelist that asks its admin to annotate only the rows of the page it shows."""

    def get_results(self, request):
        super().get_results(request)
        rows = self.result_list
        if hasattr(rows, "query"):  # one page, or "Show all": the queryset itself, read the same way
            rows = rows_by_key(rows, 0, None)
        rows = list(rows)
        self.model_admin.annotate_page(rows)
        self.result_list = rows


class ScalableChangeListMixin:
    """For a ModelAdmin: capped counts, pages from either end, per-row figures for the page only
    (override `annotate_page`). Put before CurationAdminMixin."""

    paginator = CappedPaginator
    show_full_result_count = False
    # "Show all" would read up to this many rows with their figures: the pages are enough.
    list_max_show_all = 200

    def get_changelist(self, request, **kwargs):
        return PageCountsChangeList

    def annotate_page(self, rows):
        """Set per-row figures on the page's rows (a list of model instances), in one query."""


def set_page_figures(rows, queryset, names):
    """Copy the annotations `names` of `queryset` (annotated, e.g. `with_counts()`) onto the rows
    of the page, fetching them for those rows only."""
    if not rows:
        return
    values = {
        row[0]: row[1:] for row in queryset.filter(pk__in=[row.pk for row in rows]).order_by().values_list("pk", *names)
    }
    for row in rows:
        for name, value in zip(names, values.get(row.pk, [0] * len(names)), strict=True):
            setattr(row, name, value)
