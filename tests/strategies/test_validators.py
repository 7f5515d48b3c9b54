"""The web forms hold the plan's text to the same character rules as the YAML importer."""

import pytest

from milestones.forms import ProgressSummaryForm
from strategies.forms import GoalForm, StrategyForm


def test_a_strategy_title_refuses_control_characters_and_line_breaks():
    bell = StrategyForm({"number": 1, "title": "Cut\x07 forms"})
    broken = StrategyForm({"number": 1, "title": "Cut\tforms"})

    assert bell.errors["title"] == ["Contains the control character U+0007 (character 4)."]
    assert broken.errors["title"] == ["Must be a single line (no line breaks or tabs)."]


def test_a_strategy_description_keeps_line_breaks_and_tabs_but_not_controls():
    fine = StrategyForm({"number": 1, "title": "T", "description": "- one\r\n-\ttwo"})
    bad = StrategyForm({"number": 1, "title": "T", "description": "one\x1btwo"})

    assert fine.is_valid(), fine.errors
    assert bad.errors["description"] == ["Contains the control character U+001B (character 4)."]


@pytest.mark.django_db
def test_the_goal_form_holds_one_line_and_multi_line_fields_to_their_rules(goal):
    form = GoalForm(
        {"title": "Goal\u2028two", "statement": "By 2020:\r\n\thalve\x0cthe forms."},
        instance=goal,
    )

    assert form.errors["title"] == ["Must be a single line (no line breaks or tabs)."]
    assert form.errors["statement"] == ["Contains the control character U+000C (character 17)."]
    assert "overview" not in form.errors


def test_a_progress_summary_refuses_a_control_character():
    form = ProgressSummaryForm({"period": "FY19", "summary": "- Done\x00"})

    assert "Contains the control character U+0000 (character 7)." in form.errors["summary"]
