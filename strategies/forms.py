from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from strategies.models import (
    GOAL_EDITABLE_FIELDS,
    PROGRAM_FIELDS,
    SECTION_FIELDS,
    Direction,
    Frequency,
    Goal,
    Indicator,
)
from strategies.periods import FiscalPeriod
from strategies.validators import validate_multi_line, validate_single_line

# Limits on the goal's free text (the model's TextFields have none).
STATEMENT_MAX_LENGTH = 2_000
SECTION_MAX_LENGTH = 20_000
PROGRAM_MAX_LENGTH = 10_000
PROGRAM_LINE_MAX_LENGTH = 1_000
DESCRIPTION_MAX_LENGTH = 5_000


class FiscalPeriodFormField(forms.CharField):
    """A text input that accepts the forms people write and shows the canonical one."""

    default_error_messages = {
        "invalid_period": _("Enter a fiscal period such as Q3 FY19, FY19 or Ongoing.")
    }

    def __init__(
        self, *, max_length=None, min_value=None, max_value=None, step_size=None, **kwargs
    ):
        kwargs.setdefault("help_text", _("For example Q3 FY19, FY19 or Ongoing."))
        # No max_length: CharField would run its length validator on the cleaned value,
        # a FiscalPeriod (no len()), and fail every valid entry with a TypeError.
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, FiscalPeriod):
            return str(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return FiscalPeriod.parse(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_period") from None


class VersionField(forms.IntegerField):
    """The version of the object the form was opened at, in a hidden input: the service
    refuses a save from an older one (``strategies.services.lock_for_edit``). ``message``
    replaces Django's errors for a missing or damaged value."""

    def __init__(self, *, message=None, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("min_value", 1)
        if message is not None:
            kwargs.setdefault(
                "error_messages", dict.fromkeys(("required", "invalid", "min_value"), message)
            )
        super().__init__(**kwargs)


class StrategyForm(forms.Form):
    """Add, renumber or retitle a strategy; the service checks the number is free."""

    number = forms.IntegerField(
        label=_("Number"),
        min_value=1,
        max_value=999,
        error_messages={
            "invalid": _("Enter the strategy number as a whole number, e.g. 3."),
            "min_value": _("Strategy numbers run from 1 to 999."),
            "max_value": _("Strategy numbers run from 1 to 999."),
        },
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=500,
        validators=[validate_single_line],
        error_messages={"required": _("Give the strategy a title.")},
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. Markdown."),
    )

    def __init__(self, *args, taken_numbers=(), **kwargs):
        """``taken_numbers``: the goal's other strategies' numbers, so that a taken number
        is reported with the other errors (the service checks again when saving)."""
        self.taken_numbers = frozenset(taken_numbers)
        super().__init__(*args, **kwargs)

    def clean_number(self):
        number = self.cleaned_data["number"]
        if number in self.taken_numbers:
            raise ValidationError(
                _("Strategy %(number)d exists already in this goal."),
                code="number_taken",
                params={"number": number},
            )
        return number

    def clean_description(self):
        return _normalize_text(self.cleaned_data["description"])


class StrategyEditForm(StrategyForm):
    """A strategy's form when editing it: with the version it was opened at."""

    # As on the goal form: a save from before someone else's is refused rather than
    # overwriting it.
    version = VersionField(message=_("This form is incomplete. Reload the page and edit again."))


def _normalize_text(value: str) -> str:
    """Browsers post textareas with CRLF line ends; store LF, without trailing blanks."""
    return value.replace("\r\n", "\n").replace("\r", "\n").rstrip().lstrip("\n")


def continuation_candidates(goal: Goal):
    """The goals that may continue ``goal`` in the next cycle: the other goals of its
    agency (``continuation_error`` refuses one that would make a loop)."""
    return (
        Goal.objects.filter(agency_id=goal.agency_id)
        .exclude(pk=goal.pk)
        .order_by("first_fiscal_year", "title", "pk")
    )


def continuation_error(goal: Goal, successor: Goal | None) -> ValidationError | None:
    """Why ``successor`` cannot continue ``goal`` (None if it can): it must be another
    goal of the same agency, and following "continued by" from it must not lead back to
    ``goal``."""
    if successor is None:
        return None
    if successor.pk == goal.pk or successor.agency_id != goal.agency_id:
        return ValidationError(
            _("Choose another goal of the same agency."), code="continuation_other_goal"
        )
    seen, step = {goal.pk}, successor
    while step is not None:
        if step.pk in seen:
            return ValidationError(
                _("%(goal)s already leads back to this goal: a goal cannot continue itself."),
                code="continuation_cycle",
                params={"goal": successor},
            )
        seen.add(step.pk)
        step = step.continued_by
    return None


class GoalForm(forms.ModelForm):
    """A goal's title, leaders, narrative, contributing programs and the goal that
    continues it (not its slug)."""

    # The goal's version when the form was opened: a save from before someone else's is
    # refused rather than overwriting it.
    version = VersionField(message=_("This form is incomplete. Reload the page and edit again."))

    class Meta:
        model = Goal
        fields = list(dict.fromkeys([*GOAL_EDITABLE_FIELDS, "continued_by"]))
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 4}),
            "target_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **{name: forms.Textarea(attrs={"rows": 6}) for name in SECTION_FIELDS},
            **{name: forms.Textarea(attrs={"rows": 4}) for name in PROGRAM_FIELDS},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = {
            "statement": STATEMENT_MAX_LENGTH,
            **dict.fromkeys(SECTION_FIELDS, SECTION_MAX_LENGTH),
            **dict.fromkeys(PROGRAM_FIELDS, PROGRAM_MAX_LENGTH),
        }
        for name, limit in limits.items():
            field = self.fields[name]
            field.max_length = limit
            field.validators.append(MaxLengthValidator(limit))
            field.widget.attrs["maxlength"] = str(limit)
        for name in GOAL_EDITABLE_FIELDS:
            model_field = Goal._meta.get_field(name)
            if isinstance(model_field, models.TextField):
                self.fields[name].validators.append(validate_multi_line)
            elif isinstance(model_field, models.CharField) and not model_field.choices:
                self.fields[name].validators.append(validate_single_line)
        for name in (*SECTION_FIELDS, *PROGRAM_FIELDS):
            # Leading spaces can be Markdown (an indented block); only ends are trimmed.
            self.fields[name].strip = False
        self.fields["target_date"].help_text = _(
            "The day the goal is due, e.g. 30 September 2019 for “By September 2019”."
        )
        successor = self.fields["continued_by"]
        successor.queryset = continuation_candidates(self.instance)
        successor.label_from_instance = _goal_with_cycle
        successor.help_text = _(
            "The goal of the same agency that continues this one in the next cycle: both "
            "plans link to each other."
        )

    def fieldsets(self):
        """(legend, bound fields) in the order of a published action plan."""
        groups = [
            (_("Goal"), ["title", "short_name", "statement", "target_date", "sensitivity"]),
            (_("Goal leaders"), ["leader_name", "leader_title", "deputy_name", "deputy_title"]),
            (_("Narrative (Markdown)"), list(SECTION_FIELDS)),
            (_("Contributing programs (one per line)"), list(PROGRAM_FIELDS)),
            (_("Next cycle"), ["continued_by"]),
        ]
        return [(legend, [self[name] for name in names]) for legend, names in groups]

    def clean_continued_by(self):
        successor = self.cleaned_data["continued_by"]
        error = continuation_error(self.instance, successor)
        if error is not None:
            raise error
        return successor

    def clean(self):
        cleaned = super().clean()
        for name in SECTION_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = _normalize_text(cleaned[name])
        for name in PROGRAM_FIELDS:
            if isinstance(cleaned.get(name), str):
                try:
                    cleaned[name] = _program_lines(cleaned[name])
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


def _goal_with_cycle(goal: Goal) -> str:
    return f"{goal} ({goal.cycle_label})"


def _program_lines(value: str) -> str:
    """One item per line: blank lines dropped, each line trimmed, none overlong."""
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        if len(line) > PROGRAM_LINE_MAX_LENGTH:
            raise ValidationError(
                _("Item %(number)d is over %(limit)d characters; put one item per line."),
                code="program_line_too_long",
                params={"number": number, "limit": PROGRAM_LINE_MAX_LENGTH},
            )
    return "\n".join(lines)


# -- key indicators --------------------------------------------------------------------

VALUE_DIGITS = {"max_digits": 14, "decimal_places": 2}


class ValueField(forms.DecimalField):
    """A decimal that refuses a signalling NaN ("sNaN") as invalid, like "NaN". Django's
    field accepts it, and comparing it to the row's initial value then raises
    ``decimal.InvalidOperation``: a 500 (found by tests/hostile/test_forms_fuzz.py)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.is_snan():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value


# Limits on an indicator's free text (the model's TextFields have none).
DEFINITION_MAX_LENGTH = 5_000
DATA_SOURCE_MAX_LENGTH = 2_000
ACTUAL_NOTE_MAX_LENGTH = 2_000


class IndicatorForm(forms.Form):
    """An indicator's definition: what it measures, where the data comes from, how often
    it is reported, its baseline and direction, and whether it is published."""

    name = forms.CharField(label=_("Name"), max_length=300, validators=[validate_single_line])
    unit = forms.CharField(
        label=_("Unit"),
        max_length=60,
        required=False,
        help_text=_("e.g. cases, percent, USD millions"),
        validators=[validate_single_line],
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    definition = forms.CharField(
        label=_("Definition"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is counted or measured, and how."),
        validators=[MaxLengthValidator(DEFINITION_MAX_LENGTH), validate_multi_line],
    )
    data_source = forms.CharField(
        label=_("Data source"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the figures come from; named in the data accuracy statement."),
        validators=[MaxLengthValidator(DATA_SOURCE_MAX_LENGTH), validate_multi_line],
    )
    # Not required: a form posted without it (an older page) keeps the default.
    frequency = forms.ChoiceField(
        label=_("Reporting frequency"),
        choices=Frequency.choices,
        initial=Frequency.QUARTERLY,
        required=False,
        help_text=_(
            "A quarterly indicator's actual is entered each quarter; an annual one's, for "
            "its fiscal year, with the Q4 update."
        ),
    )
    baseline_value = ValueField(label=_("Baseline"), required=False, **VALUE_DIGITS)
    baseline_period = FiscalPeriodFormField(
        label=_("Baseline period"),
        required=False,
        help_text=_("The quarter (Q4 FY17) or fiscal year (FY17) the baseline is for."),
    )
    is_published = forms.BooleanField(
        label=_("Published"),
        required=False,
        help_text=_(
            "Shown on the published plan and its PDF. Leave it off for a sensitive "
            "indicator: it stays internal, seen only by signed-in users who may see the goal."
        ),
    )
    # The indicator's version when the form was opened (edit page only): a save from
    # before someone else's is refused (409).
    version = VersionField(
        required=False,
        message=_("This form is incomplete. Reload the page and edit again."),
    )

    def clean_frequency(self):
        return self.cleaned_data["frequency"] or Frequency.QUARTERLY

    def clean_baseline_period(self):
        period = self.cleaned_data["baseline_period"]
        if period is not None and period.is_ongoing:
            raise ValidationError(
                _("A baseline is for a quarter or a fiscal year, not Ongoing."),
                code="baseline_ongoing",
            )
        return period

    def clean(self):
        data = super().clean()
        value, period = data.get("baseline_value"), data.get("baseline_period")
        if value is not None and period is None and "baseline_period" not in self.errors:
            self.add_error(
                "baseline_period",
                ValidationError(
                    _("Say which period the baseline is for, e.g. FY17."),
                    code="baseline_period_required",
                ),
            )
        if period is not None and value is None and "baseline_value" not in self.errors:
            self.add_error(
                "baseline_value",
                ValidationError(
                    _("Enter the baseline value for %(period)s, or clear the period.")
                    % {"period": period},
                    code="baseline_value_required",
                ),
            )
        return data

    def definition_fields(self) -> dict:
        """What ``strategies.services.save_indicator`` takes from the form."""
        return {name: self.cleaned_data[name] for name in INDICATOR_FORM_FIELDS}


# The indicator's own fields, as the form and save_indicator name them.
INDICATOR_FORM_FIELDS = (
    "name",
    "unit",
    "direction",
    "definition",
    "data_source",
    "frequency",
    "baseline_value",
    "baseline_period",
    "is_published",
)


def indicator_initial(indicator: Indicator) -> dict:
    """The edit form's initial values: the indicator as saved, at its version."""
    return {
        **{name: getattr(indicator, name) for name in INDICATOR_FORM_FIELDS},
        "version": indicator.version,
    }


class IndicatorValueForm(forms.Form):
    period = FiscalPeriodFormField(
        label=_("Period"),
        required=False,
        help_text=_("A quarter (Q3 FY19) or a fiscal year (FY19)."),
    )
    target = ValueField(label=_("Target"), required=False, **VALUE_DIGITS)
    actual = ValueField(label=_("Actual"), required=False, **VALUE_DIGITS)

    def clean_period(self):
        period = self.cleaned_data["period"]
        if period is not None and period.is_ongoing:
            raise forms.ValidationError(
                _("An indicator value belongs to a quarter or a fiscal year, not Ongoing."),
                code="period_ongoing",
            )
        return period

    def clean(self):
        data = super().clean()
        has_numbers = data.get("target") is not None or data.get("actual") is not None
        if has_numbers and data.get("period") is None and "period" not in self.errors:
            self.add_error("period", _("Say which period these values are for."))
        return data


class BaseValueFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            period = form.cleaned_data.get("period")
            if period is None or form.cleaned_data.get("DELETE"):
                continue
            if period in seen:
                raise forms.ValidationError(
                    _("%(period)s is entered twice: one row per period.") % {"period": period},
                    code="duplicate_period",
                )
            seen.add(period)


# absolute_max: a posted form count above it builds and renders no more rows than that
# (Django's default, max_num + 1000, lets one POST render 1,200 rows for a second).
ValueFormSet = forms.formset_factory(
    IndicatorValueForm,
    formset=BaseValueFormSet,
    extra=3,
    can_delete=True,
    max_num=200,
    absolute_max=200,
)


def value_formset(indicator: Indicator, data=None):
    initial = [
        {"period": v.period, "target": v.target, "actual": v.actual}
        for v in indicator.values.order_by("period")
    ]
    return ValueFormSet(data, initial=initial, prefix="values")


def rows_of(formset) -> list[tuple[FiscalPeriod, Decimal | None, Decimal | None, bool]]:
    """(period, target, actual, delete) for each filled-in row of a valid formset."""
    return [
        (
            f.cleaned_data["period"],
            f.cleaned_data.get("target"),
            f.cleaned_data.get("actual"),
            bool(f.cleaned_data.get("DELETE")),
        )
        for f in formset.forms
        if f.cleaned_data.get("period") is not None
    ]


class ActualForm(forms.Form):
    """One indicator's row on the actuals page (its prefix names the indicator): the
    actual and note typed, what they were when the page was opened (hidden initials, so
    an untouched row is left alone) and the value's version then (empty: no value yet)."""

    actual = ValueField(
        label=_("Actual"), required=False, show_hidden_initial=True, **VALUE_DIGITS
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        show_hidden_initial=True,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        validators=[MaxLengthValidator(ACTUAL_NOTE_MAX_LENGTH), validate_multi_line],
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actual"].widget.attrs["class"] = "form-control"

    def was_edited(self) -> bool:
        """Whether the user changed the actual or the note from what the page showed
        (the version is not an edit: it moves when someone else saves)."""
        return bool({"actual", "note"} & set(self.changed_data))


def actual_form(indicator: Indicator, value, data=None) -> ActualForm:
    """The actuals row of ``indicator`` whose value for the period is ``value`` (None:
    none yet), bound to ``data`` when posted."""
    initial = {
        "actual": value.actual if value is not None else None,
        "note": value.note if value is not None else "",
        "version": value.version if value is not None else None,
    }
    return ActualForm(data, initial=initial, prefix=f"indicator-{indicator.pk}")


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: on its field where it names one
    the form has, otherwise above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
