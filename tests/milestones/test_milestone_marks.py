"""The status scale's marks (milestones/templatetags/milestone_marks.py): every status
shows its label with a shape of its own, so colour is never the only cue."""

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from milestones.models import Status
from tests.html_dom import parse


@pytest.fixture(autouse=True)
def _english():
    # Rendered outside a request: whatever language an earlier test left active would do.
    with translation.override("en"):
        yield


def render_html(source, **context):
    return Template("{% load milestone_marks %}" + source).render(Context(context))


def render(source, **context):
    return parse(render_html(source, **context))


def test_every_status_badge_shows_its_label_and_a_shape_of_its_own():
    shapes = {}
    for status in Status:
        page = render("{% status_badge status label %}", status=status.value, label=status.label)
        badge = page.find("span", data_status=status.value)
        assert badge.visible_text == str(status.label)
        assert badge.text == f"Status: {status.label}"
        icon = badge.find("svg")
        assert icon.attrs["aria-hidden"] == "true"
        assert f"status-{status.value}" in badge.attrs["class"]
        html = render_html(
            "{% status_badge status label %}", status=status.value, label=status.label
        )
        shapes[status] = re.search(r"<svg[^>]*>(.*)</svg>", html)[1]
        assert shapes[status]
    assert len(set(shapes.values())) == len(Status), "two statuses share a shape"


def test_a_label_is_escaped():
    page = render("{% status_badge 'on_track' label %}", label="<b>On</b>")
    assert page.find("span", data_status="on_track").visible_text == "<b>On</b>"
    assert not page.find_all("b")


def test_a_status_change_shows_both_statuses_and_one_when_unchanged():
    changed = render("{% status_change 'on_track' 'On track' 'at_risk' 'At risk' %}").find(
        "span", class_="status-change"
    )
    assert changed.visible_text == "On track → At risk"
    assert changed.find("span", aria_hidden="true").text == "→"
    hidden = [span.text for span in changed.find_all("span", class_="visually-hidden")]
    assert hidden == ["Status:", "changed to", "Status:"]

    same = render("{% status_change 'at_risk' 'At risk' 'at_risk' 'At risk' %}")
    assert not same.find_all("span", class_="status-change")
    assert [b.attrs["data-status"] for b in same.find_all("span", class_="status-badge")] == [
        "at_risk"
    ]


def test_the_legend_lists_every_status_in_the_scales_order():
    legend = render("{% status_legend %}").find("div", data_status_legend=True)
    badges = legend.find_all("span", class_="status-badge")
    assert [b.attrs["data-status"] for b in badges] == [s.value for s in Status]
