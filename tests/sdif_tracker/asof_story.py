"""A known sequence of changes to the real SDIF plan, across four quarters of FY19, with
the clock held at chosen moments so history dates are known. Shared by the as-of,
compare and revert tests.

    2018-10-05  the plan is imported (Q1 FY19)
    2019-02-10  #3 senior meetings: On track → At risk, "Meeting postponed." (Q2)
    2019-05-15  #4 working meetings: On track → Delayed, due Q4 FY19 → FY20 (Q3)
                #1 sanctions reforms: On track confirmed with a new comment
                #9 "Exchange beneficial ownership data" added to strategy 2, Not started
    2019-08-20  #8 FY 2019 trends deleted; #2 information sharing: On track → Completed;
                strategy 4 retitled (Q4)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from audit.history import recorded_change
from milestones.models import Milestone, Status
from milestones.services import record_status_update
from strategies.periods import FiscalPeriod
from strategies.services import update_strategy
from tests.factories import UserFactory

NEW_TITLE = "Exchange beneficial ownership data with Mexican authorities."
STRATEGY_4_TITLE = "Share information on illicit finance with Mexican law enforcement."


class Clock:
    """Holds ``timezone.now()`` (and so history dates, auto_now and "today") at a local
    wall-clock time in settings.TIME_ZONE."""

    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch

    def set(self, *args) -> datetime.datetime:
        moment = datetime.datetime(*args, tzinfo=timezone.get_default_timezone())
        self._monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment


@dataclass
class Story:
    goal: object
    leader: object
    by_position: dict  # position -> Milestone (as of the end of the story; #8 deleted)
    originals: dict  # position -> (status, comment) as imported

    def milestone(self, position: int) -> Milestone:
        return self.by_position[position]


def _update(milestone, user, status, comment, period, revised_due=None):
    milestone.refresh_from_db()
    record_status_update(
        milestone=milestone,
        user=user,
        status=status,
        comment=comment,
        period=period,
        revised_due=revised_due,
        expected_version=milestone.version,
    )
    milestone.refresh_from_db()


def tell_story(request, clock) -> Story:
    """Import the SDIF plan on 2018-10-05 and make the story's changes, the clock set
    to each moment in turn."""
    clock.set(2018, 10, 5, 10, 0)
    goal = request.getfixturevalue("sdif_goal")
    leader = UserFactory(username="story-leader")
    milestones = {m.position: m for m in Milestone.objects.filter(goal=goal)}
    originals = {p: (m.status, m.comment) for p, m in milestones.items()}

    clock.set(2019, 2, 10, 12, 0)
    _update(milestones[3], leader, Status.AT_RISK, "Meeting postponed.", FiscalPeriod(2019, 2))

    clock.set(2019, 5, 15, 12, 0)
    _update(
        milestones[4],
        leader,
        Status.DELAYED,
        "Moved to next year.",
        FiscalPeriod(2019, 3),
        revised_due=FiscalPeriod(2020),
    )
    _update(milestones[1], leader, Status.ON_TRACK, "OFAC shared more.", FiscalPeriod(2019, 3))
    strategy_2 = goal.strategies.get(number=2)
    new = Milestone(
        goal=goal,
        strategy=strategy_2,
        position=9,
        title=NEW_TITLE,
        due=FiscalPeriod(2020, 2),
        status=Status.NOT_STARTED,
    )
    with recorded_change(user=leader, reason="Added a milestone"):
        new.full_clean()
        new.save()
    milestones[9] = new

    clock.set(2019, 8, 20, 12, 0)
    with recorded_change(user=leader, reason="Dropped"):
        milestones.pop(8).delete()
    _update(milestones[2], leader, Status.COMPLETED, "Done.", FiscalPeriod(2019, 4))
    strategy_4 = goal.strategies.get(number=4)
    update_strategy(strategy=strategy_4, user=leader, number=4, title=STRATEGY_4_TITLE)
    return Story(goal=goal, leader=leader, by_position=milestones, originals=originals)
