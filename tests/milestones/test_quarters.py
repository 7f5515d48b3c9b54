"""Each goal's reporting quarter (the app's clock), the history's second time axis, and
the goal lifecycle's services."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audit.reasons import describe
from milestones import lifecycle
from milestones.models import Milestone, ProgressSummary, Risk, Status, StatusUpdate
from milestones.quarters import (
    reportable_quarters,
    reporting_period_error,
    reporting_quarter,
    reporting_quarter_has_ended,
    with_reporting_quarter,
)
from milestones.services import (
    publish_quarter,
    record_status_update,
    save_progress_summary,
)
from strategies.models import Agency, Goal
from strategies.periods import FiscalPeriod
from strategies.services import update_goal
from tests.factories import GoalFactory, MilestoneFactory, UserFactory
from tests.helpers import clear_quarter_for_publishing

Q = FiscalPeriod


@pytest.fixture
def goal(db):
    """A goal of FY 2018–19 that follows publication (no admin override)."""
    return GoalFactory(reporting_quarter_set=None)


@pytest.fixture
def admin(db):
    return UserFactory(username="quarter-admin", is_staff=True)


def _publish(goal, user, period):
    save_progress_summary(
        goal=goal, user=user, period=period, summary="- Done", details={"risk": Risk.LOW}
    )
    clear_quarter_for_publishing(goal, period)
    return publish_quarter(goal=goal, user=user, period=period)


def _report(milestone, user, period, status, comment):
    """A status update through the service, from the form the milestone is at."""
    return record_status_update(
        milestone=milestone,
        user=user,
        status=status,
        comment=comment,
        period=period,
        expected_version=milestone.version,
    )


def _fresh(goal) -> Goal:
    return Goal.objects.get(pk=goal.pk)


# -- the reporting quarter ------------------------------------------------------------------


def test_a_goal_with_nothing_published_reports_on_its_first_quarter(goal):
    assert reporting_quarter(goal) == Q(2018, 1)


def test_publishing_a_quarter_moves_the_goal_to_the_next(goal, admin):
    _publish(goal, admin, Q(2018, 1))
    assert reporting_quarter(_fresh(goal)) == Q(2018, 2)

    for quarter in (Q(2018, 2), Q(2018, 3), Q(2018, 4), Q(2019, 1), Q(2019, 2), Q(2019, 3)):
        _publish(_fresh(goal), admin, quarter)

    assert reporting_quarter(_fresh(goal)) == Q(2019, 4)


def test_the_reporting_quarter_never_passes_the_goals_last_quarter(goal, admin):
    goal.reporting_quarter_set = Q(2019, 4)
    goal.save()
    _publish(goal, admin, Q(2019, 4))
    goal = _fresh(goal)
    goal.reporting_quarter_set = None
    goal.save()

    assert reporting_quarter(_fresh(goal)) == Q(2019, 4)


def test_the_reporting_quarter_is_never_later_than_the_quarter_containing_today(goal):
    goal.reporting_quarter_set = Q(2019, 4)
    goal.save()

    # 15 May 2019 is in Q3 FY19: Q4 FY19 has not begun.
    assert reporting_quarter(goal, today=datetime.date(2019, 5, 15)) == Q(2019, 3)
    assert reporting_quarter(goal, today=datetime.date(2019, 10, 21)) == Q(2019, 4)


def test_the_quarter_has_ended_only_once_the_calendar_is_past_it(goal):
    goal.reporting_quarter_set = Q(2019, 4)
    goal.save()

    assert not reporting_quarter_has_ended(goal, today=datetime.date(2019, 8, 1))
    assert reporting_quarter_has_ended(goal, today=datetime.date(2019, 10, 1))


def test_the_annotated_list_agrees_and_needs_no_query_per_goal(
    goal, admin, django_assert_num_queries
):
    _publish(goal, admin, Q(2018, 1))
    other = GoalFactory(reporting_quarter_set=None)

    with django_assert_num_queries(1):
        goals = {g.pk: g for g in with_reporting_quarter(Goal.objects.all())}
        quarters = {pk: reporting_quarter(g) for pk, g in goals.items()}

    assert quarters == {goal.pk: Q(2018, 2), other.pk: Q(2018, 1)}


def test_only_unpublished_quarters_up_to_the_reporting_quarter_may_be_reported_on(goal, admin):
    _publish(goal, admin, Q(2018, 1))
    goal = _fresh(goal)
    goal.reporting_quarter_set = Q(2018, 4)
    goal.save()

    assert reportable_quarters(goal) == [Q(2018, 4), Q(2018, 3), Q(2018, 2)]
    assert reporting_period_error(goal=goal, period=Q(2018, 3)) is None
    refusals = {
        period: reporting_period_error(goal=goal, period=period).code
        for period in (Q(2018, 1), Q(2019, 1), Q(2017, 4), Q(2018))
    }
    assert refusals == {
        Q(2018, 1): "period_published",
        Q(2019, 1): "period_after_reporting_quarter",
        Q(2017, 4): "period_outside_goal",
        Q(2018): "period_quarter",
    }


def test_an_update_for_a_published_quarter_is_refused_and_changes_nothing(goal, admin):
    milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK)
    _publish(goal, admin, Q(2018, 1))
    milestone = Milestone.objects.get(pk=milestone.pk)

    with pytest.raises(ValidationError) as refusal:
        _report(milestone, admin, Q(2018, 1), Status.AT_RISK, "Late.")

    assert "Q1 FY18 is published and does not change" in str(refusal.value)
    assert not StatusUpdate.objects.exists()
    assert Milestone.objects.get(pk=milestone.pk).status == Status.ON_TRACK


# -- history's second time axis ----------------------------------------------------------------


def test_a_status_update_and_its_milestone_version_belong_to_the_quarter_reported_on(admin):
    goal = GoalFactory()  # held on Q4 FY19
    milestone = MilestoneFactory(goal=goal)

    _report(milestone, admin, Q(2019, 2), Status.AT_RISK, "Slipping.")

    assert StatusUpdate.history.get().history_quarter == Q(2019, 2).key
    assert milestone.history.latest().history_quarter == Q(2019, 2).key


def test_any_other_change_belongs_to_the_goals_reporting_quarter_at_the_time(goal, admin):
    _publish(goal, admin, Q(2018, 1))
    goal = _fresh(goal)

    update_goal(goal=goal, user=admin, title="Renamed", expected_version=goal.version)
    milestone = MilestoneFactory(goal=goal)

    assert goal.changes.latest().history_quarter == Q(2018, 2).key
    assert milestone.history.latest().history_quarter == Q(2018, 2).key
    assert ProgressSummary.history.earliest().history_quarter == Q(2018, 1).key


def test_recorded_time_is_never_backdated(admin):
    goal = GoalFactory()
    milestone = MilestoneFactory(goal=goal)
    with time_machine.travel(datetime.datetime(2030, 11, 29, 12, tzinfo=datetime.UTC)):
        _report(milestone, admin, Q(2019, 1), Status.COMPLETED, "Done.")

    row = milestone.history.latest()
    assert row.history_date.date() == datetime.date(2030, 11, 29)
    assert row.history_quarter == Q(2019, 1).key


def test_an_agencys_change_belongs_to_no_quarter(db):
    agency = Agency.objects.create(name="Department of State", abbreviation="State")

    assert agency.history.get().history_quarter is None


# -- the lifecycle -----------------------------------------------------------------------------


def test_closing_needs_a_reason_and_is_recorded_with_it(goal, admin):
    with pytest.raises(ValidationError):
        lifecycle.close_goal(goal=goal, user=admin, reason="  ", expected_version=goal.version)
    assert not _fresh(goal).is_closed

    closed = lifecycle.close_goal(
        goal=goal, user=admin, reason="Cycle ended.", expected_version=goal.version
    )

    assert closed.is_closed
    row = closed.changes.latest()
    assert describe(row.history_change_reason) == "Closed the goal: Cycle ended."
    assert row.history_user == admin


def test_closing_is_offered_once_the_last_quarter_is_published(goal, admin):
    assert not lifecycle.can_close(goal)
    goal.reporting_quarter_set = Q(2019, 4)
    goal.save()
    _publish(goal, admin, Q(2019, 4))

    assert lifecycle.can_close(_fresh(goal))


def test_a_closed_goal_refuses_every_write_until_reopened(goal, admin):
    milestone = MilestoneFactory(goal=goal)
    goal = lifecycle.close_goal(
        goal=goal, user=admin, reason="Done.", expected_version=goal.version
    )
    milestone = Milestone.objects.get(pk=milestone.pk)

    with pytest.raises(ValidationError, match="is closed"):
        _report(milestone, admin, Q(2018, 1), Status.COMPLETED, "x")
    with pytest.raises(ValidationError, match="is closed"):
        save_progress_summary(goal=goal, user=admin, period=Q(2018, 1), summary="- x")
    with pytest.raises(ValidationError, match="is closed"):
        update_goal(goal=goal, user=admin, title="New", expected_version=goal.version)
    assert not StatusUpdate.objects.exists() and not ProgressSummary.objects.exists()

    goal = lifecycle.reopen_goal(
        goal=goal, user=admin, reason="Reopened.", expected_version=goal.version
    )

    assert not goal.is_closed
    assert describe(goal.changes.latest().history_change_reason) == "Reopened the goal: Reopened."
    update_goal(goal=goal, user=admin, title="New", expected_version=goal.version)
    assert _fresh(goal).title == "New"


def test_an_admin_holds_a_goal_on_a_quarter_with_a_reason(goal, admin):
    held = lifecycle.set_reporting_quarter(
        goal=goal,
        user=admin,
        quarter=Q(2019, 2),
        reason="Data call.",
        expected_version=goal.version,
    )

    assert reporting_quarter(_fresh(goal)) == Q(2019, 2)
    assert describe(held.changes.latest().history_change_reason) == (
        "Reporting quarter set to Q2 FY19: Data call."
    )
    with pytest.raises(ValidationError):
        lifecycle.set_reporting_quarter(
            goal=held, user=admin, quarter=Q(2020, 1), reason="x", expected_version=held.version
        )


# -- once every quarter is published -----------------------------------------------------------


@pytest.fixture
def finished(goal, admin):
    """A goal whose every quarter is published: it waits to be closed."""
    goal.reporting_quarter_set = Q(2019, 4)
    goal.save()
    _publish(goal, admin, Q(2019, 4))
    goal = _fresh(goal)
    goal.reporting_quarter_set = None
    goal.save()
    return _fresh(goal)


def test_a_goal_with_every_quarter_published_has_nothing_left_to_report(finished, admin):
    milestone = MilestoneFactory(goal=finished)

    assert reportable_quarters(finished) == []
    with pytest.raises(ValidationError) as refusal:
        _report(milestone, admin, Q(2019, 4), Status.COMPLETED, "Done.")
    assert "Every quarter of the goal's period, FY18–FY19, is published" in str(refusal.value)


def test_a_goal_cannot_be_held_on_a_published_quarter(goal, admin):
    _publish(goal, admin, Q(2018, 1))
    goal = _fresh(goal)

    with pytest.raises(ValidationError, match="Q1 FY18 is published"):
        lifecycle.set_reporting_quarter(
            goal=goal, user=admin, quarter=Q(2018, 1), reason="x", expected_version=goal.version
        )
    assert _fresh(goal).reporting_quarter_set is None


def test_reverting_a_goal_leaves_its_lifecycle_alone(goal, admin):
    from strategies.services import revert_goal

    goal = lifecycle.close_goal(
        goal=goal, user=admin, reason="Done.", expected_version=goal.version
    )
    goal = lifecycle.reopen_goal(
        goal=goal, user=admin, reason="Oops.", expected_version=goal.version
    )
    (closed_row,) = [
        row
        for row in goal.changes.all()
        if describe(row.history_change_reason).startswith("Closed")
    ]

    # The closed version differs from today's only in the lifecycle: nothing to restore.
    with pytest.raises(ValidationError, match="Nothing to revert"):
        revert_goal(goal=goal, record=closed_row, user=admin, expected_version=goal.version)

    assert not _fresh(goal).is_closed


def test_no_reminder_and_no_to_do_for_a_goal_with_every_quarter_published(finished, admin):
    from milestones.management.commands.send_update_reminders import goals_due_for_reminders
    from sdif_tracker.pages.my_work import my_work
    from tests.factories import MembershipFactory

    leader = MembershipFactory(goal=finished).user
    MilestoneFactory(goal=finished, status=Status.ON_TRACK)
    waiting = GoalFactory(reporting_quarter_set=None)  # reports on Q1 FY18, long ended

    assert finished.pk not in goals_due_for_reminders()
    assert waiting.pk in goals_due_for_reminders()
    assert my_work(leader).goals == [] and my_work(leader).milestones == []
