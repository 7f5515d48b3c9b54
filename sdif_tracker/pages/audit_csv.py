"""The audit log as CSV: every row the filters select, streamed a chunk (one query) at a
time, each cell neutralised against spreadsheet formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from sdif_tracker.exports import safe_cell
from sdif_tracker.pages import audit
from sdif_tracker.pages.audit import AuditQuery, label_rows
from strategies.models import Goal

CSV_HEADER = [
    "time",
    "kind",
    "object id",
    "object",
    "goal",
    "change",
    "user",
    "user id",
    "source",
    "reason",
    "changed fields",
]


class _Echo:
    def write(self, value):
        return value


def csv_lines(query: AuditQuery, goals: list[Goal]) -> Iterator[str]:
    """The filtered log as CSV lines, header first, a chunk of rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    chunk = []
    for row in query.all():
        chunk.append(row)
        # Read from the module each time: labels go by the chunks AuditQuery.all() reads.
        if len(chunk) == audit.EXPORT_CHUNK:
            yield from _csv_rows(writer, label_rows(chunk, goals))
            chunk = []
    yield from _csv_rows(writer, label_rows(chunk, goals))


def _csv_rows(writer, rows):
    for row in rows:
        cells = [
            row.history_date.isoformat(),
            row.kind.key,
            row.object_id,
            row.object_name,
            row.goal_name,
            row.change_type,
            row.username,
            row.user_id,
            row.source,
            row.reason,
            " ".join(row.changed_fields),
        ]
        yield writer.writerow([safe_cell(cell) for cell in cells])
