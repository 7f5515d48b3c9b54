"""Field-level changes between history versions, in words a reviewer reads: status
labels not codes, periods in canonical form, related objects by name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import ForeignKey
from django.utils.translation import gettext_lazy as _

from strategies.periods import FiscalPeriod, FiscalPeriodField

# Bookkeeping that changes on every save and tells a reader nothing.
IGNORED_FIELDS = frozenset({"version", "updated_at", "created_at"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    record: object  # a historical row
    changes: list[FieldChange]

    @property
    def is_creation(self) -> bool:
        return self.record.history_type == "+"

    @property
    def is_deletion(self) -> bool:
        return self.record.history_type == "-"


def display_value(model_field, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, FiscalPeriodField):
        return str(value if isinstance(value, FiscalPeriod) else FiscalPeriod.from_key(value))
    if isinstance(model_field, ForeignKey):
        return names.get((model_field.name, value)) or _("#%(id)s (deleted)") % {"id": value}
    return str(value)


def describe_versions(records: list, model) -> list[HistoryEntry]:
    """Entries for ``records`` (newest first), each diffed against the next-older record
    in the list; the oldest gets no changes unless it is not a creation, in which case it
    is left without a diff. At most one query per kind of related object named in the
    changes, never one per version."""
    deltas = [
        record.diff_against(previous, excluded_fields=IGNORED_FIELDS)
        if previous is not None
        else None
        for record, previous in zip(records, [*records[1:], None], strict=True)
    ]

    wanted = defaultdict(set)
    for delta in filter(None, deltas):
        for change in delta.changes:
            model_field = model._meta.get_field(change.field)
            if isinstance(model_field, ForeignKey):
                wanted[model_field.name].update(v for v in (change.old, change.new) if v)
    names = {}
    for field_name, ids in wanted.items():
        related = model._meta.get_field(field_name).related_model
        for obj in related._default_manager.filter(pk__in=ids):
            names[field_name, obj.pk] = str(obj)

    entries = []
    for record, delta in zip(records, deltas, strict=True):
        changes = []
        if delta is not None:
            for change in delta.changes:
                model_field = model._meta.get_field(change.field)
                changes.append(
                    FieldChange(
                        field=change.field,
                        label=str(model_field.verbose_name),
                        old=display_value(model_field, change.old, names),
                        new=display_value(model_field, change.new, names),
                    )
                )
        entries.append(HistoryEntry(record, changes))
    return entries
