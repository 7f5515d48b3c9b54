"""Every page runs a fixed number of SQL queries, whatever the number of rows: each is
counted at a small and a large size and the counts must match."""

import itertools
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.history import recorded_change
from milestones.models import Status
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 500
# Generous ceilings: the point is that the count does not grow, but a page that needs
# this many queries for a handful of reads has lost its shape.
MOST_QUERIES = 12
# The goal dashboard's completeness panel (leaders, deputies, admins) asks four more,
# whatever the size of the plan (sdif_tracker/completeness.py).
COMPLETENESS_QUERIES = 4
# Its quality check line (everyone who sees it) asks two more: the goal's published
# indicators and the recorded revisions of its milestones' due (milestones/quality.py).
QUALITY_QUERIES = 2

DUES = [
    FiscalPeriod(2018, 3),
    FiscalPeriod(2019, 1),
    FiscalPeriod(2019, 4),
    FiscalPeriod(2019),
    FiscalPeriod(2990, 2),
    FiscalPeriod.ongoing(),
    None,
]


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_milestones(goal, strategies, count, start=0):
    """``count`` milestones spread over strategies (and none), dues, revisions, statuses."""
    choices = itertools.islice(
        zip(
            itertools.cycle([*strategies, None]),
            itertools.cycle(DUES),
            itertools.cycle([None, None, FiscalPeriod(2990, 4)]),
            itertools.cycle(Status),
            strict=False,
        ),
        count,
    )
    dependency = None
    for offset, (strategy, due, revised_due, status) in enumerate(choices):
        dependency = MilestoneFactory(
            goal=goal,
            strategy=strategy,
            position=start + offset + 1,
            due=due,
            revised_due=revised_due,
            status=status,
            owner="OFAC",
            depends_on=dependency if offset % 2 else None,
        )


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def plan_goal(goal):
    strategies = [StrategyFactory(goal=goal, number=n) for n in (1, 2, 3, 4)]
    return goal, strategies


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group": "quarter"},
        {"group": "quarter", "status": ["on_track", "delayed"], "fy": "2019", "overdue": "1"},
        {"strategy": "2", "status": "tbd"},
    ],
    ids=["by-strategy", "by-quarter", "by-quarter-filtered", "by-strategy-filtered"],
)
def test_the_dashboard_runs_the_same_queries_for_10_and_500_milestones(staff, plan_goal, params):
    goal, strategies = plan_goal
    url = goal.get_absolute_url() + "?" + urlencode(params, doseq=True)
    add_milestones(goal, strategies, SMALL)
    small = count_queries(staff, url)
    add_milestones(goal, strategies, LARGE - SMALL, start=SMALL)
    assert goal.milestones.count() == LARGE
    assert count_queries(staff, url) == small
    assert small <= MOST_QUERIES + COMPLETENESS_QUERIES + QUALITY_QUERIES


def test_the_plan_runs_the_same_queries_for_10_and_500_milestones(staff, plan_goal):
    goal, strategies = plan_goal
    for period in (FiscalPeriod(2018), FiscalPeriod(2019)):
        ProgressSummaryFactory(goal=goal, period=period)
    for _ in range(2):
        IndicatorValueFactory(indicator=IndicatorFactory(goal=goal))
    add_milestones(goal, strategies, SMALL)
    small = count_queries(staff, goal.get_plan_url())
    add_milestones(goal, strategies, LARGE - SMALL, start=SMALL)
    for year in range(2030, 2060):
        ProgressSummaryFactory(goal=goal, period=FiscalPeriod(year))
        IndicatorValueFactory(indicator=IndicatorFactory(goal=goal))
    assert count_queries(staff, goal.get_plan_url()) == small
    assert small <= MOST_QUERIES


def test_the_portfolio_runs_the_same_queries_for_10_and_500_goals(client):
    user = UserFactory()
    client.force_login(user)

    def add_goals(count):
        for index in range(count):
            sensitivity = [Sensitivity.INTERNAL, Sensitivity.RESTRICTED][index % 2]
            goal = GoalFactory(sensitivity=sensitivity)
            if index % 4 == 1:
                MembershipFactory(goal=goal, user=user, role=Role.REVIEWER)
            MilestoneFactory(goal=goal, strategy=None, due=DUES[index % len(DUES)])

    add_goals(SMALL)
    small = count_queries(client, reverse("portfolio"))
    add_goals(LARGE - SMALL)
    assert count_queries(client, reverse("portfolio")) == small
    assert small <= MOST_QUERIES


def test_the_milestone_page_runs_the_same_queries_for_10_and_500_updates_and_versions(
    staff, plan_goal
):
    goal, strategies = plan_goal
    others = [MilestoneFactory(goal=goal, strategy=None) for _ in range(3)]
    milestone = MilestoneFactory(goal=goal, strategy=strategies[0], depends_on=others[0])
    author = UserFactory()

    def add_updates_and_versions(count):
        for index in range(count):
            StatusUpdateFactory(milestone=milestone, author=author)
            with recorded_change(user=author, reason=f"Change {index}"):
                milestone.status = list(Status)[index % len(Status)]
                milestone.strategy = strategies[index % len(strategies)]
                milestone.depends_on = others[index % len(others)]
                milestone.revised_due = DUES[index % len(DUES)]
                milestone.comment = f"Comment {index}"
                milestone.save()

    add_updates_and_versions(SMALL)
    small = count_queries(staff, milestone.get_absolute_url())
    add_updates_and_versions(LARGE - SMALL)
    assert milestone.status_updates.count() == LARGE
    assert milestone.history.count() == LARGE + 1
    assert count_queries(staff, milestone.get_absolute_url()) == small
    assert small <= MOST_QUERIES
