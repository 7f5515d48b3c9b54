"""A goal's lifecycle and clock (admins): closing and reopening it, holding it on a
reporting quarter. Each is a recorded change with the admin's reason, in one
transaction; a closed goal is read-only (``sdif_tracker.access``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.history import recorded_change
from audit.reasons import encode
from milestones import reasons
from milestones.quarters import (
    forget_reporting_quarter,
    holdable_quarters,
    last_published_quarter,
)
from strategies.models import Goal
from strategies.periods import FiscalPeriod
from strategies.services import StaleGoalError, lock_for_edit


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: the reason is kept in the goal's history.")})
    return reason


def _lock(goal: Goal, expected_version: int) -> Goal:
    return lock_for_edit(
        Goal.objects.all(),
        pk=goal.pk,
        expected_version=expected_version,
        error=StaleGoalError,
    )


def can_close(goal: Goal) -> bool:
    """Closing is offered once the goal's last quarter is published."""
    last = last_published_quarter(goal)
    return not goal.is_closed and last is not None and last >= goal.last_quarter


@transaction.atomic
def close_goal(*, goal: Goal, user, reason: str, expected_version: int) -> Goal:
    """Close ``goal``: read-only from now on, off My goals, reminders and completeness."""
    text = _reason(reason)
    locked = _lock(goal, expected_version)
    if locked.is_closed:
        raise ValidationError(_("The goal is already closed."), code="already_closed")
    locked.closed_at = timezone.now()
    with recorded_change(user=user, reason=encode(reasons.GOAL_CLOSED, reason=text)):
        locked.save()
    return locked


@transaction.atomic
def reopen_goal(*, goal: Goal, user, reason: str, expected_version: int) -> Goal:
    """Reopen a closed goal: it is active and can be changed again."""
    text = _reason(reason)
    locked = _lock(goal, expected_version)
    if not locked.is_closed:
        raise ValidationError(_("The goal is not closed."), code="not_closed")
    locked.closed_at = None
    with recorded_change(user=user, reason=encode(reasons.GOAL_REOPENED, reason=text)):
        locked.save()
    return locked


def _hold_refusal(goal: Goal, quarter: FiscalPeriod) -> str:
    """Why ``goal`` cannot be held on ``quarter`` (not one of ``holdable_quarters``)."""
    last = last_published_quarter(goal)
    if quarter.is_quarter and goal.first_quarter <= quarter <= goal.last_quarter and last:
        return _("%(last)s is published: choose a quarter after it.") % {"last": last}
    return _("Choose a quarter of the goal's period, %(first)s to %(last)s.") % {
        "first": goal.first_quarter,
        "last": goal.last_quarter,
    }


@transaction.atomic
def set_reporting_quarter(
    *, goal: Goal, user, quarter: FiscalPeriod | None, reason: str, expected_version: int
) -> Goal:
    """Hold ``goal`` on ``quarter`` (None: back to the quarter after the last published
    one): one of ``holdable_quarters``, a quarter of its period after the last published."""
    text = _reason(reason)
    locked = _lock(goal, expected_version)
    if locked.is_closed:
        raise ValidationError(_("The goal is closed."), code="goal_closed")
    if quarter is not None and quarter not in holdable_quarters(locked):
        raise ValidationError({"quarter": _hold_refusal(locked, quarter)})
    if locked.reporting_quarter_set == quarter:
        return locked
    locked.reporting_quarter_set = quarter
    if quarter is not None:
        message = encode(reasons.REPORTING_QUARTER_SET, quarter=str(quarter), reason=text)
    else:
        message = encode(reasons.REPORTING_QUARTER_RELEASED, reason=text)
    with recorded_change(user=user, reason=message):
        locked.save()
    forget_reporting_quarter(locked)
    forget_reporting_quarter(goal)
    return locked
