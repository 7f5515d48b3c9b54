"""On PostgreSQL the app connects as a role that does not own the tables: it may read and
add history, never change or remove it, and keeps every other table current. Every
history table also refuses TRUNCATE, even from its owner.

The suite connects as a superuser (it creates the test database); these tests create
the two roles the README names if missing, grant through the code `migrate` runs, then
reconnect Django's own connection as the app role, so what is refused is refused to
the app itself. PostgreSQL only: deselected on SQLite, which has no roles.
"""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from simple_history.utils import get_history_model_for_model

from milestones.models import Milestone, Status, StatusUpdate
from strategies.database_roles import append_only_tables, grant_app_role
from strategies.models import Goal, Role
from tests.factories import MembershipFactory, MilestoneFactory

pytestmark = pytest.mark.postgresql

APP_ROLE = "sdif_app"
OWNER_ROLE = "sdif_owner"
HISTORY = get_history_model_for_model(Milestone)


@pytest.fixture(scope="module", autouse=True)
def _roles(django_db_setup, django_db_blocker):
    # Roles belong to the whole server; other runs may be creating them at the same time.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for role in (APP_ROLE, OWNER_ROLE):
            cursor.execute(
                f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
    yield
    connection.close()


@contextmanager
def connected_as(role):
    """Django's own connection, logged in as ``role`` instead of the suite's superuser."""
    original = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = role
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"] = original


def history_rows():
    return sorted(HISTORY.objects.values_list("history_id", "history_change_reason"))


def privileges(role, table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p "
            "WHERE has_table_privilege(%s, %s, p)",
            [role, table],
        )
        return {p for (p,) in cursor.fetchall()}


@pytest.fixture
def milestone(db):
    return MilestoneFactory(status=Status.ON_TRACK)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE {table} SET history_change_reason = 'rewritten'", "permission denied"),
        ("DELETE FROM {table}", "permission denied"),
        ("TRUNCATE {table}", "permission denied"),
        ("ALTER TABLE {table} DISABLE TRIGGER sdif_history_append_only", "must be owner"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
    ],
)
def test_the_app_role_cannot_change_or_remove_history(milestone, statement, refusal):
    grant_app_role(APP_ROLE)
    before = history_rows()
    table = connection.ops.quote_name(HISTORY._meta.db_table)

    with connected_as(APP_ROLE):
        with pytest.raises(DatabaseError, match=refusal), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))
        # Still connected as the app, history is as it was and still readable.
        assert history_rows() == before != []

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled = 'O'",
            [HISTORY._meta.db_table],
        )
        assert cursor.fetchone()[0] == 2  # no UPDATE/DELETE and no TRUNCATE, both on


@pytest.mark.django_db(transaction=True)
def test_the_app_role_keeps_milestones_current_and_adds_their_history(milestone):
    leader = MembershipFactory(goal=milestone.goal, role=Role.LEADER).user
    grant_app_role(APP_ROLE)
    versions = milestone.history.count()

    with connected_as(APP_ROLE):
        client = Client()
        client.force_login(leader)
        prefix = f"m{milestone.pk}-"
        response = client.post(
            reverse("milestone_update", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk}),
            {
                f"{prefix}status": Status.AT_RISK,
                f"{prefix}comment": "Counterparts replaced.",
                f"{prefix}period": "Q3 FY 2019",
                f"{prefix}revised_due": "",
                f"{prefix}version": milestone.version,
            },
        )
        assert response.status_code == 302
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE strategies_goal SET title = 'Retitled' WHERE id = %s", [milestone.goal_id]
            )
            assert cursor.rowcount == 1

    milestone.refresh_from_db()
    assert milestone.status == Status.AT_RISK
    assert StatusUpdate.objects.get(milestone=milestone).comment == "Counterparts replaced."
    assert milestone.history.count() == versions + 1
    assert Goal.objects.get(pk=milestone.goal_id).title == "Retitled"


@pytest.mark.django_db
def test_every_migrate_regrants_the_app_role_on_every_table(settings):
    with connection.cursor() as cursor:
        # As for a table a migration has just created: no privileges at all.
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    settings.DATABASE_APP_ROLE = APP_ROLE

    call_command("migrate", verbosity=0)

    history = append_only_tables()
    assert len(history) == 10
    for table in history:
        assert privileges(APP_ROLE, table) == {"SELECT", "INSERT"}, table
    others = set(connection.introspection.table_names()) - set(history)
    assert {"milestones_milestone", "milestones_statusupdate", "django_session"} <= others
    for table in others:
        assert privileges(APP_ROLE, table) == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


@pytest.mark.django_db
def test_granting_is_refused_to_a_role_that_could_erase_history():
    with pytest.raises(ImproperlyConfigured, match="superuser"):
        grant_app_role(connection.settings_dict["USER"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {HISTORY._meta.db_table} OWNER TO {OWNER_ROLE}")
    with pytest.raises(ImproperlyConfigured, match="owns the tables"):
        grant_app_role(OWNER_ROLE)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("grant_app_role", "sdif_no_such_role")
    with pytest.raises(CommandError, match="not a role name"):
        call_command("grant_app_role", 'sdif_app"; DROP TABLE django_session; --')


@pytest.mark.django_db(transaction=True)
def test_migrate_as_the_app_role_says_to_use_the_owner(settings):
    grant_app_role(APP_ROLE)
    settings.DATABASE_APP_ROLE = APP_ROLE

    with connected_as(APP_ROLE), pytest.raises(ImproperlyConfigured, match="owner's DATABASE_URL"):
        call_command("migrate", verbosity=0)

    assert privileges(APP_ROLE, HISTORY._meta.db_table) == {"SELECT", "INSERT"}


@pytest.mark.django_db
def test_the_grant_command_reports_what_it_gave():
    out = StringIO()
    call_command("grant_app_role", APP_ROLE, stdout=out)

    assert out.getvalue().startswith(f"{APP_ROLE}: SELECT, INSERT on 10 history tables;")


@pytest.mark.django_db
@pytest.mark.parametrize("table", append_only_tables())
def test_history_refuses_truncate_even_from_a_superuser(milestone, table):
    with (
        pytest.raises(DatabaseError, match="History is append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(table)}")
    assert HISTORY.objects.filter(id=milestone.pk).exists()


@pytest.mark.django_db
def test_history_refuses_truncate_from_its_owner(milestone):
    table = connection.ops.quote_name(HISTORY._meta.db_table)
    with connection.cursor() as cursor:
        # A non-superuser owner, as in production; undone when the test's transaction ends.
        cursor.execute(f"ALTER TABLE {table} OWNER TO {OWNER_ROLE}")
        cursor.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
        with (
            pytest.raises(DatabaseError, match="History is append-only: TRUNCATE"),
            transaction.atomic(),
        ):
            cursor.execute(f"TRUNCATE {table}")
        cursor.execute("RESET ROLE")
    assert HISTORY.objects.filter(id=milestone.pk).count() == 1
