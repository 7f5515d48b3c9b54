"""The events webhooks announce, written to the outbox in the change's own transaction.

Each event is recognised from the history row the change writes (``signals.py``): its
model and its reason code say which change it was. The outbox row is written only when
an active endpoint of the goal or its agency hears that kind of event, and once the
transaction commits the dispatch task is enqueued; a change that rolls back takes its
outbox row with it and is never announced.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from audit.reasons import decode
from integrations.models import EventType, OutboxEvent, WebhookEndpoint
from milestones import reasons
from milestones.models import ProgressSummary, StatusUpdate
from milestones.review import review_url
from strategies.models import Goal

logger = logging.getLogger(__name__)

# A status update written by an import or the demo data is the plan's past being
# loaded, not news: it is not announced.
_NOT_NEWS = frozenset({reasons.PLAN_IMPORTED, reasons.PLAN_IMPORTED_FROM, reasons.DEMO_DATA})
# The review chain's transitions and publishing, by the reason code of the update's row.
_UPDATE_EVENTS = {
    reasons.UPDATE_SUBMITTED: EventType.UPDATE_SUBMITTED,
    reasons.UPDATE_RETURNED: EventType.UPDATE_RETURNED,
    reasons.UPDATE_CLEARED: EventType.UPDATE_CLEARED,
    reasons.PUBLISHED: EventType.UPDATE_PUBLISHED,
}


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def api_path(resource: str, key: object) -> str:
    """The read API's URL of one object (``/api/v1/goals/<slug>/``,
    ``/api/v1/milestones/<id>/``…), from the API's own routes."""
    field = "slug" if resource == "goal" else "pk"
    return reverse(f"api:{resource}-detail", kwargs={field: key})


def _goal(goal: Goal) -> dict:
    return {
        "slug": goal.slug,
        "title": goal.title,
        "short_name": goal.short_name,
        "url": _absolute(reverse("goal_dashboard", kwargs={"slug": goal.slug})),
        "api_url": _absolute(api_path("goal", goal.slug)),
    }


def _agency(goal: Goal) -> dict:
    agency = goal.agency
    return {"id": agency.pk, "name": agency.name, "abbreviation": agency.abbreviation}


def _milestone(update: StatusUpdate) -> dict:
    milestone = update.milestone
    slug = milestone.goal.slug
    return {
        "id": milestone.pk,
        "title": milestone.title,
        "status": update.status,
        "previous_status": update.previous_status,
        "comment": update.comment,
        "quarter": str(update.period),
        "revised_due": str(update.revised_due) if update.revised_due is not None else None,
        "status_update_id": update.pk,
        "url": _absolute(reverse("milestone_detail", kwargs={"slug": slug, "pk": milestone.pk})),
        "api_url": _absolute(api_path("milestone", milestone.pk)),
    }


def _update(summary: ProgressSummary, goal: Goal, comment: str) -> dict:
    return {
        "id": summary.pk,
        "quarter": str(summary.period),
        "state": summary.review_state,
        "risk": summary.risk,
        "comment": comment,
        "url": _absolute(review_url(goal, summary.period)),
        "api_url": _absolute(api_path("quarterly-update", summary.pk)),
    }


def _recognise(instance, history_instance) -> tuple[str, int, str, dict] | None:
    """``(event type, goal id, reason code, its parameters)`` of a change webhooks
    announce, from its history row alone (no query); None for any other change."""
    if not isinstance(instance, StatusUpdate | ProgressSummary | Goal):
        return None  # most history rows: nothing to decode
    decoded = decode(getattr(history_instance, "history_change_reason", None))
    code, params = decoded if decoded is not None else ("", {})
    if isinstance(instance, StatusUpdate):
        if history_instance.history_type != "+" or code in _NOT_NEWS:
            return None
        return EventType.MILESTONE_STATUS_CHANGED, instance.milestone.goal_id, code, params
    if isinstance(instance, ProgressSummary) and code in _UPDATE_EVENTS:
        return _UPDATE_EVENTS[code], instance.goal_id, code, params
    if isinstance(instance, Goal) and code == reasons.GOAL_CLOSED:
        return EventType.GOAL_CLOSED, instance.pk, code, params
    return None


def event_of(instance, history_instance) -> tuple[str, Goal, dict] | None:
    """``(event type, goal, what the event says of the object)`` for a change that
    webhooks announce, recognised from its history row; None for any other change."""
    found = _recognise(instance, history_instance)
    if found is None:
        return None
    event_type, _goal_id, code, params = found
    if isinstance(instance, StatusUpdate):
        goal = instance.milestone.goal
        return event_type, goal, {"milestone": _milestone(instance)}
    if isinstance(instance, ProgressSummary):
        goal = instance.goal
        comment = params.get("comment", "") if code == reasons.UPDATE_RETURNED else ""
        return event_type, goal, {"update": _update(instance, goal, comment)}
    closed = instance.closed_at.isoformat() if instance.closed_at else None
    return event_type, instance, {"closed_at": closed, "reason": params["reason"]}


def _heard(event_type: str, goal_id: int) -> bool:
    """Whether an active endpoint of the goal or of its agency hears ``event_type``: one
    query, from the goal's id alone, so a change nobody listens to costs no more (the
    event lists are JSON, matched here rather than in SQL for SQLite's sake)."""
    agency = Goal.objects.filter(pk=goal_id).values("agency_id")
    lists = WebhookEndpoint.objects.filter(
        Q(goal_id=goal_id) | Q(agency_id__in=agency), is_active=True
    ).values_list("events", flat=True)
    return any(event_type in (events or []) for events in lists)


def record(instance, history_instance) -> OutboxEvent | None:
    """Write the outbox event of the change ``history_instance`` records, if webhooks
    announce it and someone listens; enqueue its dispatch once the transaction commits.
    Whether anyone listens is asked before the payload is built: most changes have no
    listener, and they cost one query."""
    found = _recognise(instance, history_instance)
    if found is None or not _heard(found[0], found[1]):
        return None
    event_type, goal, data = event_of(instance, history_instance)
    event_id = uuid.uuid4()
    occurred = history_instance.history_date
    payload = {
        "id": str(event_id),
        "type": str(event_type),
        "timestamp": occurred.isoformat(),
        "data": {
            "goal": _goal(goal),
            "agency": _agency(goal),
            "actor": {"username": getattr(history_instance, "history_username", "") or ""},
            **data,
        },
    }
    event = OutboxEvent.objects.create(
        id=event_id,
        event_type=event_type,
        goal=goal,
        agency_id=goal.agency_id,
        payload=payload,
        created_at=occurred,
    )
    transaction.on_commit(partial(_enqueue_dispatch, event.pk))
    return event


def _enqueue_dispatch(event_id) -> None:
    from integrations import tasks

    tasks.enqueue_dispatch(event_id)
