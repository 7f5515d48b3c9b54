import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MilestoneFactory, UserFactory

pytestmark = pytest.mark.django_db


def timeline_page(user, milestone):
    client = Client()
    client.force_login(user)
    url = reverse("milestone_history", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})
    return client.get(url).content.decode()


def test_admins_get_a_revert_link_on_every_earlier_version(leader, goal):
    milestone = MilestoneFactory(goal=goal, title="First")
    first = milestone.history.get()
    milestone.title = "Second"
    milestone.save()
    admin = UserFactory(is_staff=True)

    page = timeline_page(admin, milestone)

    revert = reverse(
        "milestone_revert",
        kwargs={"slug": goal.slug, "pk": milestone.pk, "history_id": first.history_id},
    )
    assert page.count("data-revert") == 1  # the current version has none
    assert f'href="{revert}"' in page
    assert "data-revert" not in timeline_page(leader, milestone)
