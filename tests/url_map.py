"""Every URL of the app, what each answers by who asks, and a goal with one object of
each kind to point them at: shared by the permission matrix and the hostile-input
walker, so both cover the same URLs."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from strategies.models import AgencyRoleKind, Role, Sensitivity
from tests.factories import (
    AgencyFactory,
    AgencyRoleFactory,
    GoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
    UserFactory,
)


def app_url_names(patterns=None, namespace=None):
    """Names of every URL outside the Django admin."""
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            # The read API (namespace "api") answers with JSON, 401 rather than a login
            # redirect, and has its own visibility tests (tests/integrations/test_api*.py).
            if pattern.namespace in ("admin", "api"):
                continue
            names |= app_url_names(pattern.url_patterns, pattern.namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def build_world() -> dict:
    """A restricted goal with a strategy, an empty strategy, a milestone, a progress
    summary and an indicator; a user of each role on it, an outsider, the leader of
    another goal, an admin, and a user of each agency-wide role over the goal's agency
    and over another agency."""
    goal = GoalFactory(sensitivity=Sensitivity.RESTRICTED, slug="restricted-goal")
    strategy = StrategyFactory(goal=goal, number=1)
    users = {
        "anonymous": None,
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
    }
    users["outsider"] = UserFactory(username="outsider")
    for role in ("contributor", "deputy", "leader", "reviewer"):
        users[role] = MembershipFactory(goal=goal, role=Role(role), user__username=role).user
    users["other_leader"] = MembershipFactory(role=Role.LEADER, user__username="other_leader").user
    other_agency = AgencyFactory(name="Department of State", abbreviation="State")
    for prefix, agency in (("", goal.agency), ("other_", other_agency)):
        for name, kind in AGENCY_ROLE_USERS.items():
            username = f"{prefix}{name}"
            users[username] = AgencyRoleFactory(
                agency=agency, role=kind, user__username=username
            ).user
    return {
        "goal": goal,
        "strategy": strategy,
        "empty_strategy": StrategyFactory(goal=goal, number=2),
        "milestone": MilestoneFactory(goal=goal, strategy=strategy),
        "summary": ProgressSummaryFactory(goal=goal),
        "indicator": IndicatorFactory(goal=goal),
        "users": users,
        # A webhook of the goal and one of its agency (integrations/webhook_views.py).
        "goal_webhook": webhook_endpoint(goal=goal),
        "agency_webhook": webhook_endpoint(agency=goal.agency),
    }


def webhook_endpoint(**owner):
    from integrations.models import EventType, WebhookEndpoint

    return WebhookEndpoint.objects.create(
        url="https://hooks.example.com/sdif", events=EventType.values, **owner
    )


def url_for(name, target, world):
    """URL ``name`` pointed at ``target`` of ``world``: None (no arguments), "goal", an
    object's key ("milestone"), or "<key>_version" for its first history row."""
    if target is None:
        return reverse(name)
    goal = world["goal"]
    if target == "goal":
        return reverse(name, kwargs={"slug": goal.slug})
    if target == "agency":
        return reverse(name, kwargs={"pk": goal.agency_id})
    if target == "agency_webhook":
        return reverse(name, kwargs={"pk": goal.agency_id, "endpoint": world[target].pk})
    if target == "goal_version":
        return reverse(name, kwargs={"slug": goal.slug, "history_id": goal.changes.first().pk})
    if target.endswith("_version"):
        obj = world[target.removesuffix("_version")]
        kwargs = {"slug": goal.slug, "pk": obj.pk, "history_id": obj.history.first().pk}
        return reverse(name, kwargs=kwargs)
    return reverse(name, kwargs={"slug": goal.slug, "pk": world[target].pk})


# -- what each URL answers, by who asks (the permission matrix; the hostile walker
# visits the same URLs at the same targets) ------------------------------------------

# Agency-wide roles: a user of each over the restricted goal's agency, and one of each
# over another agency ("other_…"), who must get what an outsider gets on the goal.
AGENCY_ROLE_USERS = {
    "agency_admin": AgencyRoleKind.ADMIN,
    "performance_office": AgencyRoleKind.PERFORMANCE_OFFICE,
    "examiner": AgencyRoleKind.EXAMINER,
}
OTHER_AGENCY = {f"other_{name}": name for name in AGENCY_ROLE_USERS}
ROLES = [
    "anonymous",
    "outsider",
    "contributor",
    "deputy",
    "leader",
    "other_leader",
    "reviewer",
    "admin",
    *AGENCY_ROLE_USERS,
    *OTHER_AGENCY,
]
LOGIN = "login"  # a redirect to the login page


