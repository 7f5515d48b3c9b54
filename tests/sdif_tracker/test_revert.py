"""Admins restore an earlier version of a milestone, strategy or goal as a new change."""

import pytest
from django.urls import reverse

from audit.history import recorded_change
from audit.reasons import describe
from milestones.models import Milestone, Status
from strategies.models import Goal, Strategy
from strategies.periods import FiscalPeriod
from tests.html_dom import parse
from tests.sdif_tracker.asof_story import STRATEGY_4_TITLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, clock, story, admin_user):
    clock.set(2019, 10, 2, 15, 30)
    client.force_login(admin_user)
    return client


def first_version(obj):
    """The version the plan's import left: the import replays the plan's Q3 FY19 update,
    so a milestone's first row is its state before that update (TBD, no comment)."""
    history = obj.changes if isinstance(obj, Goal) else obj.history
    imported = history.filter(history_source="import").order_by("history_date", "history_id")
    return imported.last() or history.order_by("history_date", "history_id").first()


def milestone_url(milestone, record):
    return reverse(
        "milestone_revert",
        kwargs={"slug": milestone.goal.slug, "pk": milestone.pk, "history_id": record.pk},
    )


def rows_of(history):
    return list(history.order_by("history_id").values_list("history_id", "history_date"))


def test_it_shows_the_changes_the_revert_will_make(admin, story):
    milestone = story.milestone(3)
    response = admin.get(milestone_url(milestone, first_version(milestone)))
    assert response.status_code == 200
    table = parse(response.content).find("table", class_="revert-changes")
    changes = [
        [cell.text for cell in tr.find_all() if cell.tag in ("th", "td")]
        for tr in table.find("tbody").find_all("tr")
    ]
    assert changes == [
        ["Status", "At risk", "On track"],
        ["Comment", "Meeting postponed.", story.originals[3][1]],
    ]
    milestone.refresh_from_db()
    assert milestone.status == Status.AT_RISK  # GET changes nothing


def test_it_restores_the_old_values_as_a_new_recorded_change(admin, story):
    milestone = story.milestone(3)
    record = first_version(milestone)
    before = rows_of(milestone.history)
    response = admin.post(
        milestone_url(milestone, record),
        {"version": Milestone.objects.get(pk=milestone.pk).version},
    )
    assert response.status_code == 302
    assert response["Location"] == milestone.get_absolute_url()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.comment) == (Status.ON_TRACK, story.originals[3][1])
    # A new history row, with the reason; the earlier rows untouched.
    assert rows_of(milestone.history)[:-1] == before
    newest = milestone.history.order_by("-history_id").first()
    assert (
        describe(newest.history_change_reason) == "Reverted to version of 2018-10-05 10:00 by root"
    )
    assert newest.history_user.username == "root"
    assert (newest.status, newest.comment) == (Status.ON_TRACK, story.originals[3][1])
    assert newest.history_type == "~"


def test_a_stale_confirmation_is_refused(admin, story):
    milestone = story.milestone(3)
    opened = Milestone.objects.get(pk=milestone.pk).version
    with recorded_change(user=story.leader, reason="meanwhile"):
        fresh = Milestone.objects.get(pk=milestone.pk)
        fresh.owner = "OFAC"
        fresh.save()
    response = admin.post(milestone_url(milestone, first_version(milestone)), {"version": opened})
    assert response.status_code == 409
    assert Milestone.objects.get(pk=milestone.pk).status == Status.AT_RISK


def test_it_refuses_a_strategy_that_no_longer_exists(admin, story):
    from milestones.services import move_milestone
    from strategies.services import add_strategy, delete_strategy

    milestone = story.milestone(9)
    extra = add_strategy(goal=story.goal, user=story.leader, number=5, title="Temporary")
    move_milestone(
        milestone=milestone, user=story.leader, strategy=extra, expected_version=milestone.version
    )
    in_extra = milestone.history.order_by("-history_id").first()
    milestone.refresh_from_db()
    move_milestone(
        milestone=milestone,
        user=story.leader,
        strategy=story.goal.strategies.get(number=2),
        expected_version=milestone.version,
    )
    delete_strategy(strategy=extra, user=story.leader)
    milestone.refresh_from_db()
    count = milestone.history.count()

    response = admin.post(milestone_url(milestone, in_extra), {"version": milestone.version})
    assert response.status_code == 400
    assert (
        "That version's strategy alignment has since been deleted, so it cannot be restored."
        in parse(response.content).find("div", id="messages").text
    )
    assert milestone.history.count() == count


