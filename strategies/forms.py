from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from strategies.periods import FiscalPeriod


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
