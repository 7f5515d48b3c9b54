"""The PostgreSQL role the app runs as: it may read and add history, never change or
remove it.

Migrations run as the tables' owner. The app connects as another role
(``DATABASE_APP_ROLE``) that owns nothing and is no superuser, and the owner gives it:

- SELECT and INSERT on every append-only table (each simple-history table);
- SELECT, INSERT, UPDATE and DELETE on every other table;
- USAGE and SELECT on the sequences.

Not owning the tables, it can neither TRUNCATE them nor ``ALTER TABLE … DISABLE
TRIGGER``; not being a superuser, it cannot set ``session_replication_role``.

The grants are computed from the models and re-applied after every ``migrate`` while
``DATABASE_APP_ROLE`` is set, so a new history table is covered the moment it exists
(``ALTER DEFAULT PRIVILEGES`` cannot tell a history table from any other).
``manage.py grant_app_role`` applies them on demand. Either way it revokes everything
first and grants in one transaction: running it again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from simple_history.models import HistoricalChanges

# Unquoted PostgreSQL identifiers fold to lower case; allowing only these means the
# name in the setting is the name `CREATE ROLE` made.
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Grants:
    role: str
    append_only_tables: list[str]
    other_tables: int


def append_only_tables() -> list[str]:
    """Every table whose rows are history: written once, never changed or removed."""
    return sorted(
        model._meta.db_table for model in apps.get_models() if issubclass(model, HistoricalChanges)
    )


def grant_app_role(role: str, *, using: str = "default") -> Grants:
    """Give ``role`` the app's privileges on ``using``'s tables; run as their owner."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_APP_ROLE is for PostgreSQL; {connection.vendor} has no roles."
        )
    if not ROLE_NAME.fullmatch(role):
        raise ImproperlyConfigured(
            f"{role!r} is not a role name: lower-case letters, digits and _, 63 at most."
        )
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            raise ImproperlyConfigured(
                f"Role {role} does not exist; create it first (README, PostgreSQL)."
            )
        if found[0]:
            raise ImproperlyConfigured(f"Role {role} is a superuser: nothing can be withheld.")
        cursor.execute(
            "SELECT DISTINCT tableowner FROM pg_tables "
            "WHERE schemaname = current_schema() AND pg_has_role(%s, tableowner, 'MEMBER')",
            [role],
        )
        if owners := [owner for (owner,) in cursor.fetchall()]:
            raise ImproperlyConfigured(
                f"Role {role} owns the tables (as {', '.join(owners)}); the app must "
                "connect as a role that does not, or it could erase history."
            )
        # A GRANT from anyone else only warns "no privileges were granted"; say so instead.
        cursor.execute(
            "SELECT current_user, count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND NOT pg_has_role(current_user, tableowner, 'MEMBER') GROUP BY current_user"
        )
        if not_owner := cursor.fetchone():
            raise ImproperlyConfigured(
                f"Connected as {not_owner[0]}, which does not own the tables: grant to {role} "
                "(and run migrate) with the owner's DATABASE_URL."
            )
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
        existing = set(connection.introspection.table_names(cursor))
        history = [table for table in append_only_tables() if table in existing]
        role_q = quote(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role_q}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role_q}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role_q}"
        )
        if history:
            tables = ", ".join(quote(table) for table in history)
            cursor.execute(f"REVOKE UPDATE, DELETE ON TABLE {tables} FROM {role_q}")
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role_q}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role_q}")
    return Grants(role=role, append_only_tables=history, other_tables=len(existing) - len(history))


def grant_after_migrate(sender, *, using: str, **kwargs) -> None:
    """post_migrate: re-apply the app role's grants, so no new table is left out."""
    if settings.DATABASE_APP_ROLE:
        grant_app_role(settings.DATABASE_APP_ROLE, using=using)
