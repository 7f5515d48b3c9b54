"""``/healthz``: is this instance able to serve? For load balancers and monitors.

Open to everyone (it reveals nothing but "ok"), GET/HEAD only, never cached. It asks the
database ``SELECT 1`` through the default connection: 200 when that answers, 503 when it
raises, so a balancer takes the instance out while PostgreSQL is unreachable.
"""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

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
    return JsonResponse({"status": "ok", "database": "ok"})
