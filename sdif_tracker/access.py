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
from strategies.models import (
    EDITOR_ROLES,
    Agency,
    AgencyRole,
    AgencyRoleKind,
    Goal,
    Membership,
    Role,
    Sensitivity,
)


class LoginRequired(Exception):  # noqa: N818 - reads as the condition, like Http404
    """An anonymous user asked for something only signed-in users may see."""


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    """Administrators: Django staff or superusers (they use /admin/ too)."""
    return _signed_in(user) and (user.is_staff or user.is_superuser)


def _memberships(user) -> dict[int, tuple[str, bool]]:
    """The user's (role, reports indicators) on each goal they are a member of, by goal
    id: one query, kept on the user object for the request (``request.user`` is loaded
    afresh per request)."""
    found = getattr(user, "_sdif_memberships", None)
    if found is None:
        found = {
            goal_id: (role, reports)
            for goal_id, role, reports in Membership.objects.filter(user=user).values_list(
                "goal_id", "role", "reports_indicators"
            )
        }
        user._sdif_memberships = found
    return found


def _roles(user) -> dict[int, str]:
    """The user's role on each goal they are a member of, by goal id."""
    return {goal_id: role for goal_id, (role, _reports) in _memberships(user).items()}


def _agency_roles(user) -> dict[int, frozenset[str]]:
    """The user's agency-wide roles (``AgencyRoleKind``) by agency id: one query, kept on
    the user object for the request."""
    found = getattr(user, "_sdif_agency_roles", None)
    if found is None:
        gathered: dict[int, set[str]] = {}
        for agency_id, role in AgencyRole.objects.filter(user=user).values_list(
            "agency_id", "role"
        ):
            gathered.setdefault(agency_id, set()).add(role)
        found = {agency_id: frozenset(roles) for agency_id, roles in gathered.items()}
        user._sdif_agency_roles = found
    return found


def agency_roles(user, agency_id: int) -> frozenset[str]:
    """The user's agency-wide roles over agency ``agency_id`` (empty for none)."""
    if not _signed_in(user):
        return frozenset()
    return _agency_roles(user).get(agency_id, frozenset())


def is_agency_admin(user, agency_id: int) -> bool:
    """Site administrators, and the agency's own administrators."""
    return is_admin(user) or AgencyRoleKind.ADMIN in agency_roles(user, agency_id)


def agencies_with_role(user, role: str) -> list[int]:
    """Ids of the agencies over which ``user`` holds agency-wide ``role``."""
    if not _signed_in(user):
        return []
    return sorted(agency for agency, roles in _agency_roles(user).items() if role in roles)


# -- an agency's own page: the review steps it uses and who holds its agency-wide roles ----


@dataclass(frozen=True)
class AgencyPermissions:
    """What one user may do on one agency's page (``get_agency_for_user``)."""

    # Switch the agency's review steps on or off: site and agency administrators.
    edit_steps: bool
    # The agency-wide roles (``AgencyRoleKind`` values) this user may give or take away.
    assign_roles: frozenset[str]

    @property
    def any_write(self) -> bool:
        return self.edit_steps or bool(self.assign_roles)


def can_assign_agency_role(user, agency_id: int, role: str) -> bool:
    """Who may give or take away agency-wide ``role`` over agency ``agency_id``: the
    agency's administrators and site administrators for its administrators and its
    performance office; site administrators alone for examiners, who are OMB staff
    assigned to agencies, not the agency's own people."""
    if role == AgencyRoleKind.EXAMINER:
        return is_admin(user)
    return role in AgencyRoleKind.values and is_agency_admin(user, agency_id)


def agency_permissions(user, agency_id: int) -> AgencyPermissions | None:
    """What ``user`` may do on agency ``agency_id``'s page, or None if they may not see
    it: site administrators and whoever holds an agency-wide role over it (its
    performance office and examiners read it, to know the steps and who acts next)."""
    if not (is_admin(user) or agency_roles(user, agency_id)):
        return None
    return AgencyPermissions(
        edit_steps=is_agency_admin(user, agency_id),
        assign_roles=frozenset(
            role for role in AgencyRoleKind.values if can_assign_agency_role(user, agency_id, role)
        ),
    )


def get_agency_for_user(user, pk: int, *, write: bool = False) -> tuple[Agency, AgencyPermissions]:
    """Agency ``pk`` and what ``user`` may do there: 404 if they may not see its page,
    403 on ``write`` unless they may change something on it."""
    perms = agency_permissions(user, pk) if _signed_in(user) else None
    agency = Agency.objects.filter(pk=pk).first() if perms is not None else None
    if agency is None:
        raise Http404("No such agency.")
    if write and not perms.any_write:
        raise PermissionDenied
    return agency, perms


