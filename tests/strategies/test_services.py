import pytest
from django.core.exceptions import ValidationError

from audit.reasons import describe
from strategies.models import Strategy
from strategies.services import add_strategy, delete_strategy, update_strategy
from tests.factories import GoalFactory, MilestoneFactory, StrategyFactory, UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", is_staff=True)


@pytest.mark.django_db
class TestStrategyServices:
    def test_adding_a_strategy_records_who_and_why(self, admin):
        goal = GoalFactory()

        strategy = add_strategy(goal=goal, user=admin, number=5, title="  Share data  ")

        record = strategy.history.get()
        assert strategy.title == "Share data"
        assert (record.history_username, describe(record.history_change_reason)) == (
            "boss",
            "Added strategy 5",
        )

    def test_a_taken_number_is_refused(self, admin):
        goal = GoalFactory()
        StrategyFactory(goal=goal, number=1)

        with pytest.raises(ValidationError) as caught:
            add_strategy(goal=goal, user=admin, number=1, title="Again")

        assert "exists already" in caught.value.message_dict["number"][0]
        assert goal.strategies.count() == 1

    def test_renumbering_and_retitling_is_one_recorded_change(self, admin):
        strategy = StrategyFactory(number=2, title="Old")

        update_strategy(strategy=strategy, user=admin, number=3, title="New")

        latest = strategy.history.latest()
        assert (latest.number, latest.title) == (3, "New")
        assert describe(latest.history_change_reason) == "Strategy 3 renumbered 2 → 3 and retitled"

    def test_renumbering_onto_another_strategy_is_refused(self, admin):
        goal = GoalFactory()
        StrategyFactory(goal=goal, number=1)
        second = StrategyFactory(goal=goal, number=2)

        with pytest.raises(ValidationError):
            update_strategy(strategy=second, user=admin, number=1, title=second.title)

        second.refresh_from_db()
        assert second.number == 2

    def test_saving_unchanged_values_records_nothing(self, admin):
        strategy = StrategyFactory(number=2, title="Same")

        update_strategy(strategy=strategy, user=admin, number=2, title="Same")

        assert strategy.history.count() == 1

    def test_a_strategy_with_milestones_cannot_be_deleted(self, admin):
        milestone = MilestoneFactory()

        with pytest.raises(ValidationError) as caught:
            delete_strategy(strategy=milestone.strategy, user=admin)

        assert "move it to another strategy first" in caught.value.messages[0]
        assert Strategy.objects.filter(pk=milestone.strategy_id).exists()

    def test_an_unused_strategy_is_deleted_with_a_recorded_reason(self, admin):
        strategy = StrategyFactory(number=4)

        delete_strategy(strategy=strategy, user=admin)

        deleted = Strategy.history.filter(id=strategy.pk, history_type="-").get()
        assert (deleted.history_username, describe(deleted.history_change_reason)) == (
            "boss",
            "Deleted strategy 4",
        )
