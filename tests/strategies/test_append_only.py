"""History is append-only: no interface changes or deletes a history row. The admin
shows history read-only (tests/strategies/test_admin.py); the app never issues an UPDATE
or DELETE on a history table (checked here over a whole workflow, on every database);
on PostgreSQL a trigger refuses them even from raw SQL on the app's connection."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.utils import get_history_model_for_model

from audit.history import recorded_change
from milestones.models import Milestone, Status
from strategies.models import Goal, Membership, Role, Strategy
from tests.factories import MembershipFactory, MilestoneFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

HISTORY_TABLE = re.compile(r'"?(strategies|milestones)_historical\w*"?', re.IGNORECASE)
WRITE = re.compile(r"^\s*(UPDATE|DELETE)\b", re.IGNORECASE)


def history_tables() -> list[str]:
    from django.apps import apps

    return sorted(
        model._meta.db_table
        for label in ("strategies", "milestones")
        for model in apps.get_app_config(label).get_models()
        if model.__name__.startswith("Historical")
    )


def rewrites_of_history(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if WRITE.match(query["sql"]) and HISTORY_TABLE.search(query["sql"])
    ]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_rewrite_detector_recognises_an_update_of_history():
    # The workflow test below passes only if this pattern would catch a rewrite.
    fake = type(
        "Q",
        (),
        {"captured_queries": [{"sql": 'UPDATE "milestones_historicalmilestone" SET x = 1'}]},
    )
    assert rewrites_of_history(fake) == ['UPDATE "milestones_historicalmilestone" SET x = 1']


def test_deleting_a_user_leaves_their_history_rows_as_they_were(goal):
    user = UserFactory(username="marshall")
    MembershipFactory(goal=goal, user=user, role=Role.LEADER)
    with recorded_change(user=user, reason="Set up"):
        milestone = MilestoneFactory(goal=goal)
    before = list(
        milestone.history.values_list("history_id", "history_user_id", "history_username")
    )
    user_id = user.pk

    with CaptureQueriesContext(connection) as queries:
        user.delete()

    assert rewrites_of_history(queries) == []
    assert (
        list(milestone.history.values_list("history_id", "history_user_id", "history_username"))
        == before
        == [(before[0][0], user_id, "marshall")]
    )
    row = milestone.history.get()
    assert row.history_user is None  # the account is gone; its id and name stay


def test_renaming_a_user_rewrites_no_history_row(goal):
    user = UserFactory(username="marshall")
    with recorded_change(user=user):
        milestone = MilestoneFactory(goal=goal)

    with CaptureQueriesContext(connection) as queries:
        user.username = "marshall.b"
        user.save()

    assert rewrites_of_history(queries) == []
    assert milestone.history.get().history_username == "marshall"


def test_a_whole_workflow_never_updates_or_deletes_a_history_row(goal, admin_user):
    leader = MembershipFactory(goal=goal, role=Role.LEADER).user
    strategy = StrategyFactory(goal=goal, number=7)
    milestone = MilestoneFactory(goal=goal, strategy=strategy, status=Status.ON_TRACK)
    spare = StrategyFactory(goal=goal, number=8)
    leaver = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR).user

    with CaptureQueriesContext(connection) as queries:
        leader_client, admin_client = client_for(leader), client_for(admin_user)
        prefix = f"m{milestone.pk}-"
        response = leader_client.post(
            reverse("milestone_update", kwargs={"slug": goal.slug, "pk": milestone.pk}),
            {
                f"{prefix}status": Status.AT_RISK,
                f"{prefix}comment": "Counterparts replaced.",
                f"{prefix}period": "Q3 FY 2019",
                f"{prefix}revised_due": "",
                f"{prefix}version": milestone.version,
            },
        )
        assert response.status_code == 302
        response = leader_client.post(
            reverse("progress_edit", kwargs={"slug": goal.slug}),
            {"period": "Q3 FY 2019", "summary": "- Met twice.", "version": ""},
        )
        assert response.status_code == 302
        response = admin_client.post(
            reverse("strategy_delete", kwargs={"slug": goal.slug, "pk": spare.pk}),
            {"reason": "Merged into strategy 7", "version": spare.version},
        )
        assert response.status_code == 302
        with recorded_change(user=admin_user, reason="Cleanup"):
            MilestoneFactory(goal=goal, strategy=None).delete()
            Membership.objects.get(user=leaver).delete()
        leaver.delete()
        for path in (
            reverse("goal_history", kwargs={"slug": goal.slug}),
            reverse("milestone_history", kwargs={"slug": goal.slug, "pk": milestone.pk}),
            reverse("audit_log"),
            reverse("audit_export"),
        ):
            response = admin_client.get(path)
            assert response.status_code == 200
            if response.streaming:
                b"".join(response.streaming_content)

    sql = [query["sql"] for query in queries.captured_queries]
    assert any(s.lstrip().upper().startswith("INSERT") and HISTORY_TABLE.search(s) for s in sql)
    assert rewrites_of_history(queries) == []
    assert not Strategy.objects.filter(pk=spare.pk).exists()
    assert milestone.history.count() == 2


@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET history_username = 'x'", "DELETE FROM {table}"]
)
def test_sql_on_the_apps_connection_cannot_rewrite_history(goal, statement):
    """PostgreSQL: the trigger refuses it. SQLite has no such trigger; there the app is
    the only guard (the workflow test above)."""
    MilestoneFactory(goal=goal)
    table = connection.ops.quote_name(get_history_model_for_model(Milestone)._meta.db_table)
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement.format(table=table))
        assert (
            get_history_model_for_model(Milestone).objects.filter(history_username="x").count()
            == 0
        )
        assert get_history_model_for_model(Goal).objects.filter(id=goal.pk).exists()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))
            assert cursor.rowcount == 1  # nothing in SQLite itself stops it
            transaction.set_rollback(True)


def test_every_history_table_has_the_trigger_on_postgresql(db):
    tables = history_tables()
    assert len(tables) == 10  # agency roles (issue 15) added the tenth
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = 'sdif_history_append_only'"
            )
            assert sorted(name for (name,) in cursor.fetchall()) == tables
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert cursor.fetchall() == []  # the migration installs nothing on SQLite


def test_a_user_may_still_be_deleted_with_history_on_postgresql_and_sqlite(goal):
    user = get_user_model().objects.create_user("temp")
    with recorded_change(user=user):
        StrategyFactory(goal=goal)

    user.delete()  # no foreign key constraint, no cascade into history

    assert not get_user_model().objects.filter(username="temp").exists()
    assert (
        get_history_model_for_model(Strategy).objects.filter(history_username="temp").count() == 1
    )
