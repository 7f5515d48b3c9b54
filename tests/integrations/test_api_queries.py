"""Each endpoint reads in a fixed number of queries, whatever the number of objects:
pinned here at 3 and at 30 of each (token lookup and user in one, the page in one or
two; the indicator values in one more)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
)
from tests.integrations.conftest import bearer

# URL (``{goal}``: the goal with the objects) -> queries: token and user (1), the
# user's memberships for visible_goals (none: subqueries), the page (1), the indicator
# values (1); the history's object (1) before its page.
ENDPOINTS = {
    "/api/v1/agencies/": 2,
    "/api/v1/goals/": 2,
    "/api/v1/strategies/": 2,
    "/api/v1/milestones/?quarter=Q4 FY19": 2,
    "/api/v1/status-updates/": 2,
    "/api/v1/quarterly-updates/": 2,
    "/api/v1/indicators/": 3,
    "/api/v1/goals/{goal}/history/": 3,
    "/api/v1/goals/{goal}/": 2,
}


def build(size: int):
    """``size`` agencies, each with a restricted goal the member belongs to, and
    ``size`` objects of each kind in the first goal; the first goal saved ``size``
    times (its history)."""
    goals = []
    for number in range(size):
        agency = AgencyFactory(name=f"Agency {size}-{number}")
        goals.append(GoalFactory(agency=agency, sensitivity=Sensitivity.RESTRICTED))
    goal = goals[0]
    member = MembershipFactory(goal=goal, role=Role.REVIEWER).user
    for other in goals[1:]:
        MembershipFactory(goal=other, user=member, role=Role.REVIEWER)
    for number in range(size):
        strategy = StrategyFactory(goal=goal)
        milestone = MilestoneFactory(goal=goal, strategy=strategy)
        StatusUpdateFactory(milestone=milestone)
        ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2000 + number, 1))
        indicator = IndicatorFactory(goal=goal)
        for quarter in (1, 2):
            IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, quarter))
        goal.title = f"Title {number}"
        goal.save()
    return goal, member


@pytest.mark.parametrize("url,queries", ENDPOINTS.items())
def test_an_endpoint_reads_in_the_same_queries_for_3_and_30_objects(
    client, db, token_for, django_assert_num_queries, url, queries
):
    counts = []
    for size in (3, 30):
        goal, member = build(size)
        raw = token_for(member)
        target = url.format(goal=goal.slug) + ("&" if "?" in url else "?") + "page_size=100"
        client.get(target, **bearer(raw))  # the token's last use is written once a minute
        with CaptureQueriesContext(connection) as captured:
            response = client.get(target, **bearer(raw))
        assert response.status_code == 200
        if "results" in response.json():
            assert len(response.json()["results"]) >= size
        counts.append(len(captured))
    assert counts[0] == counts[1]
    with django_assert_num_queries(queries):
        client.get(target, **bearer(raw))
