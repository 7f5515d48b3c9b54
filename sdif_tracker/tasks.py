"""The site's background work (django-tasks, run by ``manage.py db_worker``;
docs/workers.md): rendering a published quarter's PDF before anyone downloads it.

The emails are the milestones layer's (``milestones/tasks.py``).
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from milestones.models import ProgressSummary
from sdif_tracker import exports, plan_pdf

logger = logging.getLogger(__name__)


def store_published_pdfs_on_commit(summary: ProgressSummary) -> None:
    """Have the worker render and store the PDFs of the just-published ``summary`` once
    the transaction commits. Not with the immediate backend: there is no worker, and the
    publisher would wait for what the first download does anyway (``plan_pdf``)."""
    if isinstance(store_published_pdfs.get_backend(), ImmediateBackend):
        return
    transaction.on_commit(partial(store_published_pdfs.enqueue, summary_id=summary.pk))


@task()
def store_published_pdfs(*, summary_id: int) -> list[str]:
    """Render and store the PDF of the published update ``summary_id`` in each of the
    site's languages not stored yet; returns the languages rendered. Nothing for an
    update no longer published, or a server that cannot render PDFs (its downloads say
    so)."""
    summary = (
        ProgressSummary.objects.published().select_related("goal").filter(pk=summary_id).first()
    )
    if summary is None:
        return []
    support = exports.pdf_support()
    if not support.available:
        logger.warning(
            "No published PDFs rendered: WeasyPrint is unavailable (%s).", support.problem
        )
        return []
    rendered = []
    for language, _name in settings.LANGUAGES:
        _pdf, was_rendered = plan_pdf.published_pdf(summary.goal, summary, language=language)
        if was_rendered:
            rendered.append(language)
    return rendered
