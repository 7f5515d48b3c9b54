"""Plans that arrive with their past (format apg-action-plan/2): status updates and
quarterly updates per quarter, imported as history stamped with their quarters, exported
back, and the shipped SDIF plan reporting on Q4 FY19."""

import datetime
import re

import pytest
import yaml
from django.conf import settings
from django.utils import timezone

from milestones.models import Milestone, ProgressSummary, Status, StatusUpdate
from milestones.plan_yaml import PlanError, export_plan, import_plan
from milestones.quarters import reporting_quarter
from strategies.models import Goal
from strategies.periods import FiscalPeriod
from tests.milestones.test_plan_yaml import _delete_plan, _edit, _line_of, _row_counts

SOURCE = "command:import_plan"
SDIF_PATH = settings.BASE_DIR / "plans" / "sdif-fy19.yaml"

# Three reported quarters; Q2 FY20 corrected (two updates of one milestone); Q1 published.
PLAN = """\
format: apg-action-plan/2
agency: {name: Department of Examples}
goal:
  title: Reduce paperwork
  slug: paperwork
  statement: By 2020, halve the forms.
  fiscal_years: [2020]
strategies: []
milestones:
  - title: Publish the inventory
    due: Q2 FY20
    status: Completed
    comment: Published, with the corrected count.
    updates:
      - quarter: Q1 FY20
        status: On track
        comment: Drafted.
        reported_by: Ana Núñez
        reported_on: 2020-01-10
      - quarter: Q2 FY20
        status: Completed
        comment: Published.
        reported_by: Ana Núñez
        reported_on: 2020-04-08
      - quarter: Q2 FY20
        status: Completed
        comment: Published, with the corrected count.
        reported_by: Ben Ode
        reported_on: 2020-04-20
  - title: Retire ten forms
    due: Q2 FY20
    revised_due: FY20
    status: Delayed
    comment: Two retired; the rest wait on the inventory.
    updates:
      - quarter: Q1 FY20
        status: Not started
        reported_by: Ana Núñez
        reported_on: 2020-01-10
      - quarter: Q3 FY20
        status: Delayed
        comment: Two retired; the rest wait on the inventory.
        revised_due: FY20
        reported_by: Ana Núñez
        reported_on: 2020-07-09
  - title: Merge the remaining forms
    due: FY20
    status: Not started
progress:
  - period: Q1 FY20
    summary: Started.
    next_steps: Publish the inventory.
    risk: high
    likelihood: uncertain
    improvement_actions: Weekly reviews.
    verification_validation: Counted twice.
    data_sources: The forms register.
    data_accuracy: Exact.
    data_limitations: None known.
    limitations_compensation: Not needed.
    published: true
    published_on: 2020-01-31
  - period: Q2 FY20
    summary: Inventory published.
    risk: low
"""


def _history_rows():
    return [
        *Milestone.history.all(),
        *StatusUpdate.history.all(),
        *ProgressSummary.history.all(),
    ]


def _wipe(slug: str) -> None:
    """Remove a plan with its status updates and quarterly updates: a fresh database."""
    goal = Goal.objects.get(slug=slug)
    StatusUpdate.objects.filter(milestone__goal=goal).delete()
    goal.progress_summaries.all().delete()
    _delete_plan(slug)


def _import(text: str, **kwargs) -> Goal:
    return import_plan(text, source=SOURCE, **kwargs)


# -- round trip ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_with_its_quarters_round_trips_identically():
    exported = export_plan(_import(PLAN))
    _wipe("paperwork")

    again = export_plan(_import(exported))

    assert again == exported
    assert "    risk: high\n    likelihood: uncertain\n" in exported
    assert "    next_steps: Publish the inventory.\n" in exported
    assert "    data_sources: The forms register.\n" in exported
    assert "    published: true\n    published_on: 2020-01-31\n" in exported
    assert "    published: false\n" in exported  # Q2 FY20, a draft
    assert "        reported_by: Ben Ode\n        reported_on: 2020-04-20\n" in exported


