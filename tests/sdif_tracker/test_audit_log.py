"""The audit log: every change across the goals a reviewer may see, one row per change,
filtered, sorted and keyset-paged in SQL, exportable to CSV; for reviewers and admins."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import history
from audit.history import recorded_change
from milestones.models import Status, StatusUpdate
from sdif_tracker import access
from sdif_tracker.pages import audit, audit_csv
from strategies.models import Role, Sensitivity
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

AUDIT = reverse("audit_log")
EXPORT = reverse("audit_export")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def rows_of(response) -> list[audit.AuditRow]:
    assert response.status_code == 200
    return response.context["rows"]


def keys(rows) -> list[tuple[str, int]]:
    return [(row.kind.key, row.history_id) for row in rows]


def export(client, **params) -> list[list[str]]:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def restricted():
    return GoalFactory(sensitivity=Sensitivity.RESTRICTED, title="Hidden goal")


class TestWhoMaySeeIt:
    def test_a_reviewer_sees_it_and_the_nav_offers_it(self, reviewer):
        response = client_for(reviewer).get(AUDIT)

        assert response.status_code == 200
        assert parse(response.content).find("a", data_nav="audit-log").attrs["href"] == AUDIT

    def test_an_admin_sees_it(self, admin_user):
        assert client_for(admin_user).get(AUDIT).status_code == 200

    @pytest.mark.parametrize("role", [Role.LEADER, Role.DEPUTY, Role.CONTRIBUTOR])
    def test_other_members_get_403_and_no_nav_item(self, goal, role):
        user = MembershipFactory(goal=goal, role=role).user
        client = client_for(user)

        assert client.get(AUDIT).status_code == 403
        assert client.get(EXPORT).status_code == 403
        page = parse(client.get(goal.get_absolute_url()).content)
        assert page.find_all("a", data_nav="audit-log") == []

    def test_an_outsider_gets_403(self, outsider):
        assert client_for(outsider).get(AUDIT).status_code == 403

    def test_anonymous_users_are_sent_to_log_in(self, client, db):
        for url in (AUDIT, EXPORT):
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))

    def test_a_reviewer_sees_no_change_of_a_goal_they_may_not_see(
        self, goal, reviewer, restricted
    ):
        mine = MilestoneFactory(goal=goal)
        hidden = MilestoneFactory(goal=restricted)

        rows = rows_of(client_for(reviewer).get(AUDIT, {"kind": "milestone"}))

        assert [row.object_id for row in rows] == [mine.pk]
        assert hidden.pk not in {row.object_id for row in rows}

    def test_an_admin_sees_every_goal_and_agencies(self, admin_user, goal, restricted):
        MilestoneFactory(goal=restricted)

        rows = rows_of(client_for(admin_user).get(AUDIT))

        assert {row.goal_id for row in rows} >= {goal.pk, restricted.pk}
        assert "agency" in {row.kind.key for row in rows}

    def test_a_reviewer_never_sees_agency_rows(self, reviewer):
        rows = rows_of(client_for(reviewer).get(AUDIT))

        assert "agency" not in {row.kind.key for row in rows}


class TestRows:
    def test_a_row_says_what_who_when_how_and_why(self, goal, reviewer):
        leader = UserFactory(username="marshall")
        milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK)
        milestone.status, milestone.comment = Status.AT_RISK, "Counterparts replaced."
        with recorded_change(user=leader, reason="Q3 review"):
            milestone.save()

        response = client_for(reviewer).get(AUDIT, {"kind": "milestone"})

        newest = rows_of(response)[0]
        assert (newest.username, newest.reason, newest.change_type) == (
            "marshall",
            "Q3 review",
            "changed",
        )
        assert newest.changed_fields == ["status", "comment"]
        assert newest.goal_name == goal.short_name
        entry = parse(response.content).find("li", data_audit_row=f"milestone:{newest.history_id}")
        assert entry.find("a").attrs["href"] == reverse(
            "milestone_history", kwargs={"slug": goal.slug, "pk": milestone.pk}
        )
        assert [row.changed_field_labels for row in rows_of(response)[:1]] == [
            ["status", "comment"]
        ]

    def test_a_row_names_the_object_and_its_goal_and_the_change_in_words(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal, title="Sign the MoU", status=Status.ON_TRACK)
        milestone.status = Status.AT_RISK
        milestone.save()

        response = client_for(reviewer).get(AUDIT, {"kind": "milestone"})

        newest = rows_of(response)[0]
        headline = f"Key milestone “Sign the MoU” of {goal.short_name}: status On track → At risk"
        assert newest.headline == headline
        entry = parse(response.content).find("li", data_audit_row=f"milestone:{newest.history_id}")
        assert entry.find("summary").find("span", data_headline=True).text == headline

    def test_a_row_expands_to_old_and_new_for_each_field_in_labels(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK, comment="Work continues.")
        milestone.status, milestone.comment = Status.AT_RISK, "Work stalled."
        milestone.save()

        response = client_for(reviewer).get(AUDIT, {"kind": "milestone"})

        newest = rows_of(response)[0]
        entry = parse(response.content).find("li", data_audit_row=f"milestone:{newest.history_id}")
        details = entry.find("details")  # closed until opened: no script needed
        status = details.find("div", data_changed_field="status")
        assert status.find("div", data_old=True).text == "Before On track"
        assert status.find("div", data_new=True).text == "After At risk"
        assert "at_risk" not in details.text
        comment = details.find("div", data_changed_field="comment")
        assert [n.visible_text for n in comment.find("div", data_old=True).find_all("del")] == [
            "continues."
        ]
        assert [n.visible_text for n in comment.find("div", data_new=True).find_all("ins")] == [
            "stalled."
        ]

    def test_creations_and_deletions_name_no_fields(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal)
        milestone.delete()

        rows = rows_of(client_for(reviewer).get(AUDIT, {"kind": "milestone"}))

        assert [(row.change_type, row.changed_fields) for row in rows] == [
            ("deleted", []),
            ("created", []),
        ]

    def test_status_updates_and_memberships_are_named_in_words(self, goal, reviewer):
        StatusUpdateFactory(milestone=MilestoneFactory(goal=goal), status=Status.DELAYED)

        rows = rows_of(client_for(reviewer).get(AUDIT))

        names = {row.kind.key: row.title for row in rows}
        assert names["status_update"] == (
            f"Status update on “{StatusUpdate.objects.get().milestone.title}” "
            f"({goal.short_name}) for Q3 FY19"
        )
        assert names["membership"] == f"Membership of {reviewer.username} in {goal.short_name}"


class TestFilters:
    @pytest.fixture
    def world(self, goal, reviewer):
        """Changes on two goals the reviewer may see, by two users, of several kinds."""
        other = GoalFactory(title="Other goal")
        ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
        with recorded_change(user=ana):
            mine = MilestoneFactory(goal=goal, strategy=None, status=Status.ON_TRACK)
            strategy = StrategyFactory(goal=goal)
        with recorded_change(user=bo):
            theirs = MilestoneFactory(goal=other, strategy=None)
            ProgressSummaryFactory(goal=other)
            IndicatorFactory(goal=other)
        mine.status = Status.AT_RISK
        with recorded_change(user=bo):
            mine.save()
        mine.owner = "OFAC"
        with recorded_change(user=ana):
            mine.save()
        return {"goal": goal, "other": other, "mine": mine, "theirs": theirs, "strategy": strategy}

    def get(self, reviewer, **params):
        return rows_of(client_for(reviewer).get(AUDIT, params))

    def test_by_goal(self, reviewer, world):
        rows = self.get(reviewer, goal=world["other"].slug)

        assert rows and {row.goal_id for row in rows} == {world["other"].pk}

    def test_by_user(self, reviewer, world):
        rows = self.get(reviewer, user="ana")

        assert {row.username for row in rows} == {"ana"}
        assert len(rows) == 3  # milestone and strategy created, owner changed

    def test_by_user_after_the_user_is_deleted(self, reviewer, world):
        from django.contrib.auth import get_user_model

        get_user_model().objects.get(username="ana").delete()

        assert len(self.get(reviewer, user="ana")) == 3

    def test_by_user_finds_a_renamed_users_older_changes(self, reviewer, world):
        from django.contrib.auth import get_user_model

        ana = get_user_model().objects.get(username="ana")
        ana.username = "ana.maria"
        ana.save()

        assert len(self.get(reviewer, user="ana.maria")) == 3

    def test_by_kind(self, reviewer, world):
        rows = self.get(reviewer, kind="strategy")

        assert keys(rows) == [("strategy", world["strategy"].history.get().history_id)]

    def test_by_field(self, reviewer, world):
        rows = self.get(reviewer, field="status")

        assert [(row.kind.key, row.object_id, row.changed_fields) for row in rows] == [
            ("milestone", world["mine"].pk, ["status"])
        ]

    def test_by_date_range(self, reviewer, world):
        today = timezone.localdate()
        old = world["theirs"]
        old.owner = "FinCEN"
        with recorded_change():
            old._history_date = timezone.now() - datetime.timedelta(days=40)
            old.save()

        last_month = self.get(
            reviewer,
            **{
                "from": (today - datetime.timedelta(days=41)).isoformat(),
                "to": (today - datetime.timedelta(days=39)).isoformat(),
            },
        )
        since_yesterday = self.get(
            reviewer, **{"from": (today - datetime.timedelta(days=1)).isoformat()}
        )

        assert [(row.object_id, row.changed_fields) for row in last_month] == [(old.pk, ["owner"])]
        assert old.history.order_by("-history_id").first().history_id not in {
            row.history_id for row in since_yesterday if row.kind.key == "milestone"
        }

    def test_filters_combine(self, reviewer, world):
        rows = self.get(reviewer, goal=world["goal"].slug, user="bo", kind="milestone")

        assert [(row.object_id, row.changed_fields) for row in rows] == [
            (world["mine"].pk, ["status"])
        ]

    def test_unknown_values_are_ignored(self, reviewer, world):
        everything = self.get(reviewer)

        assert keys(self.get(reviewer, kind="nonsense", field="password", goal="nope")) == keys(
            everything
        )

    def test_oldest_first_reverses_the_order(self, reviewer, world):
        newest = self.get(reviewer)
        oldest = self.get(reviewer, order="oldest")

        assert keys(oldest) == list(reversed(keys(newest)))


class TestKeysetPages:
    def test_sixty_changes_at_one_instant_page_without_overlap_or_gap(self, goal, reviewer):
        # Milestones and strategies written at the same instant: the order falls back to
        # kind and history id, and the cursor must carry both.
        moment = timezone.now() - datetime.timedelta(hours=1)
        for n in range(30):
            for obj in (
                MilestoneFactory.build(goal=goal, strategy=None),
                StrategyFactory.build(goal=goal, number=n + 1),
            ):
                obj._history_date = moment
                obj.save()
        expected = {
            (kind.key, history_id)
            for kind in audit.KINDS
            for history_id in kind.history_model.objects.filter(
                history_goal_id=goal.pk
            ).values_list("history_id", flat=True)
        }
        assert len(expected) == 62  # with the goal's creation and the reviewer's membership
        client = client_for(reviewer)

        seen = []
        for order in ("", "oldest"):
            pages, url = [], f"{AUDIT}?goal={goal.slug}&order={order}"
            while url:
                response = client.get(url)
                pages.append(keys(rows_of(response)))
                link = parse(response.content).find_all("a", data_next=True)
                url = AUDIT + link[0].attrs["href"] if link else ""
            seen.append(pages)
        newest_pages, oldest_pages = seen

        everything = [key for page in newest_pages for key in page]
        assert [len(page) for page in newest_pages] == [audit.PAGE_SIZE, 62 - audit.PAGE_SIZE]
        assert len(everything) == len(set(everything))
        assert set(everything) == expected
        assert [key for page in oldest_pages for key in page] == list(reversed(everything))


class TestCSV:
    def test_the_export_has_a_header_and_the_filtered_rows(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal, title="Sign the MoU")
        StrategyFactory(goal=goal)

        table = export(client_for(reviewer), kind="milestone")

        assert table[0] == audit_csv.CSV_HEADER
        assert [(r[1], r[2], r[3], r[4], r[5]) for r in table[1:]] == [
            (
                "milestone",
                str(milestone.pk),
                f"Key milestone “Sign the MoU” of {goal.short_name}",
                goal.short_name,
                "created",
            )
        ]

    def test_formulas_are_neutralised(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal, title="@SUM(A1:A9)")
        milestone.comment = "=cmd|' /C calc'!A0"
        with recorded_change(user=UserFactory(username="-rm"), reason="=cmd|' /C calc'!A0"):
            milestone.save()

        newest = export(client_for(reviewer), kind="milestone")[1]
        header = audit_csv.CSV_HEADER

        assert newest[header.index("reason")] == "'=cmd|' /C calc'!A0"
        assert newest[header.index("user")] == "'-rm"
        assert newest[header.index("field")] == "comment"
        assert newest[header.index("new")] == "'=cmd|' /C calc'!A0"

    @pytest.mark.parametrize(
        "reason", [' =HYPERLINK("http://evil")', "\n=1+2", "＝1+2", "\u3000＋1", "﹫A1"]
    )
    def test_formulas_behind_spaces_or_in_full_width_are_neutralised(self, goal, reviewer, reason):
        milestone = MilestoneFactory(goal=goal, title="Q3 review — 5 = 5")
        milestone.comment = "Edited."
        with recorded_change(user=UserFactory(), reason=reason):
            milestone.save()

        newest = export(client_for(reviewer), kind="milestone")[1]

        assert newest[audit_csv.CSV_HEADER.index("reason")] == f"'{reason}"
        assert newest[audit_csv.CSV_HEADER.index("object")].startswith(
            "Key milestone “Q3 review — 5 = 5”"
        )

    def test_a_large_export_streams_every_row_in_chunks(self, goal, reviewer, settings):
        for _n in range(7):
            MilestoneFactory(goal=goal, strategy=None)
        original = audit.EXPORT_CHUNK
        audit.EXPORT_CHUNK = 3
        try:
            table = export(client_for(reviewer), kind="milestone")
        finally:
            audit.EXPORT_CHUNK = original

        assert len(table) == 1 + 7
        assert len({row[2] for row in table[1:]}) == 7


def change_from_the_web(obj, **fields):
    """Save ``obj`` as HistoryContextMiddleware records a web request's change."""
    token = history._context.set(
        history.ChangeContext(source="web", ip="198.51.100.4", request_id="abc123" * 4)
    )
    try:
        for name, value in fields.items():
            setattr(obj, name, value)
        obj.save()
    finally:
        history._context.reset(token)