def test_it_reverts_a_strategy_and_the_goal(admin, story):
    strategy = Strategy.objects.get(goal=story.goal, number=4)
    assert strategy.title == STRATEGY_4_TITLE
    original = first_version(strategy)
    url = reverse(
        "strategy_revert",
        kwargs={"slug": story.goal.slug, "pk": strategy.pk, "history_id": original.pk},
    )
    assert admin.post(url).status_code == 302
    strategy.refresh_from_db()
    assert strategy.title == original.title != STRATEGY_4_TITLE
    newest = strategy.history.order_by("-history_id").first()
    assert describe(newest.history_change_reason).startswith(
        "Reverted to version of 2018-10-05 10:00 by root"
    )

    goal = story.goal
    first = first_version(goal)
    from strategies.services import update_goal

    update_goal(goal=goal, user=story.leader, title="A worse title")
    url = reverse("goal_revert", kwargs={"slug": goal.slug, "history_id": first.pk})
    page = parse(admin.get(url).content)
    assert [
        [cell.text for cell in tr.find_all() if cell.tag in ("th", "td")]
        for tr in page.find("table", class_="revert-changes").find("tbody").find_all("tr")
    ] == [["Title", "A worse title", first.title]]
    assert admin.post(url).status_code == 302
    goal.refresh_from_db()
    assert goal.title == first.title


def test_reverting_to_the_current_values_changes_nothing(admin, story):
    milestone = story.milestone(5)  # never changed since the import
    count = milestone.history.count()
    url = milestone_url(milestone, first_version(milestone))
    assert parse(admin.get(url).content).find("p", data_nothing_to_revert=True)
    response = admin.post(url, {"version": milestone.version})
    assert response.status_code == 400
    assert milestone.history.count() == count


def test_it_is_403_for_the_goals_leader(client, story):
    from strategies.models import Role
    from tests.factories import MembershipFactory

    leader = MembershipFactory(goal=story.goal, role=Role.LEADER).user
    client.force_login(leader)
    milestone = story.milestone(3)
    url = milestone_url(milestone, first_version(milestone))
    assert client.get(url).status_code == 403
    assert client.post(url, {"version": milestone.version}).status_code == 403
    milestone.refresh_from_db()
    assert milestone.status == Status.AT_RISK


def test_a_version_of_another_object_or_goal_is_404(admin, story):
    milestone = story.milestone(3)
    other = story.milestone(4)
    assert admin.get(milestone_url(milestone, first_version(other))).status_code == 404
    strategy = Strategy.objects.get(goal=story.goal, number=1)
    url = reverse(
        "strategy_revert",
        kwargs={
            "slug": story.goal.slug,
            "pk": strategy.pk,
            "history_id": first_version(Strategy.objects.get(goal=story.goal, number=2)).pk,
        },
    )
    assert admin.get(url).status_code == 404
    from tests.factories import GoalFactory, MilestoneFactory

    foreign = MilestoneFactory(goal=GoalFactory())
    # The other goal's milestone through this goal's URL, and its version on ours.
    assert admin.get(milestone_url(foreign, first_version(foreign)).replace(
        foreign.goal.slug, story.goal.slug
    )).status_code == 404  # fmt: skip
    foreign_version = milestone_url(milestone, first_version(foreign))
    assert admin.post(foreign_version, {"version": 1}).status_code == 404
    url = reverse(
        "goal_revert",
        kwargs={"slug": story.goal.slug, "history_id": first_version(foreign.goal).pk},
    )
    assert admin.get(url).status_code == 404


