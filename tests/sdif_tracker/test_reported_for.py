"""The plan *as reported for* a quarter (``?quarter=``): built from the changes that belong
to the quarter or an earlier one, whenever they were recorded; a published quarter's
snapshot stays the authority and a later correction is shown as such; "since last
quarter", "compare two quarters", the picker and the heat map follow the reporting
quarter, never the date."""

import pytest
from django.urls import reverse

from audit.history import recorded_change
from milestones.models import Status
from milestones.services import (
    move_milestone,
    publish_quarter,
    record_status_update,
    save_progress_summary,
)
from sdif_tracker.pages import asof, publishing
from strategies.models import Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import clear_quarter_for_publishing
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q1, Q2, Q3 = FiscalPeriod(2018, 1), FiscalPeriod(2018, 2), FiscalPeriod(2018, 3)


@pytest.fixture
def goal():
    """A public goal of FY18–FY19 following the reporting-quarter rule, two strategies,
    two milestones (both On track, added while it reported on Q1 FY18)."""
    goal = GoalFactory(slug="fx", reporting_quarter_set=None)
    one, two = StrategyFactory(goal=goal, number=1), StrategyFactory(goal=goal, number=2)
    MilestoneFactory(goal=goal, strategy=one, position=1, title="Sign the accord")
    MilestoneFactory(goal=goal, strategy=two, position=2, title="Train the analysts")
    return goal


@pytest.fixture
def leader(goal):
    return MembershipFactory(goal=goal, role=Role.LEADER, user__username="lead").user


@pytest.fixture
def client(client, leader):
    """The goal's leader, signed in (the goal is not public)."""
    client.force_login(leader)
    return client


def update(milestone, user, status, comment, period):
    milestone.refresh_from_db()
    record_status_update(
        milestone=milestone,
        user=user,
        status=status,
        comment=comment,
        period=period,
        expected_version=milestone.version,
    )


def publish(goal, user, period):
    save_progress_summary(
        goal=goal, user=user, period=period, summary="Progress.", details={"risk": "low"}
    )
    clear_quarter_for_publishing(goal, period)
    return publish_quarter(goal=goal, user=user, period=period)


def milestone(goal, position):
    return goal.milestones.get(position=position)


def state(plan):
    """What a reader sees of a rebuilt plan: the goal's text, the strategies, and each
    milestone's title, status, comment, dues and strategy."""
    return (
        plan.goal and (plan.goal.title, plan.goal.statement),
        [(s.pk, s.number, s.title) for s in plan.strategies],
        [
            (m.pk, m.title, m.status, m.comment, m.due, m.revised_due, m.strategy_id)
            for m in plan.milestones
        ],
    )


def statuses(plan):
    return {m.title: (m.status, m.comment) for m in plan.milestones}


@pytest.fixture
def reported(goal, leader):
    """Q1 FY18 reported and published; then a Q2 FY18 update (the goal reports on Q2)."""
    update(milestone(goal, 1), leader, Status.AT_RISK, "Q1: waiting on the partner.", Q1)
    publish(goal, leader, Q1)
    update(milestone(goal, 1), leader, Status.ON_TRACK, "Q2: back on track.", Q2)
    return goal


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


# -- the reconstruction --------------------------------------------------------------------


def test_each_quarter_shows_what_was_reported_for_it_and_nothing_later(reported):
    q1 = asof.plan_as_of(reported, asof.ReportedFor(Q1))
    q2 = asof.plan_as_of(reported, asof.ReportedFor(Q2))

    assert statuses(q1)["Sign the accord"] == (Status.AT_RISK, "Q1: waiting on the partner.")
    assert statuses(q2)["Sign the accord"] == (Status.ON_TRACK, "Q2: back on track.")
    assert statuses(q1)["Train the analysts"] == statuses(q2)["Train the analysts"]


