"""The Clearance page lists, for each reviewer, what waits for them: the agency's
performance office the submitted updates of its agency, an examiner the updates to clear
of the agencies assigned to them (submitted ones where the agency skips its approval),
a goal's leader or deputy the updates cleared to publish and those returned to them;
nothing of other agencies or of goals they may not see."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from milestones import review
from milestones.models import ReviewState, Risk
from milestones.services import publish_quarter
from sdif_tracker import access
from strategies.models import AgencyRole, AgencyRoleKind, Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    MembershipFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q3_FY19, Q4_FY19 = FiscalPeriod(2019, 3), FiscalPeriod(2019, 4)
SINCE = datetime.datetime(2019, 10, 2, 14, 0, tzinfo=datetime.UTC)


def in_state(goal, state, *, period=Q4_FY19, comment="", since=SINCE):
    """``goal``'s update for ``period`` standing in ``state`` since ``since``."""
    published = state == ReviewState.PUBLISHED
    return ProgressSummaryFactory(
        goal=goal,
        period=period,
        review_state=state,
        review_state_at=since,
        returned_comment=comment,
        risk=Risk.LOW if published else "",
        published_at=timezone.now() if published else None,
    )


def agency_role(user, agency, role):
    AgencyRole.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def world():
    treasury = AgencyFactory(name="Department of the Treasury", abbreviation="Treasury")
    commerce = AgencyFactory(name="Department of Commerce", abbreviation="Commerce")
    # Skips the agency's approval: its submitted updates go straight to the examiner.
    labor = AgencyFactory(name="Department of Labor", abbreviation="Labor", agency_approval=False)
    goals = {
        "sdif": GoalFactory(
            agency=treasury, title="SDIF", slug="sdif", sensitivity=Sensitivity.RESTRICTED
        ),
        "tfi": GoalFactory(agency=treasury, title="TFI", slug="tfi"),
        "trade": GoalFactory(
            agency=commerce, title="Trade", slug="trade", sensitivity=Sensitivity.RESTRICTED
        ),
        "jobs": GoalFactory(agency=labor, title="Jobs", slug="jobs"),
        "closed": GoalFactory(
            agency=treasury,
            title="Closed",
            slug="closed",
            closed_at=timezone.now(),
        ),
    }
    users = {
        "treasury_office": agency_role(
            UserFactory(username="treasury_office"), treasury, AgencyRoleKind.PERFORMANCE_OFFICE
        ),
        "commerce_office": agency_role(
            UserFactory(username="commerce_office"), commerce, AgencyRoleKind.PERFORMANCE_OFFICE
        ),
        "examiner": agency_role(
            agency_role(UserFactory(username="examiner"), treasury, AgencyRoleKind.EXAMINER),
            labor,
            AgencyRoleKind.EXAMINER,
        ),
        "leader": MembershipFactory(
            goal=goals["sdif"], role=Role.LEADER, user__username="leader"
        ).user,
        "deputy": MembershipFactory(
            goal=goals["sdif"], role=Role.DEPUTY, user__username="deputy"
        ).user,
        "contributor": MembershipFactory(
            goal=goals["sdif"], role=Role.CONTRIBUTOR, user__username="contributor"
        ).user,
        "outsider": UserFactory(username="outsider"),
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
    }
    return {"agencies": (treasury, commerce, labor), "goals": goals, "users": users}


def clearance(user, query=""):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("clearance") + query)
    assert response.status_code == 200
    return parse(response.content)


def waiting(page) -> dict[str, set[str]]:
    """Each group shown → the rows in it, as "goal slug:quarter"."""
    return {
        group.attrs["data-clearance-group"]: {
            tr.attrs["data-clearance-row"] for tr in group.find_all("tr", data_clearance_row=True)
        }
        for group in page.find_all("section", data_clearance_group=True)
    }


def test_the_agency_performance_office_sees_the_submitted_updates_of_its_agency(world):
    goals = world["goals"]
    in_state(goals["sdif"], ReviewState.SUBMITTED)
    in_state(goals["tfi"], ReviewState.SUBMITTED, period=Q3_FY19)
    in_state(goals["tfi"], ReviewState.APPROVED)  # the examiner's now
    in_state(goals["trade"], ReviewState.SUBMITTED)  # another agency's
    in_state(goals["closed"], ReviewState.SUBMITTED)  # a closed goal waits for no one

    page = clearance(world["users"]["treasury_office"])

    assert waiting(page) == {"performance_office": {"sdif:Q4 FY19", "tfi:Q3 FY19"}}
    row = page.find("tr", data_clearance_row="sdif:Q4 FY19")
    assert "Treasury" in row.text
    assert row.find(data_review_state="submitted").visible_text == "Submitted"
    assert row.find("time").text == "Oct. 2, 2019"
    action = row.find("a", class_="btn")
    assert action.attrs["href"] == "/goals/sdif/review/?period=Q4+FY19"
    assert action.visible_text == "Approve or return"
    heading = page.find("h2", id="clearance-performance_office-heading")
    assert "As the agency performance office" in heading.text
    assert "2 updates" in heading.text
    # The other agency's office sees its own, and nothing of Treasury's.
    assert waiting(clearance(world["users"]["commerce_office"])) == {
        "performance_office": {"trade:Q4 FY19"}
    }


