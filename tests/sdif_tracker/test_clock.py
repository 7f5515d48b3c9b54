"""The reporting quarter is the app's clock: a page reads the same whatever today's date.

The shipped SDIF plan (FY 2018–19, its Q3 FY19 update published) is rendered with the
clock in October 2019 — the data call for Q4 FY19 — and on 29 November 2026, seven years
on. Apart from recorded times (``<time>`` elements, the day a copy is printed) and the
per-request tokens, every page must say the same: reporting on Q4 FY19, milestone 2
overdue, the FY19 and Q4 FY19 milestones due this quarter, nothing about Q1 FY27.
"""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from milestones.models import Milestone
from strategies.models import Role
from tests.factories import MembershipFactory, UserFactory

IN_2019 = datetime.datetime(2019, 10, 21, 14, 0, tzinfo=datetime.UTC)
IN_2026 = datetime.datetime(2026, 11, 29, 14, 0, tzinfo=datetime.UTC)

# What legitimately differs between two renderings: recorded times are shown in <time>
# elements; a printed copy names the day it was printed; tokens differ per request.
_VOLATILE = [
    re.compile(r"<time\b[^>]*>.*?</time>", re.S),
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r'"csrfToken":\s*"[^"]*"'),
    re.compile(r"nonce-[A-Za-z0-9+/=_-]+|nonce=\"[^\"]*\""),
    re.compile(r"printed \d{1,2} \w+ \d{4}"),
]


def _normalised(html: str) -> str:
    for pattern in _VOLATILE:
        html = pattern.sub("", html)
    return html


def _pages(goal) -> list[str]:
    first, second = goal.milestones.order_by("position")[:2]
    return [
        reverse("portfolio"),
        reverse("goal_dashboard", kwargs={"slug": goal.slug}),
        reverse("goal_dashboard", kwargs={"slug": goal.slug}) + "?group=quarter",
        reverse("goal_dashboard", kwargs={"slug": goal.slug}) + "?overdue=on",
        reverse("goal_plan", kwargs={"slug": goal.slug}),
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        reverse("my_goals"),
        first.get_absolute_url(),
        second.get_absolute_url(),
    ]


class LeaderClient(Client):
    """A client signed in as the goal's leader afresh at whatever time the clock shows
    (a session begun in 2026 has long expired in 2019, and the other way round)."""

    def __init__(self, leader):
        super().__init__()
        self.leader = leader

    def get(self, *args, **kwargs):
        self.force_login(self.leader)
        return super().get(*args, **kwargs)


@pytest.fixture
def leader_client(sdif_goal):
    leader = UserFactory(username="clock-leader")
    MembershipFactory(user=leader, goal=sdif_goal, role=Role.LEADER)
    return LeaderClient(leader)


def _render(client, urls, moment) -> dict[str, str]:
    with time_machine.travel(moment, tick=False):
        pages = {}
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            pages[url] = _normalised(response.content.decode())
        return pages


def test_every_page_reads_the_same_in_2019_and_in_2026(sdif_goal, leader_client):
    urls = _pages(sdif_goal)

    in_2019 = _render(leader_client, urls, IN_2019)
    in_2026 = _render(leader_client, urls, IN_2026)

    for url in urls:
        assert in_2019[url] == in_2026[url], url


@pytest.mark.parametrize("moment", [IN_2019, IN_2026], ids=["2019", "2026"])
def test_the_dashboard_reports_on_q4_fy19_with_one_overdue_milestone(
    sdif_goal, leader_client, moment
):
    with time_machine.travel(moment, tick=False):
        page = leader_client.get(sdif_goal.get_absolute_url()).content.decode()

    assert "Reporting on Q4 FY19" in page
    assert "Q1 FY27" not in page and "FY26" not in page
    overdue_rows = re.findall(r'<tr id="milestone-(\d+)"[^>]*class="[^"]*\bis-overdue\b', page)
    # The seed's only milestone whose due has passed by Q4 FY19: due Q1 FY19, TBD.
    timeline = sdif_goal.milestones.get(title__startswith="Establish timeline")
    assert overdue_rows == [str(timeline.pk)]
    due_now = {
        m.pk
        for m in Milestone.objects.filter(goal=sdif_goal)
        if m.effective_due is not None
        and str(m.effective_due) in ("FY19", "Q4 FY19")
        and m.status not in ("completed", "cancelled")
    }
    assert due_now  # the seed has FY19 and Q4 FY19 milestones
    assert page.count("data-due-now") == len(due_now)


@pytest.mark.parametrize("moment", [IN_2019, IN_2026], ids=["2019", "2026"])
def test_the_status_form_defaults_to_the_reporting_quarter(sdif_goal, leader_client, moment):
    milestone = sdif_goal.milestones.order_by("position").first()

    with time_machine.travel(moment, tick=False):
        page = leader_client.get(milestone.get_absolute_url()).content.decode()

    assert 'value="Q4 FY19"' in page
