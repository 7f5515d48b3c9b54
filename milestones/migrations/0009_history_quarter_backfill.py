"""Give history rows recorded before the reporting-quarter axis existed their quarter.

A status update or quarterly update belongs to its own reporting period; any other row
to the fiscal quarter its change was recorded in, held within its goal's period (a plan
entered after its cycle ended belongs to its last quarter, not to the quarter it was
typed in). That is the best that can be known after the fact: rows recorded from now on
get the goal's reporting quarter. An agency's rows belong to no goal and keep none.

Filling a new column is not editing history: on PostgreSQL the append-only trigger
(0004) is set aside for this one transaction, as the owner, and put back before it ends.
"""

import datetime

from django.conf import settings
from django.db import migrations

TRIGGER = "sdif_history_append_only"
BATCH = 1000


def _quarter_key(moment: datetime.datetime) -> int:
    from django.utils import timezone

    day = timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    start = getattr(settings, "FISCAL_YEAR_START_MONTH", 10)
    months = (day.month - start) % 12
    fiscal_year = day.year + (1 if start != 1 and day.month >= start else 0)
    return fiscal_year * 10 + months // 3 + 1


def history_models(apps):
    return [
        model
        for label in ("strategies", "milestones")
        for model in apps.get_app_config(label).get_models()
        if model.__name__.startswith("Historical") and model.__name__ != "HistoricalAgency"
    ]


def backfill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    quote = schema_editor.quote_name
    # Each goal's first and last quarter keys, to hold a recorded date within its period.
    periods = {
        pk: (first * 10 + 1, last * 10 + 4)
        for pk, first, last in apps.get_model("strategies", "Goal")._default_manager.values_list(
            "pk", "first_fiscal_year", "last_fiscal_year"
        )
    }

    def within_goal(key, goal_id):
        if goal_id not in periods:
            return key
        first, last = periods[goal_id]
        return min(max(key, first), last)

    for model in history_models(apps):
        table = quote(model._meta.db_table)
        rows = model._default_manager.filter(history_quarter__isnull=True)
        if not rows.exists():
            continue
        own_period = model.__name__ in ("HistoricalStatusUpdate", "HistoricalProgressSummary")
        if postgres:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {TRIGGER}")
        pending = []
        fields = ["history_id", "history_date", "history_goal_id"]
        for row in rows.only(*fields, *(["period"] if own_period else [])).iterator(
            chunk_size=BATCH
        ):
            row.history_quarter = (
                row.period.key
                if own_period
                else within_goal(_quarter_key(row.history_date), row.history_goal_id)
            )
            pending.append(row)
            if len(pending) >= BATCH:
                model._default_manager.bulk_update(pending, ["history_quarter"])
                pending = []
        if pending:
            model._default_manager.bulk_update(pending, ["history_quarter"])
        if postgres:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("milestones", "0008_reporting_quarters"),
        ("strategies", "0004_reporting_quarters"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
