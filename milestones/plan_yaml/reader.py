"""Checking a loaded plan against the format, naming the line and path of every error."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils import translation
from django.utils.text import slugify

from milestones.forms import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from milestones.models import Milestone, Status
from milestones.plan_yaml.data import (
    DOCUMENT,
    FORMAT,
    IndicatorData,
    IndicatorValueData,
    MilestoneData,
    PlanData,
    PlanError,
    ProgressData,
    StrategyData,
)
from milestones.plan_yaml.loader import _join, _load, _Mapping, _Sequence, _where
from strategies.forms import (
    DESCRIPTION_MAX_LENGTH,
    PROGRAM_LINE_MAX_LENGTH,
    PROGRAM_MAX_LENGTH,
    SECTION_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    StrategyForm,
)
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
from strategies.validators import control_character_error

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


# The web forms' limits (one definition for both): strategy numbers as StrategyForm takes.
_STRATEGY_NUMBERS = StrategyForm.base_fields["number"]


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

    def text(self, parent, key, path, *, required=False, max_length=None, multiline=False) -> str:
        """The text at ``parent[key]``, held to the web forms' length and character rules:
        ``max_length`` and, unless ``multiline``, a single line."""
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
        self.check_text(value, path, line, max_length=max_length, multiline=multiline)
        return value

    def check_text(self, value: str, path, line, *, max_length, multiline) -> bool:
        """Whether ``value`` obeys the web forms' rules; each breach is an error."""
        valid = True
        if max_length is not None and len(value) > max_length:
            self.error(
                line,
                path,
                f"is {len(value):,} characters long; at most {max_length:,} are allowed",
            )
            valid = False
        if message := control_character_error(value, multiline=multiline):
            self.error(line, path, message)
            valid = False
        return valid

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
            for name, required in (("title", True), ("short_name", False))
        }
        values["statement"] = self.text(
            goal,
            "statement",
            path,
            required=True,
            max_length=STATEMENT_MAX_LENGTH,
            multiline=True,
        )
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
            values[name] = self.text(
                narrative or _Mapping(goal_line),
                name,
                f"{path}.sections",
                max_length=SECTION_MAX_LENGTH,
                multiline=True,
            )
        programs = self.sub_mapping(goal, "contributing_programs", path, optional=PROGRAM_FIELDS)
        programs = programs or _Mapping(goal_line)
        for name in PROGRAM_FIELDS:
            items = []
            programs_path = f"{path}.contributing_programs"
            for item, item_path, line in self.sequence(programs, name, programs_path):
                if not isinstance(item, str):
                    self.error(line, item_path, f"expected text, not {_describe(item)}")
                elif not item.strip():
                    self.error(line, item_path, "must not be empty")
                elif "\n" in item.strip():
                    self.error(line, item_path, "must be a single line (one item per entry)")
                elif self.check_text(
                    item.strip(),
                    item_path,
                    line,
                    max_length=PROGRAM_LINE_MAX_LENGTH,
                    multiline=False,
                ):
                    items.append(item.strip())
            values[name] = "\n".join(items)
            if len(values[name]) > PROGRAM_MAX_LENGTH:
                self.error(
                    programs.key_lines.get(name, goal_line),
                    f"{programs_path}.{name}",
                    f"is {len(values[name]):,} characters long in all; at most "
                    f"{PROGRAM_MAX_LENGTH:,} are allowed",
                )
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
                number = self.integer(
                    value,
                    number_path,
                    number_line,
                    low=_STRATEGY_NUMBERS.min_value,
                    high=_STRATEGY_NUMBERS.max_value,
                )
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
            description = self.text(
                item, "description", path, max_length=DESCRIPTION_MAX_LENGTH, multiline=True
            )
            if number is not None:
                first_line[number] = number_line
                strategies.append(StrategyData(line, number, title, description))
        return strategies

    def read_milestones(self, root, strategy_numbers: set[int]) -> list[MilestoneData]:
        items = self.sequence(root, "milestones", "", required=True)
        milestones = []
        seen_ids: dict[int, int] = {}  # id -> index in the file
        by_id: list[tuple[int, int, str, int]] = []  # depends_on_id, resolved at the end
        for position, (item, path, line) in enumerate(items, start=1):
            item = self.keys(
                item,
                path,
                line,
                ("title",),
                (
                    "id",
                    "due",
                    "revised_due",
                    "strategy",
                    "status",
                    "owner",
                    "depends_on",
                    "depends_on_id",
                    "comment",
                ),
            )
            if item is None:
                continue
            milestone_id, id_path, id_line = self.get(item, "id", path)
            if (
                milestone_id is _MISSING
                or milestone_id is None
                or self.integer(milestone_id, id_path, id_line, low=1, high=2**63 - 1) is None
            ):
                milestone_id = None
            elif milestone_id in seen_ids:
                self.error(
                    id_line,
                    id_path,
                    f"id {milestone_id} is also milestones[{seen_ids[milestone_id]}].id: "
                    "each milestone's id appears once",
                )
                milestone_id = None
            else:
                seen_ids[milestone_id] = position - 1
            strategy, strategy_path, strategy_line = self.get(item, "strategy", path)
            if strategy is _MISSING or strategy is None:
                strategy = None
            elif (
                self.integer(
                    strategy,
                    strategy_path,
                    strategy_line,
                    low=_STRATEGY_NUMBERS.min_value,
                    high=_STRATEGY_NUMBERS.max_value,
                )
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
            depends_id, depends_id_path, depends_id_line = self.get(item, "depends_on_id", path)
            if depends_id is not _MISSING and depends_id is not None:
                if depends_on is not None:
                    self.error(
                        depends_id_line,
                        depends_id_path,
                        "give depends_on (a position) or depends_on_id (an id), not both",
                    )
                elif self.integer(
                    depends_id, depends_id_path, depends_id_line, low=1, high=2**63 - 1
                ):
                    by_id.append((position, depends_id, depends_id_path, depends_id_line))
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
                    comment=self.text(
                        item, "comment", path, max_length=COMMENT_MAX_LENGTH, multiline=True
                    ),
                    depends_on=depends_on,
                    id=milestone_id,
                )
            )
        # depends_on_id (export_plan --with-ids) names the milestone in this file with
        # that id; it becomes the position it has here.
        for position, depends_id, depends_id_path, depends_id_line in by_id:
            if depends_id not in seen_ids:
                self.error(
                    depends_id_line,
                    depends_id_path,
                    f"no milestone in this file has id {depends_id}",
                )
            elif seen_ids[depends_id] + 1 == position:
                self.error(
                    depends_id_line,
                    depends_id_path,
                    f"a milestone cannot depend on itself (this is milestone {position})",
                )
            else:
                for milestone in milestones:
                    if milestone.position == position:
                        milestone.depends_on = seen_ids[depends_id] + 1
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
            summary = self.text(
                item,
                "summary",
                path,
                required=True,
                max_length=SUMMARY_MAX_LENGTH,
                multiline=True,
            )
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
