"""History refuses TRUNCATE too: a statement-level trigger on every history table, a
second line behind the app role's privileges (strategies/database_roles.py), against
the owner or a superuser truncating by mistake. Row-level triggers (0004) never fire
for TRUNCATE. Only replica mode (superuser only) or the owner dropping the trigger gets
past it; the test suite's flush uses the former (tests/conftest.py).

PostgreSQL only: SQLite has no TRUNCATE and no roles.
"""

from django.db import migrations
from simple_history.models import HistoricalChanges

FUNCTION = "sdif_history_append_only"  # 0004's: raises "History is append-only: TRUNCATE on …"
TRIGGER = "sdif_history_no_truncate"


def history_tables(apps):
    return sorted(
        model._meta.db_table for model in apps.get_models() if issubclass(model, HistoricalChanges)
    )


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in history_tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE TRUNCATE ON {quote(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in history_tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("milestones", "0005_quarterly_update"),
        ("strategies", "0002_history_audit_columns"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
