"""Checking the goal section of a plan: title, slug, fiscal years, sensitivity, leaders,
narrative sections and contributing programs, held to the web forms' rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.text import slugify

from milestones.plan_yaml.loader import _Mapping, _Sequence
from milestones.plan_yaml.values import (
    _MISSING,
    ValueReader,
    _describe,
    _max_length,
)
from strategies.forms import (
    PROGRAM_LINE_MAX_LENGTH,
    PROGRAM_MAX_LENGTH,
    SECTION_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
)
from strategies.models import (
    PROGRAM_FIELDS,
    SECTION_FIELDS,
    Goal,
    Sensitivity,
)
from strategies.periods import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR


class GoalReader(ValueReader):
    """The goal section of a plan document, read as the goal form would take it."""

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
