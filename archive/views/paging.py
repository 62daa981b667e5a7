"""Keyset ("cursor") pagination for the lists that grow with the archive.

A page numbered N costs an OFFSET of N × size rows and a COUNT(*) of the whole list, both of which
grow with the archive. A keyset page instead asks for the rows after (or before) the last row shown,
which an index on the ordering answers by seeking, so the first, the last and any page in between
cost the same at a thousand rows and at a hundred thousand. The price: pages have no numbers, only
First / Previous / Next / Last, and the total is counted only up to `COUNT_CAP`.

The URL carries the cursor: `?after=<values>` or `?before=<values>`, the sort values of the row at
the edge of the page, or `?page=last`. A malformed cursor is a 400, an unknown `page` a 404.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import F, Q
from django.http import Http404

from ..dates import NO_EARLIER, NO_LATER

COUNT_CAP = 1000
SEPARATOR = "~"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Key:
    """One column of a keyset ordering. Only the first may be nullable; nulls sort last.
    `parse` reads a cursor's part; `format` (if given) writes it, else isoformat() or str()."""

    name: str
    descending: bool = False
    nullable: bool = False
    parse: callable = str
    format: callable = None


def _parse_date(text):
    return datetime.date.fromisoformat(text)


DATE = _parse_date


def _parse_rank(text):
    """A search rank (archive.search): a finite number."""
    rank = float(text)
    if not math.isfinite(rank):
        raise ValueError(text)
    return rank


RANK = _parse_rank


@dataclass(frozen=True)
class _Codec:
    parse: callable
    format: callable


# An incident's derived bound (archive.dates): NO_EARLIER / NO_LATER stand for a bound the sources
# do not give. A cursor names them "open" rather than 0001-01-01 or 9999-12-31, which are never
# shown; a cursor written with the ISO day still parses.
_OPEN_START, _OPEN_END = "open-start", "open-end"


def _parse_bound(text):
    if text == _OPEN_START:
        return NO_EARLIER
    if text == _OPEN_END:
        return NO_LATER
    return datetime.date.fromisoformat(text)


def _format_bound(day):
    if day == NO_EARLIER:
        return _OPEN_START
    if day == NO_LATER:
        return _OPEN_END
    return day.isoformat()


BOUND = _Codec(_parse_bound, _format_bound)


@dataclass
class KeysetPage:
    object_list: list
    has_next: bool
    has_previous: bool
    next_cursor: str = ""
    previous_cursor: str = ""
    count: int = 0
    count_is_capped: bool = False
    is_last: bool = False
    is_first: bool = False
    size: int = 50

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