def test_an_examiner_sees_what_their_agencies_await_clearing(world):
    goals = world["goals"]
    in_state(goals["sdif"], ReviewState.APPROVED)
    in_state(goals["tfi"], ReviewState.SUBMITTED)  # still the agency's to approve
    in_state(goals["jobs"], ReviewState.SUBMITTED)  # Labor skips its approval
    in_state(goals["trade"], ReviewState.APPROVED)  # not an agency assigned to them

    page = clearance(world["users"]["examiner"])

    assert waiting(page) == {"examiner": {"sdif:Q4 FY19", "jobs:Q4 FY19"}}
    row = page.find("tr", data_clearance_row="jobs:Q4 FY19")
    assert row.find(data_review_state="submitted")
    assert row.find("a", class_="btn").visible_text == "Clear or return"


def test_leaders_and_deputies_see_their_goals_cleared_or_returned_updates(world):
    goals = world["goals"]
    in_state(goals["sdif"], ReviewState.CLEARED)
    in_state(goals["sdif"], ReviewState.DRAFT, period=Q3_FY19, comment="Name the sources.")
    in_state(goals["tfi"], ReviewState.CLEARED)  # not theirs
    in_state(goals["trade"], ReviewState.DRAFT, comment="Not theirs either.")

    for who in ("leader", "deputy"):
        page = clearance(world["users"][who])
        assert waiting(page) == {"goal_team": {"sdif:Q4 FY19", "sdif:Q3 FY19"}}, who
    returned = page.find("tr", data_clearance_row="sdif:Q3 FY19")
    assert returned.find(data_review_state="returned").visible_text == "Returned to draft"
    assert returned.find(data_returned_comment=True).text == "Name the sources."
    assert returned.find("a", class_="btn").visible_text == "Returned: fix and resubmit"
    cleared = page.find("tr", data_clearance_row="sdif:Q4 FY19")
    assert cleared.find("a", class_="btn").visible_text == "Publish"
    # A contributor neither submits nor publishes.
    assert waiting(clearance(world["users"]["contributor"])) == {}


def test_a_site_admin_publishes_but_does_not_approve_or_clear(world):
    goals = world["goals"]
    in_state(goals["sdif"], ReviewState.CLEARED)
    in_state(goals["trade"], ReviewState.SUBMITTED)
    in_state(goals["tfi"], ReviewState.APPROVED)

    assert waiting(clearance(world["users"]["admin"])) == {"goal_team": {"sdif:Q4 FY19"}}


def test_the_update_moves_from_one_reviewer_to_the_next_at_each_transition(world):
    """Through the chain's own services (milestones.review), returns at each step."""
    users = world["users"]
    goal = world["goals"]["sdif"]
    summary = ProgressSummaryFactory(goal=goal, period=Q4_FY19, risk=Risk.LOW)
    office, examiner, leader = users["treasury_office"], users["examiner"], users["leader"]

    def act(action, user, **extra):
        summary.refresh_from_db()
        review.TRANSITIONS[action](
            summary=summary,
            user=user,
            permissions=access.permissions_for(user, goal),
            expected_version=summary.version,
            **extra,
        )

    def who_waits():
        found = {}
        for name, user, group in (
            ("office", office, "performance_office"),
            ("examiner", examiner, "examiner"),
            ("leader", leader, "goal_team"),
        ):
            if rows := waiting(clearance(user)).get(group):
                found[name] = rows
        return found

    row = {"sdif:Q4 FY19"}
    assert who_waits() == {}  # a draft waits for no reviewer
    act(review.Action.SUBMIT, leader)
    assert who_waits() == {"office": row}
    act(review.Action.RETURN, office, comment="Explain the delay.")
    assert who_waits() == {"leader": row}
    page = clearance(leader)
    assert page.find(data_returned_comment=True).text == "Explain the delay."
    act(review.Action.SUBMIT, leader)
    assert who_waits() == {"office": row}
    act(review.Action.APPROVE, office)
    assert who_waits() == {"examiner": row}
    act(review.Action.RETURN, examiner, comment="Name the data source.")
    assert who_waits() == {"leader": row}
    act(review.Action.SUBMIT, leader)
    act(review.Action.APPROVE, office)
    act(review.Action.CLEAR, examiner)
    assert who_waits() == {"leader": row}
    assert clearance(leader).find("a", class_="btn").visible_text == "Publish"
    summary.refresh_from_db()
    publish_quarter(goal=goal, user=leader, period=Q4_FY19, expected_version=summary.version)
    assert who_waits() == {}


