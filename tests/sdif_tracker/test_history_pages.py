"""Timelines: every version of a goal, strategy, milestone, progress summary or indicator,
newest first, with who, when, why, and each changed field in words — keyset-paged."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import history
from audit.diffs import word_diff
from audit.history import recorded_change
from milestones.models import Status
from sdif_tracker.views.history import TIMELINE_PAGE_SIZE
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def history_url(obj, kind):
    if kind == "goal":
        return reverse("goal_history", kwargs={"slug": obj.slug})
    return reverse(f"{kind}_history", kwargs={"slug": obj.goal.slug, "pk": obj.pk})


@pytest.fixture
def milestone(goal):
    strategy = StrategyFactory(goal=goal, number=1, title="Build the dialogue")
    with recorded_change(reason="Imported"):
        return MilestoneFactory(
            goal=goal, strategy=strategy, status=Status.ON_TRACK, comment="Work continues."
        )


def change(obj, *, user=None, reason="Quarterly review", **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    with recorded_change(user=user, reason=reason):
        obj.save()
    return obj


def side(row, which: str) -> str:
    """The value under Before ("old") or After ("new") of one field's change."""
    return row.find("div", **{f"data_{which}": True}).find("div", class_="history-value").text


def visible(html) -> str:
    """A word diff as a sighted reader sees it: [removed] and {added} runs."""
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", str(html))
    text = re.sub(r"<del[^>]*>(.*?)</del>", r"[\1]", text)
    return re.sub(r"<ins[^>]*>(.*?)</ins>", r"{\1}", text)


def newest_changes(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["entries"][0], parse(response.content)


class TestFieldChangesInWords:
    def test_a_status_change_reads_as_labels(self, leader, milestone):
        change(milestone, user=leader, status=Status.AT_RISK)

        entry, page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        assert [c.text for c in entry.changes] == ["Status: On track → At risk"]
        row = page.find("div", data_changed_field="status")
        assert side(row, "old") == "On track"
        assert side(row, "new") == "At risk"

    def test_a_period_change_reads_in_canonical_form(self, leader, milestone):
        change(milestone, revised_due=FiscalPeriod(2019))

        entry, page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        assert [c.text for c in entry.changes] == ["Revised due: — → FY19"]
        row = page.find("div", data_changed_field="revised_due")
        assert row.text == "Revised due Before — After FY19"

    def test_a_strategy_change_names_both_strategies(self, leader, goal, milestone):
        other = StrategyFactory(goal=goal, number=2, title="Train the analysts")
        change(milestone, strategy=other)

        entry, _page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        assert [c.text for c in entry.changes] == [
            "Strategy alignment: Strategy 1: Build the dialogue → Strategy 2: Train the analysts"
        ]

    def test_a_deleted_strategy_is_named_from_its_history(self, leader, goal, milestone):
        old = milestone.strategy
        change(milestone, strategy=StrategyFactory(goal=goal, number=2, title="Train"))
        old.delete()

        entry, _page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        assert entry.changes[0].old == "Strategy 1: Build the dialogue (deleted)"

    def test_a_text_change_is_a_word_level_diff(self, leader, milestone):
        change(milestone, comment="Work stalled <b>today</b>.")

        entry, page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        (comment,) = entry.changes
        assert comment.is_text
        cell = page.find("dd", data_diff=True)
        before, after = cell.find("div", data_old=True), cell.find("div", data_new=True)
        # Removed words only under Before, added ones only under After.
        assert [node.visible_text for node in before.find_all("del")] == ["continues."]
        assert before.find_all("ins") == []
        assert [node.visible_text for node in after.find_all("ins")] == ["stalled <b>today</b>."]
        assert after.find_all("del") == []
        assert after.find_all("b") == []  # the user's markup is text, not HTML
        # Each run tells a screen reader what the strike-through or underline shows.
        assert before.find("del").text == "removed: continues. end of removed text"
        assert after.find("ins").text == "added: stalled <b>today</b>. end of added text"

    def test_word_diff_keeps_unchanged_words_and_marks_each_run(self):
        diff = word_diff("one two three four", "one 2 three four five")

        assert visible(diff.before) == "one [two] three four"
        assert visible(diff.after) == "one {2} three four {five}"

    def test_a_rewritten_sentence_is_one_struck_run_and_one_underlined_run(self):
        diff = word_diff(
            "The team met the vendor on Monday and agreed the plan.",
            "The team did not meet the vendor; the plan slips to March.",
        )

        assert visible(diff.before) == ("The team [met the vendor on Monday and agreed the plan.]")
        assert visible(diff.after) == (
            "The team {did not meet the vendor; the plan slips to March.}"
        )

    def test_an_added_line_appears_only_under_after(self, leader, milestone):
        change(milestone, comment="Work continues.\nA second workshop is planned.")

        _entry, page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        before = page.find("div", data_old=True)
        after = page.find("div", data_new=True)
        assert "second workshop" not in before.text
        assert before.find_all("del") == []
        assert [node.visible_text for node in after.find_all("ins")] == [
            "A second workshop is planned."
        ]

    def test_each_entry_shows_who_when_why_and_where(self, leader, milestone):
        change(milestone, user=leader, reason="Mexico replaced its team", owner="OFAC")

        _entry, page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        newest = page.find("li", class_="history-entry")
        assert f"Changed by {leader.username}" in newest.text
        assert "via code" in newest.text
        assert newest.find("p", data_reason=True).text == "Reason: Mexico replaced its team"
        assert newest.find("time").attrs["datetime"]

    def test_bookkeeping_fields_are_not_shown(self, leader, milestone):
        change(milestone, owner="FinCEN")

        entry, _page = newest_changes(client_for(leader), history_url(milestone, "milestone"))

        assert [c.field for c in entry.changes] == ["owner"]  # not version, updated_at


class TestEveryKindHasATimeline:
    @pytest.mark.parametrize("kind", ["goal", "strategy", "milestone", "progress", "indicator"])
    def test_a_leader_reads_their_goals_timelines(self, goal, leader, kind):
        obj = {
            "goal": lambda: goal,
            "strategy": lambda: StrategyFactory(goal=goal),
            "milestone": lambda: MilestoneFactory(goal=goal),
            "progress": lambda: ProgressSummaryFactory(goal=goal),
            "indicator": lambda: IndicatorFactory(goal=goal),
        }[kind]()

        response = client_for(leader).get(history_url(obj, kind))

        assert response.status_code == 200
        assert len(response.context["entries"]) == 1

    def test_the_goal_timeline_shows_a_narrative_edit_as_a_diff(self, goal, admin_user):
        change(goal, user=admin_user, overview="The dialogue meets twice a year.")
        change(goal, user=admin_user, overview="The dialogue meets four times a year.")

        entry, _page = newest_changes(client_for(admin_user), history_url(goal, "goal"))

        (overview,) = entry.changes
        assert visible(overview.before) == "The dialogue meets [twice] a year."
        assert visible(overview.after) == "The dialogue meets {four times} a year."

    def test_a_progress_summary_timeline_names_its_period(self, goal, leader):
        summary = ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019, 2))

        page = parse(client_for(leader).get(history_url(summary, "progress")).content)

        assert f"{goal.short_name} — Q2 FY19" in page.find("p", data_object_name=True).text


