"""The audit log: every recorded change across the goals a reviewer may see, one row per
change, filtered and keyset-paged in SQL.

One query reads a page: a UNION ALL over the history tables, each branch filtered
(scope, goal, user, field, dates, cursor), ordered and limited on its own, so each
uses its indexes ((history_date, history_id), (history_goal_id, history_date),
(history_user_id, history_date)) and reads at most a page of rows; the outer query
merges the branches. A row is ordered by (history_date, kind, history_id) — unique,
since history ids are unique within one table — and the cursor is that triple.

Who may read it: administrators (every change, agencies included) and users with a
reviewer membership on at least one goal (changes of every goal they may see, as
``Goal.objects.visible_to`` decides). Any other signed-in user gets 403: they know the
page exists, but it is not theirs.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from audit.history import IGNORED_FIELDS, history_of
from milestones.models import Milestone, ProgressSummary, Status, StatusUpdate
from sdif_tracker.access import is_admin
from sdif_tracker.exports import safe_cell
from strategies.models import (
    Agency,
    Goal,
    Indicator,
    IndicatorValue,
    Membership,
    Role,
    Strategy,
)
from strategies.periods import FiscalPeriod, check_day, parse_day

PAGE_SIZE = 50
EXPORT_CHUNK = 1000

CHANGE_TYPES = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


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


def can_see_audit_log(user) -> bool:
    """Admins, and users with a reviewer membership (one query, cached on the user)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    if not hasattr(user, "_sdif_is_reviewer"):
        user._sdif_is_reviewer = Membership.objects.filter(user=user, role=Role.REVIEWER).exists()
    return user._sdif_is_reviewer


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


class AuditFilterForm(forms.Form):
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

    def value(self, name: str):
        """The cleaned value of ``name``; None when it is empty or did not validate."""
        self.is_valid()
        return self.cleaned_data.get(name) or None

    @property
    def problems(self) -> list[str]:
        """One message per filter that was not understood (and so was ignored)."""
        self.is_valid()
        return [
            _("%(filter)s: %(error)s")
            % {"filter": self.fields[name].label, "error": " ".join(errors)}
            for name, errors in self.errors.items()
        ]


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
        )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# -- the query -----------------------------------------------------------------------


