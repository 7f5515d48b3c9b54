"""Who may see and change what: every view fetches goals and milestones through here.

A user who may not see a goal gets 404 — never a hint that it exists; a user who may
see it but not change it gets 403 on a write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from milestones.models import Milestone
from strategies.models import EDITOR_ROLES, Goal, Membership, Role, Sensitivity


class LoginRequired(Exception):  # noqa: N818 - reads as the condition, like Http404
    """An anonymous user asked for something only signed-in users may see."""


def is_admin(user) -> bool:
    """Administrators: Django staff or superusers (they use /admin/ too)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser)
    )


def member_role(user, goal: Goal) -> str | None:
    """The user's role on ``goal`` (cached on the goal for the request), or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cache = goal.__dict__.setdefault("_roles", {})
    if user.pk not in cache:
        cache[user.pk] = (
            Membership.objects.filter(user=user, goal=goal).values_list("role", flat=True).first()
        )
    return cache[user.pk]


@dataclass(frozen=True)
class GoalPermissions:
    """What one user may do with one goal; templates read these, never roles."""

    update_milestones: bool  # status updates: leaders, deputies, contributors, admins
    write_summary: bool  # progress summaries: leaders, deputies, admins
    edit_plan: bool  # strategies, goal narrative, revert: admins

    @property
    def any_write(self) -> bool:
        return self.update_milestones or self.write_summary or self.edit_plan


# What a page showing the past lets anyone do: nothing.
READ_ONLY = GoalPermissions(update_milestones=False, write_summary=False, edit_plan=False)


def permissions_for(user, goal: Goal) -> GoalPermissions:
    admin = is_admin(user)
    role = None if admin else member_role(user, goal)
    return GoalPermissions(
        update_milestones=admin or role in EDITOR_ROLES,
        write_summary=admin or role in (Role.LEADER, Role.DEPUTY),
        edit_plan=admin,
    )


def can_edit_goal(user, goal: Goal) -> bool:
    """True for admins, and for the goal's leaders, deputies and contributors."""
    return permissions_for(user, goal).update_milestones


# What a view needs, by name: ``get_goal_for_user(user, slug, need=...)``.
READ, UPDATE_MILESTONES, WRITE_SUMMARY, EDIT_PLAN = (
    "read",
    "update_milestones",
    "write_summary",
    "edit_plan",
)


def get_goal_for_user(user, slug: str, *, write: bool = False, need: str = READ) -> Goal:
    """The goal ``slug`` if ``user`` may see it (else 404); 403 unless the user may also
    do what ``need`` names (``write=True`` is ``need=UPDATE_MILESTONES``)."""
    if write and need == READ:
        need = UPDATE_MILESTONES
    try:
        goal = Goal.objects.visible_to(user).select_related("agency").get(slug=slug)
    except Goal.DoesNotExist:
        raise Http404("No such goal.") from None
    if need != READ and not getattr(permissions_for(user, goal), need):
        raise PermissionDenied
    return goal


def get_milestone_for_user(user, slug: str, pk: int, *, write: bool = False) -> Milestone:
    """Milestone ``pk`` of goal ``slug``; 404 if the user may not see the goal or the
    milestone belongs to another goal, 403 on a write the user may not make."""
    goal = get_goal_for_user(user, slug, write=write)
    return _milestone_of(goal, pk)


def _milestone_of(goal: Goal, pk: int) -> Milestone:
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
