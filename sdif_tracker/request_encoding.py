"""Refuse a request whose query string or form body is not UTF-8.

Django decodes such bytes leniently (as Latin-1, or to U+FFFD), so "\\xff\\xfe" posted
in a comment would be stored as "ÿþ". Every page and form of the site is UTF-8, so
bytes that are not are a broken or hostile client: refused with 400 before any view
runs, so nothing is written.
"""

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REFUSAL = "Bad request: the address or the form data is not valid UTF-8 text. Nothing was saved."


def is_utf8_urlencoded(data: bytes) -> bool:
    """Whether ``data`` (a query string or urlencoded body), with its %-escapes decoded,
    is UTF-8. Decoding the whole at once is enough: the separators & and = are ASCII,
    so the whole is UTF-8 exactly when every name and value is."""
    try:
        unquote_to_bytes(data.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class StrictUTF8Middleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # WSGI and ASGI both hand the query string over as Latin-1 text: this gets its
        # bytes back.
        query = request.META.get("QUERY_STRING", "").encode("iso-8859-1", errors="replace")
        if not is_utf8_urlencoded(query):
            return self._refuse()
        # Django reads the whole body for a urlencoded form anyway (and refuses one over
        # DATA_UPLOAD_MAX_MEMORY_SIZE); multipart forms carry files and are left to it.
        if request.content_type == FORM_CONTENT_TYPE and not is_utf8_urlencoded(request.body):
            return self._refuse()
        return self.get_response(request)

    @staticmethod
    def _refuse():
        return HttpResponseBadRequest(REFUSAL, content_type="text/plain; charset=utf-8")