@pytest.mark.django_db
def test_status_updates_are_written_in_their_quarters_in_order():
    goal = _import(PLAN)
    inventory, forms, merge = goal.milestones.order_by("position")

    updates = list(inventory.status_updates.order_by("created_at", "id"))
    assert [(str(u.period), u.status, u.author_name) for u in updates] == [
        ("Q1 FY20", Status.ON_TRACK, "Ana Núñez"),
        ("Q2 FY20", Status.COMPLETED, "Ana Núñez"),
        ("Q2 FY20", Status.COMPLETED, "Ben Ode"),
    ]
    assert updates[0].author is None
    assert updates[0].previous_status == ""  # what it was before the file is unknown
    assert updates[1].previous_status == Status.ON_TRACK
    assert updates[2].reported_on == datetime.date(2020, 4, 20)
    assert (inventory.status, inventory.comment) == (
        Status.COMPLETED,
        "Published, with the corrected count.",
    )
    assert (forms.status, str(forms.revised_due)) == (Status.DELAYED, "FY20")
    assert (merge.status, merge.status_updates.count()) == (Status.NOT_STARTED, 0)
    q1 = goal.progress_summaries.get(period=FiscalPeriod(2020, 1))
    assert q1.is_published and q1.published_on == datetime.date(2020, 1, 31)
    assert (q1.risk, q1.likelihood, q1.data_accuracy) == ("high", "uncertain", "Exact.")
    assert not goal.progress_summaries.get(period=FiscalPeriod(2020, 2)).is_published
    assert reporting_quarter(goal) == FiscalPeriod(2020, 2)


@pytest.mark.django_db
def test_history_is_recorded_at_the_import_and_stamped_with_the_reported_quarters():
    started = timezone.now()
    goal = _import(PLAN)
    finished = timezone.now()
    inventory, forms, _ = goal.milestones.order_by("position")

    rows = _history_rows()
    assert all(started <= row.history_date <= finished for row in rows)
    assert {row.history_source for row in rows} == {SOURCE}
    q1, q2, q3 = (FiscalPeriod(2020, quarter).key for quarter in (1, 2, 3))
    assert sorted(r.history_quarter for r in StatusUpdate.history.filter(milestone=inventory)) == [
        q1,
        q2,
        q2,
    ]
    # Created with the first quarter the file reports on, then one change per update.
    assert [(r.history_quarter, r.status) for r in inventory.history.order_by("history_id")] == [
        (q1, Status.TBD),
        (q1, Status.ON_TRACK),
        (q2, Status.COMPLETED),
        (q2, Status.COMPLETED),
    ]
    assert [r.history_quarter for r in forms.history.order_by("history_id")][-1] == q3
    assert goal.changes.get().history_quarter == q1
    published = ProgressSummary.history.filter(published_at__isnull=False).get()
    assert published.history_quarter == q1
    assert published.history_user.username == settings.SYSTEM_USERNAME


@pytest.mark.django_db
def test_the_files_own_state_is_a_last_change_in_the_reporting_quarter():
    text = _edit(
        PLAN,
        "    status: Not started\nprogress:",
        "    status: Not started\n    updates:\n      - {quarter: Q1 FY20, status: On track}\n"
        "progress:",
    )

    goal = _import(text)

    merge = goal.milestones.get(position=3)
    assert merge.status == Status.NOT_STARTED
    last = merge.history.order_by("history_id").last()
    assert (last.status, last.history_quarter) == (Status.NOT_STARTED, FiscalPeriod(2020, 2).key)


# -- importing again ---------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_the_same_history_again_adds_nothing():
    goal = _import(PLAN)
    exported = export_plan(goal)
    before = _row_counts()

    _import(exported, replace=True)
    _import(PLAN, replace=True)

    assert _row_counts() == before


@pytest.mark.django_db
def test_a_later_update_is_appended_and_the_recorded_ones_are_kept():
    goal = _import(PLAN)
    text = _edit(
        PLAN,
        "  - title: Merge the remaining forms\n    due: FY20\n    status: Not started\n",
        "  - title: Merge the remaining forms\n    due: FY20\n    status: On track\n"
        "    updates:\n      - {quarter: Q2 FY20, status: On track, comment: Begun.}\n",
    )

    _import(text, replace=True)

    merge = goal.milestones.get(position=3)
    assert [(str(u.period), u.comment) for u in merge.status_updates.all()] == [
        ("Q2 FY20", "Begun.")
    ]
    assert merge.status == Status.ON_TRACK
    assert StatusUpdate.objects.filter(milestone__goal=goal).count() == 6


