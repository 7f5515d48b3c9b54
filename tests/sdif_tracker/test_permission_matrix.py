"""Every URL of the app × every kind of user × GET and POST.

The goal under test is *restricted*: only its members and admins may see it, so an
outsider and the leader of another goal must get 404 (never a hint it exists), members
who may see but not change get 403, and anonymous users are sent to log in.

A new URL fails ``test_every_url_of_the_app_is_in_the_matrix`` until it is listed here.
POSTs carry no form data: an allowed POST answers with the form's errors (400, or 200
for Django's own auth forms) or a redirect, and never changes anything it may not.
"""

import pytest
from django.test import Client
from django.urls import reverse

from milestones.models import Milestone
from strategies.models import Indicator, Strategy
from tests.url_map import app_url_names, build_world, url_for

ROLES = [
    "anonymous",
    "outsider",
    "contributor",
    "deputy",
    "leader",
    "other_leader",
    "reviewer",
    "admin",
]
LOGIN = "login"  # a redirect to the login page


def row(anonymous, outsider, contributor, deputy, leader, other_leader, reviewer, admin):
    return dict(
        zip(
            ROLES,
            [anonymous, outsider, contributor, deputy, leader, other_leader, reviewer, admin],
            strict=True,
        )
    )


def same_for_signed_in(anonymous, signed_in):
    return row(anonymous, *([signed_in] * 7))


# What a page of the restricted goal answers, by who asks.
GOAL_READ = row(LOGIN, 404, 200, 200, 200, 404, 200, 200)
NOT_ALLOWED = same_for_signed_in(405, 405)
# Mutations of milestones: editors may, reviewers may not.
MILESTONE_WRITE_POST = row(LOGIN, 404, 400, 400, 400, 404, 403, 400)
# Plan editing: admins only.
PLAN_GET = row(LOGIN, 404, 403, 403, 403, 404, 403, 200)
PLAN_POST = row(LOGIN, 404, 403, 403, 403, 404, 403, 400)

# name -> (kwargs builder, expected on GET, expected on POST)
MATRIX = {
    "portfolio": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "my_goals": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "goal_dashboard": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_plan": ("goal", GOAL_READ, NOT_ALLOWED),
    "milestone_detail": ("milestone", GOAL_READ, NOT_ALLOWED),
    # Without htmx the row URL sends the browser to the milestone page.
    "milestone_row": ("milestone", row(LOGIN, 404, 302, 302, 302, 404, 302, 302), NOT_ALLOWED),
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
    # The strategy to delete has no milestones: the admin's POST deletes it.
    "strategy_delete": (
        "empty_strategy",
        NOT_ALLOWED,
        row(LOGIN, 404, 403, 403, 403, 404, 403, 302),
    ),
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
    # Publishing: leaders, deputies and admins; an empty POST is refused with a message
    # and a redirect back to the plan. Exports read like the goal; YAML and indicators
    # are for admins.
    "publish_quarter": ("goal", NOT_ALLOWED, row(LOGIN, 404, 403, 302, 302, 404, 403, 302)),
    "goal_plan_pdf": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_plan_yaml": ("goal", PLAN_GET, NOT_ALLOWED),
    "goal_milestones_csv": ("goal", GOAL_READ, NOT_ALLOWED),
    "goal_milestones_xlsx": ("goal", GOAL_READ, NOT_ALLOWED),
    # Every goal the user may see (none, for some): signed-in users only.
    "milestones_csv": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "milestones_xlsx": (None, same_for_signed_in(LOGIN, 200), NOT_ALLOWED),
    "indicator_list": ("goal", PLAN_GET, PLAN_POST),
    "indicator_edit": ("indicator", PLAN_GET, PLAN_POST),
    "login": (None, same_for_signed_in(200, 200), same_for_signed_in(200, 200)),
    "logout": (None, NOT_ALLOWED, same_for_signed_in(302, 302)),
    "password_change": (
        None,
        same_for_signed_in(LOGIN, 200),
        same_for_signed_in(LOGIN, 200),
    ),
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
}


def test_every_url_of_the_app_is_in_the_matrix():
    assert app_url_names() == set(MATRIX)


@pytest.fixture
def world(db):
    return build_world()


def state(world):
    """What a forbidden request must not change."""
    goal = world["goal"]
    goal.refresh_from_db()
    milestone = Milestone.objects.get(pk=world["milestone"].pk)
    return (
        goal.title,
        goal.updated_at,
        milestone.version,
        milestone.status,
        milestone.strategy_id,
        sorted(Strategy.objects.filter(goal=goal).values_list("number", "title")),
        world["summary"].__class__.objects.filter(goal=goal).count(),
        sorted(
            world["summary"]
            .__class__.objects.filter(goal=goal)
            .values_list("period", "published_at", "summary")
        ),
        sorted(Indicator.objects.filter(goal=goal).values_list("name", "unit", "direction")),
    )


CASES = [
    (name, method, role) for name in sorted(MATRIX) for method in ("GET", "POST") for role in ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), CASES)
def test_permission_matrix(world, name, method, role):
    target, on_get, on_post = MATRIX[name]
    expected = (on_get if method == "GET" else on_post)[role]
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    url = url_for(name, target, world)
    before = state(world)

    response = client.get(url) if method == "GET" else client.post(url, {})

    if expected == LOGIN:
        assert response.status_code == 302, (name, method, role, response.status_code)
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code == expected, (name, method, role, response.status_code)
    if expected in (LOGIN, 403, 404, 405):
        assert state(world) == before, (name, method, role)


def test_restricted_goal_pages_leak_nothing_to_outsiders(world):
    """The 404 for a goal one may not see is the same as for a goal that does not exist."""
    client = Client()
    client.force_login(world["users"]["outsider"])

    hidden = client.get(reverse("goal_dashboard", kwargs={"slug": "restricted-goal"}))
    missing = client.get(reverse("goal_dashboard", kwargs={"slug": "no-such-goal"}))

    assert hidden.status_code == missing.status_code == 404
    assert world["goal"].title not in hidden.content.decode()