def test_a_late_update_for_an_earlier_quarter_counts_for_it_in_recorded_order(goal, leader):
    """Q2's update typed first, then Q1's (a late data call): as reported for Q1 shows
    Q1's, as reported for Q2 shows the last recorded of the two, as the live plan does."""
    update(milestone(goal, 2), leader, Status.COMPLETED, "Q2: done.", Q1)
    update(milestone(goal, 1), leader, Status.AT_RISK, "Q1 said at risk.", Q1)
    publish(goal, leader, Q1)
    update(milestone(goal, 1), leader, Status.ON_TRACK, "Q2 says on track.", Q2)

    q1 = asof.plan_as_of(goal, asof.ReportedFor(Q1))
    q2 = asof.plan_as_of(goal, asof.ReportedFor(Q2))

    assert statuses(q1)["Sign the accord"][0] == Status.AT_RISK
    assert statuses(q2)["Sign the accord"][0] == Status.ON_TRACK
    assert statuses(q2)["Train the analysts"][0] == Status.COMPLETED


def test_a_quarter_before_anything_was_reported_has_no_plan(reported):
    assert not asof.plan_as_of(reported, asof.ReportedFor(FiscalPeriod(2017, 4))).existed


def test_the_snapshot_of_a_quarter_is_as_reported_for_it_at_publication(goal, leader):
    update(milestone(goal, 1), leader, Status.AT_RISK, "Q1.", Q1)
    summary = publish(goal, leader, Q1)

    snapshot = asof.plan_as_of(goal, publishing.PublicationMoment.of(summary))
    reported_for = asof.plan_as_of(goal, asof.ReportedFor(Q1))

    assert state(snapshot) == state(reported_for)
    assert statuses(snapshot)["Sign the accord"] == (Status.AT_RISK, "Q1.")


def test_the_query_count_does_not_grow_with_the_rows(goal, leader, django_assert_num_queries):
    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            asof.plan_as_of(goal, asof.ReportedFor(Q2), with_progress=True, with_indicators=True)
        return len(queries)

    few = count()
    for number in range(3, 13):
        MilestoneFactory(goal=goal, position=number)
    update(milestone(goal, 1), leader, Status.AT_RISK, "More rows.", Q1)
    assert count() == few


# -- the plan page ---------------------------------------------------------------------------


def test_a_published_quarter_shows_its_snapshot_and_no_correction(client, reported):
    page = get(client, reported.get_plan_url(), quarter="Q1 FY18")

    text = page.visible_text
    assert "Q1: waiting on the partner." in text
    assert "Q2: back on track." not in text
    assert not page.find_all(data_corrections=True)


def test_a_correction_after_publication_is_shown_beside_the_snapshot(client, reported):
    admin = UserFactory(username="corrector", is_staff=True, is_superuser=True)
    accord = milestone(reported, 1)
    two = reported.strategies.get(number=2)
    # A correction that belongs to Q1 FY18, recorded after it was published.
    with recorded_change(user=admin, reason="Wrong strategy in Q1", quarter=Q1):
        move_milestone(milestone=accord, user=admin, strategy=two, expected_version=accord.version)

    page = get(client, reported.get_plan_url(), quarter="Q1 FY18")

    notice = page.find(data_corrections=True)
    assert "Corrected after publication on" in notice.visible_text
    assert "by corrector" in notice.visible_text
    item = notice.find(data_correction=str(accord.pk))
    assert "Sign the accord" in item.visible_text
    assert "Moved to strategy 2" in item.visible_text
    # The snapshot itself is unchanged: the milestone is still under strategy 1 there.
    frozen = publishing.quarter_plan(reported, publishing.published_summary(reported, Q1))
    assert frozen.plan.rows[0].milestone.strategy_id == reported.strategies.get(number=1).pk


def test_a_change_recorded_later_for_a_later_quarter_is_no_correction(client, reported):
    """Q2's update was recorded after Q1 was published, but belongs to Q2."""
    page = get(client, reported.get_plan_url(), quarter="Q1 FY18")

    assert not page.find_all(data_corrections=True)