class TestAccess:
    @pytest.fixture
    def restricted(self):
        return GoalFactory(sensitivity=Sensitivity.RESTRICTED)

    def test_an_outsider_gets_404_on_a_restricted_goals_history(self, restricted, outsider):
        milestone = MilestoneFactory(goal=restricted)
        client = client_for(outsider)

        assert client.get(history_url(restricted, "goal")).status_code == 404
        assert client.get(history_url(milestone, "milestone")).status_code == 404

    def test_a_reviewer_of_the_goal_reads_its_history(self, restricted):
        reviewer = MembershipFactory(goal=restricted, role=Role.REVIEWER).user
        milestone = MilestoneFactory(goal=restricted)

        assert client_for(reviewer).get(history_url(milestone, "milestone")).status_code == 200

    def test_anonymous_users_are_sent_to_log_in(self, client, goal):
        response = client.get(history_url(goal, "goal"))

        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_an_id_of_another_goal_is_404_under_this_goals_slug(self, goal, leader):
        elsewhere = MilestoneFactory()  # another goal
        url = reverse("milestone_history", kwargs={"slug": goal.slug, "pk": elsewhere.pk})

        assert client_for(leader).get(url).status_code == 404

    def test_a_strategy_id_is_not_a_milestone_timeline(self, goal, leader):
        strategy = StrategyFactory(goal=goal)
        url = reverse("strategy_history", kwargs={"slug": goal.slug, "pk": strategy.pk + 1000})

        assert client_for(leader).get(url).status_code == 404

    def test_a_deleted_milestones_history_stays_readable(self, goal, leader):
        milestone = MilestoneFactory(goal=goal, title="Sign the MoU")
        url = history_url(milestone, "milestone")
        with recorded_change(reason="Dropped from the plan"):
            milestone.delete()

        response = client_for(leader).get(url)

        assert response.status_code == 200
        page = parse(response.content)
        assert page.find("div", data_deleted=True)
        assert page.find("p", data_object_name=True).text == "Sign the MoU"
        assert page.find("strong", data_change_type=True).text == "Deleted"


