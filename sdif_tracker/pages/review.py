"""The review panel of a quarterly update: where it stands in its chain (milestones.review),
who put it there and when, the comment of a return while it is a draft, the trail of its
transitions (read from the update's history rows: one query) and the actions the reader
may take. The update page and the review page show it; the quality check's findings are
listed beside the Submit button (they warn, they do not block).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from audit.reasons import PREFIX, decode, describe
from milestones import reasons, review
from milestones.models import ProgressSummary, ReviewState
from milestones.quality import goal_findings
from strategies.models import Goal


@dataclass(frozen=True)
class TrailEntry:
    """One transition of the update: what was done, by whom, when, with what comment."""

    action: str  # a review.Action, or "publish"
    state: str  # the state it left the update in
    text: str  # the recorded reason, in the reader's language
    by: str
    at: datetime.datetime
    comment: str = ""


@dataclass
class ReviewPanel:
    summary: ProgressSummary
    state: str
    state_label: str
    waiting: review.Step | None
    trail: list[TrailEntry]
    actions: list[str]
    findings: list = field(default_factory=list)

    @property
    def entered(self) -> TrailEntry | None:
        """The transition that put the update in its state (None: never moved)."""
        return self.trail[-1] if self.trail else None

    @property
    def returned(self) -> TrailEntry | None:
        """The return the team must answer: shown on a draft until it is resubmitted."""
        entered = self.entered
        if (
            self.state == ReviewState.DRAFT
            and self.summary.returned_comment
            and entered is not None
            and entered.action == review.Action.RETURN
        ):
            return entered
        return None

    @property
    def locked(self) -> bool:
        return self.summary.is_in_review

    def may(self, action: str) -> bool:
        return action in self.actions


_PUBLISHED_PREFIX = f"{PREFIX}{reasons.PUBLISHED}:"


def review_trail(summary: ProgressSummary) -> list[TrailEntry]:
    """The update's transitions, oldest first, from its history rows (one query)."""
    entries = []
    for record in summary.history.select_related("history_user").order_by(
        "history_date", "history_id"
    ):
        reason = record.history_change_reason or ""
        action = review.review_action_of(reason)
        if action is None and reason.startswith(_PUBLISHED_PREFIX):
            action = review.Action.PUBLISH
        if action is None:
            continue
        decoded = decode(reason)
        user = record.history_user
        entries.append(
            TrailEntry(
                action=action,
                state=record.review_state,
                text=describe(reason),
                by=(user.get_full_name() or user.get_username()) if user else "",
                at=record.history_date,
                comment=(decoded[1].get("comment", "") if decoded else "") or "",
            )
        )
    return entries


def review_panel(goal: Goal, summary: ProgressSummary | None, permissions) -> ReviewPanel | None:
    """The panel of ``goal``'s update ``summary`` (None: none written, no panel) for a
    reader with ``permissions`` (``access.permissions_for``)."""
    if summary is None:
        return None
    summary.goal = goal
    actions = review.actions_for(summary, permissions, goal.agency)
    findings = []
    if review.Action.SUBMIT in actions:
        findings = goal_findings(goal)
    return ReviewPanel(
        summary=summary,
        state=summary.review_state,
        state_label=summary.get_review_state_display(),
        waiting=review.next_step(summary, goal.agency),
        trail=review_trail(summary),
        actions=[str(action) for action in actions],
        findings=findings,
    )
