"""``/healthz``: is this instance able to serve? For load balancers and monitors.

Open to everyone (it reveals nothing but "ok"), GET/HEAD only, never cached. It asks the
database ``SELECT 1`` through the default connection: 200 when that answers, 503 when it
raises, so a balancer takes the instance out while PostgreSQL is unreachable.

With a shared cache configured (``CACHE_URL``/``REDIS_URL``) it also writes and reads a
probe key there and reports ``"cache": "ok"`` or ``"unavailable"``. The app keeps no
state in the cache, so an unreachable cache is reported for monitoring but does not take
the instance out (still 200 while the database answers).
"""

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
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
    report = {"status": "ok", "database": "ok"}
    if settings.CACHE_URL:
        report["cache"] = "ok" if _cache_answers() else "unavailable"
    return JsonResponse(report)


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