class TestFieldFilterLabels:
    def test_the_field_filter_offers_human_labels_not_code_names(self, reviewer):
        page = parse(client_for(reviewer).get(AUDIT).content)

        options = {
            option.attrs["value"]: option.text
            for option in page.find("select", id="audit-field").find_all("option")
        }
        assert options["abbreviation"] == "Abbreviation (agency)"
        assert options["revised_due"] == "Revised due (key milestone, status update)"
        assert options["data_accuracy"] == "Level of accuracy required (progress summary)"
        assert "abbreviation" not in {text for value, text in options.items() if value}
        labels = [text for value, text in options.items() if value]
        assert labels == sorted(labels, key=str.casefold)

    def test_the_labels_follow_the_readers_language(self, reviewer):
        client = client_for(reviewer)
        page = parse(client.get(AUDIT, HTTP_ACCEPT_LANGUAGE="es").content)

        option = page.find("select", id="audit-field").find("option", value="status")
        assert option.text.startswith("Estado")


class TestWhere:
    def test_the_expanded_row_shows_the_client_address_and_request_id(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal)
        change_from_the_web(milestone, owner="OFAC")

        response = client_for(reviewer).get(AUDIT, {"kind": "milestone"})

        newest = rows_of(response)[0]
        entry = parse(response.content).find("li", data_audit_row=f"milestone:{newest.history_id}")
        where = entry.find("details").find("p", data_where=True)
        assert where.find("code", data_client_address=True).text == "198.51.100.4"
        assert where.find("code", data_request_id=True).text == "abc123" * 4

    def test_an_admin_sees_it_too(self, goal, admin_user):
        change_from_the_web(MilestoneFactory(goal=goal), owner="OFAC")

        page = parse(client_for(admin_user).get(AUDIT, {"kind": "milestone"}).content)

        assert page.find("code", data_client_address=True).text == "198.51.100.4"

    @pytest.mark.parametrize("role", [Role.LEADER, Role.CONTRIBUTOR])
    def test_other_members_may_not_see_where(self, goal, role):
        user = MembershipFactory(goal=goal, role=role).user

        assert not access.can_see_change_origin(user)
        assert client_for(user).get(AUDIT).status_code == 403
        assert client_for(user).get(EXPORT).status_code == 403


