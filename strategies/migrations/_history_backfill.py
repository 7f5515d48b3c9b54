"""Fill ``history_goal_id`` and ``history_changed_fields`` on history rows written
before those columns existed (used by strategies 0002 and milestones 0003, which run
before the append-only trigger of milestones 0004 is installed).

Not a migration itself: the loader skips modules whose name starts with "_".
"""

from itertools import groupby

IGNORED_FIELDS = {"version", "updated_at", "created_at"}
BATCH = 500


def tracked_attnames(history_model):
    return [
        field.attname
        for field in history_model._meta.concrete_fields
        if not field.name.startswith("history_") and field.name not in IGNORED_FIELDS
    ]


def tracked_names(history_model):
    return {
        field.attname: field.name
        for field in history_model._meta.concrete_fields
        if not field.name.startswith("history_")
    }


def backfill(history_model, goal_of):
    """``goal_of(row)`` gives a row's goal id; changed fields come from comparing each
    row with the previous row of the same object."""
    attnames = tracked_attnames(history_model)
    names = tracked_names(history_model)
    rows = history_model._default_manager.order_by("id", "history_date", "history_id")
    pending = []
    for _pk, versions in groupby(rows.iterator(chunk_size=2000), key=lambda row: row.id):
        previous = None
        for row in versions:
            row.history_goal_id = goal_of(row)
            changed = ""
            if row.history_type == "~" and previous is not None:
                diff = [
                    names[attname]
                    for attname in attnames
                    if getattr(previous, attname) != getattr(row, attname)
                ]
                changed = f",{','.join(diff)}," if diff else ""
            row.history_changed_fields = changed
            pending.append(row)
            previous = row
            if len(pending) >= BATCH:
                history_model._default_manager.bulk_update(
                    pending, ["history_goal_id", "history_changed_fields"]
                )
                pending = []
    if pending:
        history_model._default_manager.bulk_update(
            pending, ["history_goal_id", "history_changed_fields"]
        )


def goal_map(history_model):
    """{object id: goal id} over every version of a goal-owned model."""
    return dict(history_model._default_manager.values_list("id", "goal_id"))
