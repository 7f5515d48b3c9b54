"""Who may see and change what: every permission decision, and every view fetches goals and
milestones through here.

A user who may not see a goal gets 404 — never a hint that it exists; a user who may
see it but not change it gets 403 on a write.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from milestones.models import Milestone
from milestones.quarters import with_reporting_quarter
from strategies.models import EDITOR_ROLES, Goal, Membership, Role, Sensitivity


class LoginRequired(Exception):  # noqa: N818 - reads as the condition, like Http404
    """An anonymous user asked for something only signed-in users may see."""


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    """Administrators: Django staff or superusers (they use /admin/ too)."""
    return _signed_in(user) and (user.is_staff or user.is_superuser)


def _roles(user) -> dict[int, str]:
    """The user's role on each goal they are a member of, by goal id: one query, kept on
    the user object for the request (``request.user`` is loaded afresh per request)."""
    roles = getattr(user, "_sdif_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("goal_id", "role"))
        user._sdif_roles = roles
    return roles


def member_role(user, goal: Goal) -> str | None:
    """The user's role on ``goal``, or None."""
    if not _signed_in(user):
        return None
    return _roles(user).get(goal.pk)


@dataclass(frozen=True)
class GoalPermissions:
    """What one user may do with one goal; templates read these, never roles."""

    update_milestones: bool  # status updates: leaders, deputies, contributors, admins
    write_summary: bool  # progress summaries: leaders, deputies, admins
    edit_plan: bool  # strategies, goal narrative, revert: admins
    # Close or reopen the goal, set its reporting quarter: admins, also once it is closed.
    manage_lifecycle: bool = False
    # Download the plan in the interchange format (a read, so also of a closed goal): admins.
    export_plan: bool = False

    @property
    def any_write(self) -> bool:
        return self.update_milestones or self.write_summary or self.edit_plan


# What a page showing the past lets anyone do: nothing.
READ_ONLY = GoalPermissions(update_milestones=False, write_summary=False, edit_plan=False)


def permissions_for(user, goal: Goal) -> GoalPermissions:
    """What ``user`` may do with ``goal`` (at most one query a request, for the roles)."""
    admin = is_admin(user)
    if goal.is_closed:
        # A closed goal is read-only for everyone; only reopening it is left.
        return GoalPermissions(
            update_milestones=False,
            write_summary=False,
            edit_plan=False,
            manage_lifecycle=admin,
            export_plan=admin,
        )
    role = None if admin else member_role(user, goal)
    return GoalPermissions(
        update_milestones=admin or role in EDITOR_ROLES,
        write_summary=admin or role in (Role.LEADER, Role.DEPUTY),
        edit_plan=admin,
        manage_lifecycle=admin,
        export_plan=admin,
    )


def can_edit_goal(user, goal: Goal) -> bool:
    """True for admins, and for the goal's leaders, deputies and contributors."""
    return permissions_for(user, goal).update_milestones


def can_see_audit_log(user) -> bool:
    """Admins, and users with a reviewer membership on at least one goal."""
    if not _signed_in(user):
        return False
    return is_admin(user) or Role.REVIEWER in _roles(user).values()


def can_see_change_origin(user) -> bool:
    """Where a change came from (the client address and request id its history row
    keeps): for the readers of the audit log, admins and reviewers, no one else."""
    return can_see_audit_log(user)


def visible_goals(user) -> QuerySet[Goal]:
    """Goals ``user`` may see: admins all; signed-in users public, internal and the
    restricted goals they are members of; anonymous users none (public goals are
    reached only through their published plan)."""
    if not _signed_in(user):
        return Goal.objects.none()
    if is_admin(user):
        return Goal.objects.all()
    # A subquery, not a join: no duplicate rows, so callers may annotate freely.
    return Goal.objects.filter(
        Q(sensitivity__in=[Sensitivity.PUBLIC, Sensitivity.INTERNAL])
        | Q(pk__in=Membership.objects.filter(user=user).values("goal"))
    )


def editable_goals(user) -> QuerySet[Goal]:
    """Goals whose milestones ``user`` may update (``permissions_for(...).update_milestones``):
    active goals only; admins every one, others those they lead, deputise or contribute to."""
    if is_admin(user):
        return Goal.objects.filter(closed_at__isnull=True)
    if not _signed_in(user):
        return Goal.objects.none()
    return Goal.objects.filter(
        closed_at__isnull=True,
        pk__in=Membership.objects.filter(user=user, role__in=EDITOR_ROLES).values("goal"),
    )


class Need(enum.Enum):
    """What a view needs to do with a goal; each value names a ``GoalPermissions`` flag."""

    READ = "read"
    UPDATE_MILESTONES = "update_milestones"
    WRITE_SUMMARY = "write_summary"
    EDIT_PLAN = "edit_plan"
    MANAGE_LIFECYCLE = "manage_lifecycle"
    EXPORT_PLAN = "export_plan"


class GoalClosed(PermissionDenied):
    """A write to a closed goal: refused for everyone, with a page that says so."""

    def __init__(self, goal: Goal):
        super().__init__(
            _(
                "%(goal)s is closed: its plan, milestones and updates are read-only. "
                "An administrator can reopen it."
            )
            % {"goal": goal.short_name or goal.title}
        )
        self.goal = goal


def _with_page_facts(goals: QuerySet[Goal]) -> QuerySet[Goal]:
    """Goals with what every goal page reads of them besides their fields, in the same
    query: the last published quarter (for the reporting quarter) and whether a goal of
    a later cycle names it as its predecessor (for the continuation links)."""
    return with_reporting_quarter(goals).annotate(
        is_continued=Exists(Goal.objects.filter(continued_by=OuterRef("pk")))
    )


def get_goal_for_user(user, slug: str, *, need: Need = Need.READ) -> Goal:
    """The goal ``slug`` if ``user`` may see it (else 404); 403 unless the user may also
    do what ``need`` names."""
    try:
        goal = _with_page_facts(visible_goals(user).select_related("agency")).get(slug=slug)
    except Goal.DoesNotExist:
        raise Http404("No such goal.") from None
    if need is not Need.READ and not getattr(permissions_for(user, goal), need.value):
        if goal.is_closed and need not in (Need.MANAGE_LIFECYCLE, Need.EXPORT_PLAN):
            raise GoalClosed(goal)
        raise PermissionDenied
    return goal


def get_milestone_for_user(user, slug: str, pk: int, *, need: Need = Need.READ) -> Milestone:
    """Milestone ``pk`` of goal ``slug``; 404 if the user may not see the goal or the
    milestone belongs to another goal, 403 unless the user may do what ``need`` names."""
    goal = get_goal_for_user(user, slug, need=need)
    try:
        # Through the goal's manager: the milestone's ``goal`` is this instance (with its
        # agency), not a lazy query.
        return goal.milestones.select_related("strategy", "depends_on").get(pk=pk)
    except Milestone.DoesNotExist:
        raise Http404("No such milestone in this goal.") from None


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
        _with_page_facts(Goal.objects.filter(sensitivity=Sensitivity.PUBLIC))
        .select_related("agency")
        .filter(slug=slug)
        .first()
    )
    if goal is None:
        raise LoginRequired
    return goal
