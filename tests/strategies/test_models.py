"""The plan's models: database constraints and who may see which goal."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from strategies.models import Goal, IndicatorValue, Membership, Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    StrategyFactory,
)

pytestmark = pytest.mark.django_db


def rejected_by_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_a_strategy_number_is_unique_within_its_goal(goal):
    StrategyFactory(goal=goal, number=1)

    rejected_by_database(lambda: StrategyFactory(goal=goal, number=1))
    StrategyFactory(number=1)  # another goal may have its own strategy 1
    assert goal.strategies.count() == 1


def test_strategy_number_zero_is_rejected(goal):
    rejected_by_database(lambda: StrategyFactory(goal=goal, number=0))


def test_an_unknown_sensitivity_is_rejected():
    rejected_by_database(lambda: GoalFactory(sensitivity="secret"))


def test_a_goals_last_fiscal_year_cannot_precede_its_first():
    rejected_by_database(lambda: GoalFactory(first_fiscal_year=2019, last_fiscal_year=2018))


def test_an_unknown_role_is_rejected(goal):
    rejected_by_database(lambda: MembershipFactory(goal=goal, role="boss"))


def test_a_user_has_one_membership_per_goal(goal):
    membership = MembershipFactory(goal=goal, role=Role.LEADER)

    rejected_by_database(
        lambda: MembershipFactory(goal=goal, user=membership.user, role=Role.REVIEWER)
    )
    MembershipFactory(user=membership.user, role=Role.REVIEWER)  # another goal is fine


def test_an_indicator_value_is_one_per_period(goal):
    value = IndicatorValueFactory(indicator=IndicatorFactory(goal=goal))

    rejected_by_database(
        lambda: IndicatorValueFactory(indicator=value.indicator, period=value.period)
    )


@pytest.mark.parametrize("period", [FiscalPeriod.ongoing(), 20196, 20190, 18995])
def test_an_indicator_value_belongs_to_a_quarter_or_year(goal, period):
    indicator = IndicatorFactory(goal=goal)

    rejected_by_database(lambda: IndicatorValueFactory(indicator=indicator, period=period))


def test_an_ongoing_indicator_value_fails_validation_with_a_field_error(goal):
    value = IndicatorValue(
        indicator=IndicatorFactory(goal=goal), period=FiscalPeriod.ongoing(), target=1
    )

    with pytest.raises(ValidationError) as error:
        value.full_clean()

    assert "period" in error.value.message_dict


def test_a_goal_with_strategies_cannot_be_deleted(goal):
    StrategyFactory(goal=goal)

    with pytest.raises(ProtectedError):
        goal.delete()
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_deleting_a_goal_removes_its_memberships(goal):
    membership = MembershipFactory(goal=goal)

    goal.delete()

    assert not Membership.objects.filter(pk=membership.pk).exists()