def test_an_agency_without_either_step_leaves_a_submitted_update_to_its_leader(world):
    treasury = world["agencies"][0]
    treasury.agency_approval = False
    treasury.examiner_clearance = False
    treasury.save()
    in_state(world["goals"]["sdif"], ReviewState.SUBMITTED)

    assert waiting(clearance(world["users"]["treasury_office"])) == {}
    assert waiting(clearance(world["users"]["examiner"])) == {}
    assert waiting(clearance(world["users"]["leader"])) == {"goal_team": {"sdif:Q4 FY19"}}


def test_nothing_of_a_goal_the_reviewer_may_not_see(world):
    """A restricted goal of another agency: not listed, even for its leader's reviewer
    elsewhere; an examiner of Labor sees no Commerce goal."""
    in_state(world["goals"]["trade"], ReviewState.APPROVED)
    in_state(world["goals"]["trade"], ReviewState.SUBMITTED, period=Q3_FY19)

    for who in ("treasury_office", "examiner", "leader", "outsider"):
        page = clearance(world["users"][who])
        assert "Trade" not in page.text, who


def test_with_nothing_waiting_the_page_says_so(world):
    in_state(world["goals"]["sdif"], ReviewState.DRAFT)

    for who in ("outsider", "leader", "treasury_office"):
        page = clearance(world["users"][who])
        assert page.find(data_clearance_empty=True).text == "Nothing waits for you.", who
        assert not page.find_all("table")


def test_the_navigation_offers_clearance_to_those_who_act_in_the_chain(world):
    def offered(user):
        client = Client()
        client.force_login(user)
        page = parse(client.get(reverse("portfolio")).content)
        return bool(page.find_all("a", data_nav="clearance"))

    users = world["users"]
    for who in ("treasury_office", "examiner", "leader", "deputy", "admin"):
        assert offered(users[who]), who
    for who in ("contributor", "outsider"):
        assert not offered(users[who]), who


def test_the_list_filters_by_agency_and_state(world):
    goals = world["goals"]
    users = world["users"]
    treasury, _commerce, labor = world["agencies"]
    in_state(goals["sdif"], ReviewState.APPROVED)
    in_state(goals["tfi"], ReviewState.APPROVED)
    in_state(goals["jobs"], ReviewState.SUBMITTED)
    examiner = users["examiner"]

    by_agency = clearance(examiner, f"?agency={labor.pk}")
    assert waiting(by_agency) == {"examiner": {"jobs:Q4 FY19"}}
    assert "1 update" in by_agency.find("h2", id="clearance-examiner-heading").text
    assert "selected" in by_agency.find("option", value=str(labor.pk)).attrs
    by_state = clearance(examiner, "?state=approved")
    assert waiting(by_state) == {"examiner": {"sdif:Q4 FY19", "tfi:Q4 FY19"}}
    none_match = clearance(examiner, f"?agency={treasury.pk}&state=submitted")
    assert waiting(none_match) == {"examiner": set()}
    assert none_match.find(data_clearance_none_match=True)
    form = none_match.find("form", data_clearance_filters=True)
    assert form.find("a", href="/clearance/").visible_text == "Clear filters"


def test_a_filter_value_not_understood_is_said_and_ignored(world):
    in_state(world["goals"]["jobs"], ReviewState.SUBMITTED)

    page = clearance(world["users"]["examiner"], "?agency=nope&state=lost")

    problems = page.find(data_filter_problems=True).text
    assert "Agency:" in problems and "State:" in problems
    assert waiting(page) == {"examiner": {"jobs:Q4 FY19"}}


def test_the_page_runs_the_same_queries_for_2_and_20_goals():
    """A reviewer holding every role, with updates waiting in every group."""
    agency = AgencyFactory(name="Department of the Treasury")
    user = UserFactory(username="everything")
    for role in (AgencyRoleKind.PERFORMANCE_OFFICE, AgencyRoleKind.EXAMINER):
        agency_role(user, agency, role)
    states = [
        (ReviewState.SUBMITTED, ""),
        (ReviewState.APPROVED, ""),
        (ReviewState.CLEARED, ""),
        (ReviewState.DRAFT, "Fix it."),
    ]
    client = Client()
    client.force_login(user)

    def add_goals(count, start):
        for index in range(start, start + count):
            goal = GoalFactory(agency=agency, sensitivity=Sensitivity.RESTRICTED)
            MembershipFactory(goal=goal, user=user, role=Role.LEADER)
            state, comment = states[index % len(states)]
            in_state(goal, state, comment=comment)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("clearance"))
        assert response.status_code == 200
        return len(queries), response

    add_goals(2, 0)
    small, _response = count()
    add_goals(18, 2)
    large, response = count()

    assert small == large
    assert small <= 8
    # Every group has its rows at the larger size: the count covers them all.
    assert set(waiting(parse(response.content))) == {
        "performance_office",
        "examiner",
        "goal_team",
    }
    assert len(parse(response.content).find_all("tr", data_clearance_row=True)) == 20
