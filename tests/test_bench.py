"""bench/run.py's measurement at a tiny size: every row of the table is there.

Timing is the script's business (``make bench``); nothing here asserts a duration.
"""

import pytest

from bench.run import Sizes, measure

pytestmark = pytest.mark.django_db


def test_the_benchmark_prints_every_row():
    sizes = Sizes(
        rounds=1,
        dashboard_milestones=4,
        small_milestones=2,
        updates_per_milestone=1,
        portfolio_goals=3,
        portfolio_milestones=1,
    )

    table = "\n".join(measure(sizes))

    for row in (
        "R1 dashboard ÷ trivial view",
        "R2 dashboard ÷ admin changelist",
        "R3: not measured in this run",
        "R4 status update ÷ plain save()",
        "portfolio (3 goals): median",
        "dashboard (by strategy)",
        "dashboard (by quarter)",
        "milestone ",
        "plan ",
        "my goals",
        "audit log",
        "timeline (milestone)",
    ):
        assert row in table
    assert "✗" not in table, table  # the same queries at both sizes
