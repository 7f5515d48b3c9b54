"""Who changed what, from where and why: the audit context every history row records.

Every tracked model uses ``AuditedHistoricalRecords``. A history row gets its user from,
in order: an explicit ``recorded_change(user=...)`` block (services, commands, imports),
the signed-in user of the web request (``HistoryContextMiddleware``), or the named
system user — so the user is never blank. The acting user's id and username are also
copied onto the row itself, so deleting or renaming a user never rewrites history.
"""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


@dataclass(frozen=True)
class ChangeContext:
    user: object | None = None
    reason: str | None = None
    source: str = ""  # "web", "admin", "command:import_plan", ...
    ip: str | None = None
    request_id: str = ""


_context: contextvars.ContextVar[ChangeContext] = contextvars.ContextVar(
    "sdif_change_context",
    default=ChangeContext(),  # noqa: B039 - a frozen dataclass, never mutated
)


def current_context() -> ChangeContext:
    return _context.get()


@contextmanager
def recorded_change(*, user=None, reason: str | None = None, source: str | None = None):
    """Attribute every history row written inside the block to ``user`` with ``reason``.

    Values not given are inherited from the enclosing context (e.g. the web request).
    """
    outer = _context.get()
    inner = replace(
        outer,
        user=user if user is not None else outer.user,
        reason=reason if reason is not None else outer.reason,
        source=source if source is not None else outer.source,
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


class AuditedHistoricalRecords(HistoricalRecords):
    """simple-history with the project's audit context (user, reason, source, IP)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [AuditFields])
        kwargs.setdefault("get_user", _history_user)
        super().__init__(**kwargs)

    def get_change_reason_for_object(self, instance, history_type, using):
        reason = super().get_change_reason_for_object(instance, history_type, using)
        return reason or _context.get().reason


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

    class Meta:
        abstract = True


def _fill_audit_fields(sender, history_instance, history_user, **kwargs):
    if not isinstance(history_instance, AuditFields):
        return
    context = _context.get()
    if history_user is not None:
        history_instance.history_username = history_user.get_username()
    history_instance.history_source = context.source or "code"
    history_instance.history_ip = context.ip
    history_instance.history_request_id = context.request_id


pre_create_historical_record.connect(_fill_audit_fields, dispatch_uid="sdif_audit_fields")


class HistoryContextMiddleware:
    """Record the signed-in user, client IP and a request id on every change of a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id
        source = "admin" if request.path.startswith("/admin/") else "web"
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        token = _context.set(
            ChangeContext(
                user=user,
                source=source,
                ip=request.META.get("REMOTE_ADDR") or None,
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
