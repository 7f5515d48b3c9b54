"""Where a quarterly update stands in its review chain (milestones.review) and whose move
it is, in the words of the pages that show it (the dashboard's work line, My goals, the
Clearance page). The chain itself is ``milestones.review``'s (``next_step``); this only
names its steps for a reader. Pure functions over rows already fetched: no query.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from milestones import review
from milestones.models import ProgressSummary, ReviewState
from strategies.models import Agency
from strategies.periods import FiscalPeriod


class Step(enum.Enum):
    """The next move on an update, named for what is done; ``permission`` names the
    ``access.GoalPermissions`` flag of whoever takes it."""

    WRITE = "write"  # no update for the quarter yet: the team writes it
    SUBMIT = "submit"  # a draft: its leader or deputy submits it
    RESUBMIT = "resubmit"  # returned to draft with a comment: fixed, then submitted again
    APPROVE = "approve"  # the agency's performance office approves or returns it
    CLEAR = "clear"  # an examiner assigned to the agency clears or returns it
    PUBLISH = "publish"  # every review step the agency uses is done: its leader publishes
    DONE = "done"  # published

    @property
    def permission(self) -> str | None:
        return {
            Step.WRITE: "write_summary",
            Step.SUBMIT: "submit_update",
            Step.RESUBMIT: "submit_update",
            Step.APPROVE: "approve_update",
            Step.CLEAR: "clear_update",
            Step.PUBLISH: "submit_update",
        }.get(self)

    @property
    def waiting_for(self):
        """Who the update waits for, in words ("waiting for the examiner")."""
        return {
            Step.WRITE: _("waiting for the goal team to write it"),
            Step.SUBMIT: _("waiting for the goal leader or deputy to submit it"),
            Step.RESUBMIT: _("waiting for the goal team to fix it and submit it again"),
            Step.APPROVE: _("waiting for the agency performance office"),
            Step.CLEAR: _("waiting for the examiner"),
            Step.PUBLISH: _("ready to publish"),
            Step.DONE: _("published"),
        }[self]

    @property
    def action(self):
        """What the one whose move it is does, as a button or a to-do says it."""
        return {
            Step.WRITE: _("Write the update"),
            Step.SUBMIT: _("Submit"),
            Step.RESUBMIT: _("Returned: fix and resubmit"),
            Step.APPROVE: _("Approve or return"),
            Step.CLEAR: _("Clear or return"),
            Step.PUBLISH: _("Publish"),
            Step.DONE: "",
        }[self]


def next_step(summary: ProgressSummary | None, agency: Agency) -> Step:
    """The next move on ``summary`` (None: no update written) of a goal of ``agency``, as
    the pages word it: ``milestones.review.next_step`` decides whose move it is (the
    steps the agency switched off skipped); a returned draft is told from a fresh one."""
    if summary is None:
        return Step.WRITE
    coming = review.next_step(summary, agency)
    if coming is None:
        return Step.DONE
    if coming.action == review.Action.SUBMIT:
        return Step.RESUBMIT if summary.returned_comment else Step.SUBMIT
    return {
        review.Action.APPROVE: Step.APPROVE,
        review.Action.CLEAR: Step.CLEAR,
        review.Action.PUBLISH: Step.PUBLISH,
    }[coming.action]


def may_take(step: Step, perms) -> bool:
    """Whether a user with ``perms`` (``access.GoalPermissions``) takes ``step``."""
    return step.permission is not None and bool(getattr(perms, step.permission, False))


@dataclass(frozen=True)
class Standing:
    """A goal's update for one quarter: where it stands and whose move it is."""

    quarter: FiscalPeriod
    summary: ProgressSummary | None
    step: Step
    url: str = ""  # the update's review page

    @property
    def since(self) -> datetime | None:
        """When the update entered its state (None: no update, or never moved)."""
        return self.summary.review_state_at if self.summary is not None else None

    @property
    def is_waiting(self) -> bool:
        """Written and not yet published: someone's move in the chain."""
        return self.step not in (Step.WRITE, Step.DONE)

    @property
    def returned_comment(self) -> str:
        """The reviewer's comment on an update returned to draft, until resubmitted."""
        if self.summary is None or self.summary.review_state != ReviewState.DRAFT:
            return ""
        return self.summary.returned_comment


def standing(
    summary: ProgressSummary | None, agency: Agency, quarter: FiscalPeriod, *, url: str = ""
) -> Standing:
    """Where ``summary`` (the goal's update for ``quarter``, or None) stands."""
    return Standing(quarter=quarter, summary=summary, step=next_step(summary, agency), url=url)