def row(
    anonymous,
    outsider,
    contributor,
    deputy,
    leader,
    other_leader,
    reviewer,
    admin,
    *,
    agency_admin=None,
    performance_office=None,
    examiner=None,
):
    """What a URL answers, by role. The agency-wide roles over the goal's agency answer
    as an admin (agency administrator) and as a reviewer (performance office, examiner)
    unless told; those over another agency as their counterpart here for a URL of no
    goal, as an outsider for one of the goal or its agency (``_outside_agency``)."""
    answers = {
        "anonymous": anonymous,
        "outsider": outsider,
        "contributor": contributor,
        "deputy": deputy,
        "leader": leader,
        "other_leader": other_leader,
        "reviewer": reviewer,
        "admin": admin,
        "agency_admin": admin if agency_admin is None else agency_admin,
        "performance_office": reviewer if performance_office is None else performance_office,
        "examiner": reviewer if examiner is None else examiner,
    }
    answers.update({other: answers[name] for other, name in OTHER_AGENCY.items()})
    return answers


def same_for_signed_in(anonymous, signed_in):
    return row(anonymous, *([signed_in] * 7))


def _outside_agency(target, answers: dict) -> dict:
    """``answers`` with the other agency's roles answered as an outsider where the URL
    points at the restricted goal, something of it, or its agency (any ``target``)."""
    if target is None:
        return answers
    return {**answers, **dict.fromkeys(OTHER_AGENCY, answers["outsider"])}


# What a page of the restricted goal answers, by who asks.
GOAL_READ = row(LOGIN, 404, 200, 200, 200, 404, 200, 200)
NOT_ALLOWED = same_for_signed_in(405, 405)
# Mutations of milestones: editors may, reviewers may not.
MILESTONE_WRITE_POST = row(LOGIN, 404, 400, 400, 400, 404, 403, 400)
# Plan editing: admins only.
PLAN_GET = row(LOGIN, 404, 403, 403, 403, 404, 403, 200)
PLAN_POST = row(LOGIN, 404, 403, 403, 403, 404, 403, 400)
# The goal's agency's own page.
AGENCY_GET = row(LOGIN, 404, 404, 404, 404, 404, 404, 200, performance_office=200, examiner=200)
AGENCY_POST = row(LOGIN, 404, 404, 404, 404, 404, 404, 400, performance_office=403, examiner=403)
AGENCY_WEBHOOKS_GET = row(
    LOGIN, 404, 404, 404, 404, 404, 404, 200, performance_office=403, examiner=403
)
# Pages for site administrators alone: agency administrators are refused too.
_REFUSED = dict.fromkeys(("agency_admin", "performance_office", "examiner"), 403)
SITE_ADMIN_ONLY = row(LOGIN, 403, 403, 403, 403, 403, 403, 200, **_REFUSED)

