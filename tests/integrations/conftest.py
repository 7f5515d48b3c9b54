"""Fixtures of this folder's tests. The read API's (tests/integrations/test_api*.py):
a restricted goal (its own agency) with one object of each kind, a member of it, an
outsider, and a public goal everyone signed in sees; tokens made through the account
page's service. None is autouse: the other tests here are left alone."""

import pytest
from django.core.cache import cache

from accounts import tokens
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
    UserFactory,
)


@pytest.fixture
def fresh_rate_limits():
    """Request counts live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_world(db, fresh_rate_limits):
    secret_agency = AgencyFactory(name="Office of Secrets", abbreviation="OS")
    restricted = GoalFactory(
        agency=secret_agency, sensitivity=Sensitivity.RESTRICTED, slug="restricted-goal"
    )
    public = GoalFactory(sensitivity=Sensitivity.PUBLIC, slug="public-goal")
    world = {"restricted": restricted, "public": public}
    for key, goal in (("r", restricted), ("p", public)):
        strategy = StrategyFactory(goal=goal)
        milestone = MilestoneFactory(goal=goal, strategy=strategy)
        indicator = IndicatorFactory(goal=goal, is_published=False)
        world[key] = {
            "goal": goal,
            "strategy": strategy,
            "milestone": milestone,
            "status_update": StatusUpdateFactory(
                milestone=milestone, period=FiscalPeriod(2019, 3)
            ),
            "summary": ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019, 3)),
            "indicator": indicator,
            "value": IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, 3)),
        }
    world["member"] = MembershipFactory(goal=restricted, role=Role.CONTRIBUTOR).user
    world["outsider"] = UserFactory(username="api-outsider")
    return world


@pytest.fixture
def token_for(fresh_rate_limits):
    """``token_for(user)``: the raw value of a new 30-day token of ``user``."""

    def make(user, days=30):
        return tokens.create_token(user=user, name="test", lifetime_days=days).raw

    return make


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
