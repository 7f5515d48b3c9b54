"""The dashboard's milestone rows, rendered in Python.

A goal's dashboard lists every milestone; as a template, each row resolved some hundred
variables and tags, and the rows were most of the page's time (bench/run.py R1). Built
here, every value HTML-escaped (``_esc``, Django's ``conditional_escape`` rule) and what
repeats made once per page, they cost a fraction of that. The same function renders the
page's rows and the one row an htmx answer sends back, so there is one markup
(``templates/milestones/_milestone_row.html`` calls it).

Each cell carries its column's name in ``data-label``: below 768 px the CSS lays the
table out as cards and shows it (static/css/app.css, "Cards").
"""

from __future__ import annotations

import html

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from milestones.models import Status
from milestones.templatetags.milestone_marks import (
    due_now_badge,
    effective_due,
    none_mark,
    overdue_badge,
    since_last_quarter,
    status_badge,
)

register = template.Library()

# A pk no milestone has: reversed once, then replaced by each row's own (one reverse() per
# page instead of two per row).
_PK = 987654321


class _Urls:
    def __init__(self, name: str, slug: str):
        self._url = reverse(name, kwargs={"slug": slug, "pk": _PK})

    def __call__(self, pk: int) -> str:
        # The pk's path segment (the last one: the slug, before it, may be the same digits).
        head, segment, tail = self._url.rpartition(f"/{_PK}/")
        return f"{head}/{pk}/{tail}"


class _Kit:
    """What every row of a page repeats, made once per render: the cells' labels, the
    marks, the URLs, and the markup of each status, day and "since" seen so far."""

    def __init__(self, slug: str, can_update: bool):
        self.label = {
            "due": _esc(gettext("Due")),
            "revised": _esc(gettext("Revised due")),
            "status": _esc(gettext("Status")),
            "since": _esc(gettext("Since last quarter")),
            "owner": _esc(gettext("Owner")),
            "comment": _esc(gettext("Latest comment")),
            "updated": _esc(gettext("Last updated")),
        }
        self.none = _esc(none_mark())
        self.gone = _esc(
            format_html(
                ' <span class="badge text-bg-light border" data-gone>{}</span>',
                gettext("Deleted since"),
            )
        )
        self.overdue = " " + _esc(overdue_badge())
        self.due_now = " " + _esc(due_now_badge())
        self.detail_url = _Urls("milestone_detail", slug)
        self.update_url = _Urls("milestone_update", slug) if can_update else None
        self.update_text = _esc(gettext("Update"))
        self.status_labels = {value: str(text) for value, text in Status.choices}
        self.badges: dict[str, str] = {}
        self.changes: dict[tuple, str] = {}
        self.days: dict = {}


