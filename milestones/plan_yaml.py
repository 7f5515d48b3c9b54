"""The action-plan interchange format (DESIGN.md, "Action plan interchange format").

``parse_plan`` reads and checks a YAML action plan without touching the database;
``import_plan`` writes it in one transaction as a recorded change; ``export_plan``
writes a goal back out. Importing an export gives the same plan, and exporting that
again gives the same text.

Every error names the YAML line (1-based) and the field path, e.g.
``line 57: milestones[4].due: "Q5 FY19" is not a fiscal period: a quarter is Q1 to Q4.``
List indexes in paths are **0-based**, as in JSON paths: ``milestones[4]`` is the fifth
milestone. Positions *in* the format — ``depends_on`` — and milestone numbers in
messages are 1-based, as a published plan counts them ("See fifth milestone above").

Beyond DESIGN.md's example the format carries the two model fields it would otherwise
lose: ``strategies[].description`` and ``indicators[].direction`` (higher | lower).
An export omits optional keys that are empty (null, "" or []); ``strategies`` and
``milestones`` are always written, ``[]`` when there are none.

It lives in ``milestones`` because it spans both apps; ``strategies`` never imports it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Count, Prefetch, ProtectedError, RestrictedError
from django.utils import translation
from django.utils.text import slugify

from milestones.models import Milestone, ProgressSummary, Status
from strategies.history import get_system_user, recorded_change
from strategies.models import (
    PROGRAM_FIELDS,
    SECTION_FIELDS,
    Agency,
    Direction,
    Goal,
    Indicator,
    IndicatorValue,
    Sensitivity,
    Strategy,
)
from strategies.periods import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, FiscalPeriod

FORMAT = "apg-action-plan/1"
IMPORT_REASON = "Imported from action-plan YAML"
# Aliases can expand a small file into a huge tree ("billion laughs"); a plan is small.
MAX_NODES = 100_000
DOCUMENT = "(document)"


class PlanError(Exception):
    """A plan that cannot be imported; ``errors`` lists every problem, one per entry."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# -- the parsed plan -------------------------------------------------------------------


@dataclass
class StrategyData:
    line: int
    number: int
    title: str
    description: str


@dataclass
class MilestoneData:
    line: int
    position: int  # 1-based order in the file
    title: str
    due: FiscalPeriod | None
    revised_due: FiscalPeriod | None
    strategy: int | None  # strategy number
    status: str
    owner: str
    comment: str
    depends_on: int | None  # 1-based position


@dataclass
class ProgressData:
    line: int
    period: FiscalPeriod
    summary: str


@dataclass
class IndicatorValueData:
    line: int
    period: FiscalPeriod
    target: Decimal | None
    actual: Decimal | None


@dataclass
class IndicatorData:
    line: int
    position: int
    name: str
    unit: str
    direction: str
    values: list[IndicatorValueData]


@dataclass
class PlanData:
    """A checked plan, ready to write: model field values plus the line they came from."""

    agency_name: str
    agency_abbreviation: str | None  # None: not in the file, leave the agency's as is
    goal: dict[str, object]
    agency_line: int
    goal_line: int
    slug_line: int
    strategies_line: int
    milestones_line: int
    strategies: list[StrategyData] = field(default_factory=list)
    milestones: list[MilestoneData] = field(default_factory=list)
    progress: list[ProgressData] = field(default_factory=list)
    indicators: list[IndicatorData] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.goal["slug"]


# -- YAML with line numbers --------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class _Sequence(list):
    """A YAML sequence that remembers its own line and each item's line (1-based)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _PlanLoader(yaml.SafeLoader):
    """The safe loader: YAML's core types only, never Python objects."""


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _where(line: int, path: str, message: str) -> str:
    return f"line {line}: {path or DOCUMENT}: {message}"


