"""`generate_demo_data --history-rows N`: a million history rows that read like the app's."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.diffs import word_diff
from audit.history import IGNORED_FIELDS
from audit.reasons import describe
from milestones.models import Milestone, Status, StatusUpdate
from milestones.services import record_status_update, status_update_reason
from strategies.models import Agency, Goal, Strategy
from strategies.periods import FiscalPeriod
from tests.factories import MilestoneFactory

pytestmark = pytest.mark.django_db

MilestoneHistory = Milestone.history.model
UpdateHistory = StatusUpdate.history.model
ALL_HISTORY = [Agency.history, Goal.changes, Strategy.history, Milestone.history]
AUDIT_COLUMNS = [
    "history_user_id",
    "history_username",
    "history_source",
    "history_ip",
    "history_request_id",
]


def generate(**options):
    err = io.StringIO()
    call_command("generate_demo_data", seed=5, stdout=io.StringIO(), stderr=err, **options)
    return err.getvalue()


@pytest.fixture
def demo():
    """Two demo goals of three milestones, one status update each, by the service."""
    generate(goals=2, milestones_per_goal=3, updates_per_milestone=1)


def history_count() -> int:
    return sum(manager.count() for manager in [*ALL_HISTORY, StatusUpdate.history])


def versions(milestone):
    return list(milestone.history.order_by("history_date", "history_id"))


def test_it_writes_exactly_the_rows_asked_for(demo):
    before, updates_before = history_count(), StatusUpdate.objects.count()
    others = [manager.count() for manager in ALL_HISTORY[:3]]

    err = generate(history_rows=40)

    assert history_count() - before == 40
    assert StatusUpdate.objects.count() - updates_before == 20
    assert MilestoneHistory.objects.filter(history_type="~").count() == 6 + 20
    assert [manager.count() for manager in ALL_HISTORY[:3]] == others
    assert "100% (40/40 history rows)" in err


def test_the_rows_carry_the_audit_fields_the_service_writes(demo):
    service_row = MilestoneHistory.objects.filter(history_type="~").latest("history_date")
    service_update_row = UpdateHistory.objects.latest("history_date")
    cutoff = service_update_row.history_date

    generate(history_rows=24)

    bulk_rows = list(MilestoneHistory.objects.filter(history_date__gt=cutoff))
    bulk_update_rows = list(UpdateHistory.objects.filter(history_date__gt=cutoff))
    assert len(bulk_rows) == len(bulk_update_rows) == 12
    for rows, reference in ((bulk_rows, service_row), (bulk_update_rows, service_update_row)):
        for row in rows:
            assert [getattr(row, c) for c in AUDIT_COLUMNS] == [
                getattr(reference, c) for c in AUDIT_COLUMNS
            ]
            assert describe(row.history_change_reason).startswith("Status update for ")
    assert service_row.history_source == "command:generate_demo_data"
    assert service_row.history_username == "system"
    assert {row.history_type for row in bulk_rows} == {"~"}
    assert {row.history_type for row in bulk_update_rows} == {"+"}
    assert all(row.history_goal_id == row.goal_id for row in bulk_rows)
    goal_of = dict(Milestone.objects.values_list("pk", "goal_id"))
    assert all(row.history_goal_id == goal_of[row.milestone_id] for row in bulk_update_rows)
    assert all(row.history_changed_fields == "" for row in bulk_update_rows)
    # One update's two rows give the same reason, as the service's one block does.
    assert sorted(row.history_change_reason for row in bulk_rows) == sorted(
        row.history_change_reason for row in bulk_update_rows
    )
    for update in StatusUpdate.objects.filter(created_at__gt=cutoff):
        assert update.author_id == service_row.history_user_id
        assert update.author_name == "system"
        assert update.comment.startswith("Update ")


def test_both_rows_of_an_update_belong_to_its_reporting_quarter(demo):
    """As ``record_status_update`` stamps them: "as reported for" a quarter reads them."""
    cutoff = UpdateHistory.objects.latest("history_date").history_date

    generate(history_rows=24)

    for update in StatusUpdate.objects.filter(created_at__gt=cutoff):
        update_row = UpdateHistory.objects.get(id=update.pk)
        milestone_row = MilestoneHistory.objects.get(
            id=update.milestone_id,
            history_date=update.created_at - datetime.timedelta(microseconds=1),
        )
        assert update_row.history_quarter == milestone_row.history_quarter == update.period.key
    assert not MilestoneHistory.objects.filter(history_quarter__isnull=True).exists()


def test_the_reason_is_worded_as_the_service_words_it(demo):
    """Bulk rows and service rows share one wording (services.status_update_reason)."""
    milestone = Milestone.objects.order_by("pk").first()
    period = FiscalPeriod(milestone.goal.first_fiscal_year, 2)
    reasons = []
    for status in (Status.ON_TRACK, Status.ON_TRACK, Status.COMPLETED):
        old = milestone.status
        update = record_status_update(
            milestone=milestone,
            user=milestone.status_updates.first().author,
            status=status,
            comment="Checked.",
            period=period,
            expected_version=milestone.version,
        )
        milestone = update.milestone
        reasons.append(milestone.history.latest("history_date").history_change_reason)
        assert reasons[-1] == status_update_reason(period=period, old=old, new=status)

    assert [describe(reason) for reason in reasons[1:]] == [
        f"Status update for {period}: On track confirmed",
        f"Status update for {period}: On track → Completed",
    ]
    generate(history_rows=20)
    bulk_reasons = set(
        Milestone.history.filter(history_type="~")
        .exclude(history_change_reason__in=reasons)
        .values_list("history_change_reason", flat=True)
    )
    assert bulk_reasons
    assert all(
        describe(reason).startswith("Status update for Q")
        and (describe(reason).endswith(" confirmed") or " → " in describe(reason))
        for reason in bulk_reasons
    ), bulk_reasons


def test_changed_fields_name_what_changed_between_versions(demo):
    generate(history_rows=60)

    for milestone in Milestone.objects.all():
        rows = versions(milestone)
        for older, newer in zip(rows, rows[1:], strict=False):
            diff = newer.diff_against(older, excluded_fields=IGNORED_FIELDS)
            named = {name for name in newer.history_changed_fields.split(",") if name}
            assert named == set(diff.changed_fields), (newer.version, named)
            assert named  # every update sets at least a new comment


def test_versions_and_dates_run_in_order_and_the_live_row_is_the_newest(demo):
    generate(history_rows=60)
    finished = timezone.now()

    for milestone in Milestone.objects.all():
        rows = versions(milestone)
        assert [row.version for row in rows] == list(range(1, len(rows) + 1))
        dates = [row.history_date for row in rows]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert dates[-1] < finished
        newest = rows[-1]
        for field in Milestone._meta.concrete_fields:
            assert getattr(milestone, field.attname) == getattr(newest, field.attname), field
        updates = list(milestone.status_updates.order_by("created_at", "id"))
        assert updates[-1].status == milestone.status
        # Each update moved on from the status the one before it left.
        assert [u.previous_status for u in updates[1:]] == [u.status for u in updates[:-1]]


def test_a_delayed_milestone_gets_a_revised_due_once(demo):
    generate(history_rows=200)

    delayed = StatusUpdate.objects.filter(status=Status.DELAYED)
    assert delayed.exists()
    for milestone in Milestone.objects.filter(status_updates__status=Status.DELAYED).distinct():
        with_revised = milestone.status_updates.exclude(revised_due=None)
        assert with_revised.count() == 1
        assert milestone.revised_due == with_revised.get().revised_due > milestone.due


def test_the_service_carries_on_after_the_bulk_rows(demo):
    generate(history_rows=20)
    milestone = Milestone.objects.order_by("pk").first()
    author = StatusUpdate.objects.first().author

    update = record_status_update(
        milestone=milestone,
        user=author,
        status=Status.CANCELLED if milestone.status != Status.CANCELLED else Status.ON_TRACK,
        comment="Dropped from the plan.",
        period=FiscalPeriod(2020, 1),
        expected_version=milestone.version,
    )

    rows = versions(update.milestone)
    assert rows[-1].version == rows[-2].version + 1
    assert rows[-1].history_changed_fields == ",status,comment,"


def test_the_timeline_and_the_audit_log_show_the_bulk_rows(demo, client, admin_user):
    generate(history_rows=400)  # ~35 updates a milestone: more than a timeline page
    milestone = Milestone.objects.order_by("pk").first()
    newest, previous = versions(milestone)[:-3:-1]
    client.force_login(admin_user)

    timeline = client.get(
        reverse("milestone_history", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})
    )
    log = client.get(reverse("audit_log"))
    goal_log = client.get(reverse("audit_log") + f"?goal={milestone.goal.slug}")

    assert timeline.status_code == log.status_code == goal_log.status_code == 200
    page = timeline.content.decode()
    # The newest comment, as the word diff against the one before it: Before and After.
    diff = word_diff(previous.comment, newest.comment)
    assert str(diff.before) in page
    assert str(diff.after) in page
    assert describe(newest.history_change_reason) in page
    assert page.count("data-history-id=") == 25  # a full page, and a link to older ones
    assert "data-older" in page
    assert "via command:generate_demo_data" in page
    newest_overall = UpdateHistory.objects.latest("history_date")
    assert describe(newest_overall.history_change_reason) in log.content.decode()
    newest_of_goal = UpdateHistory.objects.filter(history_goal_id=milestone.goal_id).latest(
        "history_date"
    )
    assert describe(newest_of_goal.history_change_reason) in goal_log.content.decode()


@pytest.mark.parametrize("rows", [0, -2, 1, 7])
def test_it_refuses_a_row_count_that_is_not_a_positive_even_number(demo, rows):
    before = history_count()

    with pytest.raises(CommandError, match="even number"):
        generate(history_rows=rows)
    assert history_count() == before


def test_it_refuses_when_there_are_no_demo_milestones():
    MilestoneFactory()  # a real plan's milestone: never given made-up updates
    before = history_count()

    with pytest.raises(CommandError, match="No demo milestones"):
        generate(history_rows=10)
    assert history_count() == before
    assert not StatusUpdate.objects.exists()


def test_bad_sizes_write_nothing_even_with_history_rows():
    with pytest.raises(CommandError, match="even number"):
        generate(goals=1, milestones_per_goal=2, updates_per_milestone=1, history_rows=3)
    with pytest.raises(CommandError, match="Give all of"):
        generate(goals=1, history_rows=4)
    assert not Goal.objects.exists()


def test_a_real_goal_with_a_demo_slug_is_never_touched(demo):
    real = MilestoneFactory(goal__slug="demo-1000", goal__title="Demo day readiness")
    taken = MilestoneFactory(goal__slug="demo-3", goal__title="Another real plan")
    real_versions = [m.history.count() for m in (real, taken)]

    generate(history_rows=40)
    generate(goals=1, milestones_per_goal=1, updates_per_milestone=1)

    for milestone, versions in zip((real, taken), real_versions, strict=True):
        assert milestone.history.count() == versions
        assert not milestone.status_updates.exists()
    # The new demo goal skipped the real plan's slug.
    assert Goal.objects.filter(agency__name="Department of Demonstration").count() == 3
    assert Goal.objects.get(slug="demo-3").title == "Another real plan"
    assert Goal.objects.filter(slug="demo-4", agency__name="Department of Demonstration").exists()
