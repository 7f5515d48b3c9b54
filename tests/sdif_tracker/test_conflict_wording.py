"""A form refused because the object was saved since it was opened says who saved it: a
colleague by name ("Someone else updated…", "dana at …"), or the same person in another
tab or window ("You saved this milestone in another tab or window…"), never "someone
else" for one's own save."""

import pytest
from django.test import Client
from django.urls import reverse

from milestones.models import Status
from milestones.services import move_milestone, record_status_update, save_progress_summary
from strategies.models import PROGRAM_FIELDS, SECTION_FIELDS, Role
from strategies.periods import FiscalPeriod
from strategies.services import GOAL_EDITABLE_FIELDS, update_goal, update_strategy
from tests.factories import MembershipFactory, MilestoneFactory, StrategyFactory, UserFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q3_FY19 = FiscalPeriod(2019, 3)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def conflict_text(response) -> str:
    alert = parse(response.content).find(data_conflict=True)
    assert alert is not None, response.content.decode()[:2000]
    return " ".join(alert.text.split())


@pytest.fixture
def dana(goal):
    return MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dana").user


# -- the status update form ---------------------------------------------------------------


def _status_post(milestone, comment):
    values = {
        "status": Status.COMPLETED,
        "comment": comment,
        "period": "Q3 FY19",
        "revised_due": "",
        "version": milestone.version,
    }
    return {f"m{milestone.pk}-{key}": value for key, value in values.items()}


def _saved_meanwhile(milestone, user):
    record_status_update(
        milestone=milestone,
        user=user,
        status=Status.AT_RISK,
        comment="Saved in the other tab",
        period=Q3_FY19,
        expected_version=milestone.version,
    )


def _update_url(milestone):
    return reverse("milestone_update", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})


def test_a_status_update_saved_meanwhile_in_another_tab_is_the_users_own(leader, milestone):
    opened = _status_post(milestone, "My careful words")
    _saved_meanwhile(milestone, leader)

    response = client_for(leader).post(_update_url(milestone), opened)

    assert response.status_code == 409
    text = conflict_text(response)
    assert text.startswith(
        "You saved this milestone in another tab or window after you opened this form. "
        "Nothing you typed here was saved"
    )
    assert "You, in another tab or window, at " in text
    assert "Someone else" not in text
    assert leader.username not in text
    assert "My careful words" in response.content.decode()


def test_a_status_update_saved_meanwhile_by_a_colleague_names_them(leader, dana, milestone):
    opened = _status_post(milestone, "My careful words")
    _saved_meanwhile(milestone, dana)

    response = client_for(leader).post(_update_url(milestone), opened)

    assert response.status_code == 409
    text = conflict_text(response)
    assert text.startswith("Someone else updated this milestone after you opened the form.")
    assert "dana at " in text
    assert "another tab" not in text


def test_the_panel_form_says_the_same(leader, milestone):
    opened = _status_post(milestone, "My careful words")
    _saved_meanwhile(milestone, leader)

    response = client_for(leader).post(_update_url(milestone), opened, HTTP_HX_REQUEST="true")

    assert "You saved this milestone in another tab or window" in conflict_text(response)


# -- the quarterly update -------------------------------------------------------------------


@pytest.mark.parametrize(("saver", "expected"), [("leader", "You saved"), ("dana", "dana")])
def test_a_summary_saved_meanwhile_says_who_saved_it(goal, leader, dana, saver, expected):
    opened = save_progress_summary(goal=goal, user=leader, period=Q3_FY19, summary="- A")
    save_progress_summary(
        goal=goal, user={"leader": leader, "dana": dana}[saver], period=Q3_FY19, summary="- B"
    )

    response = client_for(leader).post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {"period": "Q3 FY19", "summary": "- Mine", "version": opened.version},
    )

    assert response.status_code == 409
    text = conflict_text(response)
    if saver == "leader":
        assert text.startswith("You saved this summary in another tab or window")
        assert "Saved by you in another tab or window (" in text
        assert "Someone else" not in text
    else:
        assert text.startswith("Someone else saved this summary")
        assert "Saved by dana (" in text


# -- the plan editing forms (admins) -------------------------------------------------------


def goal_form_data(goal, **changes):
    """The goal form as the browser posts it, at the version it was opened at."""
    data = {}
    for name in GOAL_EDITABLE_FIELDS:
        value = getattr(goal, name)
        if name == "target_date":
            value = value.isoformat() if value else ""
        elif name == "continued_by":
            value = goal.continued_by_id or ""
        elif name in (*SECTION_FIELDS, *PROGRAM_FIELDS, "statement"):
            value = value.replace("\n", "\r\n")
        data[name] = value
    return {**data, "version": goal.version, **changes}


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_a_strategy_saved_in_another_tab_by_the_same_admin(goal, admin_user):
    strategy = StrategyFactory(goal=goal, number=3, title="Third", description="Old")
    opened = strategy.version
    update_strategy(
        strategy=strategy,
        user=admin_user,
        number=3,
        title="Third",
        description="From the other tab",
        expected_version=opened,
    )

    response = client_for(admin_user).post(
        reverse("strategy_edit", kwargs={"slug": goal.slug, "pk": strategy.pk}),
        {"number": "3", "title": "Third", "description": "Mine", "version": opened},
    )

    assert response.status_code == 409
    text = conflict_text(response)
    assert text.startswith("You saved this strategy in another tab or window at ")
    assert "(description) after you opened this form. Nothing was saved here." in text
    assert "You changed description in both places." in text
    assert "root" not in text and "You both changed" not in text


def test_a_strategy_saved_by_a_colleague_names_them(goal, admin_user):
    strategy = StrategyFactory(goal=goal, number=3, title="Third", description="Old")
    opened = strategy.version
    colleague = UserFactory(username="colleague", is_staff=True)
    update_strategy(
        strategy=strategy,
        user=colleague,
        number=3,
        title="Third",
        description="Theirs",
        expected_version=opened,
    )

    response = client_for(admin_user).post(
        reverse("strategy_edit", kwargs={"slug": goal.slug, "pk": strategy.pk}),
        {"number": "3", "title": "Third", "description": "Mine", "version": opened},
    )

    text = conflict_text(response)
    assert text.startswith("colleague changed this strategy at ")
    assert "You both changed: description." in text
    assert "another tab" not in text


def test_a_goal_saved_in_another_tab_by_the_same_admin(goal, admin_user):
    opened = goal_form_data(goal, title="Mine")
    update_goal(goal=goal, user=admin_user, title="From the other tab")

    response = client_for(admin_user).post(
        reverse("goal_edit", kwargs={"slug": goal.slug}), opened
    )

    assert response.status_code == 409
    text = conflict_text(response)
    assert text.startswith("You saved this goal in another tab or window at ")
    assert "You changed title in both places." in text


def test_a_milestone_moved_in_another_tab_by_the_same_admin(goal, admin_user):
    first = StrategyFactory(goal=goal, number=1)
    second = StrategyFactory(goal=goal, number=2)
    milestone = MilestoneFactory(goal=goal, strategy=first)
    opened = milestone.version
    move_milestone(milestone=milestone, user=admin_user, strategy=second, expected_version=opened)

    prefix = f"move{milestone.pk}"
    response = client_for(admin_user).post(
        reverse("milestone_move", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        {f"{prefix}-strategy": first.pk, f"{prefix}-version": opened},
    )

    assert response.status_code == 409
    text = conflict_text(response)
    assert text.startswith("You changed this milestone in another tab or window at ")
    assert "root" not in text
