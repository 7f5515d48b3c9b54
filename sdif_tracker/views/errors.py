"""A clean 503 page, not a 500, while the database cannot be reached.

``handler500`` (sdif_tracker/urls.py) is called by Django for every uncaught exception,
wherever it was raised: in a view, in a template, or in a middleware that loads the
session or the user (those run before any view, so a view-level hook would miss them).
When the exception, or one it was raised from, says the database is unreachable
(``OperationalError``: cannot connect, connection lost; ``InterfaceError``: connection
already closed), the answer is 503 "Service temporarily unavailable" with
``Retry-After``; anything else gets Django's usual 500 page. The page is a plain string:
rendering the site's templates would ask the database for the user again.

Nothing half-written is left behind: every write runs in a transaction, which the
server rolls back when the connection drops. Once the database is back, the next
request's connection health check (``CONN_HEALTH_CHECKS``) replaces the dead
connection, so the instance recovers by itself.
"""

from __future__ import annotations

import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_SECONDS = 10


def _database_unavailable(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def unavailable_response() -> HttpResponse:
    title = escape(_("Service temporarily unavailable"))
    text = escape(
        _(
            "SDIF Tracker cannot reach its database right now. Please try again in a "
            "minute; if you were saving a change, check afterwards whether it was saved."
        )
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        f"<body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
    )
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, *args, **kwargs):
    if _database_unavailable(sys.exc_info()[1]):
        return unavailable_response()
    return django_server_error(request, *args, **kwargs)


def bad_request(request, exception, *args, **kwargs):
    """``handler400``: the session middleware turns a failed session save into a 400
    ("session deleted"); when the save failed because the database went away, it is 503."""
    if _database_unavailable(exception):
        return unavailable_response()
    return django_bad_request(request, exception, *args, **kwargs)
