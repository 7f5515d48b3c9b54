"""Writing a goal back out in the format; an export re-imports to the same plan."""

from __future__ import annotations

from decimal import Decimal

import yaml
from django.db.models import Prefetch
from django.utils import timezone

from milestones.models import StatusUpdate
from milestones.plan_yaml.data import FORMAT
from milestones.plan_yaml.replay import published_on
from milestones.plan_yaml.updates import QUARTERLY_KEYS
from milestones.plan_yaml.values import _status_labels
from strategies.models import (
    SECTION_FIELDS,
    Goal,
    IndicatorValue,
)

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


def _updates(milestone, labels) -> list[dict]:
    """A milestone's status updates quarter by quarter, in recorded order within each
    quarter: the order an import replays them in, so a round trip is identical."""
    updates = sorted(milestone.status_updates.all(), key=lambda u: u.period)
    return [
        _compact(
            {
                "quarter": str(u.period),
                "status": labels.get(u.status, u.status),
                "comment": u.comment,
                "revised_due": str(u.revised_due) if u.revised_due else None,
                "reported_by": u.author_name,
                "reported_on": u.reported_on or timezone.localdate(u.created_at),
            }
        )
        for u in updates
    ]


def _quarterly(summary) -> dict:
    """A quarterly update with every field it has, and whether (and when) published."""
    values = {name: getattr(summary, name, None) for name in QUARTERLY_KEYS}
    values["period"] = str(summary.period)
    values["published"] = summary.is_published
    values["published_on"] = published_on(summary) if summary.is_published else None
    return {
        key: value
        for key, value in values.items()
        if key in ("period", "summary", "published") or value not in (None, "")
    }


def _indicator(indicator) -> dict:
    """An indicator with its definition and values (each with its note). ``published``
    is always written: a file without it imports the indicator as internal."""
    baseline = None
    if indicator.baseline_period is not None and indicator.baseline_value is not None:
        baseline = {
            "value": _number(indicator.baseline_value),
            "period": str(indicator.baseline_period),
        }
    return {
        **_compact(
            {
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction,
                "definition": indicator.definition,
                "data_source": indicator.data_source,
                "frequency": indicator.frequency,
                "baseline": baseline,
            }
        ),
        "published": indicator.is_published,
        **_compact(
            {
                "values": [
                    _compact(
                        {
                            "period": str(v.period),
                            "target": _number(v.target),
                            "actual": _number(v.actual),
                            "note": v.note,
                        }
                    )
                    for v in indicator.values.all()
                ]
            }
        ),
    }


def export_plan(goal: Goal, *, with_ids: bool = False) -> str:
    """The goal's plan as action-plan YAML, in a fixed number of queries.

    ``with_ids`` writes each milestone's database id, so that the file, edited and
    imported again with ``--replace``, updates the same milestones whatever is added,
    removed or reordered (without ids, milestones are matched by position)."""
    # Read afresh: the caller's instance may predate the last import.
    goal = Goal.objects.select_related("agency").get(pk=goal.pk)
    agency = goal.agency
    strategies = list(goal.strategies.order_by("number"))
    milestones = list(
        goal.milestones.select_related("strategy")
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("status_updates", queryset=StatusUpdate.objects.order_by("created_at", "id"))
        )
    )
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
                    "id": m.pk if with_ids else None,
                    "title": m.title,
                    "due": str(m.due) if m.due else None,
                    "revised_due": str(m.revised_due) if m.revised_due else None,
                    "strategy": m.strategy.number if m.strategy else None,
                    "status": labels.get(m.status, m.status),
                    "owner": m.owner,
                    # With ids, a dependency names its milestone's id, so it holds
                    # when milestones above it are removed or moved.
                    "depends_on": None if with_ids else positions.get(m.depends_on_id),
                    "depends_on_id": m.depends_on_id if with_ids else None,
                    "comment": m.comment,
                    "updates": _updates(m, labels),
                }
            )
            for m in milestones
        ],
        "progress": [_quarterly(p) for p in progress],
        "indicators": [_indicator(i) for i in indicators],
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