@dataclass
class AuditRow:
    kind: Kind
    history_id: int
    history_date: datetime.datetime
    history_type: str
    user_id: int | None
    username: str
    reason: str
    source: str
    goal_id: int | None
    changed_fields: list[str]
    object_id: int
    name: str
    extra: str | None
    parent_id: int | None
    goal: Goal | None = None
    goal_name: str = ""
    member_name: str = ""

    @property
    def changed_field_labels(self) -> list[str]:
        """The changed fields as the model names them ("revised due", "status")."""
        labels = []
        for name in self.changed_fields:
            try:
                labels.append(str(self.kind.model._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:
                labels.append(name)
        return labels

    @property
    def change_type(self) -> str:
        return str(CHANGE_TYPES.get(self.history_type, self.history_type))

    @property
    def cursor(self) -> str:
        return format_cursor(self.history_date, self.kind.code, self.history_id)

    @property
    def object_name(self) -> str:
        """The object in words: "Strategy 2: …", "Status update: At risk (Q3 FY19)"."""
        key = self.kind.key
        if key == "strategy" and self.extra:
            return _("Strategy %(number)s: %(title)s") % {"number": self.extra, "title": self.name}
        if key in ("progress_summary", "indicator_value"):
            return _period(self.name)
        if key == "status_update":
            return _("%(status)s (%(period)s)") % {
                "status": Status(self.name).label if self.name in Status.values else self.name,
                "period": _period(self.extra),
            }
        if key == "membership":
            role = Role(self.name).label if self.name in Role.values else self.name
            return _("%(role)s: %(user)s") % {
                "role": role,
                "user": self.member_name or f"#{self.parent_id}",
            }
        return self.name

    @property
    def timeline_url(self) -> str:
        """This object's timeline (or its parent's), if the goal is known."""
        if self.goal is None:
            return ""
        slug = self.goal.slug
        routes = {
            "goal": ("goal_history", {"slug": slug}),
            "strategy": ("strategy_history", {"slug": slug, "pk": self.object_id}),
            "milestone": ("milestone_history", {"slug": slug, "pk": self.object_id}),
            "status_update": ("milestone_history", {"slug": slug, "pk": self.parent_id}),
            "progress_summary": ("progress_history", {"slug": slug, "pk": self.object_id}),
            "indicator": ("indicator_history", {"slug": slug, "pk": self.object_id}),
            "indicator_value": ("indicator_history", {"slug": slug, "pk": self.parent_id}),
        }
        route = routes.get(self.kind.key)
        return reverse(route[0], kwargs=route[1]) if route else ""


def _period(key) -> str:
    try:
        return str(FiscalPeriod.from_key(int(key)))
    except (TypeError, ValueError):
        return str(key or "—")


COLUMNS = (
    "kind",
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_username",
    "history_change_reason",
    "history_source",
    "history_goal_id",
    "history_changed_fields",
    "object_id",
    "name",
    "extra",
    "parent_id",
)


@dataclass
class AuditQuery:
    """The audit log of ``user``'s goals with ``filters``: pages, and every row."""

    filters: AuditFilter
    goal_ids: list[int] | None  # None: every goal and the rows of none (admins)
    user_id: int | None = None  # the user filter, resolved to an id where the user exists

    def kinds(self) -> list[Kind]:
        kinds = [self.filters.kind] if self.filters.kind else KINDS
        if self.filters.field:
            kinds = [kind for kind in kinds if self.filters.field in kind.field_names]
        if self.goal_ids is not None or self.filters.goal is not None:
            kinds = [kind for kind in kinds if kind.key != "agency"]
        return kinds

    def _branch(self, kind: Kind, cursor, limit: int) -> tuple[str, list]:
        q = connection.ops.quote_name
        adapt = connection.ops.adapt_datetimefield_value
        table = q(kind.history_model._meta.db_table)
        where, params = [], []
        if self.goal_ids is not None:
            where.append(f"history_goal_id IN ({', '.join(['%s'] * len(self.goal_ids))})")
            params += self.goal_ids
        if self.filters.goal is not None:
            where.append("history_goal_id = %s")
            params.append(self.filters.goal.pk)
        if self.user_id is not None:
            where.append("history_user_id = %s")
            params.append(self.user_id)
        elif self.filters.username:
            where.append("history_username = %s")
            params.append(self.filters.username)
        if self.filters.field:
            where.append("history_changed_fields LIKE %s ESCAPE '\\'")
            escaped = self.filters.field.replace("\\", "\\\\").replace("_", "\\_")
            params.append(f"%,{escaped},%")
        if self.filters.date_from:
            where.append("history_date >= %s")
            params.append(adapt(_start_of(self.filters.date_from)))
        if self.filters.date_to:
            where.append("history_date < %s")
            params.append(adapt(_start_of(self.filters.date_to + datetime.timedelta(days=1))))
        oldest = self.filters.oldest_first
        if cursor is not None:
            when, code, history_id = cursor
            after, strictly = (">", ">=") if oldest else ("<", "<=")
            if kind.code == code:
                where.append(
                    f"(history_date {after} %s OR (history_date = %s AND history_id {after} %s))"
                )
                params += [adapt(when), adapt(when), history_id]
            else:
                # Same instant: the kinds on the far side of the cursor's still come.
                comes_later = kind.code < code if not oldest else kind.code > code
                where.append(f"history_date {strictly if comes_later else after} %s")
                params.append(adapt(when))
        direction = "ASC" if oldest else "DESC"
        select = ", ".join(
            [
                f"{kind.code} AS kind",
                *COLUMNS[1:10],
                "id AS object_id",
                f"{kind.name_column} AS name",
                f"{kind.extra_column} AS extra",
                f"{kind.parent_column} AS parent_id",
            ]
        )
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        order = f"history_date {direction}, history_id {direction}"
        # Only constants and a quoted table name are spliced in; values are parameters.
        inner = f"SELECT {select} FROM {table}{condition} ORDER BY {order} LIMIT {int(limit)}"  # noqa: S608
        sql = f"SELECT * FROM ({inner}) AS b{kind.code}"  # noqa: S608
        return sql, params

    def fetch(self, cursor=None, limit: int = PAGE_SIZE) -> list[AuditRow]:
        """Up to ``limit`` rows after ``cursor``, in one query."""
        kinds = self.kinds()
        if not kinds or self.goal_ids == []:
            return []
        branches = [self._branch(kind, cursor, limit) for kind in kinds]
        direction = "ASC" if self.filters.oldest_first else "DESC"
        sql = (
            " UNION ALL ".join(sql for sql, _params in branches)
            + f" ORDER BY history_date {direction}, kind {direction}, history_id {direction}"
            + f" LIMIT {int(limit)}"
        )
        params = [param for _sql, branch_params in branches for param in branch_params]
        with connection.cursor() as db:
            db.execute(sql, params)
            return [_row(values) for values in db.fetchall()]

    def page(self, cursor=None) -> tuple[list[AuditRow], str]:
        """One page and the cursor of the next ("" on the last page)."""
        rows = self.fetch(cursor, PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return rows, (rows[-1].cursor if more else "")

    def all(self) -> Iterator[AuditRow]:
        """Every row, a chunk (one query) at a time: for the CSV export."""
        cursor = None
        while True:
            rows = self.fetch(cursor, EXPORT_CHUNK)
            yield from rows
            if len(rows) < EXPORT_CHUNK:
                return
            last = rows[-1]
            cursor = (last.history_date, last.kind.code, last.history_id)


def _row(values) -> AuditRow:
    data = dict(zip(COLUMNS, values, strict=True))
    when = data["history_date"]
    if isinstance(when, str):  # SQLite: a UNION's columns lose their declared types
        when = parse_datetime(when)
    if timezone.is_naive(when):
        when = timezone.make_aware(when, datetime.UTC)
    return AuditRow(
        kind=KIND_BY_CODE[int(data["kind"])],
        history_id=data["history_id"],
        history_date=when,
        history_type=data["history_type"],
        user_id=data["history_user_id"],
        username=data["history_username"],
        reason=data["history_change_reason"] or "",
        source=data["history_source"],
        goal_id=data["history_goal_id"],
        changed_fields=[
            name for name in (data["history_changed_fields"] or "").split(",") if name
        ],
        object_id=data["object_id"],
        name=str(data["name"] or ""),
        extra=None if data["extra"] is None else str(data["extra"]),
        parent_id=data["parent_id"],
    )


def audit_query_for(user, params) -> tuple[AuditQuery, list[Goal]]:
    """The query ``params`` ask for, scoped to the goals ``user`` may see, and those
    goals (for the goal filter). Two queries at most: the goals and the named user."""
    from django.contrib.auth import get_user_model

    goals = list(
        Goal.objects.visible_to(user).only("id", "slug", "title", "short_name").order_by("title")
    )
    filters = AuditFilter.from_query(params, goals)
    query = AuditQuery(filters=filters, goal_ids=None if is_admin(user) else [g.pk for g in goals])
    if filters.username:
        # By id where the account exists (renamed users keep their id); by the name kept
        # on the rows for accounts since deleted.
        query.user_id = (
            get_user_model()
            ._default_manager.filter(username=filters.username)
            .values_list("pk", flat=True)
            .first()
        )
    return query, goals


def label_rows(rows: list[AuditRow], goals: list[Goal]) -> list[AuditRow]:
    """Give each row its goal and, for memberships, the member's name: at most two
    queries whatever the number of rows (deleted goals, members)."""
    from django.contrib.auth import get_user_model

    by_id = {goal.pk: goal for goal in goals}
    missing = {row.goal_id for row in rows if row.goal_id and row.goal_id not in by_id}
    gone = {}
    if missing:
        history = (
            history_of(Goal).model.objects.filter(id__in=missing).order_by("id", "-history_date")
        )
        for version in history.only("id", "title", "short_name", "history_date"):
            gone.setdefault(version.id, _("%(title)s (deleted)") % {"title": version.title})
    member_ids = {row.parent_id for row in rows if row.kind.key == "membership"}
    members = {}
    if member_ids:
        members = dict(
            get_user_model()
            ._default_manager.filter(pk__in=member_ids)
            .values_list("pk", "username")
        )
    for row in rows:
        row.goal = by_id.get(row.goal_id)
        if row.goal is not None:
            row.goal_name = row.goal.short_name or row.goal.title
        else:
            row.goal_name = gone.get(row.goal_id, "")
        if row.kind.key == "membership":
            row.member_name = members.get(row.parent_id, "")
    return rows


# -- CSV -----------------------------------------------------------------------------

CSV_HEADER = [
    "time",
    "kind",
    "object id",
    "object",
    "goal",
    "change",
    "user",
    "user id",
    "source",
    "reason",
    "changed fields",
]


class _Echo:
    def write(self, value):
        return value


def csv_lines(query: AuditQuery, goals: list[Goal]) -> Iterator[str]:
    """The filtered log as CSV lines, header first, a chunk of rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    chunk = []
    for row in query.all():
        chunk.append(row)
        if len(chunk) == EXPORT_CHUNK:
            yield from _csv_rows(writer, label_rows(chunk, goals))
            chunk = []
    yield from _csv_rows(writer, label_rows(chunk, goals))


def _csv_rows(writer, rows):
    for row in rows:
        cells = [
            row.history_date.isoformat(),
            row.kind.key,
            row.object_id,
            row.object_name,
            row.goal_name,
            row.change_type,
            row.username,
            row.user_id,
            row.source,
            row.reason,
            " ".join(row.changed_fields),
        ]
        yield writer.writerow([safe_cell(cell) for cell in cells])
