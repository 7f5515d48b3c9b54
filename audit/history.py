"""Who changed what, from where and why: the audit context every history row records.

Every tracked model uses ``AuditedHistoricalRecords``. A history row gets its user from,
in order: an explicit ``recorded_change(user=...)`` block (services, commands, imports),
the signed-in user of the web request (``HistoryContextMiddleware``), or the named
system user — so the user is never blank. The acting user's id and username are also
copied onto the row itself, so deleting or renaming a user never rewrites history.

History rows are append-only: the user column has no database constraint and no
cascade (deleting a user leaves the rows as they were), and each row also records the
goal it belongs to and the names of the fields it changed, so the audit log can filter
by goal and field in SQL (``sdif_tracker/pages/audit.py``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from audit.client_address import client_address

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeContext:
    user: object | None = None
    reason: str | None = None
    source: str = ""  # "web", "admin", "command:import_plan", ...
    ip: str | None = None
    request_id: str = ""
    # The reporting quarter the change belongs to (a fiscal period key, see
    # strategies.periods); None: worked out from the object (``quarter_resolver``).
    quarter: int | None = None


_context: contextvars.ContextVar[ChangeContext] = contextvars.ContextVar(
    "sdif_change_context",
    default=ChangeContext(),  # noqa: B039 - a frozen dataclass, never mutated
)


def current_context() -> ChangeContext:
    return _context.get()


@contextmanager
def recorded_change(
    *, user=None, reason: str | None = None, source: str | None = None, quarter=None
):
    """Attribute every history row written inside the block to ``user`` with ``reason``,
    and, with ``quarter`` (a fiscal period or its key), to that reporting quarter.

    Values not given are inherited from the enclosing context (e.g. the web request).
    """
    outer = _context.get()
    inner = replace(
        outer,
        user=user if user is not None else outer.user,
        reason=reason if reason is not None else outer.reason,
        source=source if source is not None else outer.source,
        quarter=getattr(quarter, "key", quarter) if quarter is not None else outer.quarter,
    )
    token = _context.set(inner)
    try:
        yield inner
    finally:
        _context.reset(token)


def get_system_user():
    """The named user commands and imports act as (made on first use, no usable password)."""
    user_model = get_user_model()
    user, created = user_model._default_manager.get_or_create(
        username=settings.SYSTEM_USERNAME,
        defaults={"is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _history_user(instance=None, request=None, **kwargs):
    context = _context.get()
    if context.user is not None:
        return context.user
    if request is not None and getattr(request.user, "is_authenticated", False):
        return request.user
    return get_system_user()


# Bookkeeping that changes on every save and tells a reader nothing: never a "change".
IGNORED_FIELDS = frozenset({"version", "updated_at", "created_at"})


class _ActorDescriptor(ForwardManyToOneDescriptor):
    """``row.history_user``: the user, or None once the account is gone (the id stays)."""

    def __get__(self, instance, cls=None):
        try:
            return super().__get__(instance, cls)
        except self.field.related_model.DoesNotExist:
            return None


class ActorForeignKey(models.ForeignKey):
    """The acting user of a history row: no database constraint and no cascade, so
    deleting a user neither fails nor rewrites (UPDATE) the append-only history rows;
    the row keeps the user's id and, in ``history_username``, their name."""

    forward_related_accessor_class = _ActorDescriptor

    def __init__(self, to, **kwargs):
        kwargs["on_delete"] = models.DO_NOTHING
        kwargs["db_constraint"] = False
        kwargs.setdefault("null", True)
        super().__init__(to, **kwargs)


class AuditedHistoricalRecords(HistoricalRecords):
    """simple-history with the project's audit context (user, reason, source, IP), an
    append-only user column and the indexes the timelines and the audit log read by."""

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [AuditFields])
        kwargs.setdefault("get_user", _history_user)
        super().__init__(**kwargs)

    def get_change_reason_for_object(self, instance, history_type, using):
        reason = super().get_change_reason_for_object(instance, history_type, using)
        return reason or _context.get().reason

    def _get_history_user_fields(self):
        # simple-history's own column is SET_NULL: deleting a user would UPDATE history.
        return {
            "history_user": ActorForeignKey(
                self.user_model or settings.AUTH_USER_MODEL,
                related_name=self.user_related_name,
            )
        }

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        # Index names are global on PostgreSQL: one prefix per tracked model.
        prefix = f"h_{model._meta.model_name}"
        options["indexes"] = [
            # The audit log, newest (or oldest) first, keyset-paged.
            models.Index(fields=["history_date", "history_id"], name=f"{prefix}_date"),
            models.Index(fields=["history_user", "history_date"], name=f"{prefix}_user"),
            models.Index(fields=["history_goal_id", "history_date"], name=f"{prefix}_goal"),
            # "As reported for a quarter": a goal's rows up to a reporting quarter.
            models.Index(fields=["history_goal_id", "history_quarter"], name=f"{prefix}_gq"),
            # One object's timeline, keyset-paged.
            models.Index(
                fields=[model._meta.pk.attname, "history_date", "history_id"],
                name=f"{prefix}_obj",
            ),
        ]
        return options


