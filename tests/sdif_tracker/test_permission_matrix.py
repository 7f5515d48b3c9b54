"""Every URL of the app × every kind of user × GET and POST.

The goal under test is *restricted*: only its members and admins may see it, so an
outsider and the leader of another goal must get 404 (never a hint it exists), members
who may see but not change get 403, and anonymous users are sent to log in.

A new URL fails ``test_every_url_of_the_app_is_in_the_matrix`` until it is listed in
``tests/url_map.py``.
POSTs carry no form data: an allowed POST answers with the form's errors (400, or 200
for Django's own auth forms) or a redirect, and never changes anything it may not.
"""

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from milestones.models import Milestone
from strategies.models import Agency, AgencyRole, Goal, Indicator, IndicatorValue, Strategy
from tests.html_dom import parse
from tests.url_map import (
    GOAL_URL_NAMES,
    LOGIN,
    MATRIX,
    OTHER_AGENCY,
    ROLES,
    app_url_names,
    build_world,
    closed_goal_expected,
    url_for,
)


def test_every_url_of_the_app_is_in_the_matrix():
    assert app_url_names() == set(MATRIX)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module (14 users, their roles, a goal with one object of each
    kind) inside a transaction rolled back at the module's end; each test runs in a
    savepoint of it that is rolled back after the test (``db``), as Django's
    ``setUpTestData``. Building it for each of the ~2,600 cases was two thirds of their time."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _each_case_rolled_back(db):
    """Every case in its own savepoint of the module's world."""


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
            .values_list("period", "published_at", "summary", "review_state", "version")
        ),
        sorted(
            Indicator.objects.filter(goal=goal).values_list(
                "name", "unit", "direction", "version", "is_published"
            )
        ),
        sorted(
            IndicatorValue.objects.filter(indicator__goal=goal).values_list(
                "indicator_id", "period", "target", "actual", "note", "version"
            )
        ),
        sorted(goal.memberships.values_list("user__username", "role", "reports_indicators")),
        sorted(AgencyRole.objects.values_list("user__username", "agency_id", "role")),
        sorted(Agency.objects.values_list("pk", "agency_approval", "examiner_clearance")),
    )


def assert_styled_error_page(response, status):
    """A 403 or 404 is the site's error page (DEBUG is off here): its heading, in the
    layout's main landmark, and the way back."""
    document = parse(response.content)
    main = document.find("main")
    page = main.find(data_error_page=str(status))
    heading = {403: "Not allowed", 404: "Page not found"}[status]
    assert page.find("h1").text == heading, (status, page.find("h1").text)
    links = {a.attrs["href"] for a in page.find_all("a")}
    assert reverse("portfolio") in links and reverse("my_goals") in links, links
    assert document.find_all("header") and document.find_all("nav", aria_label="Main")


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
    if expected in (403, 404):
        assert_styled_error_page(response, expected)
    if expected in (LOGIN, 403, 404, 405):
        assert state(world) == before, (name, method, role)


@pytest.mark.parametrize("role", ["outsider", *OTHER_AGENCY])
def test_restricted_goal_pages_leak_nothing_to_outsiders(world, role):
    """The 404 for a goal one may not see is the same as for a goal that does not exist,
    for an outsider and for every agency-wide role over another agency."""
    client = Client()
    client.force_login(world["users"][role])

    hidden = client.get(reverse("goal_dashboard", kwargs={"slug": "restricted-goal"}))
    missing = client.get(reverse("goal_dashboard", kwargs={"slug": "no-such-goal"}))

    assert hidden.status_code == missing.status_code == 404
    assert world["goal"].title not in hidden.content.decode()
    for name in ("goal_history", "goal_members"):
        answer = client.get(reverse(name, kwargs={"slug": "restricted-goal"}))
        assert answer.status_code == 404, name
        assert world["goal"].title not in answer.content.decode(), name


# -- a closed goal: read-only for everyone ------------------------------------------------


@pytest.fixture
def closed_world(world):
    goal = world["goal"]
    goal.closed_at = timezone.now()
    goal.save()
    yield world
    # The database is rolled back after the case; the shared instance is put back too.
    goal.closed_at = None


CLOSED_CASES = [
    (name, method, role) for name in GOAL_URL_NAMES for method in ("GET", "POST") for role in ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), CLOSED_CASES)
def test_permission_matrix_of_a_closed_goal(closed_world, name, method, role):
    """Every write URL is refused (403, nothing written) to everyone who may see the goal,
    admins included; only reopening is left to admins; every read answers as before."""
    expected = closed_goal_expected(name, method)[role]
    client = Client()
    user = closed_world["users"][role]
    if user is not None:
        client.force_login(user)
    url = url_for(name, MATRIX[name][0], closed_world)
    before = state(closed_world)

    response = client.get(url) if method == "GET" else client.post(url, {})

    if expected == LOGIN:
        assert response.status_code == 302, (name, method, role, response.status_code)
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code == expected, (name, method, role, response.status_code)
    if expected in (403, 404):
        assert_styled_error_page(response, expected)
    target, on_get, on_post = MATRIX[name]
    allowed_while_open = (on_get if method == "GET" else on_post)[role] not in (LOGIN, 403, 404)
    if expected == 403 and allowed_while_open:
        # Refused because the goal is closed: the page says so.
        assert "is closed" in response.content.decode(), (name, method, role)
    if expected != 302:
        assert state(closed_world) == before, (name, method, role)
        assert Goal.objects.get(pk=closed_world["goal"].pk).is_closed
