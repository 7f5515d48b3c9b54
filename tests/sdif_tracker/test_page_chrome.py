"""What every page shares from base.html: the breadcrumb trail, and only scripts that exist."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import MilestoneFactory, StrategyFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def trail(document):
    """The breadcrumb items as (text, href, aria-current)."""
    navs = document.find_all("nav", aria_label="Breadcrumb")
    assert len(navs) == 1, f"{len(navs)} breadcrumb navs"
    items = navs[0].find("ol", class_="breadcrumb").find_all("li", class_="breadcrumb-item")
    return [
        (
            item.text,
            links[0].attrs["href"] if (links := item.find_all("a")) else None,
            item.attrs.get("aria-current"),
        )
        for item in items
    ]


def test_the_dashboard_trail_ends_at_the_goal(client, leader, goal):
    document = page(client, leader, reverse("goal_dashboard", kwargs={"slug": goal.slug}))

    assert trail(document) == [
        ("Portfolio", reverse("portfolio"), None),
        (goal.short_name or goal.title, None, "page"),
    ]


def test_a_milestone_trail_runs_through_its_goal(client, leader, goal):
    milestone = MilestoneFactory(goal=goal, strategy=StrategyFactory(goal=goal))

    document = page(client, leader, milestone.get_absolute_url())

    assert trail(document) == [
        ("Portfolio", reverse("portfolio"), None),
        (goal.short_name or goal.title, goal.get_absolute_url(), None),
        ("Key milestone", None, "page"),
    ]


def test_the_trail_is_translated(client, leader, goal):
    client.force_login(leader)
    url = reverse("goal_dashboard", kwargs={"slug": goal.slug})
    document = parse(client.get(url, headers={"accept-language": "es"}).content)

    assert document.find_all("nav", aria_label="Ruta de navegación")
    assert document.find("ol", class_="breadcrumb").find("a").text == "Portafolio"


@pytest.mark.parametrize("name", ["portfolio", "my_goals"])
def test_a_page_without_a_trail_has_no_breadcrumb_nav(client, leader, name):
    document = page(client, leader, reverse(name))

    assert not document.find_all("nav", aria_label="Breadcrumb")
    assert not document.find_all("ol", class_="breadcrumb")


def test_every_script_a_page_loads_is_a_shipped_file(client, leader, goal, settings):
    document = page(client, leader, reverse("goal_dashboard", kwargs={"slug": goal.slug}))

    sources = [script.attrs["src"] for script in document.find_all("script", src=True)]
    assert sources
    for src in sources:
        assert src.startswith(settings.STATIC_URL), src
        assert finders.find(src.removeprefix(settings.STATIC_URL)), f"{src} is not shipped"
