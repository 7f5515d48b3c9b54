"""Where each quarterly update stands in its review chain, as the dashboard's work line
and My goals show it: the reporting quarter's state, since when, whose move it is, the
reviewer's comment on a returned update, and what the user should do next."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from milestones.models import ReviewState, Risk
from strategies.models import AgencyRole, AgencyRoleKind, Role
from strategies.periods import FiscalPeriod
from tests.factories import MembershipFactory, ProgressSummaryFactory, UserFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q4_FY19 = FiscalPeriod(2019, 4)  # the factory goal's reporting quarter
SINCE = datetime.datetime(2019, 10, 2, 14, 0, tzinfo=datetime.UTC)


def update(goal, state, *, comment="", period=Q4_FY19):
    published = state == ReviewState.PUBLISHED
    return ProgressSummaryFactory(
        goal=goal,
        period=period,
        review_state=state,
        review_state_at=SINCE,
        returned_comment=comment,
        risk=Risk.LOW,
        published_at=timezone.now() if published else None,
    )


def page_of(user, url):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return parse(response.content)


def work_line(user, goal):
    return page_of(user, goal.get_absolute_url()).find("p", data_update_standing=True)


def test_the_dashboard_says_no_update_is_written_yet(goal, leader):
    line = work_line(leader, goal)

    assert line.attrs["data-update-standing"] == "write"
    assert line.visible_text.startswith("Q4 FY19 update: No update written yet")
    assert line.find("a", data_update_link=True).attrs["href"] == (
        "/goals/" + goal.slug + "/review/?period=Q4+FY19"
    )


@pytest.mark.parametrize(
    ("state", "approval", "says"),
    [
        (ReviewState.DRAFT, True, "Draft — waiting for the goal leader or deputy to submit it"),
        (
            ReviewState.SUBMITTED,
            True,
            "Submitted — waiting for the agency performance office since Oct. 2, 2019",
        ),
        # An agency that skips its own approval: a submitted update goes to the examiner.
        (ReviewState.SUBMITTED, False, "Submitted — waiting for the examiner since Oct. 2, 2019"),
        (
            ReviewState.APPROVED,
            True,
            "Approved by the agency — waiting for the examiner since Oct. 2, 2019",
        ),
        (
            ReviewState.CLEARED,
            True,
            "Cleared by the examiner — ready to publish since Oct. 2, 2019",
        ),
    ],
)
def test_the_dashboard_says_where_the_update_stands_and_whom_it_waits_for(
    goal, reviewer, state, approval, says
):
    goal.agency.agency_approval = approval
    goal.agency.save()
    update(goal, state)

    line = work_line(reviewer, goal)

    assert line.visible_text.startswith(f"Q4 FY19 update: {says}")
    assert line.find(data_review_state=True).attrs["data-review-state"] == state


def test_the_dashboard_shows_a_returned_update_with_the_reviewers_comment(goal, leader):
    update(goal, ReviewState.DRAFT, comment="Say why milestone 3 slipped.")

    line = work_line(leader, goal)

    assert line.find(data_review_state="returned").visible_text == "Returned to draft"
    assert "returned on Oct. 2, 2019 with this comment:" in line.visible_text
    assert line.find("q", data_returned_comment=True).text == "Say why milestone 3 slipped."


def test_a_past_view_of_the_dashboard_shows_no_review_line(goal, leader):
    update(goal, ReviewState.SUBMITTED)

    page = page_of(leader, goal.get_absolute_url() + "?as_of=2019-08-01")

    assert not page.find_all("p", data_update_standing=True)


def my_goal_row(user, goal):
    return page_of(user, reverse("my_goals")).find("li", data_goal=goal.slug)


@pytest.mark.parametrize(
    ("state", "comment", "action"),
    [
        (ReviewState.DRAFT, "", "Submit"),
        (ReviewState.DRAFT, "Name the data source.", "Returned: fix and resubmit"),
        (ReviewState.CLEARED, "", "Publish"),
    ],
)
def test_my_goals_tells_the_leader_what_to_do_next(goal, leader, state, comment, action):
    update(goal, state, comment=comment)

    row = my_goal_row(leader, goal)

    link = row.find("a", data_update_action=True)
    assert link.visible_text == action
    assert link.attrs["href"] == f"/goals/{goal.slug}/review/?period=Q4+FY19"
    if comment:
        assert row.find("q", data_returned_comment=True).text == comment


def test_my_goals_says_whom_a_submitted_update_waits_for(goal, leader):
    update(goal, ReviewState.SUBMITTED)

    row = my_goal_row(leader, goal)

    assert row.find(data_review_state="submitted")
    assert not row.find_all("a", data_update_action=True)
    assert row.find(data_update_waiting=True).visible_text == (
        "Waiting for the agency performance office since Oct. 2, 2019"
    )


def test_my_goals_offers_no_review_step_to_a_contributor(goal):
    contributor = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR).user
    update(goal, ReviewState.CLEARED)

    row = my_goal_row(contributor, goal)

    assert row.find(data_review_state="cleared")
    assert not row.find_all("a", data_update_action=True)
    assert row.find(data_update_waiting=True).visible_text == (
        "Ready to publish since Oct. 2, 2019"
    )


def test_an_agency_administrator_is_offered_the_team_steps(goal):
    agency_admin = UserFactory()
    AgencyRole.objects.create(user=agency_admin, agency=goal.agency, role=AgencyRoleKind.ADMIN)
    update(goal, ReviewState.DRAFT)

    row = my_goal_row(agency_admin, goal)

    assert row.find("a", data_update_action=True).visible_text == "Submit"
