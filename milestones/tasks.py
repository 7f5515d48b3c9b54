"""The milestones layer's background work (django-tasks): the emails it sends.

The update reminders (``manage.py send_update_reminders``) and the review chain
(``review._Mail``) write each email, then hand it over with ``enqueue_email`` once their
transaction commits; a worker (``manage.py db_worker``, docs/workers.md) sends it. So a
slow or unreachable mail server holds neither the command nor the request, and a send the
mail server refuses or times out is tried again later by the worker.

With ``TASKS_BACKEND=immediate`` (no worker) the email is sent in the process that
enqueued it, as before, and a failed send is logged, not retried: that backend cannot
schedule anything for later.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

# How long to wait before each further attempt: about eleven hours from the first to the
# last, so an outage of the mail server over a night still ends in the email arriving.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
)
EMAIL_ATTEMPTS = len(RETRY_DELAYS) + 1

# What a mail server that is down, slow or refusing raises: worth another attempt.
# Anything else is a bug, which another attempt would only repeat.
_TRANSIENT = (smtplib.SMTPException, OSError)


def enqueue_email(*, subject: str, body: str, to: list[str]) -> None:
    """Have the worker send this email once the current transaction commits (at once
    outside a transaction); nothing is sent if it rolls back."""
    transaction.on_commit(partial(send_email.enqueue, subject=subject, body=body, to=list(to)))


@task()
def send_email(*, subject: str, body: str, to: list[str], attempt: int = 1) -> None:
    """Send one plain-text email from ``settings.DEFAULT_FROM_EMAIL``. When the mail
    server fails, enqueue attempt ``attempt + 1`` for later (up to ``EMAIL_ATTEMPTS``)
    and fail this one, so the worker's record shows each failure with its traceback."""
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to
    )
    try:
        message.send()
    except _TRANSIENT:
        later = _retry(subject=subject, body=body, to=to, attempt=attempt)
        if later is None:
            logger.exception(
                "Gave up sending %r to %s after attempt %d.", subject, ", ".join(to), attempt
            )
        else:
            logger.warning(
                "Sending %r to %s failed (attempt %d of %d); trying again after %s.",
                subject,
                ", ".join(to),
                attempt,
                EMAIL_ATTEMPTS,
                later.isoformat(),
                exc_info=True,
            )
        raise


def _retry(*, subject: str, body: str, to: list[str], attempt: int):
    """Enqueue the next attempt and return when it may run; None when there is none to
    make (the last attempt failed, or the backend cannot defer a task)."""
    if attempt >= EMAIL_ATTEMPTS or not send_email.get_backend().supports_defer:
        return None
    later = timezone.now() + RETRY_DELAYS[attempt - 1]
    send_email.using(run_after=later).enqueue(
        subject=subject, body=body, to=to, attempt=attempt + 1
    )
    return later
