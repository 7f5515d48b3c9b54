"""The small marks every milestone table repeats: a status badge, the Overdue badge, the
"None" marker and the changes since last quarter; and the status scale's other forms:
a bare mark, a change of status, the portfolio's status bar and its legend.

They were template includes; a dashboard of 50 rows ran some 250 of them, and each
include costs a context push and a template lookup (about a quarter of the page's time
in the benchmark's profile, see README "Performance"). As tags they render the same
markup, escaped by ``format_html``, in a fraction of that.

The status scale (static/css/status.css): every status has a colour, a shape (an inline
SVG icon, hidden from screen readers) and its text label, so colour is never the only
cue. Every page shows a status through these tags, so it looks the same everywhere.
"""

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from milestones.models import ReviewState, Status

register = template.Library()

# Each status's shape, drawn in a 16×16 box in the current text colour. Fixed markup,
# no user data: safe to mark safe.
_SHAPES = {
    # A dashed ring: not decided yet.
    Status.TBD: '<circle cx="8" cy="8" r="5.75" fill="none" stroke="currentColor" '
    'stroke-width="2" stroke-dasharray="2.6 2"/>',
    # An empty ring: nothing done yet.
    Status.NOT_STARTED: '<circle cx="8" cy="8" r="5.75" fill="none" stroke="currentColor" '
    'stroke-width="2"/>',
    # A forward arrowhead: moving as planned.
    Status.ON_TRACK: '<path d="M3.5 2 14 8 3.5 14Z" fill="currentColor"/>',
    # A warning triangle with an exclamation mark cut out.
    Status.AT_RISK: '<path fill="currentColor" fill-rule="evenodd" '
    'd="M8 1 15.5 14.5H.5ZM7 5.5v4.5h2V5.5ZM7 11.25v1.75h2v-1.75Z"/>',
    # A clock: late.
    Status.DELAYED: '<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" '
    'stroke-width="2"/><path d="M8 4.25V8.5h3.25" fill="none" stroke="currentColor" '
    'stroke-width="2"/>',
    # A check mark: done.
    Status.COMPLETED: '<path d="M2.25 8.5 6.25 12.5 13.75 4" fill="none" '
    'stroke="currentColor" stroke-width="2.5"/>',
    # A cross: dropped.
    Status.CANCELLED: '<path d="M3.5 3.5 12.5 12.5M12.5 3.5 3.5 12.5" fill="none" '
    'stroke="currentColor" stroke-width="2.5"/>',
}


def _shape(status) -> str:
    try:
        return _SHAPES[Status(status)]
    except ValueError:  # not a status (never from the database): no shape
        return ""


def _icon(status):
    return format_html(
        '<svg class="status-icon" viewBox="0 0 16 16" width="16" height="16" '
        'aria-hidden="true" focusable="false">{}</svg>',
        mark_safe(_shape(status)),  # noqa: S308 - fixed markup from _SHAPES
    )


@register.simple_tag
def none_mark():
    """An em dash for the eye, the word "None" for screen readers."""
    return format_html(
        '<span aria-hidden="true">—</span><span class="visually-hidden">{}</span>',
        gettext("None"),
    )


@register.simple_tag
def status_badge(status, label):
    """A status as a badge: its shape, then its text label; the colour repeats both."""
    return format_html(
        '<span class="badge status-badge status-{status}" data-status="{status}">'
        '<span class="visually-hidden">{prefix} </span>{icon}'
        '<span class="status-label">{label}</span></span>',
        status=status,
        prefix=gettext("Status:"),
        icon=_icon(status),
        label=label,
    )


@register.simple_tag
def status_change(old, old_label, new, new_label):
    """A change of status, old → new, as two badges (the second alone when unchanged)."""
    if not old or old == new:
        return status_badge(new, new_label)
    return format_html(
        '<span class="status-change">{} <span aria-hidden="true">→</span>'
        '<span class="visually-hidden">{}</span> {}</span>',
        status_badge(old, old_label),
        gettext("changed to"),
        status_badge(new, new_label),
    )


def _in_sentence(label) -> str:
    """A status label inside a sentence: "on track", but "TBD" stays an abbreviation."""
    label = str(label)
    return label if label.isupper() else label[:1].lower() + label[1:]