class AuditFields(models.Model):
    """Columns every history table carries besides simple-history's own."""

    history_username = models.CharField(
        "username",
        max_length=150,
        blank=True,
        help_text="The acting user's username when the change was made; kept if the user goes.",
    )
    history_source = models.CharField(
        "source", max_length=100, blank=True, help_text="web, admin, or the command that made it."
    )
    history_ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    history_request_id = models.CharField("request id", max_length=64, blank=True)
    # Filled from the object when the row is written, so the audit log filters by goal
    # and by field in SQL, with an index, instead of diffing rows in Python.
    history_goal_id = models.IntegerField(
        "goal id",
        null=True,
        blank=True,
        help_text="The goal the object belonged to (none for an agency).",
    )
    # The second time axis: the reporting quarter the change belongs to (a fiscal period
    # key), beside ``history_date``, the true time it was recorded.
    history_quarter = models.PositiveIntegerField(
        "reporting quarter",
        null=True,
        blank=True,
        help_text="The reporting quarter the change belongs to (a fiscal period key).",
    )
    history_changed_fields = models.TextField(
        "changed fields",
        blank=True,
        help_text='Names of the fields this change changed, comma-wrapped: ",status,comment,".',
    )

    class Meta:
        abstract = True


def history_of(model):
    """The history manager of a tracked model, whatever it is called (``Goal.changes``,
    every other model's ``history``); None for an untracked model."""
    name = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, name) if name else None


def goal_id_of(instance) -> int | None:
    """The id of the goal ``instance`` belongs to: the goal itself, its ``goal``, or the
    goal of the object its first foreign key to a goal-owned model points at (a status
    update's milestone, an indicator value's indicator); None for an agency."""
    opts = instance._meta
    # The one model whose rows are their own goal says so (``Goal.history_goal_is_self``).
    if getattr(type(instance), "history_goal_is_self", False):
        return instance.pk
    if any(field.name == "goal" for field in opts.concrete_fields):
        return instance.goal_id
    for field in opts.concrete_fields:
        if field.many_to_one and any(
            f.name == "goal" for f in field.related_model._meta.concrete_fields
        ):
            parent = getattr(instance, field.name)  # usually cached: no query
            return parent.goal_id if parent is not None else None
    return None


def changed_field_names(history_instance, instance) -> str:
    """ ",status,comment,": the tracked fields that differ from the object's previous
    history row (one query); "" for a creation or deletion."""
    if history_instance.history_type != "~":
        return ""
    previous = (
        type(history_instance)
        ._default_manager.filter(**{instance._meta.pk.attname: instance.pk})
        .order_by("-history_date", "-history_id")
        .first()
    )
    if previous is None:
        return ""
    return changed_fields(history_instance.tracked_fields, previous, history_instance)


def changed_fields(fields, before, after) -> str:
    """ ",status,comment,": the names of ``fields`` whose values differ between two
    versions of one object (instances or history rows), bookkeeping aside; "" if none.
    The one rule for ``history_changed_fields``, also used by the bulk history path."""
    names = [
        field.name
        for field in fields
        if field.name not in IGNORED_FIELDS
        and getattr(before, field.attname) != getattr(after, field.attname)
    ]
    return f",{','.join(names)}," if names else ""


# Works out the reporting quarter a change of ``instance`` belongs to when the context
# names none. Audit is the bottom layer and knows no goals or quarters: the milestones
# app, which knows both, registers it (milestones.apps).
_quarter_resolver = None


def register_quarter_resolver(resolver) -> None:
    """``resolver(instance) -> int | None``: the reporting-quarter key of a change."""
    global _quarter_resolver
    _quarter_resolver = resolver


def _fill_audit_fields(sender, history_instance, history_user, instance=None, **kwargs):
    if not isinstance(history_instance, AuditFields):
        return
    context = _context.get()
    if history_user is not None:
        history_instance.history_username = history_user.get_username()
    history_instance.history_source = context.source or "code"
    history_instance.history_ip = context.ip
    history_instance.history_request_id = context.request_id
    if instance is not None:
        history_instance.history_goal_id = goal_id_of(instance)
        history_instance.history_changed_fields = changed_field_names(history_instance, instance)
    if context.quarter is not None:
        history_instance.history_quarter = context.quarter
    elif instance is not None and _quarter_resolver is not None:
        history_instance.history_quarter = _quarter_resolver(instance)


pre_create_historical_record.connect(_fill_audit_fields, dispatch_uid="sdif_audit_fields")


# A client's own X-Request-ID is logged beside the server's id, cut to this length and
# to printable ASCII so it cannot forge log lines or arrive as mojibake.
CLIENT_REQUEST_ID_MAX_LENGTH = 64
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def client_request_id(request) -> str:
    """The client's ``X-Request-ID``, sanitised for a log line ("" if none)."""
    raw = request.headers.get("X-Request-ID", "")
    return _UNPRINTABLE.sub("?", raw[:CLIENT_REQUEST_ID_MAX_LENGTH]).strip()


class HistoryContextMiddleware:
    """Record the signed-in user, client IP and a request id on every change of a request.

    The request id is always the server's own (a client could otherwise choose the id
    its changes are filed under in the audit trail); a client's ``X-Request-ID`` is only
    logged beside it, so the two can be matched up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        client_id = client_request_id(request)
        if client_id:
            logger.info("Request %s carries the client's X-Request-ID %r", request_id, client_id)
        source = "admin" if request.path.startswith("/admin/") else "web"
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        token = _context.set(
            ChangeContext(
                user=user,
                source=source,
                ip=client_address(request),
                request_id=request_id,
            )
        )
        # simple-history's own hook, for code that reads it directly.
        HistoricalRecords.context.request = request
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
            if hasattr(HistoricalRecords.context, "request"):
                del HistoricalRecords.context.request
        response["X-Request-ID"] = request_id
        return response


def saved_by(record, user) -> bool:
    """Whether the history ``record`` was saved by ``user``: in a conflict, the newer save
    was then the reader's own, in another tab or window, not someone else's."""
    saver = getattr(record, "history_user_id", None)  # None: no record, or no user
    return saver is not None and saver == getattr(user, "pk", None)
