"""The review chain of a quarterly update: draft → submitted → approved by the agency →
cleared by the examiner → published, and back to draft with a comment from any reviewer.

This module holds the one rule every write of a quarter's content obeys (an update in
review locks its quarter) and the chain's transitions.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from milestones.models import ProgressSummary
from strategies.models import Goal
from strategies.periods import FiscalPeriod


class UpdateInReviewError(Exception):
    """A write to a quarter whose update is in review (submitted, approved or cleared):
    refused, nothing written. The update must be returned to draft first."""

    def __init__(self, summary: ProgressSummary):
        self.summary = summary
        super().__init__(
            _(
                "The %(period)s update is %(state)s: its status updates, progress summary "
                "and indicator values are locked while it is in review. A reviewer must "
                "return it to draft before anything for %(period)s changes."
            )
            % {"period": summary.period, "state": summary.get_review_state_display().lower()}
        )


def update_in_review(goal: Goal, period: FiscalPeriod | None) -> ProgressSummary | None:
    """The goal's update for ``period`` if it is in review (its quarter locked), else None.
    A fiscal year's content is locked by none: only quarters are reviewed."""
    if period is None:
        return None
    summary = ProgressSummary.objects.filter(goal=goal, period=period).first()
    return summary if summary is not None and summary.is_in_review else None


def refuse_if_in_review(goal: Goal, period: FiscalPeriod | None) -> None:
    """Raise ``UpdateInReviewError`` if ``period``'s update of ``goal`` is in review. Every
    service writing a quarter's content calls it inside its transaction."""
    summary = update_in_review(goal, period)
    if summary is not None:
        raise UpdateInReviewError(summary)
