"""The quarterly workflow: "My goals" lists what a leader still has to update this
quarter, and leaders write or edit the goal's summary of progress."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from milestones.models import ProgressSummary, Status
from milestones.services import save_progress_summary
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    StatusUpdateFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def todo_ids(user):
    page = parse(client_for(user).get(reverse("my_goals")).content.decode())
    return [
        int(tr.attrs["data-todo-milestone"])
        for tr in page.find_all("tr", data_todo_milestone=True)
    ]


class TestMyGoals:
    def test_it_lists_open_milestones_not_updated_this_quarter_overdue_first(self, goal, leader):
        now = FiscalPeriod(2019, 4)  # the factory goal's reporting quarter
        future = FiscalPeriod(now.fiscal_year + 2, None)
        later = MilestoneFactory(goal=goal, due=future, title="Later")
        overdue = MilestoneFactory(goal=goal, due=FiscalPeriod(2018, 3), title="Overdue one")
        updated = MilestoneFactory(goal=goal, due=future, title="Done this quarter")
        StatusUpdateFactory(milestone=updated, period=now)
        MilestoneFactory(goal=goal, due=FiscalPeriod(2018, 1), status=Status.COMPLETED)
        last_quarter = MilestoneFactory(goal=goal, due=future, title="Updated last quarter")
        StatusUpdateFactory(milestone=last_quarter, period=now.previous_quarter())

        assert todo_ids(leader) == [overdue.pk, later.pk, last_quarter.pk]

    def test_it_shows_only_the_users_own_goals(self, goal, leader):
        mine = MilestoneFactory(goal=goal)
        MilestoneFactory()  # another goal's

        assert todo_ids(leader) == [mine.pk]

    def test_a_reviewer_has_nothing_to_update(self, goal, reviewer):
        MilestoneFactory(goal=goal)

        page = client_for(reviewer).get(reverse("my_goals")).content.decode()

        assert todo_ids(reviewer) == []
        assert "You do not lead or contribute to any goal yet" in page

    def test_it_says_whether_this_quarters_summary_is_written(self, goal, leader):
        page = client_for(leader).get(reverse("my_goals")).content.decode()
        assert 'data-summary="missing"' in page and "Write summary" in page

        save_progress_summary(goal=goal, user=leader, period=FiscalPeriod(2019, 4), summary="- ok")
        page = client_for(leader).get(reverse("my_goals")).content.decode()
        assert 'data-summary="written"' in page and "Edit summary" in page

    def test_contributors_see_their_milestones_but_no_summary_button(self, goal):
        contributor = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR).user
        milestone = MilestoneFactory(goal=goal)

        page = client_for(contributor).get(reverse("my_goals")).content.decode()

        assert todo_ids(contributor) == [milestone.pk]
        assert "Write summary" not in page

    def test_the_query_count_does_not_grow_with_milestones(
        self, goal, leader, django_assert_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def count():
            client = client_for(leader)  # signing in is not the page's work
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse("my_goals"))
            return len(queries)

        MilestoneFactory.create_batch(3, goal=goal)
        small = count()
        MilestoneFactory.create_batch(40, goal=goal)
        assert count() == small

    def test_anonymous_is_sent_to_log_in(self):
        response = Client().get(reverse("my_goals"))

        assert response.status_code == 302 and reverse("login") in response["Location"]


def progress_url(goal):
    return reverse("progress_edit", kwargs={"slug": goal.slug})


class TestProgressSummary:
    def test_a_leader_writes_a_summary_and_it_appears_on_the_plan(self, goal, leader):
        response = client_for(leader).post(
            progress_url(goal),
            {"period": "q3 fy 2019", "summary": "- Met counterparts", "version": ""},
            follow=True,
        )

        assert response.redirect_chain[-1][0] == goal.get_plan_url() + "#progress"
        page = response.content.decode()
        assert "Summary of Progress – Q3 FY19" in page and "Met counterparts" in page
        summary = ProgressSummary.objects.get(goal=goal)
        assert summary.history.get().history_username == leader.username

    def test_the_form_opens_with_the_existing_summary_for_the_period(self, goal, leader):
        save_progress_summary(
            goal=goal, user=leader, period=FiscalPeriod(2019, 2), summary="- Old"
        )

        page = client_for(leader).get(progress_url(goal) + "?period=Q2+FY19").content.decode()

        assert "- Old</textarea>" in page
        assert 'value="Q2 FY19"' in page

    def test_a_bad_period_in_the_link_falls_back_to_the_reporting_quarter_with_a_message(
        self, goal, leader
    ):
        goal.reporting_quarter_set = FiscalPeriod(2019, 2)
        goal.save()

        response = client_for(leader).get(progress_url(goal) + "?period=Q9+FY19")

        page = response.content.decode()
        assert response.status_code == 200
        assert "a quarter is Q1 to Q4" in page
        assert 'value="Q2 FY19"' in page

    def test_a_whole_year_is_refused_a_quarterly_update_reports_on_a_quarter(self, goal, leader):
        response = client_for(leader).post(
            progress_url(goal), {"period": "FY19", "summary": "- A year", "version": ""}
        )

        assert response.status_code == 400
        assert "Report on a quarter, e.g. Q4 FY19." in response.content.decode()
        assert not ProgressSummary.objects.exists()

    @pytest.mark.parametrize("period", ["Q1 FY2999", "Q4 FY17"])
    def test_a_period_outside_the_goal_is_refused_and_nothing_is_written(
        self, goal, leader, period
    ):
        response = client_for(leader).post(
            progress_url(goal), {"period": period, "summary": "- Far off", "version": ""}
        )

        assert response.status_code == 400
        assert "is outside the goal&#x27;s period, FY18–FY19" in response.content.decode()
        assert not ProgressSummary.objects.exists()

    def test_editing_keeps_history_of_each_version(self, goal, leader):
        first = save_progress_summary(
            goal=goal, user=leader, period=FiscalPeriod(2019, 3), summary="- A"
        )

        client_for(leader).post(
            progress_url(goal),
            {"period": "Q3 FY19", "summary": "- B", "version": first.version},
        )

        first.refresh_from_db()
        assert first.summary == "- B"
        assert [h.summary for h in first.history.order_by("history_date")] == ["- A", "- B"]

    def test_a_stale_form_is_refused_and_keeps_what_was_typed(self, goal, leader):
        deputy = MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dana").user
        opened = save_progress_summary(
            goal=goal, user=leader, period=FiscalPeriod(2019, 3), summary="- A"
        )
        save_progress_summary(
            goal=goal, user=deputy, period=FiscalPeriod(2019, 3), summary="- Dana's"
        )

        response = client_for(leader).post(
            progress_url(goal),
            {"period": "Q3 FY19", "summary": "- Mine", "version": opened.version},
        )

        page = response.content.decode()
        assert response.status_code == 409
        assert "Saved by dana (" in page and "<li>Dana's</li>" in page
        assert "- Mine</textarea>" in page
        assert ProgressSummary.objects.get(goal=goal).summary == "- Dana's"

    def test_a_summary_written_meanwhile_for_a_new_period_is_not_overwritten(self, goal, leader):
        save_progress_summary(
            goal=goal, user=leader, period=FiscalPeriod(2019, 4), summary="- First"
        )

        response = client_for(leader).post(
            progress_url(goal), {"period": "Q4 FY19", "summary": "- Second", "version": ""}
        )

        assert response.status_code == 409
        assert ProgressSummary.objects.get(goal=goal).summary == "- First"

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"period": "Ongoing", "summary": "- x"}, "not Ongoing"),
            ({"period": "Q5 FY19", "summary": "- x"}, "a quarter is Q1 to Q4"),
            ({"period": "Q3 FY19", "summary": ""}, "This field is required"),
            ({"period": "Q3 FY19", "summary": "x" * 20001}, "at most 20000 characters"),
            ({"period": "Q3 FY19", "summary": "- x", "version": "yesterday"}, "open it again"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, goal, leader, data, message):
        response = client_for(leader).post(progress_url(goal), {"version": "", **data})

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not ProgressSummary.objects.exists()
        assert not ProgressSummary.history.exists()

    @pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.REVIEWER])
    def test_contributors_and_reviewers_may_not_write_summaries(self, goal, role):
        user = MembershipFactory(goal=goal, role=role).user

        get = client_for(user).get(progress_url(goal))
        post = client_for(user).post(progress_url(goal), {"period": "Q3 FY19", "summary": "- x"})

        assert (get.status_code, post.status_code) == (403, 403)
        assert not ProgressSummary.objects.exists()

    def test_the_deputy_and_admins_may(self, goal):
        deputy = MembershipFactory(goal=goal, role=Role.DEPUTY).user
        admin = UserFactory(is_staff=True)

        for user, period in ((deputy, "Q1 FY19"), (admin, "Q2 FY19")):
            response = client_for(user).post(
                progress_url(goal), {"period": period, "summary": "- ok", "version": ""}
            )
            assert response.status_code == 302
        assert ProgressSummary.objects.filter(goal=goal).count() == 2

    def test_an_outsider_gets_404_on_a_restricted_goal(self, outsider):
        goal = GoalFactory(sensitivity=Sensitivity.RESTRICTED)

        response = client_for(outsider).get(progress_url(goal))

        assert response.status_code == 404

    def test_the_plan_offers_edit_links_to_leaders_only(self, goal, leader, reviewer):
        save_progress_summary(goal=goal, user=leader, period=FiscalPeriod(2019, 4), summary="- A")

        leader_page = client_for(leader).get(goal.get_plan_url()).content.decode()
        reviewer_page = client_for(reviewer).get(goal.get_plan_url()).content.decode()

        assert "Edit the Q4 FY19 summary" in leader_page
        assert "Edit the Q4 FY19 summary" not in reviewer_page


@pytest.mark.parametrize("day", [datetime.date(2019, 8, 15), datetime.date(2026, 11, 29)])
def test_the_todo_uses_the_goals_reporting_quarter_whatever_the_date(goal, leader, day):
    milestone = MilestoneFactory(goal=goal, due=FiscalPeriod(2019, 4))
    StatusUpdateFactory(milestone=milestone, period=FiscalPeriod(2019, 4))

    with time_machine.travel(datetime.datetime.combine(day, datetime.time(12)), tick=False):
        page = client_for(leader).get(reverse("my_goals")).content.decode()
        todo = todo_ids(leader)

    assert "Q4 FY19" in page and "FY27" not in page
    assert todo == []
