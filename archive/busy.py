"""A busy database answers 503 "try again", never a 500.

On SQLite one writer holds the write lock at a time; a curator's save waits for it (the
connection's `timeout`) while, say, `import_archive` writes its rows, and if the wait runs out the
driver raises OperationalError("database is locked"). That is not a fault of the page or of the
curator: it means "busy, try again", so it is answered as such, with a Retry-After header. The
curator's form is not lost: the browser's back button returns to it. Every other database error
still goes to Django's error handling.
"""

from django.db import OperationalError
from django.http import HttpResponse
from django.utils.html import escape

RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "The archive is busy: a large import is being written to the database, and your request "
    "could not wait for it to finish. Nothing you sent has been saved. Please try again in a "
    "minute (go back to keep what you entered)."
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The archive is busy</title></head>
<body><main><h1>The archive is busy</h1><p>{message}</p></main></body></html>
"""


def is_busy(exception) -> bool:
    return isinstance(exception, OperationalError) and "database is locked" in str(exception).lower()


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        response = HttpResponse(PAGE.format(message=escape(MESSAGE)), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
