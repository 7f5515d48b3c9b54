"""Two quarters of a plan compared, side by side: which strategies and milestones were
added, removed or changed between two plans rebuilt from history (``asof.plan_as_of``),
using the one milestone diff (``asof.milestone_diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from milestones.models import Milestone
from sdif_tracker.pages.asof import PlanAsOf, milestone_diff
from strategies.models import Strategy


@dataclass
class MilestoneDiff:
    before: Milestone | None
    after: Milestone | None
    changed: frozenset[str]  # names in MILESTONE_FIELDS; templates ask `"due" in diff.changed`

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed" if self.changed else "unchanged"

    @property
    def pk(self) -> int:
        return (self.after or self.before).pk

    @property
    def title(self) -> str:
        return (self.after or self.before).title


@dataclass
class StrategyDiff:
    before: Strategy | None
    after: Strategy | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if (self.before.number, self.before.title) != (self.after.number, self.after.title):
            return "retitled" if self.before.title != self.after.title else "renumbered"
        return "unchanged"


@dataclass
class Comparison:
    before: PlanAsOf
    after: PlanAsOf
    milestones: list[MilestoneDiff]
    strategies: list[StrategyDiff]

    def count(self, kind: str) -> int:
        return sum(d.kind == kind for d in self.milestones)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in ("added", "removed", "changed", "unchanged")}

    @property
    def strategy_changes(self) -> int:
        return sum(d.kind != "unchanged" for d in self.strategies)


def compare_plans(before: PlanAsOf, after: PlanAsOf) -> Comparison:
    """Every difference between two reconstructions of one goal, in plan order (the later
    plan's order, removed milestones where they used to be)."""
    old = {m.pk: m for m in before.milestones}
    new = {m.pk: m for m in after.milestones}
    diffs = [
        MilestoneDiff(old[m.pk], m, milestone_diff(old[m.pk], m))
        if m.pk in old
        else MilestoneDiff(None, m, frozenset())
        for m in after.milestones
    ]
    for m in before.milestones:
        if m.pk not in new:
            diffs.append(MilestoneDiff(m, None, frozenset()))
    diffs.sort(key=lambda d: ((d.after or d.before).position, (d.after or d.before).pk))

    old_s = {s.pk: s for s in before.strategies}
    new_s = {s.pk: s for s in after.strategies}
    strategies = [StrategyDiff(old_s.get(s.pk), s) for s in after.strategies]
    strategies += [StrategyDiff(s, None) for s in before.strategies if s.pk not in new_s]
    strategies.sort(key=lambda d: (d.after or d.before).number)
    return Comparison(before, after, diffs, strategies)
