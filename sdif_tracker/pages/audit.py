"""The audit log: every recorded change across the goals a reviewer may see, one row per
change, filtered and keyset-paged in SQL.

One query reads a page: a UNION ALL over the history tables, each branch filtered
(scope, goal, user, field, dates, cursor), ordered and limited on its own, so each
uses its indexes ((history_date, history_id), (history_goal_id, history_date),
(history_user_id, history_date)) and reads at most a page of rows; the outer query
merges the branches. A row is ordered by (history_date, kind, history_id) — unique,
since history ids are unique within one table — and the cursor is that triple.

Keyset pages on purpose, not Django's Paginator (which the portfolio uses): over a
million history rows an OFFSET reads and throws away every row before the page and the
paginator's COUNT(*) reads them all (the benchmark's R3 measures it), while a cursor
reads one page whatever its depth. The per-object timelines page the same way.

Each row is named in words with its goal ("Key milestone “Sign the MoU” of SDIF: status
On track → At risk") and carries, for the page and the CSV, the old and new value of
each field it changed: one more query per kind of object on the page (the rows and the
versions before them, ``describe_rows``), whatever the page size.

Who may read it: site administrators (every change, agencies included:
``access.sees_every_change``), users with a reviewer membership on at least one goal and
anyone with an agency-wide role (the changes of the goals they review, as
``access.audit_goals`` decides). Any other signed-in user gets 403: they know the
page exists, but it is not theirs.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from audit.diffs import FieldChange, field_change, related_names
from audit.history import IGNORED_FIELDS, history_of
from milestones.models import Status
from sdif_tracker.access import audit_goals, sees_every_change
from sdif_tracker.pages.audit_filters import (
    KIND_BY_CODE,
    KINDS,
    AuditFilter,
    Kind,
    format_cursor,
)
from strategies.models import Goal, Role
from strategies.periods import FiscalPeriod

PAGE_SIZE = 50
EXPORT_CHUNK = 1000

CHANGE_TYPES = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
# A row's headline names at most this many of its changed fields ("and 2 more").
HEADLINE_FIELDS = 3
NAME_LENGTH = 60


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
    ip: str | None = None
    request_id: str = ""
    goal: Goal | None = None
    goal_name: str = ""
    member_name: str = ""
    # What names a status update or indicator value: its milestone's or indicator's name.
    parent_name: str = ""
    # Old → new for each field changed (``describe_rows``); empty for a creation or
    # deletion, or a change whose previous version is not kept.
    changes: list[FieldChange] = field(default_factory=list)

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
    def is_creation(self) -> bool:
        return self.history_type == "+"

    @property
    def is_deletion(self) -> bool:
        return self.history_type == "-"

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
    def title(self) -> str:
        """The object and its goal in words: "Key milestone “Sign the MoU” of SDIF",
        "Status update on “Sign the MoU” (SDIF) for Q3 FY19"."""
        key = self.kind.key
        goal = self.goal_name or "—"
        name = Truncator(self.name).chars(NAME_LENGTH)
        parent = Truncator(self.parent_name or f"#{self.parent_id}").chars(NAME_LENGTH)
        if key == "agency":
            return _("Agency “%(name)s”") % {"name": name}
        if key == "goal":
            return _("Goal %(goal)s") % {"goal": goal}
        if key == "strategy":
            return _("Strategy %(number)s of %(goal)s") % {"number": self.extra, "goal": goal}
        if key == "membership":
            return _("Membership of %(user)s in %(goal)s") % {
                "user": self.member_name or f"#{self.parent_id}",
                "goal": goal,
            }
        if key == "indicator":
            return _("Key indicator “%(name)s” of %(goal)s") % {"name": name, "goal": goal}
        if key == "indicator_value":
            return _("Value of “%(indicator)s” (%(goal)s) for %(period)s") % {
                "indicator": parent,
                "goal": goal,
                "period": _period(self.name),
            }
        if key == "milestone":
            return _("Key milestone “%(title)s” of %(goal)s") % {"title": name, "goal": goal}
        if key == "status_update":
            return _("Status update on “%(milestone)s” (%(goal)s) for %(period)s") % {
                "milestone": parent,
                "goal": goal,
                "period": _period(self.extra),
            }
        if key == "progress_summary":
            return _("Progress summary of %(goal)s for %(period)s") % {
                "goal": goal,
                "period": _period(self.name),
            }
        return self.object_name

    @property
    def summary(self) -> str:
        """What happened, in a few words: "status On track → At risk, comment changed"."""
        if self.history_type != "~":
            return self.change_type
        if not self.changes:
            labels = self.changed_field_labels
            if not labels:
                return self.change_type
            return _("%(field)s changed") % {"field": ", ".join(labels)}
        parts = [
            _("%(field)s changed") % {"field": change.label}
            if change.is_text
            else _("%(field)s %(old)s → %(new)s")
            % {
                "field": change.label,
                "old": Truncator(change.old).chars(40),
                "new": Truncator(change.new).chars(40),
            }
            for change in self.changes[:HEADLINE_FIELDS]
        ]
        more = len(self.changes) - HEADLINE_FIELDS
        if more > 0:
            parts.append(_("%(count)s more") % {"count": more})
        return ", ".join(parts)

    @property
    def headline(self) -> str:
        """ "Key milestone “Sign the MoU” of SDIF: status On track → At risk"."""
        return _("%(object)s: %(change)s") % {"object": self.title, "change": self.summary}

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
    "history_ip",
    "history_request_id",
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
                "history_ip",
                "history_request_id",
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
        ip=None if data["history_ip"] is None else str(data["history_ip"]),
        request_id=data["history_request_id"] or "",
    )


def audit_query_for(user, params) -> tuple[AuditQuery, list[Goal]]:
    """The query ``params`` ask for, scoped to the goals ``user`` may see, and those
    goals (for the goal filter). Two queries at most: the goals and the named user."""
    from django.contrib.auth import get_user_model

    goals = list(audit_goals(user).only("id", "slug", "title", "short_name").order_by("title"))
    filters = AuditFilter.from_query(params, goals)
    query = AuditQuery(
        filters=filters, goal_ids=None if sees_every_change(user) else [g.pk for g in goals]
    )
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


def label_rows(rows: list[AuditRow], goals: list[Goal], *, diff: bool = True) -> list[AuditRow]:
    """Give each row its goal, for memberships the member's name, and its changes
    (``describe_rows``; word diffs unless ``diff`` is False): at most two queries
    (deleted goals, members) plus those of ``describe_rows``, whatever the number of
    rows."""
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
    return describe_rows(rows, diff=diff)


# What names a row of these kinds: its parent, by this foreign key.
PARENT_FIELDS = {"status_update": "milestone", "indicator_value": "indicator"}


def describe_rows(rows: list[AuditRow], *, diff: bool = True) -> list[AuditRow]:
    """Give each change its old → new values per field (labels for choices, names for
    related objects, word diffs for long text) and each status update or indicator
    value its parent's name. Per kind of object on the page: one query for the rows
    and the version before each, one per kind of related object named (plus one if
    some are deleted)."""
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    for kind, kind_rows in by_kind.items():
        parent_field = PARENT_FIELDS.get(kind.key)
        if parent_field:
            ids = {row.parent_id for row in kind_rows if row.parent_id}
            names = related_names(kind.model, {parent_field: ids}) if ids else {}
            for row in kind_rows:
                row.parent_name = names.get((parent_field, row.parent_id), "")
        changed = [row for row in kind_rows if row.history_type == "~"]
        if changed:
            _describe_changes(kind, changed, diff=diff)
    return rows


def _describe_changes(kind, rows: list[AuditRow], *, diff: bool) -> None:
    history = kind.history_model
    ids = [row.history_id for row in rows]
    earlier = history.objects.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    previous_ids = (
        history.objects.filter(history_id__in=ids)
        .annotate(
            previous=Subquery(
                earlier.order_by("-history_date", "-history_id").values("history_id")[:1]
            )
        )
        .values("previous")
    )
    versions = history.objects.filter(
        Q(history_id__in=ids) | Q(history_id__in=previous_ids)
    ).order_by("id", "history_date", "history_id")
    # Each version of the page after the one before it: in this ordered list, the
    # version before a page row is the one fetched for it (or another page row).
    pairs, last = {}, {}
    wanted_ids = set(ids)
    for version in versions:
        before = last.get(version.id)
        if version.history_id in wanted_ids and before is not None:
            pairs[version.history_id] = (before, version)
        last[version.id] = version
    # Every tracked field, also those no form edits (when a summary was published), which
    # simple-history's diff_against() skips: the rule of ``history_changed_fields``.
    model = kind.model
    fields = [f for f in history.tracked_fields if f.name not in IGNORED_FIELDS]
    deltas = {
        history_id: [
            (f, getattr(before, f.attname), getattr(after, f.attname))
            for f in fields
            if getattr(before, f.attname) != getattr(after, f.attname)
        ]
        for history_id, (before, after) in pairs.items()
    }
    wanted = defaultdict(set)
    for delta in deltas.values():
        for tracked, old, new in delta:
            model_field = model._meta.get_field(tracked.name)
            if model_field.many_to_one:
                wanted[model_field.name].update(v for v in (old, new) if v)
    names = related_names(model, wanted)
    for row in rows:
        delta = deltas.get(row.history_id)
        if delta is not None:
            row.changes = [
                field_change(model._meta.get_field(tracked.name), old, new, names, diff=diff)
                for tracked, old, new in delta
            ]
