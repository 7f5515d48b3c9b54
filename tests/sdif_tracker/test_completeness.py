"""The completeness check: what an action plan is expected to have and a goal lacks,
shown to its leaders and admins on the goal dashboard."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from milestones.models import DATA_STATEMENT_FIELDS, Risk
from sdif_tracker.pages.completeness import check_goal
from strategies.models import Role
from strategies.periods import FiscalPeriod
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

Q3_FY19, Q4_FY19 = FiscalPeriod(2019, 3), FiscalPeriod(2019, 4)

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
        period=Q4_FY19,  # the factory's goals report on Q4 FY19
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
    assert gaps.pop("milestones_without_due") == "1 key milestone has no due period."
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
        return parse(client.get(url).content).find_all("details", class_="completeness")

    for user in (leader, admin_user):
        (found,) = panel(user)
        assert [li.attrs["data-gap"] for li in found.find_all("li")][:1] == ["no_deputy"]
        assert "No deputy goal leader is named." in found.text
    assert panel(contributor) == []


def test_the_summary_asked_for_is_the_reporting_quarters_not_the_wall_clocks(monkeypatch):
    """A goal of FY18–FY19 with Q3 FY19 published reports on Q4 FY19, in 2026 as in 2019."""
    goal = GoalFactory(reporting_quarter_set=None)
    ProgressSummaryFactory(goal=goal, period=Q3_FY19, risk=Risk.LOW, published_at=timezone.now())

    for day in (datetime.date(2019, 7, 21), datetime.date(2026, 11, 29)):
        moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        goal = type(goal).objects.get(pk=goal.pk)  # no reporting quarter kept from before

        gaps = {gap.code: gap.text for gap in check_goal(goal)}

        assert gaps["no_current_summary"] == (
            "No Q4 FY19 progress summary yet (the quarter the goal reports on)."
        )
    ProgressSummaryFactory(goal=goal, period=Q4_FY19)
    assert "no_current_summary" not in codes(type(goal).objects.get(pk=goal.pk))


def test_a_closed_goal_gets_no_warnings():
    goal = GoalFactory(deputy_name="", closed_at=timezone.now())

    assert check_goal(goal) == []