class TestKeysetPages:
    def test_thirty_versions_make_two_pages_without_overlap_or_gap(self, goal, leader):
        # Every version at the same instant: the history id alone orders them.
        same_time = timezone.now() - datetime.timedelta(days=1)
        milestone = MilestoneFactory.build(goal=goal, strategy=StrategyFactory(goal=goal))
        milestone._history_date = same_time
        milestone.save()
        for n in range(29):
            change(milestone, owner=f"Owner {n}")
        all_ids = list(
            milestone.history.order_by("-history_id").values_list("history_id", flat=True)
        )
        assert len(all_ids) == 30
        client = client_for(leader)

        first = client.get(history_url(milestone, "milestone"))
        older = parse(first.content).find("a", data_older=True).attrs["href"]
        second = client.get(history_url(milestone, "milestone") + older)

        first_ids = [e.record.history_id for e in first.context["entries"]]
        second_ids = [e.record.history_id for e in second.context["entries"]]
        assert len(first_ids) == TIMELINE_PAGE_SIZE
        assert first_ids + second_ids == all_ids
        assert not parse(second.content).find_all("a", data_older=True)
        # The last entry of page one is still diffed against the first of page two.
        # (newest first: Owner 28, 27, … so the 25th entry set Owner 4 over Owner 3)
        assert [c.text for c in first.context["entries"][-1].changes] == [
            "Owner: Owner 3 → Owner 4"
        ]

    def test_a_garbled_cursor_shows_the_first_page(self, goal, leader):
        response = client_for(leader).get(history_url(goal, "goal") + "?before=nonsense")

        assert response.status_code == 200
        assert response.context["is_first_page"]


class TestQueryCounts:
    def count(self, client, url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def test_a_timeline_runs_the_same_queries_for_5_and_60_versions(self, goal, leader):
        first, second = StrategyFactory(goal=goal), StrategyFactory(goal=goal)
        milestone = MilestoneFactory(goal=goal, strategy=first)
        other = MilestoneFactory(goal=goal, strategy=second)
        client = client_for(leader)

        def make_versions(obj, count):
            for n in range(count):
                change(
                    obj,
                    status=[Status.AT_RISK, Status.ON_TRACK][n % 2],
                    strategy=[second, first][n % 2],
                    revised_due=[FiscalPeriod(2019, 4), None][n % 2],
                    comment=f"Review number {n}.",
                    user=UserFactory(),
                )

        make_versions(milestone, 4)
        make_versions(other, 59)

        small = self.count(client, history_url(milestone, "milestone"))
        large = self.count(client, history_url(other, "milestone"))

        assert small == large
        assert small <= 10


class TestLinks:
    def test_the_goal_header_links_to_the_goal_history(self, goal, leader):
        page = parse(client_for(leader).get(goal.get_absolute_url()).content)

        link = page.find("a", data_history_link="goal")
        assert link.attrs["href"] == history_url(goal, "goal")

    def test_the_milestone_page_links_to_the_full_timeline(self, leader, milestone):
        page = parse(client_for(leader).get(milestone.get_absolute_url()).content)

        link = page.find("a", data_history_link="milestone")
        assert link.attrs["href"] == history_url(milestone, "milestone")


class TestHeading:
    def test_the_heading_names_the_object_itself(self, leader, milestone):
        page = parse(client_for(leader).get(history_url(milestone, "milestone")).content)

        assert page.find("h1").text == f"History of “{milestone.title}”"
        assert page.find("p", data_object_kind=True).text == "Key milestone"


def where_of(user, obj, kind):
    page = parse(client_for(user).get(history_url(obj, kind)).content)
    return page.find_all("p", data_where=True)


class TestWhereAChangeCameFrom:
    """The client address and request id a history row keeps: reviewers and admins
    see them, the other members do not."""

    @pytest.fixture
    def changed(self, goal, milestone):
        # As HistoryContextMiddleware records a web request's change.
        token = history._context.set(
            history.ChangeContext(source="web", ip="203.0.113.7", request_id="f00dfeed" * 4)
        )
        try:
            change(milestone, owner="OFAC")
        finally:
            history._context.reset(token)
        return milestone

    def test_a_reviewer_sees_where_each_change_came_from(self, reviewer, changed):
        newest = where_of(reviewer, changed, "milestone")[0]

        assert newest.find("code", data_client_address=True).text == "203.0.113.7"
        assert newest.find("code", data_request_id=True).text == "f00dfeed" * 4

    def test_an_admin_sees_it(self, admin_user, changed):
        assert where_of(admin_user, changed, "milestone")

    @pytest.mark.parametrize("role", [Role.LEADER, Role.CONTRIBUTOR])
    def test_leaders_and_contributors_do_not(self, goal, changed, role):
        user = MembershipFactory(goal=goal, role=role).user
        response = client_for(user).get(history_url(changed, "milestone"))

        assert response.status_code == 200
        assert parse(response.content).find_all("p", data_where=True) == []
        assert b"203.0.113.7" not in response.content


class TestStatusUpdatesNewestFirst:
    def test_the_milestone_page_lists_status_updates_newest_first(self, leader, milestone):
        now = timezone.now()
        for days, status in [(30, Status.ON_TRACK), (20, Status.AT_RISK), (10, Status.DELAYED)]:
            update = StatusUpdateFactory(milestone=milestone, status=status)
            type(update).objects.filter(pk=update.pk).update(
                created_at=now - datetime.timedelta(days=days)
            )

        page = parse(client_for(leader).get(milestone.get_absolute_url()).content)

        rows = page.find("table", class_="status-updates").find("tbody").find_all("tr")
        assert [row.find_all("td")[3].visible_text for row in rows] == [
            "Delayed",
            "At risk",
            "On track",
        ]
        assert "newest first" in page.find("table", class_="status-updates").find("caption").text
