"""A goal's lifecycle and clock on the site: the admins' forms to close, reopen and hold
it on a reporting quarter, and each goal's reporting quarter in queries over many goals.
(What the goal header shows of it: ``milestones/templatetags/goal_lifecycle.py``.)"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from milestones.quarters import holdable_quarters
from strategies.forms import VersionField
from strategies.models import Goal
from strategies.periods import FiscalPeriod

STALE_FORM = _("This form is incomplete. Reload the page and try again.")
FOLLOW_PUBLICATION = ""


class LifecycleForm(forms.Form):
    """Close or reopen a goal: the reason goes into its history."""

    version = VersionField(message=STALE_FORM)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the goal's history."),
        error_messages={"required": _("Say why: the reason is kept in the goal's history.")},
    )


class ReportingQuarterForm(LifecycleForm):
    """Hold a goal on one of its quarters, or let it follow publication again."""

    quarter = forms.ChoiceField(
        label=_("Reporting quarter"),
        required=False,
        help_text=_(
            "Follow publication: the quarter after the last published one. A quarter "
            "chosen here holds the goal on it (never later than the current quarter)."
        ),
    )
    field_order = ["quarter", "reason", "version"]

    def __init__(self, *args, goal: Goal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].choices = quarter_choices(goal)

    def clean_quarter(self) -> FiscalPeriod | None:
        value = self.cleaned_data["quarter"]
        return FiscalPeriod.from_key(int(value)) if value else None


def quarter_choices(goal: Goal) -> list[tuple[str, str]]:
    return [(FOLLOW_PUBLICATION, _("Follow publication")), *_quarter_options(goal)]


def _quarter_options(goal: Goal) -> list[tuple[str, str]]:
    return [(str(quarter.key), str(quarter)) for quarter in holdable_quarters(goal)]


def reporting_quarter_initial(goal: Goal) -> dict:
    held = goal.reporting_quarter_set
    return {
        "version": goal.version,
        "quarter": str(held.key) if held is not None else FOLLOW_PUBLICATION,
    }
