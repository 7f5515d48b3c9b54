"""Requests an outside probe answered with a 500, each now a clear answer: a conflict, a
message on the page, or a plain-text 400 before any download starts."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from audit.diffs import describe_versions
from milestones.models import Milestone, Status, StatusUpdate
from sdif_tracker.pages.asof import Moment, since_last_quarter
from sdif_tracker.pages.audit_filters import parse_cursor
from strategies.models import Role
from strategies.periods import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, FiscalPeriod
from tests.factories import GoalFactory, MembershipFactory, MilestoneFactory, UserFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal():
    return GoalFactory(slug="sdif", first_fiscal_year=2018, last_fiscal_year=2019)


@pytest.fixture
def milestone(goal):
    return MilestoneFactory(goal=goal, status=Status.ON_TRACK)


def signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def leader(goal):
    return signed_in(MembershipFactory(goal=goal, role=Role.LEADER).user)


@pytest.fixture
def admin(db):
    return signed_in(UserFactory(username="admin", is_staff=True, is_superuser=True))


def messages_on(response) -> str:
    return parse(response.content).find(id="messages").text


# -- a status update from a version the milestone never had ---------------------------------


def update_from_version(client, milestone, version, **headers):
    url = reverse("milestone_update", kwargs={"slug": "sdif", "pk": milestone.pk})
    data = {
        "status": Status.AT_RISK,
        "comment": "Counterparts were replaced.",
        "period": "Q3 FY19",
        "revised_due": "",
        "version": version,
    }
    return client.post(url, {f"m{milestone.pk}-{k}": v for k, v in data.items()}, **headers)


@pytest.mark.parametrize("version", [2, 1001, 2**31, 10**30])
def test_a_status_update_from_a_future_version_is_a_conflict_that_saves_nothing(
    leader, milestone, version
):
    response = update_from_version(leader, milestone, version)

    assert response.status_code == 409
    page = parse(response.content)
    assert "does not match the milestone's saved version" in page.find(role="alert").text
    # What was typed is kept, at the current version: saving again applies it.
    assert page.find("textarea").text == "Counterparts were replaced."
    assert page.find("input", name=f"m{milestone.pk}-version").attrs["value"] == "1"
    milestone.refresh_from_db()
    assert (milestone.version, milestone.status) == (1, Status.ON_TRACK)
    assert StatusUpdate.objects.count() == 0
    assert Milestone.history.count() == 1


def test_the_inline_form_says_so_too(leader, milestone):
    response = update_from_version(leader, milestone, 2, HTTP_HX_REQUEST="true")

    # htmx swaps only 2xx answers in: the row form carries the explanation.
    assert response.status_code == 200
    assert "does not match the milestone's saved version" in parse(response.content).text
    assert StatusUpdate.objects.count() == 0


def test_describing_no_versions_describes_nothing():
    assert describe_versions([], Milestone) == []


# -- page cursors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "2019-06-30T00:00:00-14:00,1",  # before any history: an empty page, not a crash
        "0001-01-01T00:00:00+14:00,1",  # overflows when converted to UTC
        "9999-12-31T23:59:59-14:00,1",
        "2019-06-30T00:00:00+00:00,99999999999999999999999",
        "2019-06-30T00:00:00+00:00,-5",
    ],
)
def test_a_timeline_page_link_no_history_can_have_is_harmless(leader, milestone, cursor):
    url = reverse("goal_history", kwargs={"slug": "sdif"})

    response = leader.get(url, {"before": cursor})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "0001-01-01T00:00:00+14:00,1",
        "2019-06-30T00:00:00+00:00,99999999999999999999999",
        "2019-06-30T00:00:00+00:00,1",  # the audit log's cursor has three parts
    ],
)
def test_an_impossible_page_link_shows_the_first_page_and_says_so(leader, milestone, cursor):
    url = reverse("goal_history", kwargs={"slug": "sdif"})
    first = parse(leader.get(url).content).find("main").text

    response = leader.get(url, {"before": cursor + ",2" if cursor.endswith(",1") else cursor})

    assert response.status_code == 200
    assert "That page link was not understood; showing the first page." in messages_on(response)
    assert first.split("That page link")[0] in parse(response.content).find("main").text


@pytest.mark.parametrize(
    "cursor",
    ["0001-01-01T00:00:00+14:00,6,1", "9999-12-31T23:59:59-14:00,6,1", "2019-06-30T00:00Z,6,"],
)
@pytest.mark.parametrize("param", ["before", "after"])
def test_the_audit_log_takes_any_page_link(admin, milestone, cursor, param):
    query = {param: cursor, "order": "oldest" if param == "after" else ""}

    response = admin.get(reverse("audit_log"), query)

    assert response.status_code == 200
    assert "showing the first page" in messages_on(response)


def test_a_cursor_past_a_64_bit_id_is_no_cursor():
    assert parse_cursor("2019-06-30T00:00:00+00:00,6,9223372036854775808", 2) is None
    assert parse_cursor("2019-06-30T00:00:00+00:00,6,9223372036854775807", 2) is not None


# -- dates and quarters out of the fiscal years the app dates by ------------------------


@pytest.mark.parametrize("as_of", ["1899-09-30", "0001-01-01", "1000-06-15"])
def test_an_as_of_date_before_the_first_fiscal_year_shows_the_current_plan_and_why(
    leader, milestone, as_of
):
    response = leader.get(reverse("goal_dashboard", kwargs={"slug": "sdif"}), {"as_of": as_of})

    assert response.status_code == 200
    text = messages_on(response)
    assert f"{as_of} is out of range" in text
    assert f"fiscal years {MIN_FISCAL_YEAR} to {MAX_FISCAL_YEAR}" in text
    assert "Showing the current plan." in text
    assert milestone.title in response.content.decode()


def test_the_plan_page_says_so_too(leader, milestone):
    response = leader.get(reverse("goal_plan", kwargs={"slug": "sdif"}), {"as_of": "0001-01-01"})

    assert response.status_code == 200
    assert "0001-01-01 is out of range" in messages_on(response)


def test_the_pdf_of_a_date_out_of_range_is_the_current_plan(leader, milestone):
    response = leader.get(
        reverse("goal_plan_pdf", kwargs={"slug": "sdif"}), {"as_of": "0001-01-01"}
    )

    # The PDF of the current plan, or 503 where WeasyPrint cannot load: never a 500.
    assert response.status_code in (200, 503)


def test_the_first_quarter_there_is_is_compared_with_its_own_start():
    """The "since last quarter" column of the earliest quarter: there is no quarter
    before it to compare with."""
    first = FiscalPeriod(MIN_FISCAL_YEAR, 1)

    since = since_last_quarter(None, Moment(first.start + datetime.timedelta(days=20)))

    assert since.reference is None
    assert since.label == f"the start of {first}"


def test_a_goal_from_the_first_fiscal_year_has_its_pages(leader):
    old = GoalFactory(slug="old", first_fiscal_year=MIN_FISCAL_YEAR, last_fiscal_year=1901)
    MembershipFactory(goal=old, role=Role.LEADER, user__username="old-leader")
    client = signed_in(old.memberships.get().user)

    for name in ("goal_dashboard", "goal_compare", "goal_plan"):
        response = client.get(reverse(name, kwargs={"slug": "old"}))
        assert response.status_code == 200, name
        assert str(FiscalPeriod(MIN_FISCAL_YEAR, 1)) in response.content.decode(), name


# -- the audit log's filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"user": "\x00"}, "User (username): "),
        ({"user": "ana\x07"}, "A username has no control characters."),
        ({"to": "9999-12-31"}, "9999-12-31 is out of range"),
        ({"from": "0001-01-01"}, "0001-01-01 is out of range"),
        ({"from": "2019-02-30"}, "is not a date"),
        ({"goal": "no-such-goal"}, "Goal: Not one of the listed choices"),
    ],
)
def test_an_audit_filter_that_does_not_validate_is_said_and_ignored(
    admin, milestone, query, problem
):
    everything = admin.get(reverse("audit_log"))

    response = admin.get(reverse("audit_log"), query)

    assert response.status_code == 200
    assert problem in messages_on(response)
    table = parse(response.content).find("ol", data_audit_log=True).text
    assert table == parse(everything.content).find("ol", data_audit_log=True).text


@pytest.mark.parametrize("query", [{"user": "\x00"}, {"to": "9999-12-31"}, {"from": "x"}])
def test_the_export_refuses_a_filter_before_it_starts(admin, milestone, query):
    response = admin.get(reverse("audit_export"), query)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert not response.streaming
    assert response.content.decode().startswith("Nothing was exported:")


def test_the_export_of_the_last_day_there_is_streams_every_row(admin, milestone):
    response = admin.get(reverse("audit_export"), {"to": "2999-09-30"})

    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) > 1
