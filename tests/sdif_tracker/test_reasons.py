"""The change reasons the app writes itself ("Status update for Q3 FY19: On track → At
risk", "Moved to strategy 2", "Added in the admin") are stored as a code with parameters
and read in the reader's language; reasons stored as English text before that still
read; the text a person typed is kept as typed; the audit CSV stays in English."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from audit import reasons as audit_reasons
from audit.history import recorded_change
from audit.reasons import PREFIX, decode, describe, encode
from milestones import lifecycle
from milestones import reasons as milestone_reasons
from milestones.models import Milestone, Risk, Status
from milestones.plan_yaml import export_plan, import_plan
from milestones.services import (
    move_milestone,
    publish_quarter,
    record_status_update,
    save_progress_summary,
)
from strategies import services as strategy_services
from strategies.models import Agency, Goal, Strategy
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MilestoneFactory, StrategyFactory, UserFactory
from tests.helpers import clear_quarter_for_publishing
from tests.spanish_catalogue import stand_in_spanish

Q = FiscalPeriod

# Reasons whose Spanish the catalogue does not have yet (new wording): a test catalogue
# gives them "[es] " + the English, so the test sees that they are read through it.
NOT_YET_TRANSLATED = [
    "Strategy %(number)d renumbered %(old)d → %(number)d and retitled",
    "Strategy %(number)d retitled",
    "Deleted strategy %(number)d",
    "Defined the key indicator “%(name)s”",
    "Wrote the progress summary for %(period)s",
    "Edited the progress summary for %(period)s",
    "Moved out of strategy %(number)d",
    "Reopened the goal: %(reason)s",
    "Reporting quarter set to %(quarter)s: %(reason)s",
    "Imported from action-plan YAML",
    "Added in the admin",
    "Edited in the admin",
]


@pytest.fixture
def spanish_catalogue():
    """The Spanish catalogue with "[es] <English>" for the reasons not yet translated."""
    with stand_in_spanish(*NOT_YET_TRANSLATED):
        yield


def spanish(text):
    with translation.override("es"):
        return describe(text)


def english(text):
    with translation.override("en"):
        return describe(text)


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def goal(db):
    return GoalFactory(reporting_quarter_set=None)


# -- every kind of reason ----------------------------------------------------------------


def status_changed(goal, admin):
    milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK)
    record_status_update(
        milestone=milestone,
        user=admin,
        status=Status.AT_RISK,
        comment="Counterparts replaced.",
        period=Q(2018, 1),
        expected_version=milestone.version,
    )
    return milestone.history.latest()


def status_confirmed(goal, admin):
    milestone = MilestoneFactory(goal=goal, status=Status.DELAYED, revised_due=Q(2019, None))
    record_status_update(
        milestone=milestone,
        user=admin,
        status=Status.DELAYED,
        comment="Still waiting.",
        period=Q(2018, 1),
        expected_version=milestone.version,
    )
    return milestone.history.latest()


def strategy_added(goal, admin):
    strategy = strategy_services.add_strategy(goal=goal, user=admin, number=5, title="Share")
    return strategy.history.latest()


def strategy_renumbered_and_retitled(goal, admin):
    strategy = StrategyFactory(goal=goal, number=2, title="Old")
    strategy_services.update_strategy(
        strategy=strategy, user=admin, number=3, title="New", expected_version=strategy.version
    )
    return strategy.history.latest()


def strategy_retitled(goal, admin):
    strategy = StrategyFactory(goal=goal, number=2, title="Old")
    strategy_services.update_strategy(
        strategy=strategy, user=admin, number=2, title="New", expected_version=strategy.version
    )
    return strategy.history.latest()


def strategy_deleted(goal, admin):
    strategy = StrategyFactory(goal=goal, number=4)
    strategy_services.delete_strategy(strategy=strategy, user=admin)
    return Strategy.history.filter(id=strategy.pk).latest()


def goal_edited(goal, admin):
    strategy_services.update_goal(
        goal=goal, user=admin, title="Renamed", expected_version=goal.version
    )
    return goal.changes.latest()


def indicator_defined(goal, admin):
    indicator = strategy_services.save_indicator(
        goal=goal, user=admin, name="Cases “opened”", unit="cases", direction="higher"
    )
    return indicator.history.latest()


def summary_written(goal, admin):
    summary = save_progress_summary(goal=goal, user=admin, period=Q(2018, 1), summary="- One")
    return summary.history.latest()


def summary_edited(goal, admin):
    save_progress_summary(goal=goal, user=admin, period=Q(2018, 1), summary="- One")
    summary = save_progress_summary(goal=goal, user=admin, period=Q(2018, 1), summary="- Two")
    return summary.history.latest()


def moved_to_strategy(goal, admin):
    milestone = MilestoneFactory(goal=goal)
    target = StrategyFactory(goal=goal, number=7)
    move_milestone(
        milestone=milestone, user=admin, strategy=target, expected_version=milestone.version
    )
    return milestone.history.latest()


def moved_out_of_strategy(goal, admin):
    milestone = MilestoneFactory(goal=goal, strategy=StrategyFactory(goal=goal, number=6))
    move_milestone(milestone=milestone, user=admin, strategy=None, expected_version=1)
    return milestone.history.latest()


def published(goal, admin):
    save_progress_summary(
        goal=goal, user=admin, period=Q(2018, 1), summary="- Done", details={"risk": Risk.LOW}
    )
    clear_quarter_for_publishing(goal, Q(2018, 1))
    summary = publish_quarter(goal=goal, user=admin, period=Q(2018, 1))
    return summary.history.latest()


def goal_closed(goal, admin):
    goal = lifecycle.close_goal(
        goal=goal, user=admin, reason="Cycle ended.", expected_version=goal.version
    )
    return goal.changes.latest()


def goal_reopened(goal, admin):
    goal = lifecycle.close_goal(
        goal=goal, user=admin, reason="Cycle ended.", expected_version=goal.version
    )
    goal = lifecycle.reopen_goal(
        goal=goal, user=admin, reason="Oops.", expected_version=goal.version
    )
    return goal.changes.latest()


def reporting_quarter_set(goal, admin):
    goal = lifecycle.set_reporting_quarter(
        goal=goal, user=admin, quarter=Q(2019, 2), reason="Data call.", expected_version=1
    )
    return goal.changes.latest()


def reverted(goal, admin):
    strategy = StrategyFactory(goal=goal, number=2, title="First")
    first = strategy.history.earliest()
    strategy_services.update_strategy(
        strategy=strategy, user=admin, number=2, title="Second", expected_version=1
    )
    strategy.refresh_from_db()
    locked = Strategy.objects.get(pk=strategy.pk)
    first.history_date = datetime.datetime(2018, 10, 5, 14, 0, tzinfo=datetime.UTC)
    strategy_services.restore_version(locked, first, user=admin)
    return strategy.history.latest()


def plan_imported(goal, admin):
    imported = import_plan(export_plan(goal).replace(goal.slug, "copied"))
    return Goal.changes.filter(id=imported.pk).latest()


# (write the reason, its English, its Spanish (with the test catalogue))
KINDS = [
    (
        status_changed,
        "Status update for Q1 FY18: On track → At risk",
        "Actualización de estado de Q1 FY18: En tiempo → En riesgo",
    ),
    (
        status_confirmed,
        "Status update for Q1 FY18: Delayed confirmed",
        "Actualización de estado de Q1 FY18: Retrasado confirmado",
    ),
    (strategy_added, "Added strategy 5", "Agregó la estrategia 5"),
    (
        strategy_renumbered_and_retitled,
        "Strategy 3 renumbered 2 → 3 and retitled",
        "[es] Strategy 3 renumbered 2 → 3 and retitled",
    ),
    (strategy_retitled, "Strategy 2 retitled", "[es] Strategy 2 retitled"),
    (strategy_deleted, "Deleted strategy 4", "[es] Deleted strategy 4"),
    (goal_edited, "Edited goal: title", "Editó la meta: título"),
    (
        indicator_defined,
        "Defined the key indicator “Cases “opened””",
        "[es] Defined the key indicator “Cases “opened””",
    ),
    (
        summary_written,
        "Wrote the progress summary for Q1 FY18",
        "[es] Wrote the progress summary for Q1 FY18",
    ),
    (
        summary_edited,
        "Edited the progress summary for Q1 FY18",
        "[es] Edited the progress summary for Q1 FY18",
    ),
    (moved_to_strategy, "Moved to strategy 7", "Movido a la estrategia 7"),
    (moved_out_of_strategy, "Moved out of strategy 6", "[es] Moved out of strategy 6"),
    (published, "Published the Q1 FY18 update", "Publicó la actualización de Q1 FY18"),
    (goal_closed, "Closed the goal: Cycle ended.", "Cerró la meta: Cycle ended."),
    (goal_reopened, "Reopened the goal: Oops.", "[es] Reopened the goal: Oops."),
    (
        reporting_quarter_set,
        "Reporting quarter set to Q2 FY19: Data call.",
        "[es] Reporting quarter set to Q2 FY19: Data call.",
    ),
    (plan_imported, "Imported from action-plan YAML", "[es] Imported from action-plan YAML"),
]


@pytest.mark.parametrize(("write", "english_text", "spanish_text"), KINDS, ids=lambda v: v)
def test_each_reason_is_stored_as_a_code_and_read_in_the_readers_language(
    write, english_text, spanish_text, goal, admin, spanish_catalogue
):
    row = write(goal, admin)
    stored = row.history_change_reason

    assert stored.startswith(PREFIX)
    assert decode(stored) is not None
    assert english_text not in stored  # a code with parameters, not the English sentence
    assert english(stored) == english_text
    assert spanish(stored) == spanish_text


def test_a_revert_reason_names_the_version_and_the_admin_in_either_language(goal, admin):
    row = reverted(goal, admin)

    assert row.history_change_reason.startswith(PREFIX)
    assert english(row.history_change_reason).startswith("Reverted to version of ")
    assert spanish(row.history_change_reason).startswith("Revertido a la versión del ")
    assert english(row.history_change_reason).endswith(" by boss")


def test_a_status_is_stored_as_its_code_and_translated_when_shown(goal, admin):
    stored = status_changed(goal, admin).history_change_reason

    assert decode(stored) == (
        "status_changed",
        {"period": "Q1 FY18", "old": "on_track", "new": "at_risk"},
    )
    assert "On track" not in stored and "At risk" not in stored


def test_the_admins_reasons_are_codes_read_in_either_language(client, admin, spanish_catalogue):
    client.force_login(admin)
    response = client.post(
        reverse("admin:strategies_agency_add"),
        {"name": "Department of State", "abbreviation": "DOS"},
    )
    assert response.status_code == 302
    agency = Agency.objects.get(abbreviation="DOS")
    client.post(
        reverse("admin:strategies_agency_change", args=[agency.pk]),
        {"name": "Department of State", "abbreviation": "State"},
    )

    added, edited = agency.history.order_by("history_date")
    assert added.history_change_reason.startswith(PREFIX)
    assert [english(added.history_change_reason), english(edited.history_change_reason)] == [
        "Added in the admin",
        "Edited in the admin",
    ]
    assert spanish(edited.history_change_reason) == "[es] Edited in the admin"


def test_every_kind_of_reason_is_marked_for_translation():
    english("")  # finds every layer's reasons module
    kinds = audit_reasons._kinds
    assert {"status_changed", "moved_to_strategy", "admin_added", "reverted"} <= set(kinds)
    assert all(isinstance(kind.message, Promise) for kind in kinds.values())


# -- text a person typed, and reasons stored before the codes ------------------------------


def test_the_text_a_person_typed_is_kept_as_typed(goal, admin):
    typed = 'Per the "2019" review: 100% done → {closed}, %(name)s stays; <b>'
    row = lifecycle.close_goal(goal=goal, user=admin, reason=typed, expected_version=1)
    stored = row.changes.latest().history_change_reason

    assert english(stored) == f"Closed the goal: {typed}"
    assert spanish(stored) == f"Cerró la meta: {typed}"


@pytest.mark.parametrize(
    ("stored", "english_text", "spanish_text"),
    [
        (
            "Status update for Q3 FY19: At risk → Completed",
            "Status update for Q3 FY19: At risk → Completed",
            "Actualización de estado de Q3 FY19: En riesgo → Completado",
        ),
        ("Moved to strategy 2", "Moved to strategy 2", "Movido a la estrategia 2"),
        ("Added strategy 3", "Added strategy 3", "Agregó la estrategia 3"),
        (
            "Published the Q3 FY19 update",
            "Published the Q3 FY19 update",
            "Publicó la actualización de Q3 FY19",
        ),
        (
            "Closed the goal: the cycle ended: for good",
            "Closed the goal: the cycle ended: for good",
            "Cerró la meta: the cycle ended: for good",
        ),
        # Not written by any kind: shown as it was written, in every language.
        ("Imported the FY19 plan", "Imported the FY19 plan", "Imported the FY19 plan"),
        ("Status update for Q3 FY19: Sideways → Up", None, None),
        ("@r1:no_such_kind:{}", None, None),
        ('@r1:status_changed:{"period": "Q3 FY19"', None, None),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_a_reason_stored_before_the_codes_still_reads(stored, english_text, spanish_text):
    assert english(stored) == (stored if english_text is None else english_text)
    assert spanish(stored) == (stored if spanish_text is None else spanish_text)


def test_a_reason_with_a_parameter_this_version_cannot_show_reads_as_stored():
    stored = encode(milestone_reasons.MOVED_TO_STRATEGY, number="two")

    assert english(stored) == stored


def test_encoding_refuses_a_reason_without_its_parameters():
    with pytest.raises(TypeError):
        encode(milestone_reasons.STATUS_CHANGED, period="Q3 FY19")


# -- where reasons are shown ----------------------------------------------------------------


@pytest.fixture
def updated_milestone(goal, admin):
    milestone = MilestoneFactory(goal=goal, status=Status.ON_TRACK, title="Train examiners")
    with recorded_change(user=admin, reason="Status update for Q2 FY19: TBD → On track"):
        Milestone.objects.filter(pk=milestone.pk).first().save()
    record_status_update(
        milestone=milestone,
        user=admin,
        status=Status.AT_RISK,
        comment="Counterparts replaced.",
        period=Q(2018, 1),
        expected_version=milestone.version + 1,
    )
    return milestone


def test_the_milestone_history_reads_reasons_in_spanish_old_and_new(
    client, admin, updated_milestone
):
    client.force_login(admin)
    url = reverse(
        "milestone_history",
        kwargs={"slug": updated_milestone.goal.slug, "pk": updated_milestone.pk},
    )

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Actualización de estado de Q1 FY18: En tiempo → En riesgo" in page
    assert "Actualización de estado de Q2 FY19: Por definir → En tiempo" in page
    assert PREFIX not in page
    in_english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Status update for Q1 FY18: On track → At risk" in in_english


def test_the_audit_log_reads_reasons_in_spanish_and_its_csv_stays_english(
    client, admin, updated_milestone
):
    client.force_login(admin)

    page = client.get(reverse("audit_log"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Actualización de estado de Q1 FY18: En tiempo → En riesgo" in page
    assert PREFIX not in page

    export = client.get(reverse("audit_export"), HTTP_ACCEPT_LANGUAGE="es")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    cells = {cell for row in rows for cell in row}
    assert "Status update for Q1 FY18: On track → At risk" in cells
    assert "Status update for Q2 FY19: TBD → On track" in cells
    assert not any(PREFIX in cell for cell in cells)


def test_a_plan_imported_with_its_history_reads_its_reasons(sdif_goal):
    """The SDIF plan file carries its quarters' history; replayed, every row reads."""
    milestone_rows = Milestone.history.filter(history_goal_id=sdif_goal.pk)
    goal_rows = Goal.changes.filter(id=sdif_goal.pk)
    rows = [row.history_change_reason for row in [*milestone_rows, *goal_rows]]

    assert rows
    assert all(row.startswith(PREFIX) for row in rows if row)
    assert {english(row) for row in rows} >= {"Imported from action-plan YAML"}
    assert all(not english(row).startswith(PREFIX) for row in rows)
