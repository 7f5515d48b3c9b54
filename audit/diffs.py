"""Field-level changes between history versions, in words a reviewer reads: status
labels not codes, periods in canonical form, related objects by name."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import ForeignKey, TextField
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext
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
    # For long text: the old version with its removed words in <del> and the new one with
    # its added words in <ins> (escaped HTML, see ``word_diff``); "" for other fields.
    before: str = ""
    after: str = ""

    @property
    def text(self) -> str:
        """ "Status: On track → At risk" — the change in one line of plain words."""
        return f"{str(self.label).capitalize()}: {self.old} → {self.new}"

    @property
    def is_text(self) -> bool:
        """A long text shown as a word diff (rather than as two short values)."""
        return bool(self.before or self.after)


_WORDS = re.compile(r"\s+|[^\s]+")
# An unchanged stretch of at most this many words between two changes ("the", "and")
# is folded into them: a rewritten sentence reads as one struck run and one underlined
# run, not as alternating single words.
_GLUE_WORDS = 1


@dataclass(frozen=True)
class WordDiff:
    """Two versions of a text side by side, as escaped HTML: ``before`` is the old text
    with each removed run in <del>, ``after`` the new text with each added run in <ins>.
    Each run starts and ends with visually hidden words ("removed:" … "end of removed")
    so a screen reader says what the strike-through or underline shows."""

    before: str
    after: str

    def __iter__(self):
        return iter((self.before, self.after))


def _segments(before: list[str], after: list[str]) -> list[list]:
    """[[changed?, old text, new text], ...]: the two token lists as runs, the short
    unchanged stretches between changes folded into the changes around them."""
    segments: list[list] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(before[i1:i2]), "".join(after[j1:j2])
        segments.append([op != "equal", old, new])
    merged: list[list] = []
    for index, segment in enumerate(segments):
        changed, old, new = segment
        is_glue = not changed and 0 < index < len(segments) - 1 and len(old.split()) <= _GLUE_WORDS
        if (changed or is_glue) and merged and merged[-1][0]:
            merged[-1][1] += old
            merged[-1][2] += new
        else:
            merged.append([changed or is_glue, old, new])
    return merged


def _marked(tag: str, text: str, start: str, end: str) -> str:
    """``text`` in ``tag``, its surrounding white space left outside the mark."""
    stripped = text.strip()
    if not stripped:
        return escape(text)
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return format_html(
        '{}<{} class="diff-{}"><span class="visually-hidden">{} </span>{}'
        '<span class="visually-hidden"> {}</span></{}>{}',
        lead,
        tag,
        "removed" if tag == "del" else "added",
        start,
        stripped,
        end,
        tag,
        trail,
    )


def word_diff(old: str, new: str) -> WordDiff:
    """``old`` and ``new`` as a side-by-side word diff (``WordDiff``); every piece of
    user text escaped."""
    segments = _segments(_WORDS.findall(old or ""), _WORDS.findall(new or ""))
    removed = (gettext("removed:"), gettext("end of removed text"))
    added = (gettext("added:"), gettext("end of added text"))
    before, after = [], []
    for changed, old_text, new_text in segments:
        if not changed:
            before.append(escape(old_text))
            after.append(escape(new_text))
            continue
        if old_text:
            before.append(_marked("del", old_text, *removed))
        if new_text:
            after.append(_marked("ins", new_text, *added))
    return WordDiff(_joined(before), _joined(after))


def _joined(pieces: list) -> str:
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
    if isinstance(value, datetime.datetime):
        when = timezone.localtime(value) if timezone.is_aware(value) else value
        return date_format(when, "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT")
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
                changes.append(field_change(model_field, change.old, change.new, names))
        entries.append(HistoryEntry(record, changes))
    return entries


def field_change(model_field, old, new, names: dict, *, diff: bool = True) -> FieldChange:
    """One field's change in words: labels for choices, names for related objects, and
    a side-by-side word diff for long text (unless ``diff`` is False: an export that
    keeps only the old and new values)."""
    before = after = ""
    if diff and isinstance(model_field, TextField):
        before, after = word_diff(old, new)
    return FieldChange(
        field=model_field.name,
        label=str(model_field.verbose_name),
        old=display_value(model_field, old, names),
        new=display_value(model_field, new, names),
        before=before,
        after=after,
    )


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
