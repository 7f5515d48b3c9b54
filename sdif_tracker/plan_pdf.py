"""The plan's PDF: the print template (``strategies/goal_plan_print.html``) through
WeasyPrint, and a published quarter's PDF kept as a file once rendered.

A published quarter's PDF is one document for whoever downloads it: the quarter as it was
published, published indicators only, no user named, links to ``SITE_URL``. It is
rendered once per language and paper and stored in Django's default file storage under
``published-pdf/`` (``MEDIA_ROOT``: a volume every instance mounts, or any shared
``STORAGES["default"]``), so every instance and every restart serve the same file instead
of rendering it again. Publishing a quarter has the worker render it before the first
reader asks (``sdif_tracker.tasks.store_published_pdfs``); until that file exists the
download renders it in the request, as it always did, and stores it then: never a broken
link.

A file's name carries what the document depends on: the goal, the publication (update
and moment), the language, the paper and a fingerprint of the code and files that draw it
(``layout_fingerprint``), so a deploy that changes the layout renders each quarter again
once instead of serving the old drawing. Everything under ``published-pdf/`` is derived
and may be deleted at any time.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.base import BaseStorage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from milestones.models import ProgressSummary
from sdif_tracker import access, exports
from sdif_tracker.pages import publishing
from sdif_tracker.pages.plan_page import plan_context
from strategies.models import Goal
from strategies.periods import FiscalPeriod

logger = logging.getLogger(__name__)

STORE_DIR = "published-pdf"

# What draws the PDF: templates, styles, translations and the Python that builds the
# plan's markup. WeasyPrint's version is added to them.
_LAYOUT_SOURCES = (
    "templates",
    "static/css",
    "locale",
    "audit",
    "strategies",
    "milestones",
    "sdif_tracker",
)
_LAYOUT_SUFFIXES = {".py", ".html", ".css", ".mo"}


def render_plan_pdf(request, goal: Goal, *, base_url: str | None = None) -> bytes:
    """The plan page's plan (``plan_context``) through the print template: no site
    navigation, no user, no forms; whoever downloads it gets the same document.
    ``base_url``: what the document's links are relative to (default: this request's
    site)."""
    context = plan_context(request, goal, document=True)
    context.update(
        perms_goal=access.READ_ONLY,
        edition=publishing.edition_label(
            goal, published=context.get("published"), as_of=context.get("as_of")
        ),
    )
    html = render_to_string("strategies/goal_plan_print.html", context)
    return exports.html_to_pdf(html, base_url=base_url or request.build_absolute_uri("/"))


def published_summary_asked(request, goal: Goal) -> ProgressSummary | None:
    """The published update whose quarter the PDF request asks for (``?quarter=``), or
    None: the current plan, one as of a date, or a quarter not published, which are
    rendered on each request so that they show the latest edits. One query."""
    text = request.GET.get("quarter", "").strip()
    if not text or request.GET.get("as_of", "").strip():
        return None
    try:
        period = FiscalPeriod.parse(text)
    except ValueError:
        return None
    return publishing.published_summary(goal, period) if period.is_quarter else None


def stored_name(summary: ProgressSummary, *, language: str, page_size: str | None = None) -> str:
    """Where the PDF of the published ``summary`` in ``language`` on ``page_size`` paper
    (default: the setting) is stored, for the code running now."""
    published = summary.published_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    paper = page_size or settings.PDF_PAGE_SIZE
    return (
        f"{STORE_DIR}/{summary.goal_id}/{summary.pk}/"
        f"{published}-{language}-{paper}-{layout_fingerprint()}.pdf"
    )


def read_stored(name: str) -> bytes | None:
    """The stored PDF ``name``, or None when there is none (yet), or only part of one: a
    file being written by another process ends without the PDF trailer."""
    try:
        with default_storage.open(name, "rb") as file:
            content = file.read()
    except OSError:  # FileNotFoundError, or a storage that cannot be reached
        return None
    return content if _is_whole_pdf(content) else None


def store(name: str, pdf: bytes) -> None:
    """Keep ``pdf`` as ``name`` unless a whole copy is there already; a part of one (its
    writer died) is replaced. Two processes storing the same document at once both
    write; the storage renames the second copy, which is deleted: they are the same."""
    if not _is_whole_pdf(pdf):
        return
    if default_storage.exists(name):
        if read_stored(name) is not None:
            return
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(pdf))
    if saved != name:
        default_storage.delete(saved)


def published_pdf(goal: Goal, summary: ProgressSummary, *, language: str) -> tuple[bytes, bool]:
    """The PDF of the published ``summary`` in ``language``: the stored file, else
    rendered now (as for an anonymous reader, whoever asked) and stored. Returns the PDF
    and whether it had to be rendered."""
    name = stored_name(summary, language=language)
    pdf = read_stored(name)
    if pdf is not None:
        return pdf, False
    with translation.override(language):
        request = document_request(goal, summary.period)
        pdf = render_plan_pdf(request, goal, base_url=settings.SITE_URL + "/")
    try:
        store(name, pdf)
    except Exception:  # noqa: BLE001 - any storage error: the reader still gets the PDF
        logger.exception("Could not store the published PDF %s", name)
    return pdf, True


def document_request(goal: Goal, period: FiscalPeriod) -> HttpRequest:
    """A request for the published quarter ``period`` of ``goal`` as an anonymous reader
    asks for its PDF: what the worker renders with, there being no reader."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = goal.get_plan_url()
    request.GET = QueryDict(mutable=True)
    request.GET["quarter"] = str(period)
    request.user = AnonymousUser()
    # The plan page may leave a notice for its reader; a document has no reader to show it to.
    request._messages = BaseStorage(request)
    return request


@functools.cache
def layout_fingerprint() -> str:
    """A short digest of every file that draws the PDF, and WeasyPrint's version: the
    same for every process running the same code. Read once a process."""
    import weasyprint

    base = Path(settings.BASE_DIR)
    digest = hashlib.sha256(weasyprint.__version__.encode())
    for folder in _LAYOUT_SOURCES:
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in _LAYOUT_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _is_whole_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
