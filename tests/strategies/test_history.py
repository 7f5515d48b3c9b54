"""History: every model's create, change and delete is recorded with who, why and from
where — in plain code, in a recorded_change block, and through the admin."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from simple_history.utils import get_history_model_for_model

from audit.admin import EDITED_REASON
from audit.history import get_system_user, recorded_change
from audit.reasons import describe
from milestones.models import Milestone, ProgressSummary, StatusUpdate
from strategies.models import Agency, Goal, Indicator, IndicatorValue, Membership, Strategy
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import form_data

pytestmark = pytest.mark.django_db

# model: (a factory making one, a field to change, its new value)
TRACKED = {
    Agency: (lambda: AgencyFactory(name="Department of State"), "abbreviation", "State"),
    Goal: (GoalFactory, "title", "A retitled goal"),
    Strategy: (StrategyFactory, "title", "A retitled strategy"),
    Membership: (MembershipFactory, "role", "reviewer"),
    Indicator: (IndicatorFactory, "unit", "reports"),
    IndicatorValue: (IndicatorValueFactory, "actual", 9),
    Milestone: (MilestoneFactory, "owner", "OFAC"),
    StatusUpdate: (StatusUpdateFactory, None, None),  # append-only: never changed
    ProgressSummary: (ProgressSummaryFactory, "summary", "- More progress."),
}
models = pytest.mark.parametrize("model", list(TRACKED), ids=lambda m: m._meta.label)


def history_of(model, pk):
    """Every history row of one object, oldest first (it may have been deleted)."""
    return list(get_history_model_for_model(model).objects.filter(id=pk).order_by("history_id"))


def create_change_delete(model):
    make, field, value = TRACKED[model]
    obj = make()
    pk = obj.pk
    if field is not None:
        setattr(obj, field, value)
        obj.save()
    obj.delete()
    return pk


def test_every_project_model_is_tracked():
    for model in TRACKED:
        assert get_history_model_for_model(model) is not None


@models
def test_changes_in_plain_code_are_recorded_against_the_system_user(model):
    pk = create_change_delete(model)

    rows = history_of(model, pk)
    expected_types = ["+", "-"] if model is StatusUpdate else ["+", "~", "-"]
    assert [row.history_type for row in rows] == expected_types
    system = get_system_user()
    for row in rows:
        assert row.history_user == system
        assert row.history_username == settings.SYSTEM_USERNAME
        assert row.history_source == "code"


def test_the_system_user_cannot_sign_in():
    system = get_system_user()

    assert system.username == settings.SYSTEM_USERNAME
    assert not system.is_active
    assert not system.has_usable_password()


@models
def test_a_recorded_change_carries_its_user_reason_and_source(model):
    user = UserFactory(username="importer")

    with recorded_change(user=user, reason="Imported the FY19 plan", source="command:x"):
        pk = create_change_delete(model)

    for row in history_of(model, pk):
        assert row.history_user == user
        assert row.history_username == "importer"
        assert row.history_change_reason == "Imported the FY19 plan"
        assert row.history_source == "command:x"


def test_a_nested_recorded_change_inherits_what_it_does_not_set():
    user = UserFactory()

    with recorded_change(user=user, reason="Outer", source="command:outer"):
        with recorded_change(reason="Inner"):
            agency = AgencyFactory(name="Inner agency")
        with recorded_change(source="command:inner"):
            agency.abbreviation = "IA"
            agency.save()

    created, changed = history_of(Agency, agency.pk)
    assert (created.history_user, created.history_change_reason) == (user, "Inner")
    assert created.history_source == "command:outer"
    assert (changed.history_change_reason, changed.history_source) == ("Outer", "command:inner")


def test_a_reason_on_the_object_wins_over_the_blocks_reason():
    with recorded_change(reason="Block reason"):
        agency = AgencyFactory(name="Own reason agency")
        agency.abbreviation = "ORA"
        agency._change_reason = "Object reason"
        agency.save()

    assert [row.history_change_reason for row in history_of(Agency, agency.pk)] == [
        "Block reason",
        "Object reason",
    ]


def test_outside_a_block_nothing_leaks_from_a_previous_one():
    with recorded_change(user=UserFactory(), reason="Earlier", source="command:x"):
        pass

    agency = AgencyFactory(name="Later agency")

    (row,) = history_of(Agency, agency.pk)
    assert (row.history_username, row.history_change_reason, row.history_source) == (
        settings.SYSTEM_USERNAME,
        None,
        "code",
    )


# -- through the admin --------------------------------------------------------------------


def post_admin_change(client, obj, headers=None, **changes):
    change_url = reverse(
        f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
    )
    page = client.get(change_url)
    return client.post(
        change_url, form_data(page, **changes), REMOTE_ADDR="203.0.113.7", headers=headers
    )


def test_a_strategy_changed_in_the_admin_records_the_admin_request(admin_client, admin_user):
    strategy = StrategyFactory(title="Old title")

    response = post_admin_change(
        admin_client, strategy, headers={"X-Request-ID": "req-42"}, title="New title"
    )

    assert response.status_code == 302
    row = strategy.history.latest()
    assert row.title == "New title"
    assert (row.history_user, row.history_username) == (admin_user, admin_user.username)
    assert row.history_change_reason == EDITED_REASON
    assert row.history_source == "admin"
    assert row.history_ip == "203.0.113.7"
    # The server's own id, not the one the client sent; the response carries it.
    assert re.fullmatch(r"[0-9a-f]{32}", row.history_request_id)
    assert response["X-Request-ID"] == row.history_request_id


def test_a_clients_request_id_is_logged_beside_the_servers_never_stored(admin_client, caplog):
    strategy = StrategyFactory(title="Old title")
    forged = "caf\xe9\r\nAUDIT: admin deleted everything" + "x" * 100

    with caplog.at_level("INFO", logger="audit.history"):
        response = post_admin_change(
            admin_client, strategy, headers={"X-Request-ID": forged}, title="New title"
        )

    row = strategy.history.latest()
    assert row.history_request_id == response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", row.history_request_id)
    logged = [r.getMessage() for r in caplog.records if row.history_request_id in r.getMessage()]
    assert logged == [
        f"Request {row.history_request_id} carries the client's X-Request-ID "
        + repr("caf???AUDIT: admin deleted everything" + "x" * 27)
    ]


def test_a_milestone_changed_in_the_admin_records_the_admin_request(admin_client, admin_user):
    milestone = MilestoneFactory(status="on_track")

    response = post_admin_change(admin_client, milestone, status="delayed", revised_due="FY20")

    assert response.status_code == 302
    row = milestone.history.latest()
    assert (row.status, row.revised_due) == ("delayed", FiscalPeriod(2020))
    assert (row.history_user, row.history_username) == (admin_user, admin_user.username)
    assert row.history_change_reason == EDITED_REASON
    assert row.history_source == "admin"
    assert row.history_ip == "203.0.113.7"
    # The middleware makes the id and returns it.
    assert re.fullmatch(r"[0-9a-f]{32}", row.history_request_id)
    assert response["X-Request-ID"] == row.history_request_id


def test_a_goal_added_in_the_admin_is_recorded_as_added(admin_client, admin_user):
    agency = AgencyFactory()

    response = admin_client.post(
        reverse("admin:strategies_goal_add"),
        {
            "agency": agency.pk,
            "title": "Counter illicit finance",
            "slug": "cif",
            "statement": "By 2020, do the thing.",
            "first_fiscal_year": 2019,
            "last_fiscal_year": 2020,
            "sensitivity": "internal",
            **{
                f"{prefix}-{key}": 0
                for prefix in ["strategies", "memberships", "milestones", "progress_summaries"]
                for key in ["TOTAL_FORMS", "INITIAL_FORMS"]
            },
        },
    )

    assert response.status_code == 302
    row = Goal.objects.get(slug="cif").changes.get()
    assert (row.history_type, row.history_user) == ("+", admin_user)
    assert describe(row.history_change_reason) == "Added in the admin"


# -- users come and go, history stays -------------------------------------------------------


def test_history_keeps_the_username_when_the_user_is_renamed_or_deleted():
    user = UserFactory(username="marshall")
    with recorded_change(user=user, reason="Set up"):
        milestone = MilestoneFactory()

    user.username = "marshall.b"
    user.save()
    row = milestone.history.get()
    assert (row.history_user.username, row.history_username) == ("marshall.b", "marshall")

    user.delete()
    row = milestone.history.get()
    assert row.history_user is None
    assert row.history_username == "marshall"


def test_rows_added_and_removed_inline_on_the_goal_page_carry_admin_reasons(
    admin_client, admin_user
):
    membership = MembershipFactory()
    goal = membership.goal
    change_url = reverse("admin:strategies_goal_change", args=[goal.pk])
    page = admin_client.get(change_url)

    response = admin_client.post(
        change_url,
        form_data(
            page,
            **{
                "memberships-0-DELETE": "on",
                "strategies-TOTAL_FORMS": "1",
                "strategies-0-number": "1",
                "strategies-0-title": "Strengthen cooperation",
                "strategies-0-goal": str(goal.pk),
            },
        ),
    )

    assert response.status_code == 302
    (deleted,) = Membership.history.filter(id=membership.pk, history_type="-")
    (added,) = Strategy.history.filter(goal=goal, history_type="+")
    assert (deleted.history_user, describe(deleted.history_change_reason)) == (
        admin_user,
        "Deleted in the admin",
    )
    assert (added.history_user, describe(added.history_change_reason)) == (
        admin_user,
        "Added in the admin",
    )


def test_the_delete_selected_action_records_each_deletion(admin_client, admin_user):
    agencies = [AgencyFactory(name=f"Agency {i}") for i in range(2)]

    response = admin_client.post(
        reverse("admin:strategies_agency_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [agency.pk for agency in agencies],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    rows = Agency.history.filter(history_type="-")
    assert sorted(row.id for row in rows) == sorted(agency.pk for agency in agencies)
    assert {(row.history_user, describe(row.history_change_reason)) for row in rows} == {
        (admin_user, "Deleted in the admin")
    }
