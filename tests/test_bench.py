"""bench/run.py's measurement at a tiny size: every row of the table is there.

Timing is the script's business (``make bench``); nothing here asserts a duration.
"""

import pytest

from bench.r3 import Database, R3Sizes, fill, measure_r3
from bench.run import Sizes, measure

pytestmark = pytest.mark.django_db


def r3_on_the_test_database():
    """R3 with both "sizes" on the test database: 60 history rows, then topped up to 120
    through the bulk path, and both measured (the same data, so the same queries)."""
    sizes = R3Sizes(
        small_rows=60,
        large_rows=120,
        goals=1,
        rows_per_milestone=20,
        rounds=1,
        quarters_goal_milestones=1,
    )
    small, large = Database("small", "default"), Database("large", "default")
    fill(small, sizes.small_rows, sizes, migrate=False)
    fill(large, sizes.large_rows, sizes, migrate=False)
    return small, large, measure_r3(sizes, small, large, explain_audit=False)


def test_r3_fills_each_size_to_its_row_count_through_the_two_paths():
    small, large, _result = r3_on_the_test_database()

    # The demo plan, then the bulk rows, then (for the second) only what was missing.
    assert small.rows in (60, 61) and small.generated_rows == small.rows
    assert large.rows in (120, 121) and large.generated_rows == large.rows - small.rows
    # The demo goal's three, and the one of the goal "as reported for" is measured on.
    assert small.milestones == large.milestones == 4


def test_the_benchmark_prints_every_row():
    *_sizes, r3 = r3_on_the_test_database()
    sizes = Sizes(
        rounds=1,
        dashboard_milestones=4,
        small_milestones=2,
        updates_per_milestone=1,
        portfolio_goals=3,
        portfolio_milestones=1,
    )

    table = "\n".join(measure(sizes, r3))

    for row in (
        "R1 dashboard ÷ trivial view",
        "R2 dashboard ÷ admin changelist",
        "R3 timeline (milestone) large ÷ small",
        "R3 audit log (admin) large ÷ small",
        "R3 audit log (goal filter) large ÷ small",
        "R3 audit log (reviewer) large ÷ small",
        "R3 dashboard (as reported for) large ÷ small",
        "R3 plan (as reported for) large ÷ small",
        "R3 data (sdif_bench_r3_*): small: ",
        "R3 SQL queries per page",
        "audit log (reviewer) @large",
        "R4 status update ÷ plain save()",
        "goals, 50 a page): median",  # the portfolio rows (R3 made a goal too)
        "portfolio, last page (",
        "dashboard (by strategy)",
        "dashboard (by quarter)",
        "milestone ",
        "plan ",
        "my goals",
        "audit log",
        "timeline (milestone)",
        "quality report ",
        "quality report CSV",
        "(quality report: ",
        "clearance (reviewer)",
        "clearance (admin)",
        "(clearance: ",
    ):
        assert row in table
    assert "✗" not in table, table  # the same queries at both sizes


def test_without_r3_the_table_says_so():
    sizes = Sizes(
        rounds=1,
        dashboard_milestones=2,
        small_milestones=1,
        updates_per_milestone=1,
        portfolio_goals=3,
        portfolio_milestones=1,
    )

    assert "R3: not measured in this run (--skip-r3)" in measure(sizes)


def test_the_scale_script_prints_every_page_with_its_query_count():
    import io

    from django.core.management import call_command

    from bench.scale import measure as measure_at_scale

    call_command(
        "generate_demo_data",
        goals=2,
        milestones_per_goal=3,
        updates_per_milestone=1,
        seed=1,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    table = "\n".join(measure_at_scale(rounds=1))

    assert "data: 2 goals, 6 milestones, " in table
    for page in (
        "portfolio ",
        "portfolio, last page",
        "dashboard",
        "plan",
        "milestone ",
        "timeline (milestone)",
        "audit log ",
        "audit log (goal filter)",
    ):
        line = next(line for line in table.splitlines() if line.startswith(page))
        assert int(line.split()[-1]) > 0, line
