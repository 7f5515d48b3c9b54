import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from audit.reasons import describe
from milestones.models import Milestone, Status, StatusUpdate
from milestones.services import StaleMilestoneError, record_status_update, save_progress_summary
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MilestoneFactory, UserFactory

Q3_FY19 = FiscalPeriod(2019, 3)


def update(milestone, user, **overrides):
    values = {
        "milestone": milestone,
        "user": user,
        "status": Status.AT_RISK,
        "comment": "Counterparts replaced; meeting moved.",
        "period": Q3_FY19,
        "expected_version": milestone.version,
    }
    values.update(overrides)
    return record_status_update(**values)


@pytest.mark.django_db
class TestRecordStatusUpdate:
    def test_it_updates_the_milestone_and_adds_the_update(self):
        milestone = MilestoneFactory(status=Status.ON_TRACK, comment="Old comment")
        user = UserFactory(username="leader")

        result = update(milestone, user)

        milestone.refresh_from_db()
        assert milestone.status == Status.AT_RISK
        assert milestone.comment == "Counterparts replaced; meeting moved."
        assert milestone.version == 2
        assert result.previous_status == Status.ON_TRACK
        assert result.author == user and result.author_name == "leader"
        assert result.period == Q3_FY19

    def test_it_writes_one_history_row_with_user_and_reason(self):
        milestone = MilestoneFactory(status=Status.ON_TRACK)
        user = UserFactory(username="leader")

        update(milestone, user)

        latest = milestone.history.latest()
        assert milestone.history.count() == 2
        assert latest.history_user == user
        assert latest.history_username == "leader"
        assert (
            describe(latest.history_change_reason)
            == "Status update for Q3 FY19: On track → At risk"
        )

    def test_it_refuses_a_stale_version_and_writes_nothing(self):
        milestone = MilestoneFactory(status=Status.ON_TRACK)
        first, second = UserFactory(username="first"), UserFactory(username="second")
        opened_at = milestone.version
        update(milestone, first, expected_version=opened_at)

        with pytest.raises(StaleMilestoneError) as caught:
            update(
                milestone,
                second,
                status=Status.COMPLETED,
                comment="Done",
                expected_version=opened_at,
            )

        assert [v.history_username for v in caught.value.versions] == ["first"]
        assert caught.value.milestone.status == Status.AT_RISK
        assert StatusUpdate.objects.filter(milestone=milestone).count() == 1
        assert milestone.history.count() == 2

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"comment": "  "}, "comment"),
            ({"status": Status.DELAYED, "comment": "Slipped"}, "revised_due"),
            ({"period": FiscalPeriod(2019, None)}, "period"),
            ({"period": FiscalPeriod.ongoing()}, "period"),
            ({"period": None}, "period"),
            ({"status": "sideways"}, "status"),
            ({"revised_due": FiscalPeriod(2018, 1)}, "revised_due"),
        ],
    )
    def test_it_rejects_bad_input_without_changing_anything(self, overrides, field):
        milestone = MilestoneFactory(status=Status.ON_TRACK, due=FiscalPeriod(2019, 2))
        before = (milestone.history.count(), StatusUpdate.objects.count())

        with pytest.raises(ValidationError) as caught:
            update(milestone, UserFactory(), **overrides)

        assert field in caught.value.message_dict
        milestone.refresh_from_db()
        assert milestone.status == Status.ON_TRACK and milestone.version == 1
        assert (milestone.history.count(), StatusUpdate.objects.count()) == before

    def test_confirming_the_same_status_needs_no_comment(self):
        milestone = MilestoneFactory(status=Status.ON_TRACK, comment="Keep")

        update(milestone, UserFactory(), status=Status.ON_TRACK, comment="")

        milestone.refresh_from_db()
        assert milestone.comment == "Keep"
        assert describe(milestone.history.latest().history_change_reason) == (
            "Status update for Q3 FY19: On track confirmed"
        )

    def test_delayed_with_a_revised_due_keeps_the_original_due(self):
        milestone = MilestoneFactory(due=FiscalPeriod(2018, 3))

        update(
            milestone, UserFactory(), status=Status.DELAYED, revised_due=FiscalPeriod(2019, None)
        )

        milestone.refresh_from_db()
        assert milestone.due == FiscalPeriod(2018, 3)
        assert milestone.effective_due == FiscalPeriod(2019, None)


@pytest.mark.django_db
def test_progress_summary_is_written_then_edited_with_history():
    goal = GoalFactory()
    user = UserFactory(username="leader")

    first = save_progress_summary(goal=goal, user=user, period=Q3_FY19, summary="- One")
    second = save_progress_summary(goal=goal, user=user, period=Q3_FY19, summary="- Two")
    unchanged = save_progress_summary(goal=goal, user=user, period=Q3_FY19, summary="- Two")

    assert first.pk == second.pk == unchanged.pk
    reasons = second.history.order_by("history_date").values_list("history_change_reason")
    assert [describe(reason) for (reason,) in reasons] == [
        "Wrote the progress summary for Q3 FY19",
        "Edited the progress summary for Q3 FY19",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_updates_exactly_one_wins():
    milestone = MilestoneFactory(status=Status.ON_TRACK)
    users = [UserFactory(username="alpha"), UserFactory(username="beta")]
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(user, status):
        try:
            barrier.wait()
            update(milestone, user, status=status, comment=f"{user.username} says so")
            outcomes[user.username] = "saved"
        except StaleMilestoneError:
            outcomes[user.username] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(users[0], Status.AT_RISK)),
        threading.Thread(target=attempt, args=(users[1], Status.COMPLETED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    milestone = Milestone.objects.get(pk=milestone.pk)
    assert milestone.version == 2
    assert milestone.comment == f"{winner} says so"
    assert list(StatusUpdate.objects.values_list("author_name", flat=True)) == [winner]
    changes = milestone.history.filter(history_type="~")
    assert [h.history_username for h in changes] == [winner]
