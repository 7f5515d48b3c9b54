"""The reasons the app writes itself on history rows, kept translatable.

A reason the app writes ("Status update for Q3 FY19: At risk → Completed", "Moved to
strategy 2", "Added in the admin") is stored as a *code with parameters*, not as
English text, and shown in the reader's language by ``describe``::

    @r1:status_changed:{"new":"completed","old":"at_risk","period":"Q3 FY19"}

``@r1:`` marks the encoding and its version, then the code of the reason kind, then
its parameters as compact JSON (the column is a text field, no length limit). Text a
person typed (a goal's closing reason, an indicator's name) is a parameter, kept
verbatim; parameters that are themselves translatable are stored as codes (a status
as ``at_risk``, a field as its name) and translated when shown.

Each layer declares the kinds of reason it writes in its own ``reasons`` module
(``audit.reasons`` here, ``strategies.reasons``, ``milestones.reasons``), found the
way the admin finds ``admin`` modules, so this bottom layer imports no layer above it.

Reasons stored before the encoding (plain English, in older databases and plan
files) still display: one written by a known kind is recognised from the kind's
English message and shown translated; any other text is shown as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.utils import translation
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

PREFIX = "@r1:"
_ENCODED = re.compile(r"^@r1:(?P<code>[a-z0-9_]+):(?P<params>\{.*\})\Z", re.DOTALL)


@dataclass(frozen=True)
class Param:
    """How one parameter of a reason is shown, and read back from a legacy English text.

    ``show(value)`` gives the text in the active language; ``pattern`` is the regular
    expression its English text matches in a legacy reason and ``parse(text)`` turns
    that text back into the stored value."""

    show: Callable[[object], str] = str
    pattern: str | Callable[[], str] = r".+?"
    parse: Callable[[str], object] = str

    def regex(self) -> str:
        return self.pattern() if callable(self.pattern) else self.pattern


TEXT = Param()  # kept verbatim: text a person typed, a name, a date, a period label
NUMBER = Param(show=int, pattern=r"\d+", parse=int)


def choice(choices_of: Callable[[], list[tuple[str, object]]]) -> Param:
    """A parameter stored as the code of a choice (a status: ``at_risk``) and shown as
    its label in the active language; a legacy text names the English label.
    ``choices_of()`` gives the ``(code, lazy label)`` pairs."""

    def show(value):
        return str(dict(choices_of()).get(value, value))

    def english_labels():
        with translation.override(None):
            return {str(label): code for code, label in choices_of()}

    def pattern():
        labels = sorted(english_labels(), key=len, reverse=True)
        return "|".join(re.escape(label) for label in labels)

    def parse(text):
        return english_labels()[text]

    return Param(show=show, pattern=pattern, parse=parse)


def field_names(model_of: Callable[[], type]) -> Param:
    """A list of a model's field names, shown as their labels in the active language,
    joined with commas; a legacy text lists the English labels."""

    def label(name):
        try:
            return str(model_of()._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a field since removed: its name
            return name

    def show(value):
        return ", ".join(label(name) for name in value)

    def parse(text):
        with translation.override(None):
            names = {
                str(getattr(f, "verbose_name", f.name)): f.name
                for f in model_of()._meta.get_fields()
            }
        return [names[part] for part in text.split(", ")]

    return Param(show=show, pattern=r".+", parse=parse)


@dataclass(frozen=True)
class Kind:
    """A kind of reason: its code, its message (lazy, with ``%(name)s`` placeholders;
    its English is also how a reason of this kind stored as text before the codes is
    recognised) and the type of each parameter (``TEXT`` if not named)."""

    code: str
    message: Promise
    params: dict[str, Param] = field(default_factory=dict)


_kinds: dict[str, Kind] = {}
_legacy: list[tuple[re.Pattern, Kind]] | None = None
_discovered = False


def register(code: str, message, **params: Param) -> str:
    """Declare a kind of reason (in a layer's ``reasons`` module); returns its code."""
    global _legacy
    _kinds[code] = Kind(code, message, params)
    _legacy = None
    return code


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("reasons")


def encode(code: str, **params) -> str:
    """The stored form of a reason of kind ``code`` (registered: the constant its
    ``reasons`` module's ``register`` returned) with ``params`` (JSON values)."""
    kind = _kinds.get(code)
    if kind is None:
        raise KeyError(f"No reason kind {code!r} is registered.")
    missing = set(kind.params) - set(params)
    if missing:
        raise TypeError(f"Reason {code!r} needs {', '.join(sorted(missing))}.")
    payload = json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"{PREFIX}{code}:{payload}"


def decode(text: str | None) -> tuple[str, dict] | None:
    """``(code, params)`` of a stored reason: an encoded one, or a legacy English text
    recognised as a known kind; None for free text (or nothing)."""
    if not text:
        return None
    _discover()
    match = _ENCODED.match(text)
    if match:
        try:
            params = json.loads(match["params"])
        except ValueError:
            return None
        if match["code"] in _kinds and isinstance(params, dict):
            return match["code"], params
        return None
    return _recognise(text)


def _legacy_patterns() -> list[tuple[re.Pattern, Kind]]:
    global _legacy
    if _legacy is None:
        patterns = []
        for kind in _kinds.values():
            with translation.override(None):
                english = str(kind.message)
            patterns.append((_message_regex(english, kind), kind))
        _legacy = patterns
    return _legacy


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _message_regex(message: str, kind: Kind) -> re.Pattern:
    parts, position, seen = [], 0, set()
    for match in _PLACEHOLDER.finditer(message):
        parts.append(re.escape(message[position : match.start()]))
        name = match[1]
        if name in seen:  # the same parameter again: the same text again
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>{kind.params.get(name, TEXT).regex()})")
        position = match.end()
    parts.append(re.escape(message[position:]))
    return re.compile("^" + "".join(parts) + r"\Z", re.DOTALL)


def _recognise(text: str) -> tuple[str, dict] | None:
    for pattern, kind in _legacy_patterns():
        match = pattern.match(text)
        if match is None:
            continue
        try:
            params = {
                name: kind.params.get(name, TEXT).parse(value)
                for name, value in match.groupdict().items()
            }
        except (ValueError, KeyError):
            continue
        return kind.code, params
    return None


def describe(text: str | None) -> str:
    """The stored reason ``text`` in the active language ("" for none): an encoded or
    recognised reason translated, any other text as it was written."""
    decoded = decode(text)
    if decoded is None:
        return text or ""
    code, params = decoded
    kind = _kinds[code]
    try:
        shown = {
            name: kind.params.get(name, TEXT).show(params[name])
            for name in _PLACEHOLDER.findall(str(kind.message))
        }
        return str(kind.message) % shown
    except (KeyError, TypeError, ValueError):
        # A parameter this version cannot show: the stored text rather than an error.
        return text or ""


def describe_in_english(text: str | None) -> str:
    """``describe`` in English, whatever the active language (the audit CSV)."""
    with translation.override("en"):
        return describe(text)


# -- the kinds the audit layer writes itself (the admin's reasons) -------------------------

ADDED_IN_ADMIN = register("admin_added", _("Added in the admin"))
EDITED_IN_ADMIN = register("admin_edited", _("Edited in the admin"))
DELETED_IN_ADMIN = register("admin_deleted", _("Deleted in the admin"))
