"""The error pages: 403, 404, 500, and 503 while the database cannot be reached.

``handler500`` (sdif_tracker/urls.py) is called by Django for every uncaught exception,
wherever it was raised: in a view, in a template, or in a middleware that loads the
session or the user (those run before any view, so a view-level hook would miss them).
When the exception, or one it was raised from, says the database is unreachable
(``OperationalError``: cannot connect, connection lost; ``InterfaceError``: connection
already closed), the answer is 503 "Service temporarily unavailable" with
``Retry-After``; anything else gets the 500 page. Both are rendered from
``templates/error_base.html`` without a request, so without a user, a session or the
context processors: rendering them never asks the database anything. They are in the
request's language (from the locale middleware, or else its cookie or Accept-Language).

403 and 404 use the site's own layout (base.html, with the user's menu); should the
database go away while one is rendered, Django hands the error to ``handler500``, so the
answer is the 503 page.

Nothing half-written is left behind: every write runs in a transaction, which the
server rolls back when the connection drops. Once the database is back, the next
request's connection health check (``CONN_HEALTH_CHECKS``) replaces the dead
connection, so the instance recovers by itself.
"""

from __future__ import annotations

import logging
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import bad_request as django_bad_request

RETRY_AFTER_SECONDS = 10

logger = logging.getLogger(__name__)


def _database_unavailable(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _language(request) -> str:
    """The request's language without the database: the locale middleware's choice, or
    (when the failure came before it ran) the language cookie or Accept-Language."""
    if request is None:
        return translation.get_language()
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(
        request
    )


def _standalone_page(request, template_name: str, *, status: int, context=None) -> HttpResponse:
    """``template_name`` (an error_base.html page) rendered without a request: no user,
    no session, no context processors, so no query."""
    with translation.override(_language(request)):
        try:
            html = loader.render_to_string(template_name, context or {})
        except Exception:  # the page about a failure must not fail itself
            logger.exception("The %s error page could not be rendered.", status)
            html = _bare_page(status)
    return HttpResponse(html, status=status)


def _bare_page(status: int) -> str:
    title = escape(_("Service temporarily unavailable") if status == 503 else _("Server error"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1>"
        '<p><a href="/">SDIF Tracker</a></p></main></body></html>'
    )


def unavailable_response(request=None) -> HttpResponse:
    """503 "Service temporarily unavailable" with ``Retry-After``, in the request's
    language, rendered without touching the database."""
    response = _standalone_page(
        request, "503.html", status=503, context={"retry_after": RETRY_AFTER_SECONDS}
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, *args, **kwargs):
    """``handler500``: 503 while the database is unreachable, else the 500 page."""
    if _database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return _standalone_page(request, "500.html", status=500)


def bad_request(request, exception, *args, **kwargs):
    """``handler400``: the session middleware turns a failed session save into a 400
    ("session deleted"); when the save failed because the database went away, it is 503."""
    if _database_unavailable(exception):
        return unavailable_response(request)
    return django_bad_request(request, exception, *args, **kwargs)


@requires_csrf_token
def permission_denied(request, exception, *args, **kwargs):
    """``handler403``: what was refused and why (the refusal's message), and the way back:
    the page the user came from on this site, the portfolio, their goals."""
    return _forbidden(request, str(exception))


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a form sent without its valid token (a page left open past
    the session, or a form from another site) is refused on the same page as any 403,
    saying that nothing was saved and what to do."""
    message = _(
        "This form could not be accepted: it was opened before you signed in again, or it "
        "did not come from this site. Nothing was saved. Go back, reload the page and "
        "send the form again."
    )
    return _forbidden(request, message)


def _forbidden(request, message: str) -> HttpResponse:
    referer = request.META.get("HTTP_REFERER", "")
    back_url = (
        referer
        if referer
        and referer != request.build_absolute_uri()
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    context = {"exception": message, "back_url": back_url}
    return HttpResponse(loader.render_to_string("403.html", context, request), status=403)
