"""Checking one value of a plan document against the format (text, numbers, fiscal
periods, dates, statuses, mappings and lists), naming its line and path in every error."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import translation

from milestones.models import Status
from milestones.plan_yaml.loader import _join, _Mapping, _Sequence, _where
from strategies.forms import (
    StrategyForm,
)
from strategies.models import (
    IndicatorValue,
)
from strategies.periods import FiscalPeriod
from strategies.validators import control_character_error

# The web forms' limits (one definition for both): strategy numbers as StrategyForm takes.
_STRATEGY_NUMBERS = StrategyForm.base_fields["number"]

_MISSING = object()


def _status_labels() -> dict[str, str]:
    """Status values and their English labels, the names the format uses."""
    with translation.override("en"):
        return {value: str(label) for value, label in Status.choices}


def _describe(value) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, _Mapping):
        return "a mapping"
    if isinstance(value, _Sequence):
        return "a list"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


class ValueReader:
    """Checks one value at a time against the format, collecting every error with its
    line and path; the plan walk (``reader._Reader``) is built on it."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)

    def error(self, line: int, path: str, message: str) -> None:
        self.errors.append(_where(line, path, message))

    @staticmethod
    def get(parent: _Mapping, key: str, path: str):
        """(value or _MISSING, path, line) of ``parent[key]``."""
        return parent.get(key, _MISSING), _join(path, key), parent.key_lines.get(key, parent.line)

    def keys(self, mapping, path, line, required=(), optional=()) -> _Mapping | None:
        """``mapping`` if it is a mapping with only known keys and every required one."""
        if not isinstance(mapping, _Mapping):
            self.error(
                line, path, f"expected a mapping of keys to values, not {_describe(mapping)}"
            )
            return None
        allowed = (*required, *optional)
        for key in mapping:
            if key not in allowed:
                self.error(
                    mapping.key_lines[key],
                    _join(path, key),
                    f"unknown key (expected one of: {', '.join(allowed)})",
                )
        for key in required:
            if key not in mapping:
                self.error(line, _join(path, key), "is required")
        return mapping

    def sub_mapping(self, parent, key, path, required=(), optional=()) -> _Mapping | None:
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return None
        return self.keys(value, path, line, required, optional)

    def sequence(self, parent, key, path, *, required=False) -> list[tuple[object, str, int]]:
        """[(item, path, line)] of the list at ``parent[key]`` ([] if absent or wrong)."""
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or (value is None and not required):
            return []
        if not isinstance(value, _Sequence):
            self.error(line, path, f"expected a list (write [] for none), not {_describe(value)}")
            return []
        return [
            (item, f"{path}[{index}]", value.item_lines[index]) for index, item in enumerate(value)
        ]

    def text(self, parent, key, path, *, required=False, max_length=None, multiline=False) -> str:
        """The text at ``parent[key]``, held to the web forms' length and character rules:
        ``max_length`` and, unless ``multiline``, a single line."""
        value, path, line = self.get(parent, key, path)
        if value is _MISSING:
            return ""
        if value is None:
            if required:
                self.error(line, path, "must not be empty")
            return ""
        if not isinstance(value, str):
            self.error(line, path, f"expected text, not {_describe(value)} (quote it)")
            return ""
        if required and not value.strip():
            self.error(line, path, "must not be empty")
        self.check_text(value, path, line, max_length=max_length, multiline=multiline)
        return value

    def check_text(self, value: str, path, line, *, max_length, multiline) -> bool:
        """Whether ``value`` obeys the web forms' rules; each breach is an error."""
        valid = True
        if max_length is not None and len(value) > max_length:
            self.error(
                line,
                path,
                f"is {len(value):,} characters long; at most {max_length:,} are allowed",
            )
            valid = False
        if message := control_character_error(value, multiline=multiline):
            self.error(line, path, message)
            valid = False
        return valid

    def integer(self, value, path, line, *, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(line, path, f"expected a whole number, not {_describe(value)}")
            return None
        if not low <= value <= high:
            self.error(line, path, f"{value} is out of range ({low} to {high})")
            return None
        return value

    def period(self, parent, key, path, *, ongoing: str | None = None) -> FiscalPeriod | None:
        """The fiscal period at ``parent[key]``; ``ongoing`` is the reason Ongoing is refused."""
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            shown = value.isoformat() if isinstance(value, datetime.date) else value
            self.error(
                line,
                path,
                f"{shown} is {_describe(value).split(' (')[0]}, not a fiscal period "
                "(write e.g. Q3 FY19, FY19 or Ongoing)",
            )
            return None
        try:
            period = FiscalPeriod.parse(value)
        except ValueError as error:
            self.error(line, path, str(error))
            return None
        if ongoing and period.is_ongoing:
            self.error(line, path, f"Ongoing is not allowed here: {ongoing}")
            return None
        return period

    def number(self, parent, key, path, *, field=None) -> Decimal | None:
        """The number at ``parent[key]``, within the digits of model ``field`` (default:
        ``IndicatorValue``'s field of that name)."""
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(line, path, f"expected a number, not {_describe(value)}")
            return None
        number = Decimal(str(value))
        field = field or IndicatorValue._meta.get_field(key)
        limit = Decimal(10) ** (field.max_digits - field.decimal_places)
        if not number.is_finite() or abs(number) >= limit:
            self.error(line, path, f"{value} is out of range (less than {limit:,} either way)")
            return None
        if number != number.quantize(Decimal(1).scaleb(-field.decimal_places)):
            self.error(line, path, f"{value} has more than {field.decimal_places} decimals")
            return None
        return number

    def flag(self, parent, key, path) -> bool:
        """true or false at ``parent[key]`` (false when absent or null)."""
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return False
        if not isinstance(value, bool):
            self.error(line, path, f"expected true or false, not {_describe(value)}")
            return False
        return value

    def read_date(self, parent, key, path) -> datetime.date | None:
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, datetime.datetime):
            self.error(line, path, "expected a date (2019-09-30), not a date and time")
            return None
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass
        shown = repr(value) if isinstance(value, str) else _describe(value)
        self.error(line, path, f"{shown} is not a date (write e.g. 2019-09-30)")
        return None

    def read_status(self, item, path) -> str:
        value, path, line = self.get(item, "status", path)
        if value is _MISSING or value is None:
            return Status.TBD.value
        if isinstance(value, str):
            # "On track", "On Track", "on_track" and "not-started" all name a status.
            key = re.sub(r"[\s_-]+", "_", value.strip().lower())
            if key in Status.values:
                return key
        self.error(
            line,
            path,
            f"{value!r} is not a status (write one of: {', '.join(_status_labels().values())})",
        )
        return Status.TBD.value