def sees_every_change(user) -> bool:
    """The whole audit log, changes that belong to no goal (agencies, their roles)
    included: site administrators; every other reader sees the changes of the goals
    they may see."""
    return is_admin(user)


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
    # The review chain (milestones.review): submit (leaders, deputies, admins), approve
    # or return (the agency's performance office), clear or return (its examiners).
    submit_update: bool = False
    approve_update: bool = False
    clear_update: bool = False
    # Indicator actuals: leaders, deputies, contributors given the capability, admins.
    enter_actuals: bool = False
    # The goal's memberships: site administrators and the agency's administrators.
    manage_members: bool = False
    # The goal's history reviewed as an auditor does (change origins, the audit log).
    review_history: bool = False
    # The agency's page (its review steps, agency-wide roles): site administrators and
    # whoever holds an agency-wide role over the goal's agency (``agency_permissions``).
    see_agency: bool = False

    @property
    def any_write(self) -> bool:
        return self.update_milestones or self.write_summary or self.edit_plan


# What a page showing the past lets anyone do: nothing.
READ_ONLY = GoalPermissions(update_milestones=False, write_summary=False, edit_plan=False)


def permissions_for(user, goal: Goal) -> GoalPermissions:
    """What ``user`` may do with ``goal`` (at most two queries a request, for the roles).

    Agency administrators have a site administrator's powers over their agency's goals
    (but not the Django admin); approving and clearing belong to the performance office
    and the examiners alone, whoever else the user is."""
    over_agency = agency_roles(user, goal.agency_id)
    admin = is_admin(user) or AgencyRoleKind.ADMIN in over_agency
    reviews = bool(over_agency) or admin or member_role(user, goal) == Role.REVIEWER
    if goal.is_closed:
        # A closed goal is read-only for everyone; only reopening it is left.
        return GoalPermissions(
            update_milestones=False,
            write_summary=False,
            edit_plan=False,
            manage_lifecycle=admin,
            export_plan=admin,
            review_history=reviews,
            see_agency=bool(over_agency) or is_admin(user),
        )
    membership = None if admin or not _signed_in(user) else _memberships(user).get(goal.pk)
    role, reports = membership or (None, False)
    leads = admin or role in (Role.LEADER, Role.DEPUTY)
    return GoalPermissions(
        update_milestones=admin or role in EDITOR_ROLES,
        write_summary=leads,
        edit_plan=admin,
        manage_lifecycle=admin,
        export_plan=admin,
        submit_update=leads,
        approve_update=AgencyRoleKind.PERFORMANCE_OFFICE in over_agency,
        clear_update=AgencyRoleKind.EXAMINER in over_agency,
        enter_actuals=leads or (role == Role.CONTRIBUTOR and reports),
        manage_members=admin,
        review_history=reviews,
        see_agency=bool(over_agency) or is_admin(user),
    )


def can_edit_goal(user, goal: Goal) -> bool:
    """True for admins, and for the goal's leaders, deputies and contributors."""
    return permissions_for(user, goal).update_milestones


def can_see_audit_log(user) -> bool:
    """Admins, users with a reviewer membership on at least one goal, and anyone with an
    agency-wide role (administrator, performance office, examiner); each sees the changes
    of the goals they may see."""
    if not _signed_in(user):
        return False
    return is_admin(user) or Role.REVIEWER in _roles(user).values() or bool(_agency_roles(user))


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
    # Subqueries, not joins: no duplicate rows, so callers may annotate freely.
    return Goal.objects.filter(
        Q(sensitivity__in=[Sensitivity.PUBLIC, Sensitivity.INTERNAL])
        | Q(pk__in=Membership.objects.filter(user=user).values("goal"))
        | Q(agency__in=AgencyRole.objects.filter(user=user).values("agency"))
    )


def editable_goals(user) -> QuerySet[Goal]:
    """Goals whose milestones ``user`` may update (``permissions_for(...).update_milestones``):
    active goals only; admins every one, others those they lead, deputise or contribute to."""
    if is_admin(user):
        return Goal.objects.filter(closed_at__isnull=True)
    if not _signed_in(user):
        return Goal.objects.none()
    return Goal.objects.filter(
        Q(pk__in=Membership.objects.filter(user=user, role__in=EDITOR_ROLES).values("goal"))
        | Q(
            agency__in=AgencyRole.objects.filter(user=user, role=AgencyRoleKind.ADMIN).values(
                "agency"
            )
        ),
        closed_at__isnull=True,
    )


class Need(enum.Enum):
    """What a view needs to do with a goal; each value names a ``GoalPermissions`` flag."""

    READ = "read"
    UPDATE_MILESTONES = "update_milestones"
    WRITE_SUMMARY = "write_summary"
    EDIT_PLAN = "edit_plan"
    MANAGE_LIFECYCLE = "manage_lifecycle"
    EXPORT_PLAN = "export_plan"
    SUBMIT_UPDATE = "submit_update"
    APPROVE_UPDATE = "approve_update"
    CLEAR_UPDATE = "clear_update"
    ENTER_ACTUALS = "enter_actuals"
    MANAGE_MEMBERS = "manage_members"
    REVIEW_HISTORY = "review_history"


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
