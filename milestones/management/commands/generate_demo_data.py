"""`manage.py generate_demo_data --goals N --milestones-per-goal M --updates-per-milestone K
[--history-rows H] [--seed S]`: realistic plans at scale, for benchmarks and load tests.

Each goal gets a statement and fiscal years, 3 to 5 strategies and M milestones with
dues spread over its fiscal years, owners and comments; each milestone then gets K status
updates through ``record_status_update``, the normal write path, so its history (user,
reason, changed fields, goal) is exactly what the app would have written. Everything is
recorded against the system user with source ``command:generate_demo_data``.

History rows written, for a fresh agency: 1 (agency) + N (goals) + strategies +
N·M (milestones created) + 2·N·M·K (each update saves the milestone and adds a
StatusUpdate). With ``--seed`` the same plans come out every time.

``--history-rows H`` (the bulk path, for a million rows: ``milestones/bulk_history.py``)
then adds exactly H more history rows, H/2 status updates spread round-robin over every
demo milestone (goals of the demo agency with a ``demo-`` slug; never a real plan's):
the same statuses, comments, reporting periods, revised dues and reasons as above, each
update a "~" row of the milestone and a StatusUpdate with its "+" row, every audit
column filled as the service fills it, dated in order between the newest history row and
now. They are inserted a few thousand per query in one transaction, and each live
milestone is then set to its newest history row. ``--history-rows`` alone adds to the
existing demo milestones. About 6,000 rows a second on the benchmark machine, ~300
through the service.
"""

from __future__ import annotations

import random
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.history import get_system_user, recorded_change
from audit.reasons import encode
from milestones import reasons
from milestones.bulk_history import UPDATE_STATUSES, write_status_history
from milestones.models import Milestone, Status
from milestones.quarters import reporting_quarter
from milestones.services import record_status_update
from strategies.models import Agency, Goal, Sensitivity, Strategy
from strategies.periods import FiscalPeriod

SOURCE = "command:generate_demo_data"
AGENCY = "Department of Demonstration"
FIRST_YEARS = range(2018, 2024)
OWNERS = ["OFAC", "FinCEN", "OCC", "IRS-CI", "TFFC", "OIA", "BFS", "Treasury OCIO"]
VERBS = ["Publish", "Deploy", "Complete", "Launch", "Review", "Assess", "Draft", "Pilot"]
OBJECTS = [
    "the sanctions screening rule",
    "a data-sharing agreement with partner agencies",
    "the beneficial ownership registry",
    "the analytics platform upgrade",
    "training for field examiners",
    "the annual risk assessment",
    "guidance on virtual asset providers",
    "the case management system",
]
THEMES = [
    "financial integrity",
    "illicit finance",
    "payment modernization",
    "data-driven supervision",
    "cyber resilience",
    "customer experience",
]


def demo_goals():
    """The goals this command made: a ``demo-`` slug *and* the demo agency, so a real
    plan that happens to have such a slug is never touched."""
    return Goal.objects.filter(slug__startswith="demo-", agency__name=AGENCY)


def demo_milestones():
    """The milestones of the demo goals: the only ones the bulk path adds updates to."""
    return Milestone.objects.filter(goal__in=demo_goals()).order_by("pk")


