"""The parsed plan: plain data checked against the format, and its errors."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from audit.reasons import encode
from milestones import reasons
from strategies.periods import FiscalPeriod

# What an export writes; an import also reads the first version (no history in it).
FORMAT = "apg-action-plan/2"
FORMAT_1 = "apg-action-plan/1"
FORMATS = {FORMAT_1: 1, FORMAT: 2}
# The change reason of an import (stored as a code, shown translated: audit.reasons).
IMPORT_REASON = encode(reasons.PLAN_IMPORTED)


def import_reason(filename: str) -> str:
    """The change reason of an import of the file ``filename``."""
    return encode(reasons.PLAN_IMPORTED_FROM, file=filename)


# Aliases can expand a small file into a huge tree ("billion laughs"); a plan is small.
MAX_NODES = 100_000
# A plan nests six levels deep (indicators[0].values[0].target); PyYAML composes nested
# lists by recursion, so a file of a thousand "[" would exhaust Python's stack.
MAX_DEPTH = 20
DOCUMENT = "(document)"


class PlanError(Exception):
    """A plan that cannot be imported; ``errors`` lists every problem, one per entry."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# -- the parsed plan -------------------------------------------------------------------


@dataclass
class StrategyData:
    line: int
    number: int
    title: str
    description: str


@dataclass
class UpdateData:
    """One status update a milestone reported for a quarter (format 2)."""

    line: int
    quarter: FiscalPeriod
    status: str
    comment: str
    revised_due: FiscalPeriod | None
    reported_by: str
    reported_on: datetime.date | None

    @property
    def key(self) -> tuple:
        """What makes two updates the same one: recorded again, it is not added twice."""
        return (self.quarter, self.status, self.comment, self.revised_due)


@dataclass
class MilestoneData:
    line: int
    position: int  # 1-based order in the file
    title: str
    due: FiscalPeriod | None
    revised_due: FiscalPeriod | None
    strategy: int | None  # strategy number
    status: str
    owner: str
    comment: str
    depends_on: int | None  # 1-based position
    id: int | None = None  # the milestone's id in the database it was exported from
    # Its status updates in the file's order (format 2); None: a format 1 file, which
    # says nothing about history (what is recorded stays as it is).
    updates: list[UpdateData] | None = None


@dataclass
class ProgressData:
    """A quarterly update: format 1 gives only its summary (``details`` None), format 2
    every field of it, and whether (and when) it was published."""

    line: int
    period: FiscalPeriod
    summary: str
    details: dict[str, str] | None = None
    published: bool = False
    published_on: datetime.date | None = None


@dataclass
class IndicatorValueData:
    line: int
    period: FiscalPeriod
    target: Decimal | None
    actual: Decimal | None
    note: str = ""


@dataclass
class IndicatorData:
    """An indicator and its values; the keys a file leaves out take the model's
    defaults (quarterly, higher is better, no baseline, not published)."""

    line: int
    position: int
    name: str
    unit: str
    direction: str
    values: list[IndicatorValueData]
    definition: str = ""
    data_source: str = ""
    frequency: str = "quarterly"
    baseline_value: Decimal | None = None
    baseline_period: FiscalPeriod | None = None
    is_published: bool = False


@dataclass
class PlanData:
    """A checked plan, ready to write: model field values plus the line they came from."""

    version: int  # of the format: 1 or 2
    agency_name: str
    agency_abbreviation: str | None  # None: not in the file, leave the agency's as is
    goal: dict[str, object]
    agency_line: int
    goal_line: int
    slug_line: int
    strategies_line: int
    milestones_line: int
    strategies: list[StrategyData] = field(default_factory=list)
    milestones: list[MilestoneData] = field(default_factory=list)
    progress: list[ProgressData] = field(default_factory=list)
    indicators: list[IndicatorData] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.goal["slug"]