@pytest.mark.django_db
def test_a_history_that_contradicts_the_recorded_one_is_refused():
    goal = _import(PLAN)
    before, exported = _row_counts(), export_plan(goal)
    text = _edit(PLAN, "        comment: Published.\n", "        comment: Printed.\n")

    with pytest.raises(PlanError) as error:
        _import(text, replace=True)

    assert len(error.value.errors) == 1
    message = error.value.errors[0]
    # The line of the first update the file gives for that quarter.
    first_q2 = _line_of(text, "        comment: Printed.") - 2
    assert message.startswith(f"line {first_q2}: milestones[0].updates: ")
    assert 'milestone 1 ("Publish the inventory")' in message
    assert "for Q2 FY20" in message
    assert _row_counts() == before
    assert export_plan(goal) == exported


@pytest.mark.django_db
def test_a_published_quarter_cannot_be_changed_by_an_import():
    _import(PLAN)
    before = _row_counts()
    changed = _edit(PLAN, "    summary: Started.\n", "    summary: Started well.\n")
    late = _edit(
        PLAN,
        "    status: Not started\nprogress:",
        "    status: Not started\n    updates:\n      - {quarter: Q1 FY20, status: Not started}\n"
        "progress:",
    )

    for text, expected in (
        (changed, "progress[0]: Q1 FY20 is published"),
        (late, "milestones[2].updates[0]: Q1 FY20 is published"),
    ):
        with pytest.raises(PlanError) as error:
            _import(text, replace=True)
        assert expected in str(error.value)
        assert _row_counts() == before


# -- format 1 and bad files ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_format_1_file_imports_as_before_without_history():
    text = PLAN.split("milestones:\n")[0].replace("apg-action-plan/2", "apg-action-plan/1")
    text += "milestones:\n  - {title: M, due: FY20, status: On track}\n"
    text += "progress:\n  - {period: FY20, summary: Planned.}\n"

    goal = _import(text)

    assert goal.milestones.get().status == Status.ON_TRACK
    assert not StatusUpdate.objects.exists()
    assert str(goal.progress_summaries.get().period) == "FY20"