class Command(BaseCommand):
    help = "Generate realistic demo plans with status updates and their history."

    def add_arguments(self, parser):
        parser.add_argument("--goals", type=int)
        parser.add_argument("--milestones-per-goal", type=int)
        parser.add_argument("--updates-per-milestone", type=int)
        parser.add_argument(
            "--history-rows",
            type=int,
            help="Then add exactly this many history rows (an even number) in bulk.",
        )
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same plans.")

    def handle(
        self,
        *args,
        goals,
        milestones_per_goal,
        updates_per_milestone,
        history_rows,
        seed,
        **options,
    ):
        sizes = {
            "--goals": goals,
            "--milestones-per-goal": milestones_per_goal,
            "--updates-per-milestone": updates_per_milestone,
        }
        given = [value is not None for value in sizes.values()]
        if any(given) and not all(given):
            raise CommandError(f"Give all of {', '.join(sizes)}, or none with --history-rows.")
        if not any(given) and history_rows is None:
            raise CommandError(f"Give {', '.join(sizes)}, or --history-rows, or both.")
        for name, value in sizes.items():
            if value is not None and value < 1:
                raise CommandError(f"{name} must be at least 1 (got {value}).")
        if history_rows is not None and (history_rows < 2 or history_rows % 2):
            raise CommandError(
                f"--history-rows must be an even number, at least 2 (got {history_rows}): "
                "each status update writes two rows, the milestone's and the update's."
            )
        rng = random.Random(seed)  # noqa: S311 - demo data, not security
        if history_rows is not None and not any(given) and not demo_milestones().exists():
            raise CommandError(
                "No demo milestones to add history to: generate some first "
                "(--goals, --milestones-per-goal, --updates-per-milestone)."
            )
        if all(given):
            self.generate(rng, goals, milestones_per_goal, updates_per_milestone)
        if history_rows is not None:
            self.add_history(rng, history_rows)

    def generate(self, rng, goals, milestones_per_goal, updates_per_milestone):
        progress = Progress(goals * milestones_per_goal, self.stderr)
        system = get_system_user()
        with recorded_change(user=system, source=SOURCE, reason=encode(reasons.DEMO_DATA)):
            agency = Agency.objects.filter(name=AGENCY).first()
            if agency is None:
                agency = Agency(name=AGENCY, abbreviation="DEMO")
                agency.full_clean()
                agency.save()
            # After the highest demo number there is, whoever's goal holds it.
            taken = set(
                Goal.objects.filter(slug__startswith="demo-").values_list("slug", flat=True)
            )
            first_number = 1
            while any(f"demo-{first_number + i}" in taken for i in range(goals)):
                first_number += 1
            for index in range(goals):
                with transaction.atomic():
                    self.make_goal(
                        rng,
                        agency=agency,
                        number=first_number + index,
                        milestones=milestones_per_goal,
                        updates=updates_per_milestone,
                        user=system,
                        progress=progress,
                    )
        self.stdout.write(
            f"Generated {goals} goals, {goals * milestones_per_goal} milestones and "
            f"{goals * milestones_per_goal * updates_per_milestone} status updates."
        )

    def add_history(self, rng, rows):
        """The bulk path: ``rows`` history rows of status updates on every demo milestone."""
        milestones = demo_milestones()
        progress = Progress(rows, self.stderr, unit="history rows")
        written = write_status_history(
            milestones=milestones,
            rows=rows,
            user=get_system_user(),
            source=SOURCE,
            rng=rng,
            on_batch=progress.advance,
        )
        self.stdout.write(
            f"Added {written} history rows ({written // 2} status updates) "
            f"to {milestones.count()} demo milestones."
        )

    def make_goal(self, rng, *, agency, number, milestones, updates, user, progress):
        theme = rng.choice(THEMES)
        first_year = rng.choice(FIRST_YEARS)
        years = rng.randint(2, 4)
        goal = Goal(
            agency=agency,
            title=f"Strengthen {theme} (demo goal {number})",
            short_name=f"DEMO{number}",
            slug=f"demo-{number}",
            statement=(
                f"By the end of FY{(first_year + years - 1) % 100:02d}, the Department will "
                f"improve {theme} through coordinated action across its bureaus."
            ),
            first_fiscal_year=first_year,
            last_fiscal_year=first_year + years - 1,
            sensitivity=rng.choice([Sensitivity.PUBLIC, Sensitivity.INTERNAL]),
            leader_name=f"Leader {number}",
            leader_title="Assistant Secretary",
            overview=f"This demo goal exercises the tracker at scale ({theme}).",
        )
        # Held on its last quarter, as an admin may: its updates then spread over its
        # whole period without a publication per quarter.
        goal.reporting_quarter_set = goal.last_quarter
        goal.full_clean()
        goal.save()
        strategies = []
        for strategy_number in range(1, rng.randint(3, 5) + 1):
            strategy = Strategy(
                goal=goal,
                number=strategy_number,
                title=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
                description=f"Strategy {strategy_number} of demo goal {number}.",
            )
            strategy.full_clean()
            strategy.save()
            strategies.append(strategy)
        quarters = [
            FiscalPeriod(year, quarter)
            for year in range(goal.first_fiscal_year, goal.last_fiscal_year + 1)
            for quarter in (1, 2, 3, 4)
        ]
        current = reporting_quarter(goal)
        for position in range(1, milestones + 1):
            due = quarters[(position - 1) * len(quarters) // milestones]
            milestone = Milestone(
                goal=goal,
                strategy=rng.choice([*strategies, None]),
                position=position,
                title=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} ({due})",
                due=due,
                owner=rng.choice(OWNERS),
                comment="Planned.",
            )
            milestone.full_clean()
            milestone.save()
            for update_number in range(updates):
                status = rng.choice(UPDATE_STATUSES)
                # Never after the quarter the goal reports on (capped at today's).
                period = min(quarters[min(update_number, len(quarters) - 1)], current)
                revised_due = (
                    FiscalPeriod(due.fiscal_year + 1, 4)
                    if status == Status.DELAYED and milestone.revised_due is None
                    else None
                )
                update = record_status_update(
                    milestone=milestone,
                    user=user,
                    status=status,
                    comment=f"Update {update_number + 1}: {Status(status).label.lower()}.",
                    period=period,
                    revised_due=revised_due,
                    expected_version=milestone.version,
                )
                milestone = update.milestone
            progress.advance()


class Progress:
    """A one-line progress bar on stderr, redrawn every 5%."""

    WIDTH = 30

    def __init__(self, total: int, stream=None, unit: str = "milestones"):
        self.total = total
        self.done = 0
        self.shown = -1
        self.stream = stream or sys.stderr
        self.unit = unit

    def advance(self, count: int = 1) -> None:
        self.done += count
        percent = self.done * 100 // self.total
        if percent // 5 == self.shown // 5 and self.done != self.total:
            return
        self.shown = percent
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"[{bar}] {percent:3d}% ({self.done}/{self.total} {self.unit})")
