from django import forms
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from milestones.models import (
    QUARTERLY_UPDATE_FIELDS,
    Likelihood,
    Risk,
    Status,
    improvement_actions_error,
)
from strategies.forms import FiscalPeriodFormField, VersionField
from strategies.validators import validate_multi_line

COMMENT_MAX_LENGTH = 4000
SUMMARY_MAX_LENGTH = 20000


class StatusUpdateForm(forms.Form):
    """A goal leader's review of one milestone. Domain rules live in the service."""

    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        validators=[validate_multi_line],
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Plain text. Required when the status changes or is Delayed or At risk."),
    )
    revised_due = FiscalPeriodFormField(
        label=_("Revised due"),
        required=False,
        help_text=_("When delayed: the new due period, e.g. FY19. The original due stays."),
    )
    period = FiscalPeriodFormField(
        label=_("Reporting period"), help_text=_("The quarter this update reports on.")
    )
    # The milestone version the form was opened at: a save from an older one is refused.
    version = VersionField()

    def __init__(self, *args, milestone, prefix=None, quarters=(), **kwargs):
        self.milestone = milestone
        super().__init__(*args, prefix=prefix or f"m{milestone.pk}", **kwargs)
        if quarters:
            # The quarters it may report on now (milestones.quarters.reportable_quarters).
            self.fields["period"].help_text = _(
                "The quarter this update reports on: %(quarters)s."
            ) % {"quarters": ", ".join(str(q) for q in quarters)}


def _optional_text(label) -> forms.CharField:
    """One part of the data accuracy and reliability statement: optional, a few lines."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProgressSummaryForm(forms.Form):
    """A goal's summary of progress for one reporting quarter."""

    period = FiscalPeriodFormField(
        label=_("Reporting period"),
        help_text=_("The quarter this update reports on, e.g. Q3 FY19."),
    )
    summary = forms.CharField(
        label=_("Summary of progress"),
        max_length=SUMMARY_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown: one bullet per line starting with “- ”."),
    )
    next_steps = forms.CharField(
        label=_("Next steps"),
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Markdown."),
    )
    risk = forms.ChoiceField(
        label=_("Risk of not meeting the goal"),
        choices=[("", _("Not assessed yet")), *Risk.choices],
        required=False,
        help_text=_("Required to publish the update."),
    )
    likelihood = forms.ChoiceField(
        label=_("Likelihood of meeting the target"),
        choices=[("", _("Not assessed yet")), *Likelihood.choices],
        required=False,
    )
    improvement_actions = forms.CharField(
        label=_("Improvement actions"),
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Markdown. Required when the risk is high."),
    )
    verification_validation = _optional_text(_("How the data are verified and validated"))
    data_sources = _optional_text(_("Data sources"))
    data_accuracy = _optional_text(_("Level of accuracy required"))
    data_limitations = _optional_text(_("Limitations of the data"))
    limitations_compensation = _optional_text(_("How the limitations are compensated for"))
    # The version of the summary the form was opened at (empty for a new one): a save
    # over a newer version is refused instead of overwriting it.
    version = VersionField(required=False, message=_("The form was damaged; open it again."))

    def clean_period(self):
        period = self.cleaned_data["period"]
        if period is not None and period.is_ongoing:
            raise forms.ValidationError(
                _("A progress summary is for a quarter or a fiscal year, not Ongoing."),
                code="period_ongoing",
            )
        return period

    def clean(self):
        data = super().clean()
        refusal = improvement_actions_error(
            risk=data.get("risk", ""), improvement_actions=data.get("improvement_actions", "")
        )
        if refusal is not None:
            self.add_error("improvement_actions", refusal)
        return data

    @property
    def details(self) -> dict[str, str]:
        """The cleaned fields of the update besides its period and summary."""
        return {
            name: self.cleaned_data.get(name, "")
            for name in QUARTERLY_UPDATE_FIELDS
            if name != "summary"
        }


class StrategyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("Strategy %(number)d: %(title)s") % {
            "number": obj.number,
            "title": Truncator(obj.title).chars(60),
        }


class MilestoneMoveForm(forms.Form):
    """Align a milestone to another strategy of its goal, or to none (admins)."""

    strategy = StrategyChoiceField(
        label=_("Strategy"),
        queryset=None,  # the milestone's goal's strategies, set per form
        required=False,
        empty_label=_("No strategy"),
        error_messages={"invalid_choice": _("Choose one of this goal's strategies.")},
    )
    # The milestone version the form was opened at: a move from an older one is refused.
    version = VersionField(message=_("This form is incomplete. Reload the page and try again."))

    def __init__(self, *args, milestone, strategies=None, **kwargs):
        """``strategies``: the goal's strategies already fetched, so that a page of many
        forms renders their options without one query per form."""
        self.milestone = milestone
        kwargs.setdefault("prefix", f"move{milestone.pk}")
        kwargs.setdefault(
            "initial", {"strategy": milestone.strategy_id, "version": milestone.version}
        )
        super().__init__(*args, **kwargs)
        field = self.fields["strategy"]
        field.queryset = milestone.goal.strategies.all()  # validation: this goal's only
        field.label = _("Move “%(title)s” to") % {"title": Truncator(milestone.title).chars(80)}
        if strategies is not None:
            field.choices = [
                ("", field.empty_label),
                *((s.pk, field.label_from_instance(s)) for s in strategies),
            ]