class TestCSVValues:
    def test_one_row_per_field_changed_with_old_and_new_in_words(self, goal, reviewer):
        milestone = MilestoneFactory(
            goal=goal, title="Sign the MoU", status=Status.ON_TRACK, owner="OFAC"
        )
        change_from_the_web(milestone, status=Status.AT_RISK, owner="FinCEN")

        table = export(client_for(reviewer), kind="milestone")

        header = table[0]
        changed = [row for row in table[1:] if row[header.index("change")] == "changed"]
        assert {
            (
                row[header.index("field")],
                row[header.index("old")],
                row[header.index("new")],
            )
            for row in changed
        } == {("status", "On track", "At risk"), ("owner", "OFAC", "FinCEN")}
        for row in changed:
            assert row[header.index("object")] == (
                f"Key milestone “Sign the MoU” of {goal.short_name}"
            )
            assert row[header.index("client address")] == "198.51.100.4"
            assert row[header.index("request id")] == "abc123" * 4

    def test_times_are_local_iso_8601_to_the_second_with_the_offset(
        self, goal, reviewer, settings
    ):
        settings.TIME_ZONE = "America/New_York"
        for title, when in [
            ("Summer", datetime.datetime(2019, 7, 15, 14, 3, 0, 123456, tzinfo=datetime.UTC)),
            ("Winter", datetime.datetime(2019, 1, 15, 15, 3, 0, 999999, tzinfo=datetime.UTC)),
        ]:
            milestone = MilestoneFactory.build(goal=goal, strategy=None, title=title)
            milestone._history_date = when
            milestone.save()

        table = export(client_for(reviewer), kind="milestone")

        header = table[0]
        times = {row[header.index("object")][:21]: row[header.index("time")] for row in table[1:]}
        assert times == {
            "Key milestone “Summer": "2019-07-15T10:03:00-04:00",
            "Key milestone “Winter": "2019-01-15T10:03:00-05:00",
        }

    def test_the_csv_stays_english_for_a_spanish_reader(self, goal, reviewer):
        milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK)
        change_from_the_web(milestone, status=Status.DELAYED)

        response = client_for(reviewer).get(
            EXPORT, {"kind": "milestone"}, HTTP_ACCEPT_LANGUAGE="es"
        )
        text = b"".join(response.streaming_content).decode()

        assert "On track,Delayed" in text


