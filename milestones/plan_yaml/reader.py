"""Checking a loaded plan against the format, naming the line and path of every error:
the walk over its sections (the goal in ``goal.py``, single values in ``values.py``)."""

from __future__ import annotations

from milestones.forms import COMMENT_MAX_LENGTH
from milestones.models import Milestone
from milestones.plan_yaml.data import (
    DOCUMENT,
    FORMAT,
    FORMATS,
    IndicatorData,
    IndicatorValueData,
    MilestoneData,
    PlanData,
    PlanError,
    ProgressData,
    StrategyData,
)
from milestones.plan_yaml.goal import GoalReader
from milestones.plan_yaml.loader import _load, _Mapping
from milestones.plan_yaml.updates import UpdatesReader
from milestones.plan_yaml.values import (
    _MISSING,
    _describe,
    _max_length,
)
from strategies.forms import (
    ACTUAL_NOTE_MAX_LENGTH,
    DATA_SOURCE_MAX_LENGTH,
    DEFINITION_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    StrategyForm,
)
from strategies.models import (
    Agency,
    Direction,
    Frequency,
    Indicator,
    Strategy,
)
from strategies.periods import FiscalPeriod

# The web forms' limits (one definition for both): strategy numbers as StrategyForm takes.
_STRATEGY_NUMBERS = StrategyForm.base_fields["number"]


class _Reader(GoalReader, UpdatesReader):
    """Checks a loaded document against the format, section by section, collecting every
    error."""

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
        if not isinstance(value, str) or value not in FORMATS:
            # Another format (or version) has other keys: checking them would only add noise.
            self.error(line, path, f'expected "{FORMAT}", not {value!r}')
            return None
        self.version = FORMATS[value]
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
        if goal["first_fiscal_year"] is not None:
            self.goal_years = (goal["first_fiscal_year"], goal["last_fiscal_year"])
        strategies = self.read_strategies(root)
        plan = PlanData(
            version=self.version,
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
                    *(("updates",) if self.version >= 2 else ()),
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
                    updates=self.read_updates(item, path) if self.version >= 2 else None,
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

    def read_progress(self, root) -> list[ProgressData]:
        progress: list[ProgressData] = []
        first_line: dict[FiscalPeriod, int] = {}
        for item, path, line in self.sequence(root, "progress", ""):
            data = self.read_quarterly(item, path, line, self.version)
            if data is None:
                continue
            period = data.period
            if period in first_line:
                self.error(
                    item.key_lines["period"],
                    f"{path}.period",
                    f"{period} has a summary already (line {first_line[period]})",
                )
            else:
                first_line[period] = item.key_lines["period"]
                progress.append(data)
        return progress

    def read_indicators(self, root) -> list[IndicatorData]:
        indicators: list[IndicatorData] = []
        first_line: dict[str, int] = {}
        for position, (item, path, line) in enumerate(self.sequence(root, "indicators", ""), 1):
            item = self.keys(item, path, line, ("name",), INDICATOR_KEYS)
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
            frequency, frequency_path, frequency_line = self.get(item, "frequency", path)
            if frequency is _MISSING or frequency is None:
                frequency = Frequency.QUARTERLY.value
            elif frequency not in Frequency.values:
                self.error(
                    frequency_line,
                    frequency_path,
                    f"{frequency!r} is not a frequency (write {' | '.join(Frequency.values)})",
                )
            baseline_value, baseline_period = self.read_baseline(item, path)
            indicators.append(
                IndicatorData(
                    line=line,
                    position=position,
                    name=name,
                    unit=self.text(item, "unit", path, max_length=_max_length(Indicator, "unit")),
                    direction=direction,
                    values=self.read_indicator_values(item, path),
                    definition=self.text(
                        item,
                        "definition",
                        path,
                        max_length=DEFINITION_MAX_LENGTH,
                        multiline=True,
                    ),
                    data_source=self.text(
                        item,
                        "data_source",
                        path,
                        max_length=DATA_SOURCE_MAX_LENGTH,
                        multiline=True,
                    ),
                    frequency=frequency,
                    baseline_value=baseline_value,
                    baseline_period=baseline_period,
                    is_published=self.flag(item, "published", path),
                )
            )
        return indicators

    def read_baseline(self, item, path) -> tuple:
        """``baseline: {value: 12, period: FY17}``: both or neither."""
        baseline = self.sub_mapping(item, "baseline", path, ("value", "period"))
        if baseline is None:
            return None, None
        baseline_path = f"{path}.baseline"
        for key in ("value", "period"):
            if key in baseline and baseline[key] is None:
                self.error(
                    baseline.key_lines[key],
                    f"{baseline_path}.{key}",
                    "must not be empty (a baseline has a value and a period)",
                )
        value = self.number(
            baseline, "value", baseline_path, field=Indicator._meta.get_field("baseline_value")
        )
        period = self.period(
            baseline, "period", baseline_path, ongoing="a baseline is for a quarter or a year"
        )
        return value, period

    def read_indicator_values(self, item, path) -> list[IndicatorValueData]:
        values: list[IndicatorValueData] = []
        periods: dict[FiscalPeriod, int] = {}
        for value, value_path, value_line in self.sequence(item, "values", path):
            value = self.keys(
                value, value_path, value_line, ("period",), ("target", "actual", "note")
            )
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
                        self.text(
                            value,
                            "note",
                            value_path,
                            max_length=ACTUAL_NOTE_MAX_LENGTH,
                            multiline=True,
                        ),
                    )
                )
        return values


# An indicator's keys beside its name (docs/action-plan-format.md).
INDICATOR_KEYS = (
    "unit",
    "direction",
    "definition",
    "data_source",
    "frequency",
    "baseline",
    "published",
    "values",
)


def parse_plan(text: str) -> PlanData:
    """Read and check an action plan; raise ``PlanError`` listing every problem."""
    document, errors = _load(text)
    reader = _Reader(errors)
    plan = reader.read(document)
    if reader.errors or plan is None:
        raise PlanError(reader.errors)
    return plan
