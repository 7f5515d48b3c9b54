"""A milestone's page: its latest versions with their field changes, and its latest
status updates, each with the count of all; a fixed number of queries however long."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Count,
    Window,
)

from audit.diffs import describe_versions
from milestones.models import (
    Milestone,
)

# The milestone page shows the latest of each; the timeline page has every version.
MILESTONE_PAGE_VERSIONS = 10
MILESTONE_PAGE_UPDATES = 12  # three years of quarterly updates


@dataclass
class Latest:
    """The latest ``items`` of something a milestone accumulates, and how many there are."""

    items: list
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)


def milestone_history(milestone: Milestone, limit: int = MILESTONE_PAGE_VERSIONS) -> Latest:
    """The milestone's latest ``limit`` versions, newest first, each with its field
    changes (old → new), and the number of versions in all: two queries (plus one per
    kind of related object named), however long the history."""
    # One version more than shown: the oldest shown is diffed against it. Each row also
    # carries the count of all versions (a window over the whole history).
    records = list(
        milestone.history.annotate(total=Window(Count("history_id"))).order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    entries = describe_versions(records, Milestone)[:limit]
    return Latest(entries, records[0].total if records else 0)


def milestone_status_updates(milestone: Milestone, limit: int = MILESTONE_PAGE_UPDATES) -> Latest:
    """The milestone's latest ``limit`` status updates, newest first (like its history),
    with their authors, and the number of updates in all: one query."""
    latest = list(
        milestone.status_updates.select_related("author")
        .annotate(total=Window(Count("id")))
        .order_by("-created_at", "-id")[:limit]
    )
    return Latest(latest, latest[0].total if latest else 0)