class TestQueryCounts:
    def count(self, client, **params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(AUDIT, params).status_code == 200
        self.last_queries = [query["sql"] for query in queries.captured_queries]
        return len(queries)

    def make_changes(self, goal, count):
        members = [UserFactory() for _ in range(3)]
        for n in range(count):
            with recorded_change(user=members[n % 3], reason=f"Change {n}"):
                milestone = MilestoneFactory(goal=goal, strategy=None)
                if n % 5 == 0:
                    MembershipFactory(goal=goal, user=UserFactory(), role=Role.CONTRIBUTOR)
                if n % 7 == 0:
                    StatusUpdateFactory(milestone=milestone)

    @pytest.mark.parametrize("who", ["reviewer", "admin"])
    def test_the_audit_log_runs_the_same_queries_for_5_and_60_changes(
        self, goal, reviewer, admin_user, who
    ):
        user = reviewer if who == "reviewer" else admin_user
        client = client_for(user)
        self.make_changes(goal, 5)
        small = self.count(client)
        small_filtered = self.count(client, user=reviewer.username, field="status")

        self.make_changes(goal, 55)
        large = self.count(client)
        large_filtered = self.count(client, user=reviewer.username, field="status")

        assert len(rows_of(client.get(AUDIT))) == audit.PAGE_SIZE
        assert (small, small_filtered) == (large, large_filtered)
        assert large <= 10, "\n".join(self.last_queries)


class TestFieldsNoFormEdits:
    def test_publishing_a_summary_shows_its_publication_fields_old_and_new(
        self, sdif_goal, admin_user
    ):
        # The SDIF plan ships its Q3 FY19 summary published: a change of fields no form
        # edits (published, published by, publication date).
        response = client_for(admin_user).get(AUDIT, {"kind": "progress_summary"})

        published = next(row for row in rows_of(response) if row.history_type == "~")
        fields = {change.field: (change.old, change.new) for change in published.changes}
        assert fields["published_on"][0] == "—"
        assert fields["published_on"][1] != "—"
        assert published.headline.startswith(
            f"Progress summary of {sdif_goal.short_name} for Q3 FY19: "
        )
