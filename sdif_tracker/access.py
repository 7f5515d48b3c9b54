"""Who may see and change what: every view fetches goals and milestones through here.

A user who may not see a goal gets 404 — never a hint that it exists; a user who may
see it but not change it gets 403 on a write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from milestones.models import Milestone
from strategies.models import EDITOR_ROLES, Goal, Membership, Sensitivity


class LoginRequired(Exception):  # noqa: N818 - reads as the condition, like Http404
    """An anonymous user asked for something only signed-in users may see."""


def can_edit_goal(user, goal: Goal) -> bool:
    """True for admins and staff, and for the goal's leaders, deputies and contributors."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, goal=goal, role__in=EDITOR_ROLES).exists()


def get_goal_for_user(user, slug: str, *, write: bool = False) -> Goal:
    """The goal ``slug`` if ``user`` may see it (else 404); with ``write``, 403 unless
    the user may also change it."""
    try:
        goal = Goal.objects.visible_to(user).select_related("agency").get(slug=slug)
    except Goal.DoesNotExist:
        raise Http404("No such goal.") from None
    if write and not can_edit_goal(user, goal):
        raise PermissionDenied
    return goal


def get_milestone_for_user(user, slug: str, pk: int, *, write: bool = False) -> Milestone:
    """Milestone ``pk`` of goal ``slug``; 404 if the user may not see the goal or the
    milestone belongs to another goal, 403 on a write the user may not make."""
    goal = get_goal_for_user(user, slug, write=write)
    try:
        milestone = Milestone.objects.select_related("strategy", "depends_on").get(
            goal=goal, pk=pk
        )
    except Milestone.DoesNotExist:
        raise Http404("No such milestone in this goal.") from None
    # Reuse the goal already fetched (with its agency) instead of a lazy query.
    milestone.goal = goal
    return milestone


def get_goal_for_plan(user, slug: str) -> Goal:
    """The goal whose published plan ``user`` may read: any public goal, for anyone;
    otherwise what ``get_goal_for_user`` allows.

    Raises ``LoginRequired`` for an anonymous user and any other goal (existing or not,
    so the answer gives nothing away), and ``Http404`` for a signed-in user who may not
    see it.
    """
    if user is not None and user.is_authenticated:
        return get_goal_for_user(user, slug)
    goal = (
        Goal.objects.filter(sensitivity=Sensitivity.PUBLIC)
        .select_related("agency")
        .filter(slug=slug)
        .first()
    )
    if goal is None:
        raise LoginRequired
    return goal