def test_an_unpublished_quarter_is_shown_as_reported_for_so_far(client, reported, leader):
    page = get(client, reported.get_plan_url(), quarter="Q2 FY18")

    banner = page.find("div", class_="asof-banner")
    assert "You are looking at the plan as reported for Q2 FY18." in banner.visible_text
    assert banner.find(data_unpublished=True) is not None
    assert "Q2 FY18 is not published yet" in banner.visible_text
    assert "Q2: back on track." in page.visible_text


def test_a_quarter_after_the_reporting_quarter_is_refused_with_a_message(client, reported, leader):
    response = client.get(reported.get_plan_url(), {"quarter": "Q4 FY19"}, follow=True)

    text = " ".join(str(m) for m in response.context["messages"])
    assert "Nothing is reported for Q4 FY19 yet: the goal is reporting on Q2 FY18." in text
    assert not parse(response.content).find_all("div", class_="asof-banner")


def test_the_picker_offers_the_goals_quarters_up_to_its_reporting_quarter(
    client, reported, leader
):
    page = get(client, reported.get_plan_url())

    select = page.find("select", id="asof-quarter")
    assert [o.visible_text for o in select.find_all("option")] == ["Q2 FY18", "Q1 FY18"]


# -- since last quarter, compare, heat map, edition ---------------------------------------


def test_since_last_quarter_compares_with_the_previous_quarter_as_reported(client, reported):
    page = get(client, reported.get_plan_url())

    assert "since the plan as reported for Q1 FY18" in page.visible_text
    row = page.find("tr", data_milestone_position="1")
    assert "Status: At risk → On track" in row.visible_text


def test_compare_two_quarters_uses_as_reported_for(client, reported, leader):
    page = get(client, reverse("goal_compare", kwargs={"slug": reported.slug}))

    assert "From the plan as reported for Q1 FY18 to the plan as reported for Q2 FY18" in (
        page.visible_text
    )
    accord = milestone(reported, 1)
    tr = page.find("tr", data_milestone_id=str(accord.pk))
    assert tr.attrs["data-milestone-diff"] == "changed"
    assert tr.find("li", data_changed="status") is not None


def test_the_heat_map_runs_to_each_goals_reporting_quarter(reported):
    heatmap = publishing.risk_heatmap([reported])

    assert heatmap.quarters == [Q1, Q2]
    assert [cell.risk for cell in heatmap.rows[0].cells] == ["low", ""]


def test_the_current_plans_edition_names_the_reporting_quarter(reported):
    assert publishing.edition_label(reported).startswith("Current plan, reporting on Q2 FY18")
    assert publishing.edition_label(reported, as_of=asof.ReportedFor(Q1)) == (
        "The plan as reported for Q1 FY18"
    )


def test_the_views_carry_their_quarter_label_and_query():
    reported_for = asof.ReportedFor(Q3)
    moment = asof.Moment(Q3.end)

    assert (reported_for.quarter, moment.quarter) == (Q3, Q3)
    assert reported_for.label == "as reported for Q3 FY18"
    assert moment.label == "as recorded on 30 June 2018 (end of Q3 FY18)"
    assert reported_for.query == "quarter=Q3+FY18"
    assert moment.query == "as_of=2018-06-30"


# -- the dashboard -----------------------------------------------------------------------------


def test_the_dashboard_as_reported_for_a_quarter(client, reported):
    page = get(client, reported.get_absolute_url(), quarter="Q1 FY18")

    banner = page.find("div", class_="asof-banner")
    assert "You are looking at the plan as reported for Q1 FY18." in banner.visible_text
    assert banner.attrs["data-quarter"] == "Q1 FY18"
    row = page.find("tr", data_milestone_position="1")
    assert "At risk" in row.visible_text
    assert "Q1: waiting on the partner." in row.visible_text
    assert "Q2: back on track." not in page.visible_text


def test_the_live_dashboard_compares_with_the_quarter_before_the_reporting_quarter(
    client, reported
):
    page = get(client, reported.get_absolute_url())

    assert page.find("p", data_since=True).visible_text == (
        "“Since last quarter” shows what changed since the plan as reported for Q1 FY18."
    )
    row = page.find("tr", data_milestone_position="1")
    assert "Status: At risk → On track" in row.visible_text