# name -> (kwargs builder, expected on GET, expected on POST)
MATRIX = {
    "portfolio": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "my_goals": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    # What waits for the user in the review chain: open to everyone signed in (with no
    # review role it says nothing waits); only the nav link is kept to reviewers.
    "clearance": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "goal_dashboard": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_plan": ("goal", GOAL_READ, NOT_ALLOWED),
    # A quarterly update's review: read like the goal; an empty POST names no action (400)
    # for whoever takes a step of the chain (leaders, deputies, admins), 403 for the rest.
    "update_review": (
        "goal",
        GOAL_READ,
        row(LOGIN, 404, 403, 400, 400, 404, 403, 400, performance_office=400, examiner=400),
    ),
    "milestone_detail": ("milestone", GOAL_READ, NOT_ALLOWED),
    # Without htmx the row URL sends the browser to the milestone page.
    "milestone_update": (
        "milestone",
        row(LOGIN, 404, 302, 302, 302, 404, 403, 302),
        MILESTONE_WRITE_POST,
    ),
    "progress_edit": (
        "goal",
        row(LOGIN, 404, 403, 200, 200, 404, 403, 200),
        row(LOGIN, 404, 403, 400, 400, 404, 403, 400),
    ),
    "goal_edit": ("goal", PLAN_GET, PLAN_POST),
    "strategy_list": ("goal", PLAN_GET, NOT_ALLOWED),
    "strategy_add": ("goal", PLAN_GET, PLAN_POST),
    "strategy_edit": ("strategy", PLAN_GET, PLAN_POST),
    # The strategy to delete has no milestones: GET is its confirmation page; an empty
    # POST did not come from it (no version) and deletes nothing.
    "strategy_delete": ("empty_strategy", PLAN_GET, PLAN_POST),
    "milestone_move": ("milestone", NOT_ALLOWED, PLAN_POST),
    "goal_compare": ("goal", GOAL_READ, NOT_ALLOWED),
    # Reverting to the only version there is: the admin's POST has nothing to revert.
    "milestone_revert": ("milestone_version", PLAN_GET, PLAN_POST),
    "strategy_revert": ("strategy_version", PLAN_GET, PLAN_POST),
    "goal_revert": ("goal_version", PLAN_GET, PLAN_POST),
    # History: timelines read like the goal; the audit log is for reviewers and admins.
    "goal_history": ("goal", GOAL_READ, NOT_ALLOWED),
    "strategy_history": ("strategy", GOAL_READ, NOT_ALLOWED),
    "milestone_history": ("milestone", GOAL_READ, NOT_ALLOWED),
    "progress_history": ("summary", GOAL_READ, NOT_ALLOWED),
    "indicator_history": ("indicator", GOAL_READ, NOT_ALLOWED),
    "audit_log": (None, row(LOGIN, 403, 403, 403, 403, 403, 200, 200), NOT_ALLOWED),
    "audit_export": (None, row(LOGIN, 403, 403, 403, 403, 403, 200, 200), NOT_ALLOWED),
    # The quality report: every signed-in user who sees a goal (in this world, the other
    # leader's internal goal is seen by all); each sees the findings of their goals only.
    "quality_report": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "quality_export": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    # Publishing: leaders, deputies and admins; GET is the confirmation page (what would
    # be frozen, or why nothing can be), an empty POST is refused on it (400). Exports
    # read like the goal; YAML and indicators are for admins.
    "publish_quarter": (
        "goal",
        row(LOGIN, 404, 403, 200, 200, 404, 403, 200),
        row(LOGIN, 404, 403, 400, 400, 404, 403, 400),
    ),
    "goal_plan_pdf": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_plan_yaml": ("goal", PLAN_GET, NOT_ALLOWED),
    "goal_milestones_csv": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_milestones_xlsx": ("goal", GOAL_READ, NOT_ALLOWED),
    # Every goal the user may see (none, for some): signed-in users only.
    "milestones_csv": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "milestones_xlsx": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "indicator_list": ("goal", PLAN_GET, PLAN_POST),
    "indicator_edit": ("indicator", PLAN_GET, PLAN_POST),
    # Actuals: leaders, deputies, contributors given the capability (the matrix's
    # contributor is not) and admins; an empty POST is no form (400).
    "indicator_actuals": (
        "goal",
        row(LOGIN, 404, 403, 200, 200, 404, 403, 200),
        row(LOGIN, 404, 403, 400, 400, 404, 403, 400),
    ),
    "login": (None, same_for_signed_in(200, 200), same_for_signed_in(200, 200)),
    # Everyone's own page; it only shows, each section posts to its own URL.
    "account": (None, same_for_signed_in(LOGIN, 200), same_for_signed_in(LOGIN, 405)),
    # Personal access tokens, the user's own: an empty POST names no token (400).
    "token_create": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 400)),
    "token_revoke": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 400)),
    "logout": (None, NOT_ALLOWED, same_for_signed_in(302, 302)),
    # Single sign-on: not found while no provider is set up (as here; tests/accounts/
    # test_sso.py signs in through a real one); GET only.
    "sso_start": (None, same_for_signed_in(404, 404), NOT_ALLOWED),
    "sso_callback": (None, same_for_signed_in(404, 404), NOT_ALLOWED),
    "password_change": (
        None,
        same_for_signed_in(LOGIN, 200),
        same_for_signed_in(LOGIN, 200),
    ),
    # The second factor (accounts/views.py). The code step sends a user with nothing to
    # enter (no authenticator, as everyone here) on to the home page; the set-up posts
    # come back to the account page, or answer it with 400 when there is nothing to
    # confirm, no authenticator to make recovery codes for, none to remove.
    "mfa_verify": (None, same_for_signed_in(LOGIN, 302), same_for_signed_in(LOGIN, 302)),
    "mfa_start": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 302)),
    "mfa_confirm": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 400)),
    "mfa_recovery_codes": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 400)),
    "mfa_remove": (None, same_for_signed_in(LOGIN, 405), same_for_signed_in(LOGIN, 400)),
    # Sign-in, second-factor and token events: site administrators only.
    "security_log": (None, SITE_ADMIN_ONLY, same_for_signed_in(LOGIN, 405)),
    # Django's own view asks for a login before it looks at the method.
    "password_change_done": (
        None,
        same_for_signed_in(LOGIN, 200),
        same_for_signed_in(LOGIN, 405),
    ),
    # Django's language switcher is open to everyone: a GET only redirects (to "/" with
    # no ``next``) without changing anything; a POST sets the language cookie and
    # redirects too.
    "set_language": (None, same_for_signed_in(302, 302), same_for_signed_in(302, 302)),
    # The health check is open to everyone and only reads.
    "healthz": (None, same_for_signed_in(200, 200), same_for_signed_in(405, 405)),
    # The goal's lifecycle: admins. Closing an active goal whose last quarter is not
    # published shows why not (GET 200, POST 400); reopening an active goal likewise.
    "goal_close": ("goal", PLAN_GET, PLAN_POST),
    "goal_reopen": ("goal", PLAN_GET, PLAN_POST),
    "goal_reporting_quarter": ("goal", PLAN_GET, PLAN_POST),
    # Who works on the goal: site and agency administrators. An empty POST is no form
    # (400): no one named, no member, no confirmation.
    "goal_members": ("goal", PLAN_GET, PLAN_POST),
    "member_change": ("goal", NOT_ALLOWED, PLAN_POST),
    "member_remove": ("goal", NOT_ALLOWED, PLAN_POST),
    # The goal's agency: its page is for site admins and whoever holds an agency-wide
    # role over it (the rest get 404); its administrators change it.
    "agency_detail": ("agency", AGENCY_GET, NOT_ALLOWED),
    "agency_steps": ("agency", NOT_ALLOWED, AGENCY_POST),
    "agency_role_add": ("agency", NOT_ALLOWED, AGENCY_POST),
    "agency_role_remove": ("agency", NOT_ALLOWED, AGENCY_POST),
    # Webhooks: site and agency administrators; an empty POST registers nothing (no URL)
    # or names no action (400). The agency's performance office and examiners see its
    # page but not its webhooks (403).
    "goal_webhooks": ("goal", PLAN_GET, PLAN_POST),
    "goal_webhook": ("goal_webhook", PLAN_GET, PLAN_POST),
    "agency_webhooks": ("agency", AGENCY_WEBHOOKS_GET, AGENCY_POST),
    "agency_webhook": ("agency_webhook", AGENCY_WEBHOOKS_GET, AGENCY_POST),
}
# Entries go in the literal above; the other agency's roles are filled in here.
MATRIX = {
    name: (target, _outside_agency(target, on_get), _outside_agency(target, on_post))
    for name, (target, on_get, on_post) in MATRIX.items()
}

