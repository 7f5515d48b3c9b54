"""Administrators close a goal, reopen it, or hold it on a reporting quarter, each with a
reason kept in its history. Parse → call a ``milestones.lifecycle`` service → redirect
with a message, or show the form again with its errors (409 when the goal changed
since the form was opened)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from milestones import lifecycle
from milestones.quarters import last_published_quarter, reporting_quarter
from sdif_tracker import access
from sdif_tracker.pages.lifecycle import (
    LifecycleForm,
    ReportingQuarterForm,
    reporting_quarter_initial,
)
from strategies.forms import add_service_errors
from strategies.models import Goal
from strategies.services import StaleGoalError

FORM_METHODS = ["GET", "HEAD", "POST"]


@dataclass(frozen=True)
class Action:
    """One lifecycle action's page: its title, what it does, its button."""

    key: str
    title: str
    intro: str
    button: str


CLOSE = Action(
    "close",
    gettext_lazy("Close goal"),
    gettext_lazy(
        "A closed goal is read-only for everyone: no status updates, progress summaries "
        "or plan edits. It leaves My goals, reminders and completeness warnings, and is "
        "listed with the closed goals. An administrator can reopen it."
    ),
    gettext_lazy("Close goal"),
)
REOPEN = Action(
    "reopen",
    gettext_lazy("Reopen goal"),
    gettext_lazy("The goal becomes active again: its people can update it."),
    gettext_lazy("Reopen goal"),
)
SET_QUARTER = Action(
    "reporting_quarter",
    gettext_lazy("Set reporting quarter"),
    gettext_lazy(
        "The reporting quarter is the quarter the goal's people report on now. It "
        "follows publication (the quarter after the last published one) unless held "
        "on a quarter here."
    ),
    gettext_lazy("Set reporting quarter"),
)


def _lifecycle_goal(request, slug) -> Goal:
    """The goal, for an admin: 404 if the user may not see it, else 403."""
    return access.get_goal_for_user(request.user, slug, need=access.Need.MANAGE_LIFECYCLE)


def _render(request, goal, action: Action, form, *, conflict=None, refusal=None, status=200):
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "action": action,
        "form": form,
        "conflict": conflict,
        "refusal": refusal,
        "reporting_quarter": reporting_quarter(goal),
        "last_published": last_published_quarter(goal),
    }
    return render(request, "strategies/goal_lifecycle_form.html", context, status=status)


def _stale_heading(stale: StaleGoalError) -> str:
    """Who changed the goal since the form was opened; nothing was saved."""
    if not stale.versions:
        return _("This goal changed after you opened this form. Nothing was saved.")
    last = stale.versions[-1]
    return _(
        "%(user)s changed this goal at %(when)s after you opened this form. Nothing was "
        "saved; check the goal as it is now, then try again."
    ) % {
        "user": last.history_username or _("someone"),
        "when": formats.date_format(timezone.localtime(last.history_date), "DATETIME_FORMAT"),
    }


def _run(request, goal, action: Action, form, call, *, success: str):
    """Validate ``form`` and ``call`` the service with its cleaned data, then redirect to
    the goal with ``success``; or show the form again (400, or 409 when the goal changed
    since the form was opened, with the version moved on so a second try can save)."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except StaleGoalError as stale:
            data = request.POST.copy()
            data["version"] = str(stale.goal.version)
            fresh = form.__class__(data, **_form_arguments(form, stale.goal))
            fresh.is_valid()
            conflict = {"heading": _stale_heading(stale), "entries": stale.entries()}
            return _render(request, stale.goal, action, fresh, conflict=conflict, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(goal)
    return _render(request, goal, action, form, status=400)


def _form_arguments(form, goal) -> dict:
    return {"goal": goal} if isinstance(form, ReportingQuarterForm) else {}


def _reasoned_action(request, goal, action: Action, refusal: str | None, service, *, success):
    """Close or reopen: a page with the reason form (GET), or the ``service`` run with it
    (POST); ``refusal``, when the action is not open now, is shown instead (400 on POST)."""
    if request.method != "POST":
        form = LifecycleForm(initial={"version": goal.version})
        return _render(request, goal, action, form, refusal=refusal)
    form = LifecycleForm(request.POST)
    if refusal is not None:
        form.is_valid()
        return _render(request, goal, action, form, refusal=refusal, status=400)
    return _run(
        request,
        goal,
        action,
        form,
        lambda data: service(
            goal=goal,
            user=request.user,
            reason=data["reason"],
            expected_version=data["version"],
        ),
        success=success,
    )


@require_http_methods(FORM_METHODS)
@login_required
def goal_close(request, slug):
    """Close the goal (offered once its last quarter is published)."""
    goal = _lifecycle_goal(request, slug)
    if goal.is_closed:
        raise access.GoalClosed(goal)
    return _reasoned_action(
        request,
        goal,
        CLOSE,
        _close_refusal(goal),
        lifecycle.close_goal,
        success=_("Closed the goal."),
    )


def _close_refusal(goal: Goal) -> str | None:
    """Why the goal cannot be closed now, or None."""
    if not lifecycle.can_close(goal):
        return _("The goal can be closed once its last quarter, %(last)s, is published.") % {
            "last": goal.last_quarter
        }
    return None


@require_http_methods(FORM_METHODS)
@login_required
def goal_reopen(request, slug):
    """Reopen a closed goal."""
    goal = _lifecycle_goal(request, slug)
    return _reasoned_action(
        request,
        goal,
        REOPEN,
        None if goal.is_closed else _("The goal is not closed."),
        lifecycle.reopen_goal,
        success=_("Reopened the goal."),
    )


@require_http_methods(FORM_METHODS)
@login_required
def goal_reporting_quarter(request, slug):
    """Hold the goal on one of its quarters, or let it follow publication again."""
    goal = _lifecycle_goal(request, slug)
    if goal.is_closed:
        # Closed: only reopening is left (access lets admins through for that).
        raise access.GoalClosed(goal)
    if request.method != "POST":
        form = ReportingQuarterForm(initial=reporting_quarter_initial(goal), goal=goal)
        return _render(request, goal, SET_QUARTER, form)
    form = ReportingQuarterForm(request.POST, goal=goal)
    return _run(
        request,
        goal,
        SET_QUARTER,
        form,
        lambda data: lifecycle.set_reporting_quarter(
            goal=goal,
            user=request.user,
            quarter=data["quarter"],
            reason=data["reason"],
            expected_version=data["version"],
        ),
        success=_("Saved the reporting quarter."),
    )
