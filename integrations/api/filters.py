"""``?quarter=Q3 FY19``: the reporting period a list is narrowed to. A value that is not
a quarter or a fiscal year is refused (400) with the parameter named."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from strategies.periods import FiscalPeriod

QUARTER_PARAM = "quarter"


def requested_quarter(request) -> FiscalPeriod | None:
    """The ``quarter`` query parameter as a period, None when absent."""
    values = request.query_params.getlist(QUARTER_PARAM)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({QUARTER_PARAM: [_("Give one reporting period, not several.")]})
    try:
        period = FiscalPeriod.parse(values[0])
    except ValueError as error:
        raise ValidationError({QUARTER_PARAM: [str(error)]}) from None
    if period.is_ongoing:
        raise ValidationError(
            {QUARTER_PARAM: [_("Give a quarter (Q3 FY19) or a fiscal year (FY19).")]}
        )
    return period
