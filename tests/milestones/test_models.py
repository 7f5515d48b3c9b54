"""Key milestones, status updates and progress summaries: constraints, validation,
effective due and overdue, and what may not be deleted."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from milestones.models import CLOSED_STATUSES, Milestone, Status, StatusUpdate, due_this_quarter_q
from strategies.periods import FiscalPeriod
from tests.factories import (
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
)

pytestmark = pytest.mark.django_db

Q = FiscalPeriod
ONGOING = FiscalPeriod.ongoing()


def rejected_by_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


# -- database constraints ------------------------------------------------------------------


def test_an_unknown_status_is_rejected(goal):
    rejected_by_database(lambda: MilestoneFactory(goal=goal, status="done"))


def test_an_unknown_status_update_status_is_rejected():
    milestone = MilestoneFactory()

    rejected_by_database(lambda: StatusUpdateFactory(milestone=milestone, status="done"))
    rejected_by_database(lambda: StatusUpdateFactory(milestone=milestone, previous_status="done"))


@pytest.mark.parametrize("key", [20196, 20190, 20199, 18991, 30001, 12345])
@pytest.mark.parametrize("field", ["due", "revised_due"])
def test_a_number_that_is_not_a_period_key_is_rejected(goal, field, key):
    rejected_by_database(lambda: MilestoneFactory(goal=goal, **{field: key}))


def test_a_status_update_reports_on_a_quarter_or_year_not_ongoing():
    milestone = MilestoneFactory()

    rejected_by_database(lambda: StatusUpdateFactory(milestone=milestone, period=ONGOING))
    rejected_by_database(lambda: StatusUpdateFactory(milestone=milestone, period=20196))


def test_a_progress_summary_is_one_per_goal_and_period_and_never_ongoing(goal):
    ProgressSummaryFactory(goal=goal, period=Q(2019))

    rejected_by_database(lambda: ProgressSummaryFactory(goal=goal, period=Q(2019)))
    rejected_by_database(lambda: ProgressSummaryFactory(goal=goal, period=ONGOING))
    ProgressSummaryFactory(goal=goal, period=Q(2019, 4))


def test_a_milestone_cannot_depend_on_itself_in_the_database(goal):
    milestone = MilestoneFactory(goal=goal)
    milestone.depends_on_id = milestone.pk

    rejected_by_database(milestone.save)


# -- validation ---------------------------------------------------------------------------


def test_a_consistent_milestone_passes_full_clean(goal):
    first = MilestoneFactory(goal=goal)
    milestone = MilestoneFactory(
        goal=goal, depends_on=first, due=Q(2018, 3), revised_due=Q(2019), status=Status.DELAYED
    )

    milestone.full_clean()


def test_full_clean_rejects_a_strategy_of_another_goal(goal):
    milestone = MilestoneFactory(goal=goal)
    milestone.strategy = StrategyFactory()

    with pytest.raises(ValidationError) as error:
        milestone.full_clean()

    assert error.value.error_dict["strategy"][0].code == "strategy_other_goal"


def test_full_clean_rejects_a_dependency_on_another_goals_milestone(goal):
    milestone = MilestoneFactory(goal=goal)
    milestone.depends_on = MilestoneFactory()

    with pytest.raises(ValidationError) as error:
        milestone.full_clean()

    assert error.value.error_dict["depends_on"][0].code == "dependency_other_goal"


def test_full_clean_rejects_a_dependency_on_itself(goal):
    milestone = MilestoneFactory(goal=goal)
    milestone.depends_on = milestone

    with pytest.raises(ValidationError) as error:
        milestone.full_clean()

    assert "depends_on" in error.value.error_dict


def test_full_clean_rejects_an_unknown_status(goal):
    milestone = MilestoneFactory.build(goal=goal, strategy=StrategyFactory(goal=goal))
    milestone.status = "done"

    with pytest.raises(ValidationError) as error:
        milestone.full_clean()

    assert "status" in error.value.error_dict


# -- effective due and overdue ---------------------------------------------------------------


def test_effective_due_is_the_revised_due_where_set():
    assert Milestone(due=Q(2018, 3), revised_due=Q(2019)).effective_due == Q(2019)
    assert Milestone(due=Q(2018, 3), revised_due=None).effective_due == Q(2018, 3)
    assert Milestone(due=None, revised_due=None).effective_due is None


@pytest.mark.parametrize(
    ("due", "revised_due", "status", "quarter", "overdue", "due_now"),
    [
        # Reporting on Q3 FY19, a milestone due Q3 FY19 is due this quarter, not overdue.
        (Q(2019, 3), None, Status.ON_TRACK, Q(2019, 3), False, True),
        (Q(2019, 3), None, Status.ON_TRACK, Q(2019, 4), True, False),
        (Q(2019, 3), None, Status.TBD, Q(2020, 2), True, False),
        (Q(2019, 3), None, Status.ON_TRACK, Q(2019, 2), False, False),
        # A revised due takes precedence over the original one; a whole year ends with Q4.
        (Q(2019, 3), Q(2019), Status.DELAYED, Q(2019, 3), False, False),
        (Q(2019, 3), Q(2019), Status.DELAYED, Q(2019, 4), False, True),
        (Q(2019, 3), Q(2019), Status.DELAYED, Q(2020, 1), True, False),
        (Q(2019), Q(2019, 2), Status.AT_RISK, Q(2019, 3), True, False),
        # Closed milestones are never overdue nor due.
        (Q(2018, 1), None, Status.COMPLETED, Q(2020, 1), False, False),
        (Q(2020, 1), None, Status.CANCELLED, Q(2020, 1), False, False),
        # Ongoing work, or no due at all, is never overdue nor due.
        (ONGOING, None, Status.ON_TRACK, Q(2999, 4), False, False),
        (Q(2018, 1), ONGOING, Status.ON_TRACK, Q(2020, 1), False, False),
        (None, None, Status.NOT_STARTED, Q(2020, 1), False, False),
    ],
)
def test_overdue_and_due_this_quarter_follow_the_reporting_quarter(
    due, revised_due, status, quarter, overdue, due_now
):
    milestone = Milestone(due=due, revised_due=revised_due, status=status)

    assert milestone.is_overdue_in(quarter) is overdue
    assert milestone.is_due_in(quarter) is due_now


@pytest.fixture
def every_kind_of_milestone(goal):
    strategy = StrategyFactory(goal=goal)
    dues = [None, Q(2018, 2), Q(2019, 3), Q(2019, 4), Q(2019), Q(2020, 1), ONGOING]
    revised = [None, Q(2019), Q(2020, 2), ONGOING]
    return [
        MilestoneFactory(
            goal=goal, strategy=strategy, due=due, revised_due=revised_due, status=status
        )
        for due, revised_due, status in itertools.product(dues, revised, Status)
    ]


@pytest.mark.parametrize("quarter", [Q(2019, 3), Q(2019, 4), Q(2020, 1), Q(2020, 3), Q(2030, 2)])
def test_the_overdue_and_due_queries_agree_with_the_milestone(every_kind_of_milestone, quarter):
    overdue = {m.pk for m in every_kind_of_milestone if m.is_overdue_in(quarter)}
    due_now = {m.pk for m in every_kind_of_milestone if m.is_due_in(quarter)}
    annotated = Milestone.objects.with_effective_due()

    assert set(Milestone.objects.overdue(quarter).values_list("pk", flat=True)) == overdue
    assert set(annotated.filter(due_this_quarter_q(quarter)).values_list("pk", flat=True)) == (
        due_now
    )
    assert overdue  # the grid holds overdue milestones in every one of these quarters
    assert not overdue & due_now
    assert not overdue & {m.pk for m in every_kind_of_milestone if m.status in CLOSED_STATUSES}


@pytest.mark.parametrize("fiscal_year", [2018, 2019, 2020])
def test_in_fiscal_year_agrees_with_the_effective_due(every_kind_of_milestone, fiscal_year):
    expected = {
        m.pk
        for m in every_kind_of_milestone
        if m.effective_due is not None and m.effective_due.fiscal_year == fiscal_year
    }

    found = Milestone.objects.in_fiscal_year(fiscal_year).values_list("pk", flat=True)
    assert set(found) == expected


# -- deletion -------------------------------------------------------------------------------


def test_a_strategy_with_milestones_cannot_be_deleted(goal):
    milestone = MilestoneFactory(goal=goal)

    with pytest.raises(RestrictedError):
        milestone.strategy.delete()
    milestone.refresh_from_db()
    assert milestone.strategy is not None


def test_a_goal_with_milestones_cannot_be_deleted(goal):
    MilestoneFactory(goal=goal, strategy=None)

    with pytest.raises(ProtectedError):
        goal.delete()
    assert goal.milestones.count() == 1


def test_a_milestone_with_status_updates_cannot_be_deleted():
    update = StatusUpdateFactory()

    with pytest.raises(ProtectedError):
        update.milestone.delete()


def test_a_milestone_another_depends_on_cannot_be_deleted_until_it_moves_on(goal):
    first = MilestoneFactory(goal=goal, strategy=None)
    second = MilestoneFactory(goal=goal, strategy=None, depends_on=first)

    with pytest.raises(RestrictedError):
        first.delete()

    second.depends_on = None
    second.save()
    first.delete()
    assert second.history.latest().depends_on_id is None


# -- status updates -------------------------------------------------------------------------


def test_a_status_update_cannot_be_saved_twice():
    update = StatusUpdateFactory(comment="As first written")
    update.comment = "Rewritten"

    with pytest.raises(ValueError, match="append-only"):
        update.save()

    assert StatusUpdate.objects.get(pk=update.pk).comment == "As first written"
    assert update.history.count() == 1