def _esc(value) -> str:
    """``conditional_escape`` without its lazy-string wrapper (the hot path): safe markup
    as is, anything else HTML-escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _table_head(can_update: bool) -> str:
    columns = (
        ("col-title", gettext("Key milestone")),
        ("col-due", gettext("Due")),
        ("col-revised", gettext("Revised due")),
        ("col-status", gettext("Status")),
        ("col-since", gettext("Since last quarter")),
        ("col-owner", gettext("Owner")),
        ("col-comment", gettext("Latest comment")),
        ("col-updated", gettext("Last updated")),
    )
    cols = "".join(f'<col class="{css}">' for css, _ in columns)
    heads = "".join(f'<th scope="col">{_esc(text)}</th>' for _, text in columns)
    if can_update:
        cols += '<col class="col-actions">'
        heads += (
            '<th scope="col" class="d-print-none"><span class="visually-hidden">'
            f"{_esc(gettext('Actions'))}</span></th>"
        )
    return f"<colgroup>{cols}</colgroup>\n<thead><tr>{heads}</tr></thead>"


@register.simple_tag(takes_context=True)
def milestone_table(context, rows, labelledby):
    """A group's table: its head (made once per page) and ``milestone_rows``. Wide
    screens see a table; below 768 px the CSS lays each row out as a card."""
    perms = context.get("perms_goal")
    can_update = bool(perms is not None and perms.update_milestones)
    cache = context.render_context
    key = ("milestone_table_head", can_update)
    if key not in cache:
        cache[key] = _table_head(can_update)
    return SafeString(
        '<div class="milestone-list">\n<table class="table table-sm align-middle '
        f'milestone-table" aria-labelledby="{_esc(labelledby)}">\n{cache[key]}\n'
        f"<tbody>\n{milestone_rows(context, rows)}\n</tbody>\n</table>\n</div>"
    )


@register.simple_tag(takes_context=True)
def milestone_rows(context, rows, oob=False):
    """A ``<tr>`` for each ``MilestoneRow`` in ``rows`` (sdif_tracker/pages/rows.py), with
    the Update button for those who may update; ``oob``: for an htmx out-of-band swap.
    ``row_message`` in the context (after a save) is shown in the row.

    Every value goes through ``_esc``; what repeats (a status's badge, a day, the marks)
    is made once per call."""
    goal = context["goal"]
    perms = context.get("perms_goal")
    can_update = bool(perms is not None and perms.update_milestones)
    key = ("milestone_rows_kit", goal.slug, can_update)
    if key not in context.render_context:
        context.render_context[key] = _Kit(goal.slug, can_update)
    kit = context.render_context[key]
    label, none, gone, overdue, due_now = kit.label, kit.none, kit.gone, kit.overdue, kit.due_now
    detail_url, update_url, update_text = kit.detail_url, kit.update_url, kit.update_text
    status_labels, badges, changes, days = kit.status_labels, kit.badges, kit.changes, kit.days
    row_message = context.get("row_message")
    saved = (
        _esc(
            format_html(
                '<p class="row-saved mb-0" data-row-saved><span aria-hidden="true">✓ </span>'
                "{}</p>",
                row_message,
            )
        )
        if row_message
        else ""
    )
    oob_attr = ' hx-swap-oob="true"' if oob else ""

    def cell(css: str, name: str, value, *, empty: bool) -> str:
        return (
            f'<td class="{css}{" cell-empty" if empty else ""}" data-label="{label[name]}">'
            f"{none if empty else value}</td>"
        )

    def row_html(row) -> str:
        milestone = row.milestone
        pk = milestone.pk
        title = _esc(milestone.title)
        heading = title + gone if row.gone else f'<a href="{_esc(detail_url(pk))}">{title}</a>'
        if row.overdue:
            heading += overdue
        elif row.due_now:
            heading += due_now
        status = milestone.status
        if status not in badges:
            badges[status] = _esc(status_badge(status, status_labels.get(status, status)))
        since_key = tuple((change.kind, str(change.text)) for change in row.since)
        if since_key not in changes:
            changes[since_key] = _esc(since_last_quarter(row.since))
        updated_at = timezone.localtime(milestone.updated_at)
        day = updated_at.date()
        if day not in days:
            days[day] = _esc(date_format(updated_at, "DATE_FORMAT"))
        comment = milestone.comment
        parts = [
            f'<tr id="milestone-{pk}" data-milestone-position="{milestone.position}" '
            f'class="milestone-row{" is-overdue" if row.overdue else ""}'
            f'{" is-saved" if saved else ""}"{oob_attr}>',
            f'<th scope="row" class="milestone-title">{heading}{saved}</th>',
            cell("cell-due", "due", _esc(milestone.due or ""), empty=not milestone.due),
            cell(
                "cell-revised",
                "revised",
                effective_due(milestone) if milestone.revised_due else "",
                empty=not milestone.revised_due,
            ),
            f'<td class="cell-status" data-label="{label["status"]}">{badges[status]}</td>',
            cell("since-last-quarter", "since", changes[since_key], empty=False),
            cell("cell-owner", "owner", _esc(milestone.owner), empty=not milestone.owner),
            cell(
                "milestone-comment",
                "comment",
                _esc(linebreaksbr(comment, autoescape=True)) if comment else "",
                empty=not comment,
            ),
            f'<td class="cell-updated" data-label="{label["updated"]}">'
            f'<time datetime="{_esc(updated_at.isoformat())}">{days[day]}</time></td>',
        ]
        if update_url is not None:
            url = _esc(update_url(pk))
            parts.append(
                f'<td class="cell-actions d-print-none"><a class="btn btn-sm '
                f'btn-outline-primary update-button" href="{url}" hx-get="{url}" '
                f'hx-target="#edit-panel-body" hx-swap="innerHTML" aria-haspopup="dialog" '
                f'data-opens-panel id="update-button-{pk}">{update_text}'
                f'<span class="visually-hidden"> {title}</span></a></td>'
            )
        parts.append("</tr>")
        return "\n  ".join(parts)

    # Every value above went through _esc (or is a number): the whole is safe markup.
    return SafeString("\n".join(row_html(row) for row in rows))


@register.simple_tag
def filter_select(field):
    """One of the dashboard's filter selects (a bound field of its GET form), labelled,
    with the submitted value selected: written here rather than through the widget's
    templates, which cost more than the rest of the filter bar."""
    chosen = field.value()
    chosen = "" if chosen is None else str(chosen)
    options = "".join(
        f'<option value="{_esc(value)}"{" selected" if str(value) == chosen else ""}>'
        f"{_esc(text)}</option>"
        for value, text in field.field.choices
    )
    name = _esc(field.name)
    return SafeString(
        f'<div><label class="form-label" for="filter-{name}">{_esc(field.label)}</label>'
        f'<select class="form-select form-select-sm" name="{name}" id="filter-{name}">'
        f"{options}</select></div>"
    )


@register.simple_tag
def count_matrix(matrix):
    """The dashboard's strategy × due-period counts (``sdif_tracker.pages.dashboard.
    Matrix``): each non-zero count links to the list filtered to it, and says to a screen
    reader which strategy and period it counts. Built here for the same reason as the
    rows: the page does less."""
    no_due = _esc(gettext("No due date"))
    total_text = _esc(gettext("Total"))

    def period_text(period) -> str:
        return _esc(period) if period is not None else no_due

    def link(href, where, count) -> str:
        return (
            f'<a class="matrix-count" href="{_esc(href)}#milestones-heading">'
            f'<span class="visually-hidden">{where}: </span>{count}</a>'
        )

    heads = "\n".join(
        f'<th scope="col" class="text-center" data-period="{_esc(period or "")}">'
        f"{period_text(period)}</th>"
        for period in matrix.periods
    )
    body = []
    for row in matrix.rows:
        if row.strategy is not None:
            name = _esc(gettext("Strategy %(number)s") % {"number": row.strategy.number})
            key = row.strategy.number
            heading = f'<span title="{_esc(row.strategy.title)}">{name}</span>'
        else:
            name = _esc(gettext("Not aligned"))
            key = "unaligned"
            heading = name
        cells = "\n".join(
            f'<td class="text-center matrix-cell" data-count="{cell.count}">'
            + (
                link(cell.href, f"{name}, {period_text(cell.period)}", cell.count)
                if cell.count
                else '<span class="text-body-secondary">0</span>'
            )
            + "</td>"
            for cell in row.cells
        )
        total = link(row.href, f"{name}, {total_text}", row.total) if row.total else "0"
        body.append(
            f'<tr data-strategy="{key}">\n<th scope="row">{heading}</th>\n{cells}\n'
            f'<td class="text-center fw-semibold">{total}</td>\n</tr>'
        )
    totals = "\n".join(
        f'<td class="text-center fw-semibold">{total}</td>' for total in matrix.column_totals
    )
    caption = _esc(
        gettext(
            "Count of key milestones for each strategy by effective due period (the revised "
            "due where set). Each count links to those milestones."
        )
    )
    return SafeString(
        # Wider than a phone: it scrolls in its own box, which keyboards can reach.
        '<div class="table-responsive matrix-scroll" tabindex="0" role="region" '
        'aria-labelledby="matrix-heading"><table class="table table-bordered table-sm '
        f'matrix-table" data-matrix><caption>{caption}</caption>'
        f'<thead><tr>\n<th scope="col">{_esc(gettext("Strategy"))}</th>\n{heads}\n'
        f'<th scope="col" class="text-center">{total_text}</th>\n</tr></thead>'
        f"\n<tbody>\n{chr(10).join(body)}\n</tbody>\n"
        f'<tfoot><tr>\n<th scope="row">{total_text}</th>\n{totals}\n'
        f'<td class="text-center fw-bold">{matrix.total}</td>\n</tr></tfoot></table></div>'
    )


@register.simple_tag
def filter_checkboxes(field):
    """The dashboard's status filter (a bound multiple-choice field of its GET form): a
    fieldset of inline checkboxes, the submitted ones checked."""
    chosen = {str(value) for value in field.value() or ()}
    name = _esc(field.name)
    boxes = "".join(
        f'<div class="form-check form-check-inline"><input class="form-check-input" '
        f'type="checkbox" name="{name}" value="{_esc(value)}" id="filter-{name}-{number}"'
        f'{" checked" if str(value) in chosen else ""}><label class="form-check-label" '
        f'for="filter-{name}-{number}">{_esc(text)}</label></div>'
        for number, (value, text) in enumerate(field.field.choices, start=1)
    )
    return SafeString(
        f'<fieldset class="filter-statuses"><legend class="form-label">{_esc(field.label)}'
        f"</legend>{boxes}</fieldset>"
    )