@register.simple_tag
def status_bar(items, total):
    """A goal's milestones as one bar: a segment per status, as wide as its share, in the
    status's colour with its shape; under it the same in words, which is also what a
    screen reader reads. ``items`` are ``StatusCount``s (status, label, count)."""
    if not total:
        return ""
    segments = []
    start = 0
    for item in items:
        # Percentages from cumulative counts, so the segments always add up to 100.
        end = start + item.count
        x = round(100 * start / total, 2)
        width = round(100 * end / total, 2) - x
        segments.append((item.status, x, round(width, 2)))
        start = end
    bar = format_html_join(
        "",
        '<g class="status-{0}" data-segment="{0}">'
        '<rect class="status-segment" x="{1}%" y="0" width="{2}%" height="100%"/>'
        '<svg x="{1}%" y="0" width="{2}%" height="100%" viewBox="-5 -5 26 26">{3}</svg></g>',
        ((status, x, width, mark_safe(_shape(status))) for status, x, width in segments),  # noqa: S308
    )
    counts = format_html_join(
        ", ",
        '<span data-status-count="{0}">{1}</span>',
        (
            # The number before the status in English and in Spanish alike.
            (item.status, f"{item.count} {_in_sentence(item.label)}")
            for item in items
        ),
    )
    head = ngettext("%(count)s key milestone", "%(count)s key milestones", total) % {
        "count": total
    }
    return format_html(
        '<div class="status-bar-wrap" data-status-bar>'
        '<svg class="status-bar" width="100%" height="20" aria-hidden="true" '
        'focusable="false">{bar}</svg>'
        '<p class="status-bar-text mb-0">{head}: {counts}</p></div>',
        bar=bar,
        head=head,
        counts=counts,
    )


@register.simple_tag
def status_legend():
    """Every status of the scale, once per page: what each colour and shape means."""
    items = format_html_join(
        "\n",
        '<li class="list-inline-item">{}</li>',
        ((status_badge(status.value, status.label),) for status in Status),
    )
    return format_html(
        '<div class="status-legend" data-status-legend><span class="status-legend-title">{}'
        '</span> <ul class="list-inline d-inline mb-0">{}</ul></div>',
        gettext("Status key:"),
        items,
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


@register.simple_tag
def effective_due(milestone):
    """A milestone's due as the tracker says it: the revised due with the original beside
    it ("FY19 (originally Q3 FY18)"), the due alone when not revised, else "No due date".
    One sentence for every page (templates/milestones/_due.html) and the dashboard rows."""
    if milestone.revised_due:
        original = milestone.due if milestone.due else gettext("no due date")
        # As {% blocktranslate %} does: the translated sentence is trusted, values escaped.
        return SafeString(
            gettext('%(due)s <span class="original-due">(originally %(original)s)</span>')
            % {
                "due": conditional_escape(str(milestone.revised_due)),
                "original": conditional_escape(str(original)),
            }
        )
    if milestone.due:
        return conditional_escape(str(milestone.due))
    return format_html('<span class="text-body-secondary">{}</span>', gettext("No due date"))


# -- the review chain of a quarterly update (milestones.review) -------------------------

# The marks' keys: the review states, and two that are not states of their own: a draft
# returned by a reviewer (its comment set) and a quarter with no update written yet.
REVIEW_RETURNED = "returned"
REVIEW_NONE = "none"


def review_mark(summary_or_state) -> tuple[str, str]:
    """(key, label) of an update's place in its review chain: a ``ProgressSummary``, a
    ``ReviewState`` value, or None for a quarter with no update written yet. The one
    wording of the states, for the badge and the sentences around it."""
    if summary_or_state is None:
        return REVIEW_NONE, gettext("No update written yet")
    if isinstance(summary_or_state, str):
        state, returned = summary_or_state, False
    else:
        state = summary_or_state.review_state
        returned = bool(summary_or_state.returned_comment)
    if state == ReviewState.DRAFT and returned:
        return REVIEW_RETURNED, gettext("Returned to draft")
    try:
        return str(state), str(ReviewState(state).label)
    except ValueError:  # not a state (never from the database): shown as it is
        return str(state), str(state)


@register.simple_tag
def review_badge(summary_or_state):
    """An update's review state as a badge: its text label always, the colour repeats it
    (static/css/review.css). Takes a ``ProgressSummary``, a state, or None (none yet)."""
    key, label = review_mark(summary_or_state)
    return format_html(
        '<span class="badge review-badge review-{key}" data-review-state="{key}">'
        '<span class="visually-hidden">{prefix} </span>{label}</span>',
        key=key,
        prefix=gettext("Review:"),
        label=label,
    )
