"""Fiscal periods: a quarter of a fiscal year (`Q3 FY18`), a whole fiscal year (`FY19`,
meaning "by its end"), or `Ongoing`.

It lives in `strategies` (not `milestones`) because both the plan's key indicators and
the milestones are dated by it, and `strategies` is the lower layer.

Stored as one integer so the database sorts and filters by it:
``fiscal_year * 10 + quarter`` for a quarter, ``fiscal_year * 10 + 5`` for a whole
year (it ends with its Q4, so it sorts right after it), and ``ONGOING_KEY`` for
Ongoing, after everything. A period has *ended* on a date exactly when its key is
below the key of the quarter containing that date.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import total_ordering

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Mod
from django.db.models.lookups import Range
from django.utils.translation import gettext as _

ONGOING_KEY = 99_999
WHOLE_YEAR = 5
MIN_FISCAL_YEAR = 1900
MAX_FISCAL_YEAR = 2999

_PATTERN = re.compile(
    r"""^\s*
    (?:Q\s*(?P<quarter>\d+)[\s\-/,]*)?      # optional quarter: Q4, Q 4
    FY[\s\-']*(?P<year>\d+)                 # fiscal year: FY19, FY 19, FY2019, FY'19
    \s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_ONGOING = re.compile(r"^\s*ongoing\s*$", re.IGNORECASE)


def _start_month() -> int:
    return getattr(settings, "FISCAL_YEAR_START_MONTH", 10)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@total_ordering
@dataclass(frozen=True)
class FiscalPeriod:
    """A quarter, a whole fiscal year, or Ongoing; immutable, ordered in time."""

    fiscal_year: int | None = None
    quarter: int | None = None  # None with a fiscal_year: the whole year

    def __post_init__(self):
        if self.fiscal_year is None:
            if self.quarter is not None:
                raise ValueError("Ongoing has no quarter.")
            return
        if not MIN_FISCAL_YEAR <= self.fiscal_year <= MAX_FISCAL_YEAR:
            raise ValueError(f"Fiscal year {self.fiscal_year} is out of range.")
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError(f"Quarter {self.quarter} is not 1 to 4.")

    # -- construction -------------------------------------------------------------

    @classmethod
    def ongoing(cls) -> FiscalPeriod:
        return cls()

    @classmethod
    def parse(cls, text: str) -> FiscalPeriod:
        """Parse the forms people write (`Q4 FY 19`, `q4 fy2019`, `FY 19`, `ongoing`).

        Raises ``ValueError`` with a message a person can act on.
        """
        if isinstance(text, FiscalPeriod):
            return text
        # The messages are translated when raised: they reach the page in its language.
        if not isinstance(text, str):
            raise ValueError(
                _("%(text)s is not a fiscal period (write e.g. Q3 FY19, FY19 or Ongoing).")
                % {"text": repr(text)}
            )
        if _ONGOING.match(text):
            return cls.ongoing()
        match = _PATTERN.match(text)
        shown = text.strip()
        if not match:
            raise ValueError(
                _('"%(text)s" is not a fiscal period (write e.g. Q3 FY19, FY19 or Ongoing).')
                % {"text": shown}
            )
        digits = match["year"]
        if len(digits) == 2:
            year = 2000 + int(digits)
        elif len(digits) == 4:
            year = int(digits)
        else:
            raise ValueError(
                _('"%(text)s" is not a fiscal period: the year must have 2 or 4 digits.')
                % {"text": shown}
            )
        if not MIN_FISCAL_YEAR <= year <= MAX_FISCAL_YEAR:
            raise ValueError(
                _('"%(text)s" is not a fiscal period: year %(year)d is out of range.')
                % {"text": shown, "year": year}
            )
        quarter = None
        if match["quarter"] is not None:
            quarter = int(match["quarter"])
            if not 1 <= quarter <= 4:
                raise ValueError(
                    _('"%(text)s" is not a fiscal period: a quarter is Q1 to Q4.')
                    % {"text": shown}
                )
        return cls(year, quarter)

    @classmethod
    def from_key(cls, key: int) -> FiscalPeriod:
        if key == ONGOING_KEY:
            return cls.ongoing()
        year, rest = divmod(int(key), 10)
        if rest == WHOLE_YEAR:
            return cls(year, None)
        if 1 <= rest <= 4:
            return cls(year, rest)
        raise ValueError(f"{key} is not a stored fiscal period.")

    @classmethod
    def containing(cls, day: datetime.date) -> FiscalPeriod:
        """The fiscal quarter that contains ``day``."""
        start = _start_month()
        # Months since the start of the fiscal year that contains `day`.
        offset = (day.month - start) % 12
        year_of_start = day.year if day.month >= start else day.year - 1
        fiscal_year = year_of_start + 1 if start != 1 else year_of_start
        return cls(fiscal_year, offset // 3 + 1)

    # -- properties -----------------------------------------------------------------

    @property
    def is_ongoing(self) -> bool:
        return self.fiscal_year is None

    @property
    def is_quarter(self) -> bool:
        return self.quarter is not None

    @property
    def is_whole_year(self) -> bool:
        return self.fiscal_year is not None and self.quarter is None

    @property
    def key(self) -> int:
        if self.fiscal_year is None:
            return ONGOING_KEY
        return self.fiscal_year * 10 + (self.quarter or WHOLE_YEAR)

    @property
    def start(self) -> datetime.date | None:
        """First day of the period (None for Ongoing)."""
        if self.fiscal_year is None:
            return None
        first_month = _start_month()
        year = self.fiscal_year - 1 if first_month != 1 else self.fiscal_year
        year, month = _add_months(year, first_month, 3 * ((self.quarter or 1) - 1))
        return datetime.date(year, month, 1)

    @property
    def end(self) -> datetime.date | None:
        """Last day of the period (None for Ongoing)."""
        if self.fiscal_year is None:
            return None
        start = self.start
        year, month = _add_months(start.year, start.month, 3 if self.quarter else 12)
        return datetime.date(year, month, 1) - datetime.timedelta(days=1)

    def has_ended(self, today: datetime.date) -> bool:
        return self.key < FiscalPeriod.containing(today).key

    def next_quarter(self) -> FiscalPeriod:
        """The quarter after this one; after a whole fiscal year, the next year's Q1."""
        if not self.is_quarter and not self.is_whole_year:
            raise ValueError("Ongoing has no next quarter.")
        if self.quarter in (None, 4):
            return FiscalPeriod(self.fiscal_year + 1, 1)
        return FiscalPeriod(self.fiscal_year, self.quarter + 1)

    @property
    def last_quarter(self) -> FiscalPeriod:
        """The quarter the period ends with: itself, or a whole year's Q4."""
        if self.fiscal_year is None:
            raise ValueError("Ongoing has no last quarter.")
        return FiscalPeriod(self.fiscal_year, self.quarter or 4)

    def previous_quarter(self) -> FiscalPeriod:
        if not self.is_quarter:
            raise ValueError("Only a quarter has a previous quarter.")
        if self.quarter == 1:
            return FiscalPeriod(self.fiscal_year - 1, 4)
        return FiscalPeriod(self.fiscal_year, self.quarter - 1)

    # -- protocol -------------------------------------------------------------------

    def __str__(self) -> str:
        if self.fiscal_year is None:
            return "Ongoing"
        year = (
            f"FY{self.fiscal_year % 100:02d}"
            if 2000 <= self.fiscal_year < 2100
            else (f"FY{self.fiscal_year}")
        )
        return f"Q{self.quarter} {year}" if self.quarter else year

    def __lt__(self, other):
        if not isinstance(other, FiscalPeriod):
            return NotImplemented
        return self.key < other.key

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        if not isinstance(other, FiscalPeriod):
            return NotImplemented
        return self.key == other.key


def quarters_between(first: FiscalPeriod, last: FiscalPeriod) -> list[FiscalPeriod]:
    """The quarters from ``first`` to ``last`` (both quarters), oldest first; empty when
    ``last`` comes before ``first``."""
    quarters, quarter = [], first
    while quarter <= last:
        quarters.append(quarter)
        quarter = quarter.next_quarter()
    return quarters


def current_quarter(today: datetime.date | None = None) -> FiscalPeriod:
    from django.utils import timezone

    return FiscalPeriod.containing(today or timezone.localdate())


def first_day() -> datetime.date:
    """The first day of the earliest fiscal year a period may name (``MIN_FISCAL_YEAR``)."""
    return FiscalPeriod(MIN_FISCAL_YEAR, 1).start


def last_day() -> datetime.date:
    """The last day of the latest fiscal year a period may name (``MAX_FISCAL_YEAR``)."""
    return FiscalPeriod(MAX_FISCAL_YEAR, 4).end


def check_day(day: datetime.date) -> datetime.date:
    """``day`` if it falls in a fiscal year a period may name, else ``ValueError`` saying
    which dates are accepted: every page and filter dates by these fiscal years, so a
    date outside them cannot be shown or compared."""
    if not first_day() <= day <= last_day():
        raise ValueError(
            _(
                "%(day)s is out of range: dates run from %(first)s to %(last)s (fiscal years "
                "%(first_year)d to %(last_year)d)."
            )
            % {
                "day": day.isoformat(),
                "first": first_day().isoformat(),
                "last": last_day().isoformat(),
                "first_year": MIN_FISCAL_YEAR,
                "last_year": MAX_FISCAL_YEAR,
            }
        )
    return day


def parse_day(text: str) -> datetime.date:
    """A date written ``YYYY-MM-DD`` within the fiscal years a period may name, or
    ``ValueError`` with a message a person can act on."""
    text = (text or "").strip()
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        shown = "".join(c for c in text[:40] if c.isprintable())
        raise ValueError(
            _("“%(text)s” is not a date (write e.g. 2019-06-30).") % {"text": shown}
        ) from None
    return check_day(day)


def fiscal_year_range(fiscal_year: int) -> tuple[int, int]:
    """Keys (inclusive) of every period dated in ``fiscal_year``: its quarters and itself."""
    return fiscal_year * 10 + 1, fiscal_year * 10 + WHOLE_YEAR


def period_is_valid(field: str, *, quarters_only: bool = False) -> Q:
    """Database check that an integer column holds a period key (see strategies.periods)."""
    in_years = Range(models.F(field), (MIN_FISCAL_YEAR * 10 + 1, MAX_FISCAL_YEAR * 10 + 5))
    shape = Range(Mod(field, 10), (1, 4 if quarters_only else 5))
    valid = Q(in_years) & Q(shape)
    if not quarters_only:
        valid |= Q(**{field: ONGOING_KEY})
    return Q(**{f"{field}__isnull": True}) | valid


class FiscalPeriodField(models.PositiveIntegerField):
    """A ``FiscalPeriod`` stored as its sortable integer key."""

    description = "Fiscal period (quarter, fiscal year or Ongoing)"

    @property
    def validators(self):
        # The integer range validators of the parent would compare a FiscalPeriod with
        # an int; FiscalPeriod validates itself on construction.
        return list(self._validators)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return FiscalPeriod.from_key(value)

    def display_for_history(self, value) -> str:
        """How a stored value reads in a history diff: "Q3 FY19"."""
        return str(value if isinstance(value, FiscalPeriod) else FiscalPeriod.from_key(value))

    def to_python(self, value):
        if value is None or isinstance(value, FiscalPeriod):
            return value
        if isinstance(value, str) and value.strip() == "":
            return None
        try:
            if isinstance(value, int):
                return FiscalPeriod.from_key(value)
            return FiscalPeriod.parse(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_period") from None

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, FiscalPeriod):
            return value.key
        if isinstance(value, int):
            return value
        return self.to_python(value).key

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def formfield(self, **kwargs):
        from strategies.forms import FiscalPeriodFormField

        return super(models.PositiveIntegerField, self).formfield(
            **{"form_class": FiscalPeriodFormField, **kwargs}
        )
