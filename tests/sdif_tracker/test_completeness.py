"""The completeness check: what an action plan is expected to have and a goal lacks,
shown to its leaders and admins on the goal dashboard."""

import pytest
from django.test import Client
from django.urls import reverse

from milestones.models import DATA_STATEMENT_FIELDS
from sdif_tracker.pages.completeness import check_goal
from strategies.models import Role
from strategies.periods import current_quarter
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

EVERY_GAP = [
    "no_deputy",
    "no_strategies",
    "no_milestones",
    "no_indicators",
    "no_programs",
    "data_statement_incomplete",
    "no_current_summary",
]


def codes(goal):
    return [gap.code for gap in check_goal(goal)]


def complete_goal():
    goal = GoalFactory(deputy_name="Daniel Moger", regulations="Bank Secrecy Act")
    strategy = StrategyFactory(goal=goal, number=1)
    MilestoneFactory(goal=goal, strategy=strategy)
    IndicatorFactory(goal=goal)
    ProgressSummaryFactory(
        goal=goal,
        period=current_quarter(),
        **{name: f"Stated {name}." for name in DATA_STATEMENT_FIELDS},
    )
    return goal


def test_an_empty_goal_lacks_everything():
    goal = GoalFactory(deputy_name="")
    assert codes(goal) == EVERY_GAP


def test_a_complete_goal_lacks_nothing():
    assert codes(complete_goal()) == []


def test_each_gap_is_reported_on_its_own():
    goal = complete_goal()
    empty = StrategyFactory(goal=goal, number=2)
    MilestoneFactory(goal=goal, strategy=empty, due=None)
    lonely = StrategyFactory(goal=goal, number=3)
    summary = goal.progress_summaries.get()
    summary.data_sources = ""
    summary.save()

    gaps = {gap.code: gap.text for gap in check_goal(goal)}

    assert gaps.pop("strategy_without_milestones") == (
        f"Strategy {lonely.number} has no key milestones aligned to it."
    )
    assert gaps.pop("milestones_without_due") == "1 key milestone(s) have no due period."
    assert gaps.pop("data_statement_incomplete") == (
        "The data accuracy and reliability statement lacks: data sources."
    )
    assert gaps == {}


def test_a_key_indicators_note_stands_in_for_indicators(sdif_goal):
    assert "no_indicators" not in codes(sdif_goal)
    assert "no_deputy" not in codes(sdif_goal)
    assert "no_programs" not in codes(sdif_goal)


def test_leaders_and_admins_see_the_panel_and_contributors_do_not(goal, leader, admin_user):
    contributor = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR).user
    url = reverse("goal_dashboard", kwargs={"slug": goal.slug})

    def panel(user):
        client = Client()
        client.force_login(user)
        return parse(client.get(url).content).find_all("section", class_="completeness")

    for user in (leader, admin_user):
        (found,) = panel(user)
        assert [li.attrs["data-gap"] for li in found.find_all("li")][:1] == ["no_deputy"]
        assert "No deputy goal leader is named." in found.text
    assert panel(contributor) == []
