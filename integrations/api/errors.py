"""Errors as RFC 9457 problem details (``application/problem+json``): every error the
API answers, and any unknown URL under /api/, has ``type``, ``title``, ``status`` and
``detail``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import exceptions
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The short titles, one per status; ``detail`` says what happened this time.
TITLES = {
    400: _lazy("Bad request"),
    401: _lazy("Not authenticated"),
    403: _lazy("Forbidden"),
    404: _lazy("Not found"),
    405: _lazy("Method not allowed"),
    406: _lazy("Not acceptable"),
    429: _lazy("Too many requests"),
}


def problem(status: int, detail: str, **extra) -> dict:
    """The problem document for ``status``. ``type`` is ``about:blank``, as RFC 9457
    has it for a problem that is no more than its HTTP status."""
    return {
        "type": "about:blank",
        "title": str(TITLES.get(status, _("Error"))),
        "status": status,
        "detail": str(detail),
        **extra,
    }


def _detail_text(detail) -> tuple[str, dict]:
    """One sentence for ``detail``, and the field errors, if any, as ``errors``."""
    if isinstance(detail, dict):
        errors = {key: [str(item) for item in value] for key, value in detail.items()}
        first = next(iter(errors.items()), ("", [""]))
        return f"{first[0]}: {first[1][0]}" if first[0] else "", {"errors": errors}
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail), {}
    return str(detail), {}


def problem_exception_handler(exc, context):
    """DRF's handler (its headers: ``WWW-Authenticate``, ``Retry-After``), answered as
    a problem document."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or not yours to see."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's handler500
    text, extra = _detail_text(exc.detail)
    response.data = problem(response.status_code, text, **extra)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def not_found(request, path=""):
    """Any URL under /api/ that names nothing: 404 as a problem, never the HTML page."""
    detail = _("There is no such address in the API; the schema lists them all.")
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail = _("There is no such address in the API; did you mean %(path)s?") % {
                "path": request.path + "/"
            }
    return JsonResponse(problem(404, detail), status=404, content_type=PROBLEM_CONTENT_TYPE)
