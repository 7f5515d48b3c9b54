"""`manage.py generate_demo_data --goals N --milestones-per-goal M --updates-per-milestone K
[--seed S]`: realistic plans at scale, for benchmarks and load tests.

Each goal gets a statement and fiscal years, 3 to 5 strategies and M milestones with
dues spread over its fiscal years, owners and comments; each milestone then gets K status
updates through ``record_status_update``, the normal write path, so its history (user,
reason, changed fields, goal) is exactly what the app would have written. Everything is
recorded against the system user with source ``command:generate_demo_data``.

History rows written, for a fresh agency: 1 (agency) + N (goals) + strategies +
N·M (milestones created) + 2·N·M·K (each update saves the milestone and adds a
StatusUpdate). With ``--seed`` the same plans come out every time.
"""

from __future__ import annotations

import random
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from milestones.models import Milestone, Status
from milestones.services import record_status_update
from strategies.history import get_system_user, recorded_change
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
# Statuses a status update moves a milestone to (TBD is only where a milestone starts).
UPDATE_STATUSES = [s for s in Status if s != Status.TBD]


class Command(BaseCommand):
    help = "Generate realistic demo plans with status updates and their history."

    def add_arguments(self, parser):
        parser.add_argument("--goals", type=int, required=True)
        parser.add_argument("--milestones-per-goal", type=int, required=True)
        parser.add_argument("--updates-per-milestone", type=int, required=True)
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same plans.")

    def handle(self, *args, goals, milestones_per_goal, updates_per_milestone, seed, **options):
        for name, value in (
            ("--goals", goals),
            ("--milestones-per-goal", milestones_per_goal),
            ("--updates-per-milestone", updates_per_milestone),
        ):
            if value < 1:
                raise CommandError(f"{name} must be at least 1 (got {value}).")
        rng = random.Random(seed)  # noqa: S311 - demo data, not security
        progress = Progress(goals * milestones_per_goal, self.stderr)
        system = get_system_user()
        with recorded_change(user=system, source=SOURCE, reason="Generated demo data"):
            agency = Agency.objects.filter(name=AGENCY).first()
            if agency is None:
                agency = Agency(name=AGENCY, abbreviation="DEMO")
                agency.full_clean()
                agency.save()
            first_number = Goal.objects.filter(slug__startswith="demo-").count() + 1
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
                period = quarters[min(update_number, len(quarters) - 1)]
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

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.shown = -1
        self.stream = stream or sys.stderr

    def advance(self) -> None:
        self.done += 1
        percent = self.done * 100 // self.total
        if percent // 5 == self.shown // 5 and self.done != self.total:
            return
        self.shown = percent
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"[{bar}] {percent:3d}% ({self.done}/{self.total} milestones)")
