"""Checking what a plan reported in its quarters (format 2): each milestone's status
updates and the goal's quarterly updates, with their published state."""

from __future__ import annotations

from milestones.forms import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from milestones.models import (
    DATA_STATEMENT_FIELDS,
    Likelihood,
    Risk,
    StatusUpdate,
    improvement_actions_error,
)
from milestones.plan_yaml.data import ProgressData, UpdateData
from milestones.plan_yaml.values import _MISSING, ValueReader, _describe, _max_length
from strategies.periods import FiscalPeriod

UPDATE_KEYS = ("quarter", "status", "comment", "revised_due", "reported_by", "reported_on")
# A quarterly update's text fields besides its summary, in the order the format writes them.
QUARTERLY_TEXT_FIELDS = ("next_steps", "improvement_actions", *DATA_STATEMENT_FIELDS)
QUARTERLY_KEYS = (
    "period",
    "summary",
    "next_steps",
    "risk",
    "likelihood",
    "improvement_actions",
    *DATA_STATEMENT_FIELDS,
    "published",
    "published_on",
)


class UpdatesReader(ValueReader):
    """Status updates and quarterly updates, held to the rules the app keeps for them."""

    # Set by the plan walk once the goal is read: (first, last) fiscal year, or None.
    goal_years: tuple[int, int] | None = None

    def goal_quarter(self, parent, key, path, *, what: str) -> FiscalPeriod | None:
        """The quarter at ``parent[key]`` (required): a quarter of the goal's fiscal years."""
        value, value_path, line = self.get(parent, key, path)
        if value is _MISSING or value is None:
            self.error(line, value_path, "is required (write e.g. Q3 FY19)")
            return None
        period = self.period(parent, key, path, ongoing=f"{what} is for a quarter")
        if period is None:
            return None
        if not period.is_quarter:
            self.error(line, value_path, f"{what} is for a quarter (e.g. Q4 {period}), not a year")
            return None
        if not self.in_goal_years(period, line, value_path):
            return None
        return period

    def in_goal_years(self, period: FiscalPeriod, line: int, path: str) -> bool:
        if self.goal_years is None:
            return True  # the goal's years are wrong already: that error is reported
        first, last = self.goal_years
        if first <= period.fiscal_year <= last:
            return True
        years = "–".join(dict.fromkeys(str(FiscalPeriod(year)) for year in (first, last)))
        self.error(line, path, f"{period} is outside the goal's fiscal years ({years})")
        return False

    def read_updates(self, item, path) -> list[UpdateData]:
        """A milestone's ``updates``: what it reported, quarter by quarter."""
        updates = []
        for update, update_path, line in self.sequence(item, "updates", path):
            update = self.keys(update, update_path, line, ("quarter", "status"), UPDATE_KEYS[2:])
            if update is None:
                continue
            quarter = self.goal_quarter(update, "quarter", update_path, what="a status update")
            status_value, status_path, status_line = self.get(update, "status", update_path)
            if status_value is None:
                self.error(status_line, status_path, "must not be empty")
            data = UpdateData(
                line=line,
                quarter=quarter,
                status=self.read_status(update, update_path),
                comment=self.text(
                    update, "comment", update_path, max_length=COMMENT_MAX_LENGTH, multiline=True
                ),
                revised_due=self.period(update, "revised_due", update_path),
                reported_by=self.text(
                    update,
                    "reported_by",
                    update_path,
                    max_length=_max_length(StatusUpdate, "author_name"),
                ),
                reported_on=self.read_date(update, "reported_on", update_path),
            )
            if quarter is not None:
                updates.append(data)
        return updates

    def read_quarterly(self, item, path, line, version: int) -> ProgressData | None:
        """One entry of ``progress``: a summary (format 1) or a whole quarterly update."""
        if version == 1:
            item = self.keys(item, path, line, ("period", "summary"))
        else:
            item = self.keys(item, path, line, ("period", "summary"), QUARTERLY_KEYS[2:])
        if item is None:
            return None
        period = self.period(
            item, "period", path, ongoing="a summary of progress is for a quarter or a year"
        )
        summary = self.text(
            item, "summary", path, required=True, max_length=SUMMARY_MAX_LENGTH, multiline=True
        )
        if period is None:
            return None
        data = ProgressData(line, period, summary)
        if version == 1:
            return data
        details = {
            name: self.text(item, name, path, max_length=SUMMARY_MAX_LENGTH, multiline=True)
            for name in QUARTERLY_TEXT_FIELDS
        }
        details["risk"] = self.choice(item, "risk", path, Risk)
        details["likelihood"] = self.choice(item, "likelihood", path, Likelihood)
        data.details = details
        refusal = improvement_actions_error(
            risk=details["risk"], improvement_actions=details["improvement_actions"]
        )
        if refusal is not None:
            self.error(
                item.key_lines.get("risk", line), f"{path}.improvement_actions", refusal.message
            )
        self.read_published(item, path, line, data)
        return data

    def read_published(self, item, path, line, data: ProgressData) -> None:
        """``published`` and ``published_on``: a published update is a quarter of the
        goal's period with a risk and its publication date."""
        published, published_path, published_line = self.get(item, "published", path)
        if published is _MISSING or published is None:
            published = False
        elif not isinstance(published, bool):
            self.error(
                published_line,
                published_path,
                f"expected true or false, not {_describe(published)}",
            )
            published = False
        data.published = published
        data.published_on = self.read_date(item, "published_on", path)
        on_line = item.key_lines.get("published_on", published_line)
        if not published:
            if data.published_on is not None:
                self.error(
                    on_line,
                    f"{path}.published_on",
                    "only a published update has a publication date (add published: true)",
                )
            return
        if not data.period.is_quarter:
            self.error(
                published_line,
                published_path,
                f"only a quarter's update is published, not {data.period}'s",
            )
        else:
            self.in_goal_years(data.period, item.key_lines["period"], f"{path}.period")
        if item.get("published_on") is None:  # absent or null (a bad date is reported)
            self.error(
                on_line, f"{path}.published_on", "is required when published (e.g. 2019-07-31)"
            )
        if not data.details["risk"]:
            self.error(
                published_line,
                f"{path}.risk",
                "is required when published: low, medium or high",
            )

    def choice(self, item, key, path, choices) -> str:
        value, value_path, line = self.get(item, key, path)
        if value is _MISSING or value is None:
            return ""
        if isinstance(value, str) and value.strip().lower() in choices.values:
            return value.strip().lower()
        self.error(line, value_path, f"{value!r} is not one of: {' | '.join(choices.values)}")
        return ""