def latest_status_update_row(client, milestone) -> list[str]:
    page = parse(client.get(milestone.get_absolute_url()).content)
    rows = page.find("table", class_="status-updates").find("tbody").find_all("tr")
    return [cell.visible_text for cell in rows[0].find_all("td")]  # newest first


def test_a_reverted_status_heads_the_status_log_with_a_note_of_the_revert(admin, story):
    milestone = story.milestone(2)
    original_status, original_comment = story.originals[2]
    assert (
        latest_status_update_row(admin, milestone)[3]
        == f"{Status(original_status).label} → Completed"
    )

    response = admin.post(
        milestone_url(milestone, first_version(milestone)),
        {"version": Milestone.objects.get(pk=milestone.pk).version},
    )

    assert response.status_code == 302
    time, by, period, status, comment, revised_due = latest_status_update_row(admin, milestone)
    assert (by, period, status) == (
        "root",
        "Q4 FY19",
        f"Completed → {Status(original_status).label}",
    )
    assert comment == f"Reverted to version of 2018-10-05 10:00 by root.{original_comment}"
    update = milestone.status_updates.latest("created_at")
    assert describe(update.history.get().history_change_reason) == (
        "Reverted to version of 2018-10-05 10:00 by root"
    )


def test_a_revert_that_leaves_status_and_comment_adds_no_status_update(admin, story):
    from milestones.services import move_milestone

    milestone = story.milestone(9)  # added, then only its strategy alignment changes
    first = first_version(milestone)
    move_milestone(
        milestone=milestone, user=story.leader, strategy=None, expected_version=milestone.version
    )
    count = milestone.status_updates.count()

    response = admin.post(
        milestone_url(milestone, first),
        {"version": Milestone.objects.get(pk=milestone.pk).version},
    )

    assert response.status_code == 302
    assert Milestone.objects.get(pk=milestone.pk).strategy is not None
    assert milestone.status_updates.count() == count


def test_the_revert_reason_reads_as_words_on_the_page_and_in_the_message(admin, story):
    milestone = story.milestone(3)
    url = milestone_url(milestone, first_version(milestone))
    page = parse(admin.get(url).content).find("main").visible_text
    assert "Recorded with the reason “Reverted to version of 2018-10-05 10:00 by root”." in page
    assert "@r1:" not in page

    response = admin.post(
        url, {"version": Milestone.objects.get(pk=milestone.pk).version}, follow=True
    )
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Saved as a new change: “Reverted to version of 2018-10-05 10:00 by root”."]


def test_a_spanish_admins_revert_writes_the_plan_note_in_the_plans_language(admin, story):
    milestone = story.milestone(2)
    admin.post(
        milestone_url(milestone, first_version(milestone)),
        {"version": Milestone.objects.get(pk=milestone.pk).version},
        headers={"accept-language": "es"},
    )
    update = milestone.status_updates.latest("created_at")
    assert update.comment.startswith("Reverted to version of 2018-10-05 10:00 by root.")


def test_a_revert_into_a_quarter_in_review_is_refused_with_the_reason(admin, story):
    # The Q4 FY19 update is submitted: its quarter's status updates are locked, and a
    # revert writes one.
    from milestones.models import ProgressSummary, ReviewState
    from tests.factories import ProgressSummaryFactory

    ProgressSummaryFactory(
        goal=story.goal,
        period=FiscalPeriod(2019, 4),
        risk="low",
        review_state=ReviewState.SUBMITTED,
    )
    milestone = story.milestone(2)
    before = Milestone.objects.get(pk=milestone.pk)

    response = admin.post(
        milestone_url(milestone, first_version(milestone)), {"version": before.version}
    )

    assert response.status_code == 409
    text = parse(response.content).text
    assert "The Q4 FY19 update is submitted" in text
    assert "A reviewer must return it to draft" in text
    after = Milestone.objects.get(pk=milestone.pk)
    assert (after.status, after.version) == (before.status, before.version)
    assert ProgressSummary.objects.get(goal=story.goal, period=FiscalPeriod(2019, 4)).is_in_review
