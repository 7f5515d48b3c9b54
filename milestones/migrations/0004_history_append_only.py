"""History is append-only: on PostgreSQL a trigger on every history table rejects any
UPDATE or DELETE, whoever issues it (the app, the admin, a shell on the app's
connection). SQLite gets no trigger; there the tests show the app never issues one.

TRUNCATE fires no row-level trigger; 0006 refuses it with a statement-level one.
"""

from django.db import migrations

FUNCTION = "sdif_history_append_only"
TRIGGER = "sdif_history_append_only"


def history_tables(apps):
    return sorted(
        model._meta.db_table
        for label in ("strategies", "milestones")
        for model in apps.get_app_config(label).get_models()
        if model.__name__.startswith("Historical")
    )


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'History is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
        END
        $$ LANGUAGE plpgsql
        """,
        params=None,  # the "%" are PL/pgSQL's, not parameters
    )
    for table in history_tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {quote(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in history_tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("milestones", "0003_history_audit_columns"),
        ("strategies", "0002_history_audit_columns"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
