"""Field-level changes between history versions, in words a reviewer reads: status
labels not codes, periods in canonical form, related objects by name."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import ForeignKey, TextField
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit.history import IGNORED_FIELDS as HISTORY_IGNORED_FIELDS
from audit.history import history_of

# Bookkeeping that changes on every save and tells a reader nothing (one list: the
# history rows' "changed fields" column leaves out the same ones).
IGNORED_FIELDS = HISTORY_IGNORED_FIELDS


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str
    # For long text: the two versions as one word-level diff (escaped, <del>/<ins>).
    diff: str = ""

    @property
    def text(self) -> str:
        """ "Status: On track → At risk" — the change in one line of plain words."""
        return f"{str(self.label).capitalize()}: {self.old} → {self.new}"


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> str:
    """``old`` → ``new`` as HTML: unchanged words as they were, removed words in
    <del>, added words in <ins>; every piece of user text escaped."""
    before, after = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    pieces = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(escape("".join(before[i1:i2])))
            continue
        removed, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if removed:
            pieces.append(format_html("<del>{}</del>", removed))
        if removed and added and not (removed[-1].isspace() or added[0].isspace()):
            pieces.append(" ")  # a replaced word and its successor read as two words
        if added:
            pieces.append(format_html("<ins>{}</ins>", added))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


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
    # A field may say how its stored value reads (a fiscal period: "Q3 FY19").
    if hasattr(model_field, "display_for_history"):
        return model_field.display_for_history(value)
    if isinstance(model_field, ForeignKey):
        return names.get((model_field.name, value)) or _("#%(id)s (deleted)") % {"id": value}
    return str(value)


def describe_versions(records: list, model) -> list[HistoryEntry]:
    """Entries for ``records`` (newest first), each diffed against the next-older record
    in the list; the oldest gets no changes unless it is not a creation, in which case it
    is left without a diff. At most one query per kind of related object named in the
    changes, never one per version."""
    if not records:
        return []
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
    names = related_names(model, wanted)

    entries = []
    for record, delta in zip(records, deltas, strict=True):
        changes = []
        if delta is not None:
            for change in delta.changes:
                model_field = model._meta.get_field(change.field)
                is_text = isinstance(model_field, TextField)
                changes.append(
                    FieldChange(
                        field=change.field,
                        label=str(model_field.verbose_name),
                        old=display_value(model_field, change.old, names),
                        new=display_value(model_field, change.new, names),
                        diff=word_diff(change.old, change.new) if is_text else "",
                    )
                )
        entries.append(HistoryEntry(record, changes))
    return entries


def related_names(model, wanted: dict[str, set]) -> dict:
    """{(field name, id): name} for the related objects ``wanted`` names; an object
    since deleted is named from its last history row. One query per kind of related
    object, plus one per kind with deleted objects."""
    names = {}
    for field_name, ids in wanted.items():
        related = model._meta.get_field(field_name).related_model
        for obj in related._default_manager.filter(pk__in=ids):
            names[field_name, obj.pk] = str(obj)
        missing = {pk for pk in ids if (field_name, pk) not in names}
        history = _history_model(related)
        if missing and history is not None:
            latest = history.objects.filter(id__in=missing).order_by("id", "-history_date")
            for row in latest:
                key = (field_name, row.id)
                if key not in names:
                    names[key] = _("%(name)s (deleted)") % {"name": row.instance}
    return names


def _history_model(model):
    history = history_of(model)
    return history.model if history is not None else None
