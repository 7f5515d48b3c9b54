"""The change reasons the milestones layer writes (see ``audit.reasons``): each stored
as a code with parameters and shown in the reader's language. A period is kept as its
label ("Q3 FY19"), which reads the same in every language; a status as its code."""

from django.utils.translation import gettext_lazy as _

from audit.reasons import NUMBER, TEXT, choice, register


def _statuses():
    from milestones.models import Status

    return Status.choices


STATUS = choice(_statuses)

STATUS_CHANGED = register(
    "status_changed",
    _("Status update for %(period)s: %(old)s → %(new)s"),
    period=TEXT,
    old=STATUS,
    new=STATUS,
)
STATUS_CONFIRMED = register(
    "status_confirmed",
    _("Status update for %(period)s: %(status)s confirmed"),
    period=TEXT,
    status=STATUS,
)
SUMMARY_WRITTEN = register(
    "summary_written", _("Wrote the progress summary for %(period)s"), period=TEXT
)
SUMMARY_EDITED = register(
    "summary_edited", _("Edited the progress summary for %(period)s"), period=TEXT
)
MOVED_TO_STRATEGY = register("moved_to_strategy", _("Moved to strategy %(number)d"), number=NUMBER)
MOVED_OUT_OF_STRATEGY = register(
    "moved_out_of_strategy", _("Moved out of strategy %(number)d"), number=NUMBER
)
PUBLISHED = register("published", _("Published the %(period)s update"), period=TEXT)
GOAL_CLOSED = register("goal_closed", _("Closed the goal: %(reason)s"), reason=TEXT)
GOAL_REOPENED = register("goal_reopened", _("Reopened the goal: %(reason)s"), reason=TEXT)
REPORTING_QUARTER_SET = register(
    "reporting_quarter_set",
    _("Reporting quarter set to %(quarter)s: %(reason)s"),
    quarter=TEXT,
    reason=TEXT,
)
REPORTING_QUARTER_RELEASED = register(
    "reporting_quarter_released",
    _("Reporting quarter follows publication again: %(reason)s"),
    reason=TEXT,
)
PLAN_IMPORTED = register("plan_imported", _("Imported from action-plan YAML"))
PLAN_IMPORTED_FROM = register(
    "plan_imported_from", _("Imported from action-plan YAML (%(file)s)"), file=TEXT
)
DEMO_DATA = register("demo_data", _("Generated demo data"))

# The review chain of a quarterly update (milestones.review): one kind per transition,
# the comment a reviewer typed kept verbatim.
UPDATE_SUBMITTED = register(
    "update_submitted", _("Submitted the %(period)s update for review"), period=TEXT
)
UPDATE_APPROVED = register(
    "update_approved", _("Approved the %(period)s update for the agency"), period=TEXT
)
UPDATE_CLEARED = register("update_cleared", _("Cleared the %(period)s update"), period=TEXT)
UPDATE_RETURNED = register(
    "update_returned",
    _("Returned the %(period)s update to draft: %(comment)s"),
    period=TEXT,
    comment=TEXT,
)
UPDATE_WITHDRAWN = register(
    "update_withdrawn", _("Withdrew the %(period)s update from review"), period=TEXT
)
UPDATE_WITHDRAWN_SAYING = register(
    "update_withdrawn_saying",
    _("Withdrew the %(period)s update from review: %(comment)s"),
    period=TEXT,
    comment=TEXT,
)
# Indicator actuals entered by the goal's team (milestones/indicator_actuals.py).
ACTUAL_ENTERED = register(
    "actual_entered",
    _("Entered the %(period)s actual of “%(name)s”"),
    period=TEXT,
    name=TEXT,
)
