"""What a reader may ask the audit log for: the kinds of object it lists (each a history
table), the filter form, and the keyset cursor of a page.

A page position is a cursor, not a page number: see ``sdif_tracker.pages.audit``.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.history import IGNORED_FIELDS, history_of
from milestones.models import Milestone, ProgressSummary, StatusUpdate
from sdif_tracker.pages.filters import ListFilterForm
from strategies.models import (
    Agency,
    Goal,
    Indicator,
    IndicatorValue,
    Membership,
    Strategy,
)
from strategies.periods import check_day, parse_day


@dataclass(frozen=True)
class Kind:
    """One kind of tracked object: its history table and how a row of it is named."""

    code: int  # sort key inside one instant; also the cursor's middle part
    key: str  # in URLs and the CSV
    label: str
    model: type
    name_column: str  # SQL giving the object's name (or what names it)
    extra_column: str = "CAST(NULL AS TEXT)"
    parent_column: str = "CAST(NULL AS INTEGER)"

    @property
    def history_model(self):
        return history_of(self.model).model

    @cached_property
    def field_names(self) -> frozenset[str]:
        return frozenset(
            f.name for f in self.model._meta.concrete_fields if f.name not in IGNORED_FIELDS
        )


def _text(column: str) -> str:
    return f"CAST({column} AS TEXT)"


KINDS = [
    Kind(0, "agency", _("agency"), Agency, "name"),
    Kind(1, "goal", _("goal"), Goal, "title", extra_column="short_name"),
    Kind(2, "strategy", _("strategy"), Strategy, "title", extra_column=_text("number")),
    Kind(3, "membership", _("membership"), Membership, "role", parent_column="user_id"),
    Kind(4, "indicator", _("key indicator"), Indicator, "name"),
    Kind(
        5,
        "indicator_value",
        _("indicator value"),
        IndicatorValue,
        _text("period"),
        parent_column="indicator_id",
    ),
    Kind(6, "milestone", _("key milestone"), Milestone, "title"),
    Kind(
        7,
        "status_update",
        _("status update"),
        StatusUpdate,
        "status",
        extra_column=_text("period"),
        parent_column="milestone_id",
    ),
    Kind(
        8,
        "progress_summary",
        _("progress summary"),
        ProgressSummary,
        _text("period"),
    ),
]
KIND_BY_KEY = {kind.key: kind for kind in KINDS}
KIND_BY_CODE = {kind.code: kind for kind in KINDS}
# Every field a change may name, for the field filter.
FIELD_NAMES = sorted(set().union(*(kind.field_names for kind in KINDS)) - {"id"})


def _field_label(name: str):
    """The field's verbose name (lazily translated) from the first kind that has it."""
    for kind in KINDS:
        if name in kind.field_names:
            return kind.model._meta.get_field(name).verbose_name
    return name.replace("_", " ")


FIELD_CHOICES = [(name, _field_label(name)) for name in FIELD_NAMES]


def field_options() -> list[tuple[str, str]]:
    """The field filter's options in the reader's language, by label: each field's
    human name and the kinds of object that have it, "Comment (key milestone, status
    update)", never its code name."""
    options = []
    for name in FIELD_NAMES:
        kinds = ", ".join(str(kind.label) for kind in KINDS if name in kind.field_names)
        label = capfirst(str(_field_label(name)))
        options.append((name, _("%(field)s (%(kinds)s)") % {"field": label, "kinds": kinds}))
    return sorted(options, key=lambda option: option[1].casefold())


# -- cursors -------------------------------------------------------------------------


def format_cursor(when: datetime.datetime, *parts: int) -> str:
    """ "2019-06-30T12:00:00.000000Z,3,41": a position in a list ordered by time."""
    stamp = when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ",".join([stamp, *map(str, parts)])


# Cursor ids are history ids and kind codes: what a 64-bit column holds, no more (a
# larger number overflows SQLite's integers).
_CURSOR_INT_MAX = 2**63 - 1


def parse_cursor(value: str, parts: int) -> tuple | None:
    """The (time, *ints) of a cursor, or None if it is not one (then the first page):
    malformed, naive, or a time or number no history row can have."""
    pieces = (value or "").split(",")
    if len(pieces) != parts + 1:
        return None
    try:
        when = datetime.datetime.fromisoformat(pieces[0].replace(" ", "+"))
        numbers = tuple(int(piece) for piece in pieces[1:])
    except ValueError:
        return None
    if timezone.is_naive(when) or not all(0 <= n <= _CURSOR_INT_MAX for n in numbers):
        return None
    try:
        # The database compares in UTC; a time near year 1 or 9999 does not convert.
        check_day(when.astimezone(datetime.UTC).date())
    except (OverflowError, ValueError):
        return None
    return (when, *numbers)


# -- filters -------------------------------------------------------------------------


def _printable(value: str) -> None:
    # A NUL is refused by PostgreSQL in any string; other control characters match no
    # username and would only be echoed back.
    if not value.isprintable():
        raise ValidationError(
            _("A username has no control characters."), code="control_characters"
        )


class DayField(forms.CharField):
    """A ``YYYY-MM-DD`` date within the fiscal years the app dates by
    (``strategies.periods.parse_day``)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_day(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_date") from None


def _choice(label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", ""), *choices],
        required=False,
        # Never echo the value: the goal filter must not tell "not yours" from "none".
        error_messages={"invalid_choice": _("Not one of the listed choices, so it was ignored.")},
    )


class AuditFilterForm(ListFilterForm):
    """The audit log's GET filters; a value that does not validate is reported and
    ignored, never an error page."""

    user = forms.CharField(
        label=_("User (username)"), max_length=150, required=False, validators=[_printable]
    )
    order = forms.ChoiceField(
        label=_("Order"), choices=[("", ""), ("oldest", "oldest")], required=False
    )

    def __init__(self, data, *, goals: list[Goal]):
        super().__init__(data)
        self.fields["goal"] = _choice(_("Goal"), [(goal.slug, goal.slug) for goal in goals])
        self.fields["kind"] = _choice(_("Kind of object"), [(k.key, k.key) for k in KINDS])
        self.fields["field"] = _choice(_("Field changed"), FIELD_CHOICES)
        # "from" is a Python keyword: these two are added by name.
        self.fields["from"] = DayField(label=_("From"), required=False)
        self.fields["to"] = DayField(label=_("To"), required=False)


@dataclass
class AuditFilter:
    """What the reader asked for, validated: what does not validate is dropped and
    said in ``problems``."""

    goal: Goal | None = None
    username: str = ""
    kind: Kind | None = None
    field: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    oldest_first: bool = False
    problems: tuple[str, ...] = ()
    # The form itself (dataclasses.field: this class has a field named "field").
    form: AuditFilterForm | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def from_query(cls, params, goals: list[Goal]) -> AuditFilter:
        form = AuditFilterForm(params, goals=goals)
        by_slug = {goal.slug: goal for goal in goals}
        return cls(
            goal=by_slug.get(form.value("goal")),
            username=form.value("user") or "",
            kind=KIND_BY_KEY.get(form.value("kind")),
            field=form.value("field") or "",
            date_from=form.value("from"),
            date_to=form.value("to"),
            oldest_first=form.value("order") == "oldest",
            problems=tuple(form.problems),
            form=form,
        )
