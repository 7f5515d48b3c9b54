"""`manage.py send_update_reminders`: one email per leader, deputy and contributor with
the milestones of their active goals not updated for the goal's reporting quarter (and
the overdue ones), once that quarter has ended; once per person per quarter unless
--force."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from milestones.models import ReminderLog, Risk, Status
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

pytestmark = pytest.mark.django_db

Q2_FY19, Q3_FY19, Q4_FY19 = FiscalPeriod(2019, 2), FiscalPeriod(2019, 3), FiscalPeriod(2019, 4)


def at(monkeypatch, *args):
    moment = datetime.datetime(*args, 9, 0, tzinfo=timezone.get_default_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.fixture(autouse=True)
def in_q4_fy19(monkeypatch):
    """The data call for Q3 FY19: 21 July 2019."""
    at(monkeypatch, 2019, 7, 21)


def published(goal, period):
    return ProgressSummaryFactory(
        goal=goal, period=period, risk=Risk.LOW, published_at=timezone.now()
    )


def reporting_on_q3_fy19(**kwargs):
    """A goal of FY18–FY19 with Q2 FY19 published: it reports on Q3 FY19."""
    goal = GoalFactory(reporting_quarter_set=None, **kwargs)
    published(goal, Q2_FY19)
    return goal


@pytest.fixture
def world():
    sdif = reporting_on_q3_fy19(short_name="SDIF", title="Illicit finance")
    other = GoalFactory(short_name="OTHER", title="Another goal", reporting_quarter_set=Q3_FY19)
    people = {
        "leader": MembershipFactory(goal=sdif, role=Role.LEADER, user__username="leader").user,
        "deputy": MembershipFactory(goal=sdif, role=Role.DEPUTY, user__username="deputy").user,
        "contributor": MembershipFactory(
            goal=other, role=Role.CONTRIBUTOR, user__username="contributor"
        ).user,
        "reviewer": MembershipFactory(goal=sdif, role=Role.REVIEWER, user__username="rev").user,
    }
    # The leader also contributes to the other goal: still one email.
    MembershipFactory(goal=other, user=people["leader"], role=Role.CONTRIBUTOR)
    stale = MilestoneFactory(goal=sdif, title="Stale one", due=FiscalPeriod(2019, 4))
    updated = MilestoneFactory(goal=sdif, title="Updated this quarter", due=FiscalPeriod(2019, 4))
    StatusUpdateFactory(milestone=updated, period=Q3_FY19)
    overdue = MilestoneFactory(goal=sdif, title="Overdue but updated", due=FiscalPeriod(2018, 4))
    StatusUpdateFactory(milestone=overdue, period=Q3_FY19)
    MilestoneFactory(goal=sdif, title="Finished", status=Status.COMPLETED)
    MilestoneFactory(goal=other, title="Other goal's milestone", due=FiscalPeriod(2020))
    return people, stale


def run(*args) -> str:
    """The command as cron runs it: its emails are handed to the worker on commit (here
    the immediate backend, which sends them there and then)."""
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_update_reminders", *args, stdout=out)
    return out.getvalue()


def by_recipient(outbox) -> dict[str, str]:
    assert all(len(message.to) == 1 for message in outbox)
    return {message.to[0]: message.body for message in outbox}


def test_each_editor_gets_one_email_with_their_goals_milestones(world, mailoutbox):
    people, _ = world

    output = run()

    mails = by_recipient(mailoutbox)
    assert len(mailoutbox) == 3
    assert set(mails) == {"leader@example.gov", "deputy@example.gov", "contributor@example.gov"}
    leader = mails["leader@example.gov"]
    assert "Stale one [not updated in Q3 FY19]" in leader
    assert "Overdue but updated [OVERDUE (due Q4 FY18)]" in leader
    assert "Other goal's milestone [not updated in Q3 FY19]" in leader
    assert "Updated this quarter" not in leader
    assert "Finished" not in leader
    assert "Other goal's milestone" not in mails["deputy@example.gov"]
    assert "Stale one" in mails["deputy@example.gov"]
    contributor = mails["contributor@example.gov"]
    assert "Other goal's milestone" in contributor and "Stale one" not in contributor
    assert "http://127.0.0.1:8000/goals/" in leader
    assert mailoutbox[0].subject.endswith("to update for Q3 FY19")
    assert "Sent 3 reminder(s) for Q3 FY19" in output
    assert ReminderLog.objects.filter(period=Q3_FY19).count() == 3


def test_a_second_run_sends_nothing_and_force_sends_again(world, mailoutbox):
    run()
    mailoutbox.clear()

    output = run()

    assert mailoutbox == []
    assert "Sent 0 reminder(s) for Q3 FY19; skipped 3 already reminded." in output
    run("--force")
    assert len(mailoutbox) == 3
    assert ReminderLog.objects.count() == 6


def test_people_with_nothing_to_update_or_no_email_get_nothing(mailoutbox):
    goal = reporting_on_q3_fy19()
    MembershipFactory(goal=goal, role=Role.LEADER, user=UserFactory(username="quiet"))
    MembershipFactory(goal=goal, role=Role.DEPUTY, user=UserFactory(username="nomail", email=""))
    done = MilestoneFactory(goal=goal, due=FiscalPeriod(2019, 4))
    StatusUpdateFactory(milestone=done, period=Q3_FY19)

    run()

    assert mailoutbox == []
    assert not ReminderLog.objects.exists()


def test_the_command_runs_three_queries_whatever_the_number_of_people(
    django_assert_max_num_queries, mailoutbox
):
    for _ in range(6):
        goal = reporting_on_q3_fy19()
        MembershipFactory(goal=goal, role=Role.LEADER)
        MilestoneFactory(goal=goal)
    # Four reads, then one insert per email sent.
    with django_assert_max_num_queries(4 + 6):
        run()
    assert len(mailoutbox) == 6


def test_a_closed_goal_gets_no_reminders(world, mailoutbox):
    people, stale = world
    stale.goal.closed_at = timezone.now()
    stale.goal.save()

    run()

    mails = by_recipient(mailoutbox)
    assert set(mails) == {"leader@example.gov", "contributor@example.gov"}
    assert "Stale one" not in mails["leader@example.gov"]
    assert "Other goal's milestone" in mails["leader@example.gov"]


def test_no_reminder_goes_before_the_reporting_quarter_has_ended(monkeypatch, mailoutbox):
    """In May 2019 the goal reports on Q3 FY19, which is not over: no data call yet."""
    at(monkeypatch, 2019, 5, 15)
    goal = reporting_on_q3_fy19()
    MembershipFactory(goal=goal, role=Role.LEADER, user__username="early")
    MilestoneFactory(goal=goal, due=FiscalPeriod(2018, 1))

    output = run()

    assert mailoutbox == []
    assert not ReminderLog.objects.exists()
    assert "Sent 0 reminder(s)" in output


def test_a_goal_behind_the_wall_clock_is_reminded_about_its_own_quarter(monkeypatch, mailoutbox):
    """In November 2026 a FY18–FY19 goal with Q2 FY19 published still reports on Q3 FY19:
    the reminder is about Q3 FY19 and recorded for it."""
    at(monkeypatch, 2026, 11, 29)
    goal = reporting_on_q3_fy19(short_name="LATE")
    MembershipFactory(goal=goal, role=Role.LEADER, user__username="late")
    MilestoneFactory(goal=goal, title="Due in Q4", due=Q4_FY19)
    MilestoneFactory(goal=goal, title="Due long ago", due=FiscalPeriod(2018, 4))

    run()

    (mail,) = mailoutbox
    assert mail.subject.endswith("to update for Q3 FY19")
    assert "Due in Q4 [not updated in Q3 FY19]" in mail.body
    assert "Due long ago [OVERDUE (due Q4 FY18); not updated in Q3 FY19]" in mail.body
    assert "FY27" not in mail.body and "FY26" not in mail.body
    assert list(ReminderLog.objects.values_list("period", flat=True)) == [Q3_FY19]


def test_goals_on_different_quarters_get_a_reminder_each(monkeypatch, mailoutbox):
    at(monkeypatch, 2019, 10, 15)  # Q1 FY20: Q4 FY19 has ended too
    behind = reporting_on_q3_fy19(short_name="BEHIND")
    ahead = GoalFactory(short_name="AHEAD", reporting_quarter_set=None)
    published(ahead, Q3_FY19)
    leader = UserFactory(username="both")
    for goal in (behind, ahead):
        MembershipFactory(goal=goal, role=Role.LEADER, user=leader)
        MilestoneFactory(goal=goal, title=f"{goal.short_name} milestone", due=Q4_FY19)

    run()

    subjects = sorted(mail.subject for mail in mailoutbox)
    assert [s.rsplit(" ", 2)[-2:] for s in subjects] == [["Q3", "FY19"], ["Q4", "FY19"]]
    assert sorted(ReminderLog.objects.values_list("period", flat=True)) == [Q3_FY19, Q4_FY19]