class KeysetPaginator:
    def __init__(self, keys, size=50):
        self.keys = keys
        self.size = size

    # Ordering ----------------------------------------------------------------------------

    def ordering(self, reverse=False):
        expressions = []
        for key in self.keys:
            descending = key.descending != reverse
            expression = F(key.name)
            if not key.nullable:
                expressions.append(expression.desc() if descending else expression.asc())
            elif not reverse:
                # Nulls sort last going forward, so first when going back.
                expressions.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
            else:
                expressions.append(
                    expression.desc(nulls_first=True) if descending else expression.asc(nulls_first=True)
                )
        return expressions

    # Cursors -----------------------------------------------------------------------------

    def cursor_for(self, obj):
        parts = []
        for key in self.keys:
            value = getattr(obj, key.name)
            if value is None:
                parts.append("")
            elif key.format is not None:
                parts.append(key.format(value))
            else:
                parts.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
        return SEPARATOR.join(parts)

    def parse_cursor(self, text):
        parts = text.split(SEPARATOR)
        # NUL cannot be bound in a PostgreSQL query (psycopg raises DataError): never a cursor.
        if len(parts) != len(self.keys) or len(text) > 500 or "\x00" in text:
            raise BadCursor(text)
        values = []
        for key, part in zip(self.keys, parts, strict=True):
            if part == "":
                if not key.nullable:
                    raise BadCursor(text)
                values.append(None)
                continue
            try:
                values.append(key.parse(part))
            except ValueError:
                raise BadCursor(text) from None
        return values

    def _beyond(self, values, reverse):
        """Rows strictly after `values` in the forward order (before it when `reverse`)."""
        condition = Q(pk__in=[])
        equal = Q()
        for key, value in zip(self.keys, values, strict=True):
            ascending = key.descending == reverse
            if value is None:
                # Nulls sort last going forward: nothing but other nulls comes after a null;
                # going back, every non-null comes before it.
                step = Q(pk__in=[]) if not reverse else Q(**{f"{key.name}__isnull": False})
                same = Q(**{f"{key.name}__isnull": True})
            else:
                step = Q(**{f"{key.name}__{'gt' if ascending else 'lt'}": value})
                if key.nullable and not reverse:
                    step |= Q(**{f"{key.name}__isnull": True})
                same = Q(**{key.name: value})
            condition |= equal & step
            equal &= same
        first, value = self.keys[0], values[0]
        if value is not None and not first.nullable:
            # A redundant bound on the leading column lets the database seek in the index
            # instead of scanning from the start and filtering with the OR above.
            ascending = first.descending == reverse
            condition &= Q(**{f"{first.name}__{'gte' if ascending else 'lte'}": value})
        return condition

    # Pages -------------------------------------------------------------------------------

    def page(self, queryset, params, prepare=None, count=None):
        """The page that `params` (request.GET) asks for, from `queryset` (its ordering is replaced).

        `prepare(queryset)` adds what only the rows shown need (select_related, annotations), so
        that the capped count does not compute it. `count(compute)` may wrap the count (to cache it).
        """
        after, before, page = params.get("after"), params.get("before"), params.get("page")
        if page not in (None, "", "1", "first", "last"):
            raise Http404("No such page. This list pages with First, Previous, Next and Last links.")
        if sum(bool(x) for x in (after, before, page == "last")) > 1:
            raise BadCursor("Give only one of after, before and page=last.")
        size = self.size
        queryset = queryset.order_by()
        shown = _Prepared(queryset, prepare) if prepare else queryset
        if page == "last":
            rows = list(shown.order_by(*self.ordering(reverse=True))[: size + 1])
            has_previous = len(rows) > size
            rows = rows[:size][::-1]
            has_next = False
        elif before:
            values = self.parse_cursor(before)
            backwards = shown.filter(self._beyond(values, reverse=True)).order_by(*self.ordering(reverse=True))
            rows = list(backwards[: size + 1])
            has_previous = len(rows) > size
            rows = rows[:size][::-1]
            # The cursor is the first row of the page after this one.
            has_next = True
        elif after:
            values = self.parse_cursor(after)
            rows = list(shown.filter(self._beyond(values, reverse=False)).order_by(*self.ordering())[: size + 1])
            has_next = len(rows) > size
            rows = rows[:size]
            # The cursor is the last row of the page before this one.
            has_previous = True
        else:
            rows = list(shown.order_by(*self.ordering())[: size + 1])
            has_next = len(rows) > size
            rows = rows[:size]
            has_previous = False

        def capped_count():
            return queryset.order_by()[: COUNT_CAP + 1].count()

        count = count(capped_count) if count else capped_count()
        return KeysetPage(
            object_list=rows,
            has_next=has_next,
            has_previous=has_previous,
            next_cursor=self.cursor_for(rows[-1]) if rows and has_next else "",
            previous_cursor=self.cursor_for(rows[0]) if rows and has_previous else "",
            count=min(count, COUNT_CAP),
            count_is_capped=count > COUNT_CAP,
            is_last=not has_next,
            is_first=not has_previous,
            size=size,
        )


class _Prepared:
    """The rows of a page found first by their keys alone, then fetched with what `prepare` adds.

    Annotations such as per-row counts are subqueries; in one query with the ordering and the
    limit, a database that sorts the filtered rows (SQLite does, when its statistics make it read
    a filter's index rather than the ordering's) computes them for every matching row before
    keeping 51. Two queries compute them for the page's rows only."""

    def __init__(self, queryset, prepare):
        self.queryset, self.prepare = queryset, prepare

    def filter(self, *args, **kwargs):
        return _Prepared(self.queryset.filter(*args, **kwargs), self.prepare)

    def order_by(self, *fields):
        return _Prepared(self.queryset.order_by(*fields), self.prepare)

    def __getitem__(self, window):
        pks = list(self.queryset.values_list("pk", flat=True)[window])
        ordering = self.queryset.query.order_by
        found = {row.pk: row for row in self.prepare(self.queryset.filter(pk__in=pks).order_by(*ordering))}
        return [found[pk] for pk in pks if pk in found]
