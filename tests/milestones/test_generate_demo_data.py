"""`manage.py generate_demo_data`: realistic plans whose history is the app's own."""

import io
from itertools import chain

import pytest
from django.core.management import CommandError, call_command

from audit.reasons import describe
from milestones.models import Milestone, StatusUpdate
from strategies.models import Agency, Goal, Strategy

pytestmark = pytest.mark.django_db

HISTORIES = [
    Agency.history,
    Goal.changes,
    Strategy.history,
    Milestone.history,
    StatusUpdate.history,
]


def generate(goals=2, milestones=3, updates=2, seed=7):
    err = io.StringIO()
    call_command(
        "generate_demo_data",
        goals=goals,
        milestones_per_goal=milestones,
        updates_per_milestone=updates,
        seed=seed,
        stdout=io.StringIO(),
        stderr=err,
    )
    return err.getvalue()


def history_rows():
    return list(chain.from_iterable(manager.all() for manager in HISTORIES))


def test_it_makes_exactly_the_rows_asked_for():
    generate(goals=2, milestones=3, updates=2)

    strategies = Strategy.objects.count()
    assert Goal.objects.count() == 2
    assert 2 * 3 <= strategies <= 2 * 5
    assert Milestone.objects.count() == 2 * 3
    assert StatusUpdate.objects.count() == 2 * 3 * 2
    # agency + goals + strategies + milestones created + (milestone save + update) each
    assert len(history_rows()) == 1 + 2 + strategies + 2 * 3 + 2 * (2 * 3 * 2)


def test_every_history_row_has_the_system_user_and_the_command_as_source():
    generate(goals=1, milestones=2, updates=2)

    rows = history_rows()
    assert rows
    assert all(row.history_user_id is not None for row in rows)
    assert {row.history_username for row in rows} == {"system"}
    assert {row.history_source for row in rows} == {"command:generate_demo_data"}


def test_updates_go_through_the_service():
    generate(goals=1, milestones=2, updates=3)

    for milestone in Milestone.objects.all():
        updates = list(milestone.status_updates.order_by("created_at", "id"))
        assert len(updates) == 3
        assert milestone.status == updates[-1].status
        assert milestone.version == 1 + 3
        reasons = [
            describe(row.history_change_reason)
            for row in milestone.history.filter(history_type="~")
        ]
        assert all(reason.startswith("Status update for") for reason in reasons)


def test_milestones_are_spread_over_the_goals_fiscal_years():
    generate(goals=1, milestones=8, updates=1)

    goal = Goal.objects.get()
    years = {m.due.fiscal_year for m in goal.milestones.all()}
    assert years == set(goal.fiscal_years)
    assert all(m.owner and m.comment for m in goal.milestones.all())


def test_the_same_seed_makes_the_same_plans():
    def snapshot():
        return [
            (m.goal.title, m.title, m.strategy_id and m.strategy.number, str(m.due), m.status)
            for m in Milestone.objects.select_related("goal", "strategy").order_by("pk")
        ]

    generate(goals=1, milestones=4, updates=2, seed=3)
    first = snapshot()
    StatusUpdate.objects.all().delete()
    Milestone.objects.all().delete()
    Strategy.objects.all().delete()
    Goal.objects.all().delete()
    generate(goals=1, milestones=4, updates=2, seed=3)

    assert snapshot() == first


def test_it_shows_progress_on_stderr():
    err = generate(goals=1, milestones=4, updates=1)

    assert "100% (4/4 milestones)" in err
    assert "[" in err


@pytest.mark.parametrize("size", ["goals", "milestones_per_goal", "updates_per_milestone"])
def test_it_refuses_sizes_below_one(size):
    sizes = {"goals": 1, "milestones_per_goal": 1, "updates_per_milestone": 1, size: 0}

    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_demo_data", **sizes, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Goal.objects.exists()
