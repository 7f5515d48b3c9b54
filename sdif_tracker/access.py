"""Who may see and change what: every permission decision, and every view fetches goals and
milestones through here.

A user who may not see a goal gets 404 — never a hint that it exists; a user who may
see it but not change it gets 403 on a write.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value
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


def _load_roles(user) -> None:
    """The user's memberships and agency-wide roles, in one query (a UNION of the two
    tables), kept on the user object for the request (``request.user`` is loaded afresh
    per request): ``_sdif_memberships`` {goal id: (role, reports indicators)} and
    ``_sdif_agency_roles`` {agency id: frozenset of ``AgencyRoleKind`` values}."""
    if hasattr(user, "_sdif_memberships"):
        return
    # Unordered: a compound statement's parts may not have an ORDER BY on SQLite.
    goal_rows = (
        Membership.objects.filter(user=user)
        .order_by()
        .values_list(Value("goal"), "goal_id", "role", "reports_indicators")
    )
    agency_rows = (
        AgencyRole.objects.filter(user=user)
        .order_by()
        .values_list(
            Value("agency"), "agency_id", "role", Value(False, output_field=BooleanField())
        )
    )
    memberships: dict[int, tuple[str, bool]] = {}
    gathered: dict[int, set[str]] = {}
    for kind, object_id, role, reports in goal_rows.union(agency_rows, all=True):
        if kind == "goal":
            memberships[object_id] = (role, bool(reports))
        else:
            gathered.setdefault(object_id, set()).add(role)
    user._sdif_memberships = memberships
    user._sdif_agency_roles = {agency: frozenset(roles) for agency, roles in gathered.items()}


def _memberships(user) -> dict[int, tuple[str, bool]]:
    """The user's (role, reports indicators) on each goal they are a member of, by goal id."""
    _load_roles(user)
    return user._sdif_memberships


def _roles(user) -> dict[int, str]:
    """The user's role on each goal they are a member of, by goal id."""
    return {goal_id: role for goal_id, (role, _reports) in _memberships(user).items()}


def _agency_roles(user) -> dict[int, frozenset[str]]:
    """The user's agency-wide roles (``AgencyRoleKind``) by agency id."""
    _load_roles(user)
    return user._sdif_agency_roles


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
    # Switch the examiner's clearance off: site administrators only (anyone who edits the
    # steps switches it on). The examiner is OMB's check on the agency, so the agency
    # cannot skip it (not even for an update already waiting for it).
    edit_clearance_step: bool = False
    # Its webhooks (``can_manage_webhooks``): site and agency administrators.
    manage_webhooks: bool = False

    @property
    def any_write(self) -> bool:
        return self.edit_steps or bool(self.assign_roles)


def can_assign_agency_role(user, agency_id: int, role: str, holder=None) -> bool:
    """Who may give or take away agency-wide ``role`` over agency ``agency_id``: the
    agency's administrators and site administrators for its administrators and its
    performance office; site administrators alone for examiners, who are OMB staff
    assigned to agencies, not the agency's own people. Nobody but a site administrator
    gives themselves (``holder``) a reviewing role: an agency administrator submits
    updates, and would otherwise approve their own."""
    if role == AgencyRoleKind.EXAMINER:
        return is_admin(user)
    if (
        role == AgencyRoleKind.PERFORMANCE_OFFICE
        and holder is not None
        and getattr(holder, "pk", None) == getattr(user, "pk", None)
        and not is_admin(user)
    ):
        return False
    return role in AgencyRoleKind.values and is_agency_admin(user, agency_id)


def agency_permissions(user, agency_id: int) -> AgencyPermissions | None:
    """What ``user`` may do on agency ``agency_id``'s page, or None if they may not see
    it: site administrators and whoever holds an agency-wide role over it (its
    performance office and examiners read it, to know the steps and who acts next)."""
    if not (is_admin(user) or agency_roles(user, agency_id)):
        return None
    return AgencyPermissions(
        edit_steps=is_agency_admin(user, agency_id),
        edit_clearance_step=is_admin(user),
        manage_webhooks=can_manage_webhooks(user, agency_id=agency_id),
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
    # The goal's webhooks (``can_manage_webhooks``), also once it is closed.
    manage_webhooks: bool = False

    @property
    def any_write(self) -> bool:
        return self.update_milestones or self.write_summary or self.edit_plan

    @property
    def takes_review_steps(self) -> bool:
        """Submits, approves or clears quarterly updates (milestones.review): may post to
        the update's review page; which action the update's state allows is the chain's
        rule (``review.actions_for``)."""
        return self.submit_update or self.approve_update or self.clear_update


# What a page showing the past lets anyone do: nothing.
READ_ONLY = GoalPermissions(update_milestones=False, write_summary=False, edit_plan=False)


def permissions_for(user, goal: Goal) -> GoalPermissions:
    """What ``user`` may do with ``goal`` (at most one query a request, for the roles).

    Agency administrators have a site administrator's powers over their agency's goals
    (but not the Django admin); approving and clearing belong to the performance office
    and the examiners alone, whoever else the user is (a site administrator, a technical
    role, neither approves nor clears, and needs no query for their roles)."""
    site_admin = is_admin(user)
    over_agency = frozenset() if site_admin else agency_roles(user, goal.agency_id)
    admin = site_admin or AgencyRoleKind.ADMIN in over_agency
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
            manage_webhooks=can_manage_webhooks(user, agency_id=goal.agency_id),
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
        manage_webhooks=can_manage_webhooks(user, agency_id=goal.agency_id),
    )


