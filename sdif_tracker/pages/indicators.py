"""Key indicators in the app (admins): the forms, the reads and the writes.

Writes go through ``save_indicator``: one transaction, validated, recorded in history
with the acting user and a reason. Values are kept one per period; a period left with
neither target nor actual (or marked for removal) is deleted.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.history import recorded_change
from strategies.forms import FiscalPeriodFormField
from strategies.models import Direction, Goal, Indicator, IndicatorValue
from strategies.periods import FiscalPeriod

VALUE_DIGITS = {"max_digits": 14, "decimal_places": 2}


class IndicatorForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=300)
    unit = forms.CharField(
        label=gettext_lazy("Unit"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("e.g. cases, percent, USD millions"),
    )
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), choices=Direction.choices)


class ValueField(forms.DecimalField):
    """A decimal that refuses a signalling NaN ("sNaN") as invalid, like "NaN". Django's
    field accepts it, and comparing it to the row's initial value then raises
    ``decimal.InvalidOperation``: a 500 (found by tests/hostile/test_forms_fuzz.py)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.is_snan():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class IndicatorValueForm(forms.Form):
    period = FiscalPeriodFormField(
        label=gettext_lazy("Period"),
        required=False,
        help_text=gettext_lazy("A quarter (Q3 FY19) or a fiscal year (FY19)."),
    )
    target = ValueField(label=gettext_lazy("Target"), required=False, **VALUE_DIGITS)
    actual = ValueField(label=gettext_lazy("Actual"), required=False, **VALUE_DIGITS)

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


def add_service_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# -- reads -------------------------------------------------------------------------------


def goal_indicators(goal: Goal) -> list[Indicator]:
    """The goal's indicators with ``period_values`` (oldest first): two queries."""
    items = list(
        goal.indicators.order_by("position", "id").prefetch_related(
            Prefetch("values", queryset=IndicatorValue.objects.order_by("period"))
        )
    )
    for indicator in items:
        indicator.goal = goal
        indicator.period_values = list(indicator.values.all())
    return items


# -- writes ------------------------------------------------------------------------------


@transaction.atomic
def save_indicator(
    *,
    goal: Goal,
    user,
    name: str,
    unit: str,
    direction: str,
    indicator: Indicator | None = None,
    rows: list[tuple] | None = None,
) -> Indicator:
    """Define a new indicator of ``goal`` (``indicator`` None) or change one, and with
    ``rows`` ((period, target, actual, delete), ...) set its values: all or nothing."""
    name = name.strip()
    if indicator is None:
        position = (goal.indicators.aggregate(top=Max("position"))["top"] or 0) + 1
        indicator = Indicator(goal=goal, position=position)
        reason = _("Defined the key indicator “%(name)s”") % {"name": name}
    else:
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk, goal=goal)
        reason = _("Edited the key indicator “%(name)s”") % {"name": name}
    if goal.indicators.filter(name__iexact=name).exclude(pk=indicator.pk).exists():
        raise ValidationError(
            {"name": _("This goal already has an indicator called “%(name)s”.") % {"name": name}},
            code="duplicate_name",
        )
    with recorded_change(user=user, reason=reason):
        changed = (indicator.name, indicator.unit, indicator.direction) != (name, unit, direction)
        if indicator.pk is None or changed:
            indicator.name, indicator.unit, indicator.direction = name, unit.strip(), direction
            indicator.full_clean()
            indicator.save()
        if rows is not None:
            _save_values(indicator, rows)
    return indicator


def _save_values(indicator: Indicator, rows: list[tuple]) -> None:
    existing = {v.period: v for v in indicator.values.select_for_update()}
    for period, target, actual, delete in rows:
        value = existing.get(period)
        if delete or (target is None and actual is None):
            if value is not None:
                value.delete()
            continue
        if value is None:
            value = IndicatorValue(indicator=indicator, period=period)
        elif (value.target, value.actual) == (target, actual):
            continue
        value.target, value.actual = target, actual
        value.full_clean()
        value.save()
