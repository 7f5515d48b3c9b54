"""My goals follows each goal's reporting quarter, not the wall clock: "no update for
Q4 FY19 yet", overdue and due this quarter by the goal's quarter, its summary of
progress for that quarter; closed goals leave it."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from milestones.models import Risk
from strategies.models import Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q1_FY19, Q2_FY19, Q3_FY19, Q4_FY19 = (FiscalPeriod(2019, q) for q in (1, 2, 3, 4))


def published(goal, period):
    return ProgressSummaryFactory(
        goal=goal, period=period, risk=Risk.LOW, published_at=timezone.now()
    )


def goal_reporting_on(quarter, **fields):
    """A goal of FY18–FY19 whose quarter before ``quarter`` is published."""
    goal = GoalFactory(reporting_quarter_set=None, **fields)
    published(goal, quarter.previous_quarter())
    return goal


def my_goals(user):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("my_goals"))
    assert response.status_code == 200
    return parse(response.content)


def todo(page) -> dict[str, dict]:
    """Each listed milestone's title → what its row says."""
    rows = {}
    for tr in page.find_all("tr", data_todo_milestone=True):
        th = tr.find("th")
        rows[th.find("a").text] = {
            "no_update_for": th.find("div", data_no_update_for=True).text,
            "overdue": bool(th.find_all(data_overdue=True)),
            "due_now": bool(th.find_all(data_due_now=True)),
        }
    return rows


@pytest.fixture
def leader(db):
    return UserFactory(username="leader")


def lead(goal, user):
    MembershipFactory(goal=goal, user=user, role=Role.LEADER)


def test_a_milestone_not_updated_for_the_reporting_quarter_is_listed_with_that_quarter(leader):
    goal = goal_reporting_on(Q4_FY19)
    lead(goal, leader)
    reported_in_q3 = MilestoneFactory(goal=goal, title="Reported in Q3", due=FiscalPeriod(2019))
    StatusUpdateFactory(milestone=reported_in_q3, period=Q3_FY19)
    reported_in_q4 = MilestoneFactory(goal=goal, title="Reported in Q4", due=FiscalPeriod(2019))
    StatusUpdateFactory(milestone=reported_in_q4, period=Q4_FY19)

    rows = todo(my_goals(leader))

    assert set(rows) == {"Reported in Q3"}
    assert rows["Reported in Q3"]["no_update_for"] == "No update for Q4 FY19 yet"
    assert rows["Reported in Q3"]["due_now"] and not rows["Reported in Q3"]["overdue"]


def test_each_goal_is_measured_by_its_own_quarter_in_2019_as_in_2026(leader, monkeypatch):
    ahead = goal_reporting_on(Q4_FY19, title="Ahead")
    behind = goal_reporting_on(Q2_FY19, title="Behind")
    for goal in (ahead, behind):
        lead(goal, leader)
        MilestoneFactory(goal=goal, title=f"{goal.title}: due Q1", due=Q1_FY19)
        MilestoneFactory(goal=goal, title=f"{goal.title}: due Q2", due=Q2_FY19)
    ProgressSummaryFactory(goal=behind, period=Q2_FY19)  # written, not published

    for year, month in ((2019, 8), (2026, 11)):
        moment = datetime.datetime(year, month, 15, 12, tzinfo=datetime.UTC)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)

        page = my_goals(leader)
        rows = todo(page)

        assert rows["Ahead: due Q1"] == {
            "no_update_for": "No update for Q4 FY19 yet",
            "overdue": True,
            "due_now": False,
        }
        assert rows["Ahead: due Q2"]["overdue"]
        assert rows["Behind: due Q1"]["overdue"]
        assert rows["Behind: due Q2"] == {
            "no_update_for": "No update for Q2 FY19 yet",
            "overdue": False,
            "due_now": True,
        }
        summaries = {
            li.find("a").text: li.find("span", data_summary=True).text
            for li in page.find_all("li", data_goal=True)
        }
        assert summaries == {
            "Ahead": "No Q4 FY19 summary yet",
            "Behind": "Q2 FY19 summary written",
        }
        assert "FY27" not in page.text and "FY26" not in page.text


def test_a_closed_goal_leaves_my_goals(leader):
    goal = goal_reporting_on(Q4_FY19, title="Finished")
    lead(goal, leader)
    MilestoneFactory(goal=goal, title="Left open", due=Q1_FY19)
    goal.closed_at = timezone.now()
    goal.save()

    page = my_goals(leader)

    assert todo(page) == {}
    assert not page.find_all("li", data_goal=True)
    assert "Finished" not in page.text


def test_the_query_count_does_not_grow_with_goals_on_different_quarters(leader):
    def add(count):
        for index in range(count):
            goal = goal_reporting_on(FiscalPeriod(2019, 2 + index % 3))
            lead(goal, leader)
            MilestoneFactory(goal=goal, due=Q1_FY19)

    def queries():
        client = Client()
        client.force_login(leader)  # signing in is not the page's work
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("my_goals")).status_code == 200
        return len(captured)

    add(2)
    small = queries()
    add(10)
    assert queries() == small
