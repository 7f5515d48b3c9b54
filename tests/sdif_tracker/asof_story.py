"""A known sequence of changes to the real SDIF plan, across four quarters of FY19, with
the clock held at chosen moments so history dates are known. Shared by the as-of,
compare and revert tests.

    2018-10-05  the plan is imported (recorded then; it reports for Q3 FY19, published);
                #10 "Draft a joint typology" added to strategy 1, Not started
    2019-02-10  #3 senior meetings: On track → At risk, "Meeting postponed." (for Q2)
    2019-05-15  #4 working meetings: On track → Delayed, due Q4 FY19 → FY20 (for Q2,
                Q3 FY19 being published: a late Q2 update)
                #1 sanctions reforms: On track confirmed with a new comment (for Q2)
                #9 "Exchange beneficial ownership data" added to strategy 2, Not started
                (a plan edit: it belongs to the reporting quarter, Q3 FY19)
    2019-08-20  #10 the typology deleted; #2 information sharing: On track → Completed;
                strategy 4 retitled (for Q4, the reporting quarter)

Recorded on a date (``?as_of=``) the story reads as it happened; as reported for a
quarter (``?quarter=``) Q2 FY19 holds only the Q2 updates (the import belongs to Q3),
Q3 FY19 the import with the Q2 updates and #9, Q4 FY19 everything.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from audit.history import recorded_change
from milestones.models import Milestone, Status
from milestones.quarters import forget_reporting_quarter
from milestones.services import record_status_update
from strategies.models import Goal
from strategies.periods import FiscalPeriod
from strategies.services import update_strategy
from tests.factories import UserFactory

NEW_TITLE = "Exchange beneficial ownership data with Mexican authorities."
EXTRA_TITLE = "Draft a joint typology of trade-based laundering."
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
    by_position: dict  # position -> Milestone (as of the end of the story; #10 deleted)
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
    # Every imported milestone has a status update, and a status update keeps its
    # milestone (PROTECT): the story deletes one added the same day instead.
    with recorded_change(user=leader, reason="Added a milestone"):
        extra = Milestone(
            goal=Goal.objects.get(pk=goal.pk),  # its reporting quarter is that of the day
            strategy=goal.strategies.get(number=1),
            position=10,
            title=EXTRA_TITLE,
            due=FiscalPeriod(2019),
            status=Status.NOT_STARTED,
        )
        extra.full_clean()
        extra.save()
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
        FiscalPeriod(2019, 2),
        revised_due=FiscalPeriod(2020),
    )
    _update(milestones[1], leader, Status.ON_TRACK, "OFAC shared more.", FiscalPeriod(2019, 2))
    strategy_2 = goal.strategies.get(number=2)
    new = Milestone(
        # Fetched afresh, as a request would: its reporting quarter is that of the day.
        goal=Goal.objects.get(pk=goal.pk),
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
        milestones.pop(10).delete()
    _update(milestones[2], leader, Status.COMPLETED, "Done.", FiscalPeriod(2019, 4))
    strategy_4 = goal.strategies.get(number=4)
    update_strategy(strategy=strategy_4, user=leader, number=4, title=STRATEGY_4_TITLE)
    forget_reporting_quarter(goal)  # worked out again on the day the test reads
    return Story(goal=goal, leader=leader, by_position=milestones, originals=originals)
