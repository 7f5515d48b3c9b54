"""Key indicators in the action-plan YAML: every field (definition, data source,
frequency, baseline, direction, published) and each value's note go out and come back
the same; a file written before these keys imports with the defaults; a bad value is a
line-numbered error and nothing changes."""

from decimal import Decimal

import pytest

from milestones.plan_yaml import PlanError, export_plan, import_plan
from strategies.models import Direction, Frequency, Goal, Indicator
from strategies.periods import FiscalPeriod

pytestmark = pytest.mark.django_db

PLAN = """\
format: apg-action-plan/2
agency: {name: Department of Examples}
goal:
  title: Reduce paperwork
  slug: paperwork
  statement: By 2020, halve the forms.
  fiscal_years: [2019, 2020]
strategies: []
milestones: []
indicators:
  - name: Forms retired
    unit: forms
    direction: higher
    definition: |-
      Forms withdrawn from use.
      Counted once each.
    data_source: Forms inventory (OMB 83-I)
    frequency: quarterly
    baseline: {value: 12.5, period: FY18}
    published: true
    values:
      - {period: Q1 FY20, target: 5, actual: 3, note: 'Two delayed: "review"'}
      - {period: Q2 FY20, target: 10.5}
  - name: Hours spent
    direction: lower
    frequency: annual
    published: false
    values:
      - period: FY20
        target: 100
        actual: 120
        note: |-
          Higher than planned.
          See the risk section.
"""

OLD = """\
format: apg-action-plan/1
agency: {name: Department of Examples}
goal:
  title: Reduce paperwork
  slug: paperwork
  statement: By 2020, halve the forms.
  fiscal_years: [2020]
strategies: []
milestones: []
indicators:
  - name: Forms retired
    unit: forms
    values: [{period: Q1 FY20, target: 5, actual: 3}]
"""


def _delete(goal: Goal) -> None:
    for indicator in goal.indicators.all():
        indicator.delete()
    goal.delete()


def test_every_indicator_field_round_trips_exactly():
    goal = import_plan(PLAN)
    exported = export_plan(goal)
    _delete(goal)

    again = import_plan(exported)

    assert export_plan(again) == exported
    forms, hours = again.indicators.order_by("position")
    assert (
        forms.definition,
        forms.data_source,
        forms.frequency,
        forms.baseline_value,
        forms.baseline_period,
        forms.is_published,
    ) == (
        "Forms withdrawn from use.\nCounted once each.",
        "Forms inventory (OMB 83-I)",
        Frequency.QUARTERLY,
        Decimal("12.5"),
        FiscalPeriod(2018, None),
        True,
    )
    assert [(str(v.period), v.note) for v in forms.values.order_by("period")] == [
        ("Q1 FY20", 'Two delayed: "review"'),
        ("Q2 FY20", ""),
    ]
    assert (hours.direction, hours.frequency, hours.is_published) == (
        Direction.LOWER,
        Frequency.ANNUAL,
        False,
    )
    assert hours.values.get().note == "Higher than planned.\nSee the risk section."
    assert "published: false" in exported and "baseline:\n" in exported


def test_a_file_without_the_new_keys_imports_with_the_defaults():
    goal = import_plan(OLD)

    indicator = goal.indicators.get()
    assert (
        indicator.definition,
        indicator.data_source,
        indicator.frequency,
        indicator.baseline_value,
        indicator.baseline_period,
        indicator.is_published,
        indicator.direction,
    ) == ("", "", Frequency.QUARTERLY, None, None, False, Direction.HIGHER)
    assert indicator.values.get().note == ""


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "line_of", "message"),
    [
        (
            "    frequency: quarterly\n",
            "    frequency: monthly\n",
            "    frequency: monthly",
            "indicators[0].frequency: 'monthly' is not a frequency (write quarterly | annual)",
        ),
        (
            "    published: true\n",
            '    published: "yes"\n',
            '    published: "yes"',
            "indicators[0].published: expected true or false, not text",
        ),
        (
            "    baseline: {value: 12.5, period: FY18}\n",
            "    baseline: {value: 12.5}\n",
            "    baseline: {value: 12.5}",
            "indicators[0].baseline.period: is required",
        ),
        (
            "    baseline: {value: 12.5, period: FY18}\n",
            "    baseline: {value: 12.5, period: Ongoing}\n",
            "    baseline: {value: 12.5, period: Ongoing}",
            "indicators[0].baseline.period: Ongoing is not allowed here: a baseline is for "
            "a quarter or a year",
        ),
        (
            "    baseline: {value: 12.5, period: FY18}\n",
            "    baseline: {value: 12.555, period: FY18}\n",
            "    baseline: {value: 12.555, period: FY18}",
            "indicators[0].baseline.value: 12.555 has more than 2 decimals",
        ),
        (
            "target: 10.5}",
            "target: 10.5, note: [a list]}",
            "      - {period: Q2 FY20",
            "indicators[0].values[1].note: expected text, not a list (quote it)",
        ),
        (
            "    unit: forms\n",
            "    unit: forms\n    owner: nobody\n",
            "    owner: nobody",
            "indicators[0].owner: unknown key (expected one of: name, unit, direction, "
            "definition, data_source, frequency, baseline, published, values)",
        ),
    ],
)
def test_a_bad_indicator_key_is_a_line_numbered_error_and_nothing_changes(
    old, new, line_of, message
):
    text = PLAN.replace(old, new)
    assert text != PLAN

    with pytest.raises(PlanError) as error:
        import_plan(text)

    assert error.value.errors == [f"line {_line_of(text, line_of)}: {message}"]
    assert not Goal.objects.exists() and not Indicator.objects.exists()