# -- the same goal once closed -----------------------------------------------------------

# URLs that change the goal or offer a form to: on a closed goal every one is refused
# (403) to everyone who may see the goal, admins too. Reads answer as before.
WRITE_URLS = frozenset(
    {
        "milestone_update",
        "progress_edit",
        "goal_edit",
        "strategy_list",
        "strategy_add",
        "strategy_edit",
        "strategy_delete",
        "milestone_move",
        "milestone_revert",
        "strategy_revert",
        "goal_revert",
        "publish_quarter",
        "indicator_list",
        "indicator_edit",
        "indicator_actuals",
        "goal_close",
        "goal_reporting_quarter",
        "goal_members",
        "member_change",
        "member_remove",
    }
)
# URLs whose GET only reads and whose POST changes the goal: on a closed goal the GET
# answers as before and the POST is refused (403) to everyone who may see the goal.
POST_WRITE_URLS = frozenset({"update_review"})
# Reopening is the one change left on a closed goal: admins only; an empty POST lacks
# the reason (400).
CLOSED_REOPEN = (_outside_agency("goal", PLAN_GET), _outside_agency("goal", PLAN_POST))
GOAL_URL_NAMES = sorted(name for name, (target, _, _) in MATRIX.items() if target is not None)


def closed_goal_expected(name: str, method: str) -> dict:
    """What URL ``name`` answers for the closed goal, by role."""
    _target, on_get, on_post = MATRIX[name]
    if name == "goal_reopen":
        return CLOSED_REOPEN[0] if method == "GET" else CLOSED_REOPEN[1]
    expected = on_get if method == "GET" else on_post
    writes = name in WRITE_URLS or (name in POST_WRITE_URLS and method != "GET")
    if not writes:
        return expected
    return {
        role: answer if answer in (LOGIN, 404, 405) else 403 for role, answer in expected.items()
    }