def can_manage_webhooks(
    user, *, goal: Goal | None = None, agency: Agency | None = None, agency_id: int | None = None
) -> bool:
    """Who registers, changes and reads the webhooks of a goal or an agency (their
    signing secrets and delivery logs included): site administrators and the
    administrators of the agency (the goal's). The one rule: ``permissions_for`` and
    ``agency_permissions`` report it as ``manage_webhooks``."""
    if agency_id is None:
        agency_id = goal.agency_id if goal is not None else getattr(agency, "pk", None)
    return agency_id is not None and is_agency_admin(user, agency_id)


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


def is_any_administrator(user) -> bool:
    """Site administrators, and administrators of any agency: who must use a second
    factor (accounts/middleware.py). From the roles every page loads (one query a request)."""
    if not _signed_in(user):
        return False
    return is_admin(user) or bool(agencies_with_role(user, AgencyRoleKind.ADMIN))


def can_see_security_log(user) -> bool:
    """Sign-in, second-factor and token events (accounts): site administrators only."""
    return is_admin(user)


def can_see_change_origin(user, goal: Goal | None = None) -> bool:
    """Where a change came from (the client address and request id its history row
    keeps): for the readers of the audit log, admins and reviewers, no one else; of one
    goal's changes (``goal``), for those who review that goal's history
    (``GoalPermissions.review_history``): an examiner of one agency does not read where
    another agency's changes came from."""
    if goal is not None:
        return can_see_audit_log(user) and permissions_for(user, goal).review_history
    return can_see_audit_log(user)


def audit_goals(user) -> QuerySet[Goal]:
    """The goals whose changes ``user`` reads in the audit log: a reviewer member (and an
    admin) those they may see, as before; someone whose only way in is an agency-wide
    role, the goals of their agencies: the performance office and the examiner read their
    own agencies' changes, not every internal goal's."""
    goals = visible_goals(user)
    if is_admin(user) or Role.REVIEWER in _roles(user).values():
        return goals
    return goals.filter(agency__in=list(_agency_roles(user)))


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


def visible_agencies(user) -> QuerySet[Agency]:
    """Agencies ``user`` may read of (the read API): admins all; others those with a goal
    they may see and those over which they hold an agency-wide role. Their page stays
    ``agency_permissions``'s: this only names the agency and its review steps."""
    if is_admin(user):
        return Agency.objects.all()
    if not _signed_in(user):
        return Agency.objects.none()
    return Agency.objects.filter(
        Q(pk__in=visible_goals(user).values("agency"))
        | Q(pk__in=AgencyRole.objects.filter(user=user).values("agency"))
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


# -- the Quality report (sdif_tracker/pages/quality.py) ---------------------------------


def can_see_quality_report(user) -> bool:
    """Signed-in users who may see at least one goal. Free for admins and for anyone with
    a membership or an agency-wide role (cached for the request); one query otherwise."""
    if not _signed_in(user):
        return False
    if is_admin(user) or _memberships(user) or _agency_roles(user):
        return True
    return visible_goals(user).exists()


# -- the Clearance page (sdif_tracker/pages/clearance.py) ------------------------------


def can_see_clearance(user) -> bool:
    """Whether the navigation offers the Clearance page: to whoever acts in a quarterly
    update's review chain (site administrators, anyone with an agency-wide role, and the
    leaders and deputies who submit, fix returned updates and publish)."""
    if not _signed_in(user):
        return False
    return (
        is_admin(user)
        or any(role in (Role.LEADER, Role.DEPUTY) for role in _roles(user).values())
        or bool(_agency_roles(user))
    )


def review_chain_goals(user) -> QuerySet[Goal]:
    """Active goals, among those ``user`` may see, on which they may act in the review
    chain: admins every one; others those they lead or deputise and every goal of the
    agencies where they hold an agency-wide role. A superset: each update's step is
    matched to ``permissions_for``'s flags (submit, approve, clear) by the caller."""
    if not _signed_in(user):
        return Goal.objects.none()
    if is_admin(user):
        return Goal.objects.filter(closed_at__isnull=True)
    return visible_goals(user).filter(
        Q(
            pk__in=Membership.objects.filter(
                user=user, role__in=[Role.LEADER, Role.DEPUTY]
            ).values("goal")
        )
        | Q(agency__in=AgencyRole.objects.filter(user=user).values("agency")),
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
