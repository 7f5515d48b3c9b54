"""The Clearance page: for the signed-in user, the quarterly updates that wait for them,
grouped by the role they act in: as an agency performance office (submitted updates to
approve or return), as an examiner (updates to clear or return) and as a goal's leader
or deputy (cleared updates to publish, returned ones to fix and resubmit).

Which update waits for whom is ``milestones.review.next_step`` (named by
``review_status``) matched to ``access.permissions_for``'s flags, so this page, the
dashboard and My goals read the chain the same way. One query for the updates, whatever
the number of goals, and the user's roles (cached by ``access`` for the request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from milestones import review
from milestones.models import REVIEW_LOCKED_STATES, ProgressSummary, ReviewState
from milestones.templatetags.milestone_marks import REVIEW_RETURNED
from sdif_tracker import access
from sdif_tracker.pages.filters import ListFilterForm
from sdif_tracker.pages.review_status import Step, may_take, next_step
from strategies.models import Agency, Goal

# The groups, in the chain's order: key, the steps they take, heading.
AS_PERFORMANCE_OFFICE = "performance_office"
AS_EXAMINER = "examiner"
AS_GOAL_TEAM = "goal_team"
GROUPS = (
    (AS_PERFORMANCE_OFFICE, (Step.APPROVE,), _("As the agency performance office")),
    (AS_EXAMINER, (Step.CLEAR,), _("As examiner")),
    (AS_GOAL_TEAM, (Step.PUBLISH, Step.RESUBMIT), _("As goal leader or deputy")),
)
# ?state= values: the review states an update waits in, and a returned draft.
STATE_CHOICES = [
    ("", _("Any state")),
    (ReviewState.SUBMITTED.value, ReviewState.SUBMITTED.label),
    (ReviewState.APPROVED.value, ReviewState.APPROVED.label),
    (ReviewState.CLEARED.value, ReviewState.CLEARED.label),
    (REVIEW_RETURNED, _("Returned to draft")),
]


@dataclass(frozen=True)
class ClearanceRow:
    summary: ProgressSummary
    goal: Goal
    agency: Agency
    step: Step
    url: str

    @property
    def since(self) -> datetime | None:
        return self.summary.review_state_at

    @property
    def state_key(self) -> str:
        """The ``?state=`` value the row matches."""
        if self.summary.review_state == ReviewState.DRAFT:
            return REVIEW_RETURNED
        return str(self.summary.review_state)


@dataclass
class ClearanceGroup:
    key: str
    heading: str
    rows: list[ClearanceRow]

    @property
    def heading_id(self) -> str:
        return f"clearance-{self.key}-heading"


class ClearanceFilterForm(ListFilterForm):
    agency = forms.TypedChoiceField(
        label=_("Agency"), coerce=int, empty_value=None, required=False
    )
    state = forms.ChoiceField(label=_("State"), choices=STATE_CHOICES, required=False)

    def __init__(self, data, *, agencies: list[Agency]):
        super().__init__(data)
        self.fields["agency"].choices = [("", _("All agencies"))] + [
            (str(agency.pk), agency.name) for agency in agencies
        ]

    @property
    def is_filtered(self) -> bool:
        return bool(self.value("agency") or self.value("state"))

    @property
    def selected(self) -> dict[str, str]:
        """The filters that validated, as their ``<option>`` values ("" for none)."""
        return {name: str(self.value(name) or "") for name in ("agency", "state")}

    def matches(self, row: ClearanceRow) -> bool:
        if (agency := self.value("agency")) and row.agency.pk != agency:
            return False
        return not ((state := self.value("state")) and row.state_key != state)


@dataclass
class Clearance:
    form: ClearanceFilterForm
    # The groups with something waiting, their rows filtered (maybe to none).
    groups: list[ClearanceGroup]
    waiting: int  # updates waiting for the user, before the filters

    @property
    def shown(self) -> int:
        return sum(len(group.rows) for group in self.groups)


def _waiting_rows(user) -> list[tuple[str, ClearanceRow]]:
    """(group key, row) of every update waiting for ``user``, oldest wait first: one
    query (the updates in review or returned, of the goals the user acts on)."""
    summaries = (
        ProgressSummary.objects.filter(goal__in=access.review_chain_goals(user))
        .filter(
            Q(review_state__in=REVIEW_LOCKED_STATES)
            | (Q(review_state=ReviewState.DRAFT) & ~Q(returned_comment=""))
        )
        .select_related("goal", "goal__agency")
    )
    found = []
    for summary in summaries:
        goal = summary.goal
        step = next_step(summary, goal.agency)
        perms = access.permissions_for(user, goal)
        for key, steps, _heading in GROUPS:
            if step in steps and may_take(step, perms):
                url = review.review_url(goal, summary.period)
                found.append((key, ClearanceRow(summary, goal, goal.agency, step, url)))
    # The longest wait first (an update never moved along the chain last).
    found.sort(
        key=lambda item: (
            item[1].since.timestamp() if item[1].since else float("inf"),
            item[1].goal.title,
            item[1].summary.period.key,
        )
    )
    return found


def clearance_page(user, params) -> Clearance:
    """What waits for ``user``, by the role they act in, filtered by ``params`` (GET)."""
    found = _waiting_rows(user)
    agencies = sorted({row.agency for _key, row in found}, key=lambda agency: agency.name)
    form = ClearanceFilterForm(params, agencies=agencies)
    groups = []
    for key, _steps, heading in GROUPS:
        rows = [row for group, row in found if group == key]
        if rows:
            groups.append(ClearanceGroup(key, heading, [row for row in rows if form.matches(row)]))
    return Clearance(form=form, groups=groups, waiting=len(found))