class _Converter:
    """Turns composed YAML nodes into `_Mapping`/`_Sequence`/scalars, keeping lines.

    Mapping keys are kept as written (text), so `on:` or `1:` are unknown keys rather
    than booleans or numbers; a key given twice is an error, not a silent overwrite.
    """

    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.errors: list[str] = []
        self.nodes = 0
        self.open: set[int] = set()

    def convert(self, node: yaml.Node, path: str):
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise PlanError([_where(line, path, f"the file has over {MAX_NODES} values")])
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as error:
                # e.g. !!python/name:os.system: the safe loader builds no Python objects.
                self.errors.append(_where(line, path, f"not allowed: {error.problem}"))
                return None
            except (ValueError, OverflowError):
                # e.g. 2019-13-45 looks like a date but is none: keep the text, so the
                # field's own check says what is wrong with it.
                return node.value
        if id(node) in self.open:
            self.errors.append(_where(line, path, "an alias refers to itself"))
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path, line)
            return self._mapping(node, path, line)
        finally:
            self.open.discard(id(node))

    def _sequence(self, node, path, line):
        if node.tag != _SEQ_TAG:
            self.errors.append(_where(line, path, f"the tag {node.tag} is not allowed"))
        result = _Sequence(line)
        for index, item in enumerate(node.value):
            result.item_lines.append(item.start_mark.line + 1)
            result.append(self.convert(item, f"{path}[{index}]"))
        return result

    def _mapping(self, node, path, line):
        if node.tag != _MAP_TAG:
            self.errors.append(_where(line, path, f"the tag {node.tag} is not allowed"))
        result = _Mapping(line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                self.errors.append(_where(key_line, path, "merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(_where(key_line, path, "a key must be plain text"))
                continue
            key = key_node.value
            if key in result:
                self.errors.append(
                    _where(
                        key_line,
                        _join(path, key),
                        f"duplicate key (first given on line {result.key_lines[key]})",
                    )
                )
                continue
            result.key_lines[key] = key_line
            result[key] = self.convert(value_node, _join(path, key))
        return result


def _load(text: str):
    """The document as `_Mapping`/`_Sequence`/scalars, and the structural errors found."""
    loader = None
    try:
        loader = _PlanLoader(text)  # checks the characters first
        node = loader.get_single_node()
        if node is None:
            return None, []
        converter = _Converter(loader)
        return converter.convert(node, ""), converter.errors
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        raise PlanError([_where(line, DOCUMENT, f"not valid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        raise PlanError(
            [_where(line, DOCUMENT, f"not valid YAML: the character #x{code:04x} is not allowed")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


# -- checking --------------------------------------------------------------------------

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


class _Reader:
    """Checks a loaded document against the format, collecting every error."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)

    def error(self, line: int, path: str, message: str) -> None:
        self.errors.append(_where(line, path, message))

    # generic values ----------------------------------------------------------------

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

    def text(self, parent, key, path, *, required=False, max_length=None) -> str:
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
        if max_length is not None and len(value) > max_length:
            self.error(
                line, path, f"is {len(value)} characters long; at most {max_length} are allowed"
            )
        return value

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

    def number(self, parent, key, path) -> Decimal | None:
        value, path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(line, path, f"expected a number, not {_describe(value)}")
            return None
        number = Decimal(str(value))
        field = IndicatorValue._meta.get_field(key)
        limit = Decimal(10) ** (field.max_digits - field.decimal_places)
        if not number.is_finite() or abs(number) >= limit:
            self.error(line, path, f"{value} is out of range (less than {limit:,} either way)")
            return None
        if number != number.quantize(Decimal(1).scaleb(-field.decimal_places)):
            self.error(line, path, f"{value} has more than {field.decimal_places} decimals")
            return None
        return number

    # the plan ----------------------------------------------------------------------

    def read(self, document) -> PlanData | None:
        if document is None:
            self.error(1, DOCUMENT, f"the file is empty; a plan starts with format: {FORMAT}")
            return None
        if not isinstance(document, _Mapping):
            line = getattr(document, "line", 1)
            self.error(
                line,
                DOCUMENT,
                f"expected a mapping starting with format: {FORMAT}, not {_describe(document)}",
            )
            return None
        value, path, line = self.get(document, "format", "")
        if value is _MISSING:
            self.error(document.line, "format", f"is required: format: {FORMAT}")
            return None
        if value != FORMAT:
            # Another format (or version) has other keys: checking them would only add noise.
            self.error(line, path, f'expected "{FORMAT}", not {value!r}')
            return None
        root = self.keys(
            document,
            "",
            document.line,
            required=("format", "agency", "goal", "strategies", "milestones"),
            optional=("progress", "indicators"),
        )
        agency_line = root.key_lines.get("agency", 1)
        agency = self.sub_mapping(root, "agency", "", ("name",), ("abbreviation",))
        agency = agency or _Mapping(agency_line)
        agency_name = self.text(
            agency, "name", "agency", required=True, max_length=_max_length(Agency, "name")
        )
        abbreviation = self.text(
            agency, "abbreviation", "agency", max_length=_max_length(Agency, "abbreviation")
        )
        goal, goal_line, slug_line = self.read_goal(root)
        strategies = self.read_strategies(root)
        plan = PlanData(
            agency_name=agency_name,
            agency_abbreviation=abbreviation if agency.get("abbreviation") is not None else None,
            goal=goal,
            agency_line=agency_line,
            goal_line=goal_line,
            slug_line=slug_line,
            strategies_line=root.key_lines.get("strategies", 1),
            milestones_line=root.key_lines.get("milestones", 1),
            strategies=strategies,
            milestones=self.read_milestones(root, {s.number for s in strategies}),
            progress=self.read_progress(root),
            indicators=self.read_indicators(root),
        )
        return None if self.errors else plan

    def read_goal(self, root) -> tuple[dict, int, int]:
        goal_line = root.key_lines.get("goal", 1)
        keys = {
            "required": ("title", "statement", "fiscal_years"),
            "optional": (
                "short_name",
                "slug",
                "target_date",
                "sensitivity",
                "leader",
                "deputy",
                "sections",
                "contributing_programs",
            ),
        }
        goal = self.sub_mapping(root, "goal", "", **keys) or _Mapping(goal_line)
        path = "goal"
        values: dict[str, object] = {
            name: self.text(
                goal, name, path, required=required, max_length=_max_length(Goal, name)
            )
            for name, required in (("title", True), ("short_name", False), ("statement", True))
        }
        values["slug"] = self.read_slug(goal, values)
        values["target_date"] = self.read_date(goal, "target_date", path)
        values["first_fiscal_year"], values["last_fiscal_year"] = self.read_years(goal)

        sensitivity, sensitivity_path, line = self.get(goal, "sensitivity", path)
        if sensitivity is _MISSING or sensitivity is None:
            values["sensitivity"] = Sensitivity.INTERNAL.value
        elif isinstance(sensitivity, str) and sensitivity.strip().lower() in Sensitivity.values:
            values["sensitivity"] = sensitivity.strip().lower()
        else:
            self.error(
                line,
                sensitivity_path,
                f"{sensitivity!r} is not a sensitivity (write {' | '.join(Sensitivity.values)})",
            )
        for role in ("leader", "deputy"):
            person = self.sub_mapping(goal, role, path, optional=("name", "title"))
            person = person or _Mapping(goal_line)
            for part in ("name", "title"):
                name = f"{role}_{part}"
                values[name] = self.text(
                    person, part, f"{path}.{role}", max_length=_max_length(Goal, name)
                )
        narrative = self.sub_mapping(goal, "sections", path, optional=SECTION_FIELDS)
        for name in SECTION_FIELDS:
            values[name] = self.text(narrative or _Mapping(goal_line), name, f"{path}.sections")
        programs = self.sub_mapping(goal, "contributing_programs", path, optional=PROGRAM_FIELDS)
        for name in PROGRAM_FIELDS:
            items = []
            programs_path = f"{path}.contributing_programs"
            for item, item_path, line in self.sequence(
                programs or _Mapping(goal_line), name, programs_path
            ):
                if not isinstance(item, str):
                    self.error(line, item_path, f"expected text, not {_describe(item)}")
                elif not item.strip():
                    self.error(line, item_path, "must not be empty")
                elif "\n" in item.strip():
                    self.error(line, item_path, "must be a single line (one item per entry)")
                else:
                    items.append(item.strip())
            values[name] = "\n".join(items)
        return values, goal_line, goal.key_lines.get("slug", goal_line)

    def read_slug(self, goal, values) -> str:
        value, path, line = self.get(goal, "slug", "goal")
        max_length = _max_length(Goal, "slug")
        if value is _MISSING or value is None:
            derived = slugify(values["short_name"] or values["title"])[:max_length].strip("-")
            if not derived and values["title"]:
                self.error(line, path, "cannot be derived from the short name or title; give one")
            return derived
        if not isinstance(value, str):
            self.error(line, path, f"expected text, not {_describe(value)}")
            return ""
        try:
            validate_slug(value)
        except ValidationError:
            self.error(
                line, path, f"{value!r} is not a slug (letters, digits, hyphens, underscores)"
            )
        if len(value) > max_length:
            self.error(line, path, f"is longer than {max_length} characters")
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

    def read_years(self, goal) -> tuple[int | None, int | None]:
        value, path, line = self.get(goal, "fiscal_years", "goal")
        if value is _MISSING:
            return None, None
        if not isinstance(value, _Sequence) or not value:
            self.error(
                line,
                path,
                f"expected a list of fiscal years, e.g. [2018, 2019], not "
                f"{'an empty list' if isinstance(value, _Sequence) else _describe(value)}",
            )
            return None, None
        years = [
            self.integer(
                year,
                f"{path}[{index}]",
                value.item_lines[index],
                low=MIN_FISCAL_YEAR,
                high=MAX_FISCAL_YEAR,
            )
            for index, year in enumerate(value)
        ]
        if None in years:
            return None, None
        if years != list(range(years[0], years[0] + len(years))):
            self.error(
                line,
                path,
                f"{years} must be consecutive years in increasing order, e.g. [2018, 2019]: "
                "a goal covers one unbroken span of fiscal years",
            )
            return None, None
        return years[0], years[-1]

    def read_strategies(self, root) -> list[StrategyData]:
        strategies: list[StrategyData] = []
        first_line: dict[int, int] = {}
        for item, path, line in self.sequence(root, "strategies", "", required=True):
            item = self.keys(item, path, line, ("number", "title"), ("description",))
            if item is None:
                continue
            value, number_path, number_line = self.get(item, "number", path)
            number = None
            if value is not _MISSING:
                number = self.integer(value, number_path, number_line, low=1, high=32767)
            if number is not None and number in first_line:
                self.error(
                    number_line,
                    number_path,
                    f"strategy {number} is given twice (first on line {first_line[number]})",
                )
                number = None
            title = self.text(
                item, "title", path, required=True, max_length=_max_length(Strategy, "title")
            )
            description = self.text(item, "description", path)
            if number is not None:
                first_line[number] = number_line
                strategies.append(StrategyData(line, number, title, description))
        return strategies

    def read_milestones(self, root, strategy_numbers: set[int]) -> list[MilestoneData]:
        items = self.sequence(root, "milestones", "", required=True)
        milestones = []
        for position, (item, path, line) in enumerate(items, start=1):
            item = self.keys(
                item,
                path,
                line,
                ("title",),
                ("due", "revised_due", "strategy", "status", "owner", "depends_on", "comment"),
            )
            if item is None:
                continue
            strategy, strategy_path, strategy_line = self.get(item, "strategy", path)
            if strategy is _MISSING or strategy is None:
                strategy = None
            elif (
                self.integer(strategy, strategy_path, strategy_line, low=1, high=32767)
                and strategy not in strategy_numbers
            ):
                known = ", ".join(map(str, sorted(strategy_numbers))) or "none"
                self.error(
                    strategy_line,
                    strategy_path,
                    f"the plan has no strategy {strategy} (its strategies: {known})",
                )
            depends_on, depends_path, depends_line = self.get(item, "depends_on", path)
            if depends_on is _MISSING or depends_on is None:
                depends_on = None
            elif self.integer(depends_on, depends_path, depends_line, low=1, high=32767):
                if depends_on > len(items):
                    self.error(
                        depends_line,
                        depends_path,
                        f"there is no milestone {depends_on}: the plan has {len(items)} "
                        "(depends_on is a 1-based position)",
                    )
                elif depends_on == position:
                    self.error(
                        depends_line,
                        depends_path,
                        f"a milestone cannot depend on itself (this is milestone {position})",
                    )
            milestones.append(
                MilestoneData(
                    line=line,
                    position=position,
                    title=self.text(
                        item,
                        "title",
                        path,
                        required=True,
                        max_length=_max_length(Milestone, "title"),
                    ),
                    due=self.period(item, "due", path),
                    revised_due=self.period(item, "revised_due", path),
                    strategy=strategy,
                    status=self.read_status(item, path),
                    owner=self.text(
                        item, "owner", path, max_length=_max_length(Milestone, "owner")
                    ),
                    comment=self.text(item, "comment", path),
                    depends_on=depends_on,
                )
            )
        return milestones

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

    def read_progress(self, root) -> list[ProgressData]:
        progress: list[ProgressData] = []
        first_line: dict[FiscalPeriod, int] = {}
        for item, path, line in self.sequence(root, "progress", ""):
            item = self.keys(item, path, line, ("period", "summary"))
            if item is None:
                continue
            period = self.period(
                item, "period", path, ongoing="a summary of progress is for a quarter or a year"
            )
            summary = self.text(item, "summary", path, required=True)
            if period is not None and period in first_line:
                self.error(
                    item.key_lines["period"],
                    f"{path}.period",
                    f"{period} has a summary already (line {first_line[period]})",
                )
            elif period is not None:
                first_line[period] = item.key_lines["period"]
                progress.append(ProgressData(line, period, summary))
        return progress

    def read_indicators(self, root) -> list[IndicatorData]:
        indicators: list[IndicatorData] = []
        first_line: dict[str, int] = {}
        for position, (item, path, line) in enumerate(self.sequence(root, "indicators", ""), 1):
            item = self.keys(item, path, line, ("name",), ("unit", "direction", "values"))
            if item is None:
                continue
            name = self.text(
                item, "name", path, required=True, max_length=_max_length(Indicator, "name")
            )
            if name in first_line:
                self.error(
                    item.key_lines["name"],
                    f"{path}.name",
                    f"indicator {name!r} is given twice (first on line {first_line[name]})",
                )
            elif name:
                first_line[name] = item.key_lines["name"]
            direction, direction_path, direction_line = self.get(item, "direction", path)
            if direction is _MISSING or direction is None:
                direction = Direction.HIGHER.value
            elif direction not in Direction.values:
                self.error(
                    direction_line,
                    direction_path,
                    f"{direction!r} is not a direction (write {' | '.join(Direction.values)})",
                )
            values: list[IndicatorValueData] = []
            periods: dict[FiscalPeriod, int] = {}
            for value, value_path, value_line in self.sequence(item, "values", path):
                value = self.keys(value, value_path, value_line, ("period",), ("target", "actual"))
                if value is None:
                    continue
                period = self.period(
                    value, "period", value_path, ongoing="a value is for a quarter or a year"
                )
                if period is not None and period in periods:
                    self.error(
                        value.key_lines["period"],
                        f"{value_path}.period",
                        f"{period} has a value already (line {periods[period]})",
                    )
                elif period is not None:
                    periods[period] = value.key_lines["period"]
                    values.append(
                        IndicatorValueData(
                            value_line,
                            period,
                            self.number(value, "target", value_path),
                            self.number(value, "actual", value_path),
                        )
                    )
            indicators.append(
                IndicatorData(
                    line=line,
                    position=position,
                    name=name,
                    unit=self.text(item, "unit", path, max_length=_max_length(Indicator, "unit")),
                    direction=direction,
                    values=values,
                )
            )
        return indicators


def parse_plan(text: str) -> PlanData:
    """Read and check an action plan; raise ``PlanError`` listing every problem."""
    document, errors = _load(text)
    reader = _Reader(errors)
    plan = reader.read(document)
    if reader.errors or plan is None:
        raise PlanError(reader.errors)
    return plan


# -- writing ---------------------------------------------------------------------------

# Where a model field comes from in the file, for errors found by full_clean().
_GOAL_PATHS = {
    "leader_name": "goal.leader.name",
    "leader_title": "goal.leader.title",
    "deputy_name": "goal.deputy.name",
    "deputy_title": "goal.deputy.title",
    "first_fiscal_year": "goal.fiscal_years",
    "last_fiscal_year": "goal.fiscal_years",
    **{name: f"goal.sections.{name}" for name in SECTION_FIELDS},
    **{name: f"goal.contributing_programs.{name}" for name in PROGRAM_FIELDS},
}


def _assign(obj, values: dict[str, object]) -> bool:
    """Set ``values`` on ``obj``; True if any differs from what it held."""
    changed = False
    for name, value in values.items():
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            current = getattr(obj, model_field.attname)
            new = None if value is None else value.pk
        else:
            current, new = getattr(obj, name), value
        if current != new or obj._state.adding:
            changed = changed or current != new
            setattr(obj, name, value)
    return changed


def _save(obj, values: dict[str, object], *, path: str, line: int, paths=None) -> bool:
    """Validate and save ``obj`` with ``values`` if it is new or they change it."""
    if not _assign(obj, values) and not obj._state.adding:
        return False
    try:
        obj.full_clean()
    except ValidationError as error:
        paths = paths or {}
        raise PlanError(
            [
                _where(
                    line,
                    path if name == NON_FIELD_ERRORS else paths.get(name, f"{path}.{name}"),
                    message,
                )
                for name, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None
    obj.save()
    return True


def _delete(obj, *, path: str, line: int, what: str) -> None:
    try:
        obj.delete()
    except (ProtectedError, RestrictedError):
        raise PlanError(
            [
                _where(
                    line,
                    path,
                    f"{what} is left out of the file but cannot be deleted: "
                    "other records refer to it",
                )
            ]
        ) from None


def import_plan(
    text: str,
    *,
    replace: bool = False,
    user=None,
    reason: str | None = None,
    source: str = "import",
) -> Goal:
    """Check the plan, then write it all or nothing, as one recorded change.

    With ``replace`` an existing goal of the same slug is updated in place: strategies
    matched by number, milestones by order, progress by period, indicators by name;
    only what changed is saved, and what the file leaves out is deleted.
    """
    plan = parse_plan(text)
    with (
        transaction.atomic(),
        recorded_change(
            user=user or get_system_user(), reason=reason or IMPORT_REASON, source=source
        ),
    ):
        goal = Goal.objects.select_for_update().filter(slug=plan.slug).first()
        if goal is not None and not replace:
            raise PlanError(
                [
                    _where(
                        plan.slug_line,
                        "goal.slug",
                        f'a goal with slug "{plan.slug}" exists already; import with '
                        "--replace (replace=True) to replace it",
                    )
                ]
            )
        agency = _write_agency(plan)
        goal = goal or Goal()
        _save(
            goal,
            {**plan.goal, "agency": agency},
            path="goal",
            line=plan.goal_line,
            paths=_GOAL_PATHS,
        )
        strategies = _write_strategies(goal, plan)
        _write_milestones(goal, plan, strategies)
        # Only now: no milestone points to a strategy the file leaves out any more.
        kept = {s.number for s in plan.strategies}
        for number, strategy in strategies.items():
            if number not in kept:
                _delete(
                    strategy,
                    path="strategies",
                    line=plan.strategies_line,
                    what=f"strategy {number}",
                )
        _write_progress(goal, plan)
        _write_indicators(goal, plan)
    return goal


def _write_agency(plan: PlanData) -> Agency:
    agency = Agency.objects.filter(name=plan.agency_name).first() or Agency()
    values = {"name": plan.agency_name}
    if plan.agency_abbreviation is not None:
        values["abbreviation"] = plan.agency_abbreviation
    _save(agency, values, path="agency", line=plan.agency_line)
    return agency


def _write_strategies(goal: Goal, plan: PlanData) -> dict[int, Strategy]:
    strategies = {s.number: s for s in goal.strategies.all()}
    for index, data in enumerate(plan.strategies):
        strategy = strategies.setdefault(data.number, Strategy(goal=goal))
        _save(
            strategy,
            {"number": data.number, "title": data.title, "description": data.description},
            path=f"strategies[{index}]",
            line=data.line,
        )
    return strategies


def _write_milestones(goal: Goal, plan: PlanData, strategies: dict[int, Strategy]) -> None:
    # Matched by order, not by the stored position, so gaps or ties left by hand edits
    # still pair the k-th milestone with the k-th in the file.
    existing = list(goal.milestones.order_by("position", "id"))
    milestones = [
        existing[index] if index < len(existing) else Milestone(goal=goal)
        for index in range(len(plan.milestones))
    ]
    # A dependency on a milestone created later in this loop is set once it exists.
    pending: list[tuple[Milestone, Milestone, MilestoneData]] = []
    for index, data in enumerate(plan.milestones):
        milestone = milestones[index]
        target = milestones[data.depends_on - 1] if data.depends_on else None
        if target is not None and target.pk is None:
            pending.append((milestone, target, data))
            target = milestone.depends_on if milestone.pk else None
        _save(
            milestone,
            {
                "position": data.position,
                "title": data.title,
                "due": data.due,
                "revised_due": data.revised_due,
                "strategy": strategies[data.strategy] if data.strategy else None,
                "status": data.status,
                "owner": data.owner,
                "comment": data.comment,
                "depends_on": target,
            },
            path=f"milestones[{index}]",
            line=data.line,
        )
    for milestone, target, data in pending:
        _save(
            milestone,
            {"depends_on": target},
            path=f"milestones[{data.position - 1}]",
            line=data.line,
        )

    removed = existing[len(plan.milestones) :]
    reviewed = (
        Milestone.objects.filter(pk__in=[m.pk for m in removed])
        .annotate(updates=Count("status_updates"))
        .filter(updates__gt=0)
        .order_by("position", "id")
    )
    blocked = [
        _where(
            plan.milestones_line,
            "milestones",
            f'milestone {existing.index(m) + 1} ("{m.title}") has {m.updates} status '
            "update(s) and cannot be removed: keep it in the file (it may be Cancelled)",
        )
        for m in reviewed
    ]
    if blocked:
        raise PlanError(blocked)
    # Removed milestones may depend on each other; unlink them first (recorded), so the
    # deletes below do not trip over the RESTRICT on depends_on.
    for milestone in removed:
        if milestone.depends_on_id is not None:
            milestone.depends_on = None
            milestone.save()
    for milestone in removed:
        _delete(
            milestone,
            path="milestones",
            line=plan.milestones_line,
            what=f'milestone "{milestone.title}"',
        )


def _write_progress(goal: Goal, plan: PlanData) -> None:
    existing = {p.period: p for p in goal.progress_summaries.all()}
    for index, data in enumerate(plan.progress):
        summary = existing.pop(data.period, None) or ProgressSummary(goal=goal)
        _save(
            summary,
            {"period": data.period, "summary": data.summary},
            path=f"progress[{index}]",
            line=data.line,
        )
    for summary in existing.values():
        summary.delete()


def _write_indicators(goal: Goal, plan: PlanData) -> None:
    existing = {i.name: i for i in goal.indicators.prefetch_related("values")}
    for index, data in enumerate(plan.indicators):
        indicator = existing.pop(data.name, None) or Indicator(goal=goal)
        path = f"indicators[{index}]"
        _save(
            indicator,
            {
                "position": data.position,
                "name": data.name,
                "unit": data.unit,
                "direction": data.direction,
            },
            path=path,
            line=data.line,
        )
        values = {v.period: v for v in indicator.values.all()} if indicator.pk else {}
        for value_index, value_data in enumerate(data.values):
            value = values.pop(value_data.period, None) or IndicatorValue(indicator=indicator)
            _save(
                value,
                {
                    "period": value_data.period,
                    "target": value_data.target,
                    "actual": value_data.actual,
                },
                path=f"{path}.values[{value_index}]",
                line=value_data.line,
            )
        for value in values.values():
            value.delete()
    for indicator in existing.values():
        indicator.delete()


# -- export ----------------------------------------------------------------------------


class _FlowList(list):
    """A list written on one line: ``[2018, 2019]``."""


class _PlanDumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        # Indent list items under their key, as the plans in plans/ are written.
        return super().increase_indent(flow, False)


def _represent_text(dumper, value):
    # Multi-line text as a literal block (`|-`); PyYAML falls back to a quoted scalar
    # where a block cannot hold the exact value (e.g. trailing spaces on a line).
    value = str(value)  # choices (TextChoices members) are str subclasses
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


_PlanDumper.add_representer(str, _represent_text)
_PlanDumper.add_multi_representer(str, _represent_text)
_PlanDumper.add_representer(
    _FlowList,
    lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, True),
)


def _number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _compact(mapping: dict) -> dict:
    """``mapping`` without its empty optional values (None, "", [], {})."""
    return {key: value for key, value in mapping.items() if value not in (None, "", [], {})}


def export_plan(goal: Goal) -> str:
    """The goal's plan as action-plan YAML, in a fixed number of queries."""
    # Read afresh: the caller's instance may predate the last import.
    goal = Goal.objects.select_related("agency").get(pk=goal.pk)
    agency = goal.agency
    strategies = list(goal.strategies.order_by("number"))
    milestones = list(goal.milestones.select_related("strategy").order_by("position", "id"))
    positions = {m.pk: index for index, m in enumerate(milestones, start=1)}
    progress = list(goal.progress_summaries.order_by("period"))
    indicators = list(
        goal.indicators.order_by("position", "id").prefetch_related(
            Prefetch("values", queryset=IndicatorValue.objects.order_by("period"))
        )
    )
    labels = _status_labels()  # English whatever the active language

    document = {
        "format": FORMAT,
        "agency": _compact({"name": agency.name, "abbreviation": agency.abbreviation}),
        "goal": _compact(
            {
                "title": goal.title,
                "short_name": goal.short_name,
                "slug": goal.slug,
                "statement": goal.statement,
                "target_date": goal.target_date,
                "fiscal_years": _FlowList(goal.fiscal_years),
                "sensitivity": goal.sensitivity,
                "leader": _compact({"name": goal.leader_name, "title": goal.leader_title}),
                "deputy": _compact({"name": goal.deputy_name, "title": goal.deputy_title}),
                "sections": _compact({name: getattr(goal, name) for name in SECTION_FIELDS}),
                "contributing_programs": _compact(goal.programs),
            }
        ),
        "strategies": [
            _compact({"number": s.number, "title": s.title, "description": s.description})
            for s in strategies
        ],
        "milestones": [
            _compact(
                {
                    "title": m.title,
                    "due": str(m.due) if m.due else None,
                    "revised_due": str(m.revised_due) if m.revised_due else None,
                    "strategy": m.strategy.number if m.strategy else None,
                    "status": labels.get(m.status, m.status),
                    "owner": m.owner,
                    "depends_on": positions.get(m.depends_on_id),
                    "comment": m.comment,
                }
            )
            for m in milestones
        ],
        "progress": [{"period": str(p.period), "summary": p.summary} for p in progress],
        "indicators": [
            _compact(
                {
                    "name": i.name,
                    "unit": i.unit,
                    "direction": i.direction,
                    "values": [
                        _compact(
                            {
                                "period": str(v.period),
                                "target": _number(v.target),
                                "actual": _number(v.actual),
                            }
                        )
                        for v in i.values.all()
                    ],
                }
            )
            for i in indicators
        ],
    }
    for optional in ("progress", "indicators"):
        if not document[optional]:
            del document[optional]
    return yaml.dump(
        document,
        Dumper=_PlanDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=float("inf"),
    )
