from django import forms
from django.utils.translation import gettext_lazy as _

from milestones.models import ProgressSummary, Status
from strategies.forms import FiscalPeriodFormField

COMMENT_MAX_LENGTH = 4000
SUMMARY_MAX_LENGTH = 20000


class StatusUpdateForm(forms.Form):
    """A goal leader's review of one milestone. Domain rules live in the service."""

    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
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
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, milestone, prefix=None, **kwargs):
        self.milestone = milestone
        super().__init__(*args, prefix=prefix or f"m{milestone.pk}", **kwargs)


class ProgressSummaryForm(forms.ModelForm):
    period = FiscalPeriodFormField(
        label=_("Reporting period"),
        help_text=_("A quarter (Q3 FY19) or a whole fiscal year (FY19)."),
    )

    class Meta:
        model = ProgressSummary
        fields = ["period", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 10})}

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if len(summary) > SUMMARY_MAX_LENGTH:
            raise forms.ValidationError(
                _("Keep the summary under %(limit)d characters."),
                code="too_long",
                params={"limit": SUMMARY_MAX_LENGTH},
            )
        return summary

    def clean_period(self):
        period = self.cleaned_data["period"]
        if period is not None and period.is_ongoing:
            raise forms.ValidationError(
                _("A progress summary is for a quarter or a fiscal year, not Ongoing."),
                code="period_ongoing",
            )
        return period
