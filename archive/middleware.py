"""Refuse, in one place, requests that carry characters the database cannot store.

PostgreSQL text cannot hold NUL (U+0000): psycopg raises DataError for any query that binds it,
which a view would turn into a 500 (SQLite answers instead, so the two databases disagreed). Any
parameter can reach a query — a filter's slug, a page cursor, a search — so rather than guard each
view, a request whose path, query parameters or cookies contain NUL is answered 400 here, saying
which parameter is wrong. Everything else a URL can carry decodes to text PostgreSQL accepts:
Django decodes query strings with replacement characters, so no lone surrogates reach a view.
"""

from django.http import HttpResponseBadRequest
from django.utils.html import format_html

REFUSED = "\x00"


def refused_parameter(request):
    """A description of the first part of the request that holds a refused character, or None."""
    if REFUSED in request.path:
        return "the address"
    for name, values in request.GET.lists():
        if REFUSED in name or any(REFUSED in value for value in values):
            return f"the parameter “{_shown(name)}”"
    for name, value in request.COOKIES.items():
        if REFUSED in name or REFUSED in value:
            return f"the cookie “{_shown(name)}”"
    return None


def _shown(name):
    return name.replace(REFUSED, "\\x00")


class RefuseUnstorableCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = refused_parameter(request)
        if where is not None:
            return HttpResponseBadRequest(
                format_html(
                    "<!doctype html><title>Bad Request (400)</title><h1>Bad Request (400)</h1>"
                    "<p>{} contains a NUL character (%00), which the archive cannot search for. "
                    "Remove it and try again.</p>",
                    where[0].upper() + where[1:],
                ),
                content_type="text/html; charset=utf-8",
            )
        return self.get_response(request)