BAD = [
    (
        "unknown key in an update",
        "        reported_by: Ben Ode\n",
        "        reported_by: Ben Ode\n        mood: upbeat\n",
        "milestones[0].updates[2].mood",
        "unknown key (expected one of: quarter, status, comment",
    ),
    (
        "bad quarter",
        "      - quarter: Q3 FY20\n",
        "      - quarter: Q5 FY20\n",
        "milestones[1].updates[1].quarter",
        '"Q5 FY20" is not a fiscal period',
    ),
    (
        "an update for a year",
        "      - quarter: Q3 FY20\n",
        "      - quarter: FY20\n",
        "milestones[1].updates[1].quarter",
        "a status update is for a quarter (e.g. Q4 FY20), not a year",
    ),
    (
        "update outside the goal's fiscal years",
        "      - quarter: Q3 FY20\n",
        "      - quarter: Q1 FY21\n",
        "milestones[1].updates[1].quarter",
        "Q1 FY21 is outside the goal's fiscal years (FY20)",
    ),
    (
        "published without a date",
        "    published_on: 2020-01-31\n",
        "",
        "progress[0].published_on",
        "is required when published",
    ),
    (
        "published without a risk",
        "    risk: low\n",
        "    published: true\n    published_on: 2020-04-30\n",
        "progress[1].risk",
        "is required when published",
    ),
    (
        "high risk without improvement actions",
        "    improvement_actions: Weekly reviews.\n",
        "",
        "progress[0].improvement_actions",
        "improvement actions are required when the risk is high",
    ),
    (
        "a date without publication",
        "    risk: low\n",
        "    risk: low\n    published_on: 2020-04-30\n",
        "progress[1].published_on",
        "only a published update has a publication date",
    ),
    (
        "published is not true or false",
        "    published: true\n",
        "    published: yes please\n",
        "progress[0].published",
        "expected true or false, not text",
    ),
    (
        "bad risk",
        "    risk: low\n",
        "    risk: dire\n",
        "progress[1].risk",
        "'dire' is not one of: low | medium | high",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "old", "new", "path", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_history_names_the_line_and_field_and_changes_nothing(case, old, new, path, message):
    goal = _import(PLAN)
    text = _edit(PLAN, old, new)
    before, exported = _row_counts(), export_plan(goal)
    # The error's line: the new text's first line, or the entry's for a removed key.
    needle = new.strip("\n").split("\n")[-1] if new else None

    with pytest.raises(PlanError) as error:
        _import(text, replace=True)

    errors = error.value.errors
    assert any(f": {path}: " in e and message in e for e in errors), errors
    if needle and "published_on" not in path and "risk" not in path:
        assert any(e.startswith(f"line {_line_of(text, needle)}: {path}: ") for e in errors)
    assert all(re.match(r"line \d+: ", e) for e in errors)
    assert _row_counts() == before
    assert export_plan(goal) == exported


# -- the shipped SDIF plan -------------------------------------------------------------------


@pytest.fixture
def sdif(db) -> Goal:
    return _import(SDIF_PATH.read_text(encoding="utf-8"))


def test_the_sdif_plan_reports_on_q4_fy19_after_its_published_q3_update(sdif):
    assert reporting_quarter(sdif) == FiscalPeriod(2019, 4)
    # The same in 2019 (once Q4 FY19 began) as years later.
    assert reporting_quarter(sdif, today=datetime.date(2019, 8, 15)) == FiscalPeriod(2019, 4)
    update = sdif.progress_summaries.get()
    assert (str(update.period), update.is_published) == ("Q3 FY19", True)
    assert update.published_on == datetime.date(2019, 7, 31)
    assert update.risk == "medium"
    assert update.summary.startswith("- Progress slowed due to Mexico's loss")


def test_in_the_sdif_plan_only_the_q1_fy19_milestone_is_overdue(sdif):
    quarter = reporting_quarter(sdif)
    milestones = list(sdif.milestones.order_by("position"))

    overdue = [m for m in milestones if m.is_overdue_in(quarter)]
    due = [m.position for m in milestones if m.is_due_in(quarter)]

    assert [(m.title, str(m.due), m.status) for m in overdue] == [
        (
            "Establish timeline for the data matching and regulatory harmonization project.",
            "Q1 FY19",
            Status.TBD,
        )
    ]
    assert due == [3, 4, 5, 6, 8]  # Q4 FY19, and the two delayed to FY19
    fifth = milestones[4]
    assert (str(fifth.due), str(fifth.revised_due), fifth.status) == (
        "Q3 FY18",
        "FY19",
        Status.DELAYED,
    )


def test_every_sdif_milestone_reports_its_seed_status_for_q3_fy19(sdif):
    for milestone in sdif.milestones.all():
        update = milestone.status_updates.get()
        assert str(update.period) == "Q3 FY19"
        assert (update.status, update.comment) == (milestone.status, milestone.comment)
        history = milestone.history.filter(history_quarter=FiscalPeriod(2019, 3).key)
        assert history.latest().status == milestone.status


def test_exporting_the_sdif_plan_gives_back_the_shipped_file(sdif):
    shipped = SDIF_PATH.read_text(encoding="utf-8")
    exported = export_plan(sdif)
    today = timezone.localdate().isoformat()

    without_comments = re.sub(r"(?m)^ *#.*\n", "", shipped)
    # Each update gains who entered it and when: the seed names neither.
    assert exported.count(f"        reported_by: system\n        reported_on: {today}\n") == 8
    assert re.sub(r"(?m)^ +reported_(by|on): .*\n", "", exported) == without_comments
    assert yaml.safe_load(exported)["format"] == "apg-action-plan/2"


def test_a_closed_goal_is_not_replaced_by_an_import(sdif):
    text = export_plan(sdif).replace("Assist with", "Assist again with")
    sdif.closed_at = timezone.now()
    sdif.save()
    before = sdif.milestones.order_by("position").first().title

    with pytest.raises(PlanError, match="is closed"):
        import_plan(text, replace=True)

    assert sdif.milestones.order_by("position").first().title == before
