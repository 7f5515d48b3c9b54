"""Exports: the Key Milestones table as CSV and XLSX (of one goal, or of every goal a
user may see), and the published plan as PDF (WeasyPrint, where the server has it).

Every text cell is formula-injection safe: a spreadsheet treats a cell starting with
= + - @ (after any spaces or line breaks, and in their full-width forms too) as a
formula, so such values get a leading apostrophe, which spreadsheets show as text. The
audit log's CSV uses the same ``safe_cell``.
"""

from __future__ import annotations

import csv
import io
import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from milestones.models import Milestone
from strategies.models import Goal

# WeasyPrint logs each CSS rule it does not support and its progress, and fontTools
# (which subsets the fonts embedded in every PDF) some forty lines a font at INFO;
# only their errors are worth a log line.
for _name in ("weasyprint", "weasyprint.progress", "fontTools"):
    logging.getLogger(_name).setLevel(logging.ERROR)

# What a spreadsheet may run as a formula: a cell whose first visible character is one
# of these, also in their full-width and small forms (NFKC folds ＝ and ﹦ to =), since
# spreadsheets trim leading spaces and line breaks and some fold those forms too. A cell
# starting with a tab or carriage return is quoted as well, as OWASP advises.
FORMULA_TRIGGERS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r")

# The Key Milestones columns of the published plan, then what a spreadsheet user needs to
# match rows up again.
COLUMNS = (
    ("title", "Key Milestone"),
    ("due", "Milestone Due Date"),
    ("strategy", "Strategy Alignment"),
    ("status", "Milestone Status"),
    ("comment", "Comments"),
    ("owner", "Owner"),
    ("goal", "Goal"),
    ("goal_slug", "Goal ID"),
    ("milestone_id", "Milestone ID"),
    ("updated", "Last Updated"),
)


def safe_cell(value) -> str | int:
    """``value`` as a cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(CONTROL_STARTS) or _first_visible(text) in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _first_visible(text: str) -> str:
    """The first character that is not white space or invisible formatting (zero-width
    space, byte-order mark), in its compatibility form; "" if there is none."""
    for char in text:
        if not char.isspace() and unicodedata.category(char) != "Cf":
            return unicodedata.normalize("NFKC", char)[:1]
    return ""


def due_text(milestone: Milestone) -> str:
    """ "FY19 (originally Q3 FY18)", "Q4 FY19", "Ongoing" or "" """
    if milestone.revised_due is not None:
        original = str(milestone.due) if milestone.due is not None else _("no due date")
        return _("%(due)s (originally %(original)s)") % {
            "due": milestone.revised_due,
            "original": original,
        }
    return str(milestone.due) if milestone.due is not None else ""


def milestone_rows(goals: list[Goal]) -> list[list]:
    """One row per milestone of ``goals`` (COLUMNS order), goal by goal in plan order:
    one query whatever the number of goals or milestones."""
    by_id = {goal.pk: goal for goal in goals}
    order = {goal.pk: index for index, goal in enumerate(goals)}
    milestones = sorted(
        Milestone.objects.filter(goal__in=list(by_id)).select_related("strategy"),
        key=lambda m: (order[m.goal_id], m.position, m.pk),
    )
    rows = []
    for milestone in milestones:
        goal = by_id[milestone.goal_id]
        values = {
            "title": milestone.title,
            "due": due_text(milestone),
            "strategy": milestone.strategy.number if milestone.strategy else "",
            "status": str(milestone.get_status_display()),
            "comment": milestone.comment,
            "owner": milestone.owner,
            "goal": goal.short_name or goal.title,
            "goal_slug": goal.slug,
            "milestone_id": milestone.pk,
            "updated": timezone.localtime(milestone.updated_at).strftime("%Y-%m-%d %H:%M"),
        }
        rows.append([safe_cell(values[key]) for key, _label in COLUMNS])
    return rows


def header() -> list[str]:
    return [label for _key, label in COLUMNS]


def as_csv(rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def as_xlsx(rows: list[list], *, sheet_title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # Sheet titles: at most 31 characters, none of []:*?/\
    sheet.title = "".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Milestones"
    sheet.append(header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def last_change(goals: list[Goal]):
    return Milestone.objects.filter(goal__in=[g.pk for g in goals]).aggregate(
        latest=Max("updated_at")
    )["latest"]


# -- PDF ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfSupport:
    available: bool
    problem: str = ""


def pdf_support() -> PdfSupport:
    """Whether WeasyPrint (and the system libraries it loads) can render here."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        return PdfSupport(False, str(error).splitlines()[0] if str(error) else repr(error))
    return PdfSupport(True)


def _static_name(url: str) -> str:
    """The static file ``url`` points at (``css/app.css``, or its hashed name once
    collected); ValueError for anything else: no other file of the server, no network."""
    static = "/" + settings.STATIC_URL.lstrip("/")
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    path = unquote(path.split("?", 1)[0].split("#", 1)[0])
    if not path.startswith(static) or ".." in path or "\\" in path:
        raise ValueError(f"Refusing to fetch {url} while rendering a PDF.")
    return path[len(static) :]


def static_content(name: str) -> bytes:
    """Static file ``name`` as the site serves it. With DEBUG the templates name the
    source files, which the finders find; in production they name the hashed copies
    ``collectstatic`` wrote (``css/app.3f9c….css``), which only the storage has."""
    found = finders.find(name)
    if found:
        return Path(found).read_bytes()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as file:
            return file.read()
    raise ValueError(f"No static file {name}.")


def html_to_pdf(html: str, *, base_url: str, page_size: str | None = None) -> bytes:
    """The print page rendered to a tagged PDF (PDF/UA-1: structure tree, title and
    language from the page) on ``page_size`` paper (settings.PDF_PAGE_SIZE by default).
    WeasyPrint may fetch the app's own static files and data: URLs only."""
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            name = _static_name(url)
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, static_content(name), {"Content-Type": content_type})

    page = weasyprint.CSS(string=page_css(page_size or settings.PDF_PAGE_SIZE))
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(stylesheets=[page], pdf_variant="pdf/ua-1")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_css(size: str) -> str:
    """What the print stylesheet cannot say, being static: the paper (a setting) and
    "Page 3 of 7" in the active language, in the bottom right corner of every page."""
    pattern = _("Page %(number)s of %(pages)s")
    counters = {"%(number)s": "counter(page)", "%(pages)s": "counter(pages)"}
    parts = re.split(r"(%\((?:number|pages)\)s)", pattern)
    content = " ".join(counters.get(part) or _css_string(part) for part in parts if part)
    return f"@page {{ size: {size}; @bottom-right {{ content: {content}; }} }}"
