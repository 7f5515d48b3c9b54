"""The audit log as CSV: every row the filters select, streamed a chunk (one query) at a
time, each cell neutralised against spreadsheet formulas.

**One CSV row per field changed.** A change of three fields is three rows that share
their time, object, user and reason, each with its own ``field``, ``old`` and ``new``
(choice labels, related objects by name, full texts); a creation, a deletion, or a
change whose previous version is not kept is one row with those three cells empty.
A reviewer filters or pivots on ``field`` in a spreadsheet; one column pair per field
would give ~70 mostly empty columns across the kinds of object.

Times are in the configured zone (``settings.TIME_ZONE``) with their offset, ISO 8601
to the second: ``2019-07-15T10:03:00-04:00``, as the pages show them. Where a change
came from (``client address``, ``request id``) is filled only for readers
``access.can_see_change_origin`` allows (the caller says). The file is in English,
whatever the reader's language: labels, change reasons and headers alike.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.utils import timezone, translation

from audit.reasons import describe_in_english
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
    "client address",
    "request id",
    "reason",
    "field",
    "old",
    "new",
]


class _Echo:
    def write(self, value):
        return value


def local_time(when) -> str:
    """ "2019-07-15T10:03:00-04:00": ``when`` in the configured zone, to the second."""
    return timezone.localtime(when).replace(microsecond=0).isoformat()


def csv_lines(query: AuditQuery, goals: list[Goal], *, with_origin: bool = False) -> Iterator[str]:
    """The filtered log as CSV lines, header first, a chunk of rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    chunk = []
    for row in query.all():
        chunk.append(row)
        # Read from the module each time: labels go by the chunks AuditQuery.all() reads.
        if len(chunk) == audit.EXPORT_CHUNK:
            yield from _csv_rows(writer, chunk, goals, with_origin)
            chunk = []
    yield from _csv_rows(writer, chunk, goals, with_origin)


def _csv_rows(writer, rows, goals, with_origin):
    with translation.override("en"):
        label_rows(rows, goals, diff=False)  # old and new values only
        for row in rows:
            common = [
                local_time(row.history_date),
                row.kind.key,
                row.object_id,
                row.title,
                row.goal_name,
                row.change_type,
                row.username,
                row.user_id,
                row.source,
                (row.ip or "") if with_origin else "",
                row.request_id if with_origin else "",
                describe_in_english(row.reason),
            ]
            fields = [(change.label, change.old, change.new) for change in row.changes]
            if not fields and row.history_type == "~":
                # The version before is not kept: the names of the fields, no values.
                fields = [(label, "", "") for label in row.changed_field_labels]
            for cells in fields or [("", "", "")]:
                yield writer.writerow([safe_cell(cell) for cell in [*common, *cells]])
