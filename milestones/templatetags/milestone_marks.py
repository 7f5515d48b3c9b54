"""The small marks every milestone table repeats: a status badge, the Overdue badge, the
"None" marker and the changes since last quarter.

They were template includes; a dashboard of 50 rows ran some 250 of them, and each
include costs a context push and a template lookup (about a quarter of the page's time
in the benchmark's profile, see README "Performance"). As tags they render the same
markup, escaped by ``format_html``, in a fraction of that.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def none_mark():
    """An em dash for the eye, the word "None" for screen readers."""
    return format_html(
        '<span aria-hidden="true">—</span><span class="visually-hidden">{}</span>',
        gettext("None"),
    )


@register.simple_tag
def status_badge(status, label):
    """A status as a badge: the text label is always there; colour only repeats it."""
    return format_html(
        '<span class="badge status-badge status-{status}" data-status="{status}">'
        '<span class="visually-hidden">{prefix} </span>{label}</span>',
        status=status,
        prefix=gettext("Status:"),
        label=label,
    )


@register.simple_tag
def overdue_badge():
    return format_html(
        '<span class="badge overdue-badge" data-overdue>{}</span>', gettext("Overdue")
    )


@register.simple_tag
def due_now_badge():
    """Due this quarter: its due period ends within the reporting quarter (not overdue)."""
    return format_html(
        '<span class="badge due-now-badge" data-due-now>{}</span>', gettext("Due this quarter")
    )


@register.simple_tag
def since_last_quarter(changes):
    """A milestone's changes since the end of the previous reporting quarter
    (``sdif_tracker.pages.asof.Change`` items), or the None mark."""
    if not changes:
        return none_mark()
    items = format_html_join(
        "",
        '\n  <li class="since-change since-{0}" data-change="{0}">{1}</li>',
        ((change.kind, change.text) for change in changes),
    )
    return format_html('<ul class="list-unstyled mb-0 since-changes">{}\n</ul>', items)
