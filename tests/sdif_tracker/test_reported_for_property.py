"""*As reported for* a quarter, over generated histories: random status updates for random
quarters of a goal's period, strategy moves, deletions, publications and (sometimes) an
admin holding the goal on a quarter, all through the services, which refuse what the
rules refuse (a refused step changes nothing and the history goes on).

- At the moment a quarter is published, its snapshot is the plan as reported for it,
  and it stays what it was whatever comes after.
- As reported for Q is built only from changes stamped Q or earlier: each milestone is
  its latest version, in recorded order, among the rows stamped Q or earlier (none, or a
  deletion: not in the plan).
- Without an admin hold, each milestone's status and comment as reported for Q are those
  of its last status update for Q or an earlier quarter (as first entered if none). With
  a hold on an earlier quarter a plan edit is stamped with that quarter and, history rows
  being whole versions, carries the status of the moment: so this one is checked only
  for histories without a hold.
"""

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from hypothesis import given
from hypothesis import strategies as st

from audit.history import recorded_change
from milestones.lifecycle import set_reporting_quarter
from milestones.models import Milestone, Status
from milestones.quarters import reporting_quarter
from milestones.services import (
    PublishedSummaryError,
    move_milestone,
    publish_quarter,
    record_status_update,
    save_progress_summary,
)
from sdif_tracker.pages import asof, publishing
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MilestoneFactory, StrategyFactory, UserFactory
from tests.helpers import clear_quarter_for_publishing
from tests.hostile._support import FUZZ, rolled_back

pytestmark = pytest.mark.django_db

QUARTERS = [FiscalPeriod(year, quarter) for year in (2018, 2019) for quarter in (1, 2, 3, 4)]
STATUSES = [Status.NOT_STARTED, Status.ON_TRACK, Status.AT_RISK, Status.COMPLETED]

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("update"),
            st.integers(0, 2),
            st.integers(0, 7),
            st.sampled_from(STATUSES),
            st.integers(0, 99),
        ),
        st.tuples(st.just("move"), st.integers(0, 2), st.integers(0, 1)),
        st.tuples(st.just("delete"), st.integers(0, 2)),
        st.tuples(st.just("publish")),
        st.tuples(st.just("hold"), st.integers(0, 7)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture
def world(db):
    goal = GoalFactory(slug="prop", reporting_quarter_set=None)
    strategies = [StrategyFactory(goal=goal, number=n) for n in (1, 2)]
    milestones = [
        MilestoneFactory(goal=goal, strategy=strategies[0], position=n, comment="As entered.")
        for n in (1, 2, 3)
    ]
    admin = UserFactory(username="prop-admin", is_staff=True, is_superuser=True)
    return goal, strategies, [m.pk for m in milestones], admin


def state(plan):
    return (
        plan.goal and (plan.goal.title, plan.goal.statement),
        [(s.pk, s.number, s.title) for s in plan.strategies],
        [
            (m.pk, m.title, m.status, m.comment, m.due, m.revised_due, m.strategy_id)
            for m in plan.milestones
        ],
    )


def fresh(goal):
    goal.refresh_from_db()
    goal.__dict__.pop("_reporting_quarter", None)
    goal.__dict__.pop("last_published_key", None)
    return goal


class Run:
    """Apply the generated steps through the services, remembering what to check."""

    def __init__(self, world):
        self.goal, self.strategies, self.ids, self.admin = world
        self.updates = []  # (milestone id, period, status, comment) in recorded order
        self.published = []  # (summary, state of as reported for at publication)
        self.held = False

    def milestone(self, index):
        return Milestone.objects.filter(pk=self.ids[index]).first()

    def step(self, kind, *args):
        goal = fresh(self.goal)
        # Refused by the rules: the service wrote nothing.
        with contextlib.suppress(ValidationError, PublishedSummaryError):
            getattr(self, kind)(goal, *args)

    def update(self, goal, index, quarter, status, number):
        milestone = self.milestone(index)
        if milestone is None:
            return
        comment = f"Said for {QUARTERS[quarter]} ({number})."
        record_status_update(
            milestone=milestone,
            user=self.admin,
            status=status,
            comment=comment,
            period=QUARTERS[quarter],
            expected_version=milestone.version,
        )
        self.updates.append((milestone.pk, QUARTERS[quarter], status, comment))

    def move(self, goal, index, strategy):
        milestone = self.milestone(index)
        if milestone is not None:
            move_milestone(
                milestone=milestone,
                user=self.admin,
                strategy=self.strategies[strategy],
                expected_version=milestone.version,
            )

    def delete(self, goal, index):
        milestone = self.milestone(index)
        if milestone is not None:
            # A milestone with status updates is kept (PROTECT): refused, nothing written.
            with (
                contextlib.suppress(ProtectedError, RestrictedError),
                transaction.atomic(),
                recorded_change(user=self.admin, reason="Dropped"),
            ):
                milestone.delete()

    def publish(self, goal):
        quarter = reporting_quarter(goal)
        with transaction.atomic():  # a refused publication leaves no draft either
            save_progress_summary(
                goal=goal,
                user=self.admin,
                period=quarter,
                summary="Progress.",
                details={"risk": "low"},
            )
            clear_quarter_for_publishing(goal, quarter)
            summary = publish_quarter(goal=goal, user=self.admin, period=quarter)
        self.published.append(
            (summary, state(asof.plan_as_of(fresh(goal), asof.ReportedFor(quarter))))
        )

    def hold(self, goal, quarter):
        set_reporting_quarter(
            goal=goal,
            user=self.admin,
            quarter=QUARTERS[quarter],
            reason="Held for the property test",
            expected_version=goal.version,
        )
        self.held = True


def latest_rows(goal, quarter):
    """Independently of ``asof``: each milestone's latest row stamped ``quarter`` or
    earlier, in recorded order, from all the goal's rows."""
    latest = {}
    for row in Milestone.history.filter(goal_id=goal.pk).order_by("history_date", "history_id"):
        if row.history_quarter is not None and row.history_quarter <= quarter.key:
            latest[row.id] = row
    return {pk: row for pk, row in latest.items() if row.history_type != "-"}


@FUZZ
@given(history=steps)
def test_as_reported_for_follows_the_quarters_of_the_changes(world, history):
    with rolled_back():
        run = Run(world)
        for step in history:
            run.step(*step)
        goal = fresh(run.goal)

        for summary, at_publication in run.published:
            snapshot = asof.plan_as_of(goal, publishing.PublicationMoment.of(summary))
            # Equal when published, and frozen since.
            assert state(snapshot) == at_publication

        for quarter in QUARTERS:
            records = list(
                asof.latest_versions(Milestone.history, asof.ReportedFor(quarter), goal_id=goal.pk)
            )
            assert all(r.history_quarter <= quarter.key for r in records)
            expected = latest_rows(goal, quarter)
            assert {r.id: r.history_id for r in records} == {
                pk: row.history_id for pk, row in expected.items()
            }
            if run.held:
                continue
            shown = {
                m.pk: (m.status, m.comment)
                for m in asof.milestones_at(goal, asof.ReportedFor(quarter))
            }
            for pk, said in shown.items():
                reported = [(s, c) for m, p, s, c in run.updates if m == pk and p <= quarter]
                assert said == (reported[-1] if reported else (Status.ON_TRACK, "As entered."))
