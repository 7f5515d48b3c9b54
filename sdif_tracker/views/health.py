"""``/healthz``: is this instance able to serve? For load balancers and monitors.

Open to everyone (it reveals nothing but "ok"), GET/HEAD only, never cached. It asks the
database ``SELECT 1`` through the default connection: 200 when that answers, 503 when it
raises, so a balancer takes the instance out while PostgreSQL is unreachable.

With a shared cache configured (``CACHE_URL``/``REDIS_URL``) it also writes and reads a
probe key there and reports ``"cache": "ok"`` or ``"unavailable"``. The app keeps no
state in the cache, so an unreachable cache is reported for monitoring but does not take
the instance out (still 200 while the database answers).

With the database task backend it reports the queue: ``"tasks": "ok"``, or ``"backlog"``
when tasks have waited more than ``TASK_BACKLOG_MINUTES`` for a worker (none runs, or too
few), with ``"tasks_waiting"``: how many. Reported for monitoring only, like the cache;
one count over the queue's own index of ready tasks.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database is unavailable", exc_info=True)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    report = {"status": "ok", "database": "ok"}
    if settings.CACHE_URL:
        report["cache"] = "ok" if _cache_answers() else "unavailable"
    if isinstance(task_backends["default"], DatabaseBackend):
        try:
            waiting = _tasks_waiting()
        except DatabaseError:  # the queue's table, not the database (which answered)
            logger.warning("Health check: the task queue cannot be read", exc_info=True)
            report["tasks"] = "unavailable"
        else:
            report.update(tasks="ok" if waiting == 0 else "backlog", tasks_waiting=waiting)
    return JsonResponse(report)


# A worker takes a ready task within seconds (its poll interval); one that waited minutes
# means no worker is running, or too few for the load.
TASK_BACKLOG_MINUTES = 5


def _tasks_waiting() -> int:
    """Tasks ready to run for more than TASK_BACKLOG_MINUTES that no worker has taken."""
    cutoff = timezone.now() - timedelta(minutes=TASK_BACKLOG_MINUTES)
    waited = Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff)
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(waited).count()


def _cache_answers() -> bool:
    # A key of its own: instances probing at once must not read each other's token.
    key, token = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    try:
        cache.set(key, token, timeout=30)
        answered = cache.get(key) == token
        cache.delete(key)
    except Exception:  # noqa: BLE001 - any cache client error means "unavailable"
        logger.warning("Health check: the cache is unavailable", exc_info=True)
        return False
    if not answered:
        logger.warning("Health check: the cache did not return what was stored")
    return answered
