"""The address of the client behind a request: for login lockouts and the audit record.

Directly connected (``TRUSTED_PROXIES=0``, the default) it is the peer that opened the
connection, ``REMOTE_ADDR``, and never a header: X-Forwarded-For is written by the
client, and an attacker rotating it would get a fresh failure count per request.

Behind load balancers or proxies, ``REMOTE_ADDR`` is the nearest proxy's address for
every user, so one person's failed logins would lock everyone out. With
``TRUSTED_PROXIES=N`` (the number of proxies in front of the app, each appending the
address it received the connection from to X-Forwarded-For) the client is the N-th
address from the right: the one the outermost trusted proxy saw. Addresses further left
were sent by the client and are ignored. A header with fewer than N addresses, or one
that is not an IP address there, means the request did not come through the proxies as
configured; then ``REMOTE_ADDR`` is used, as if there were none.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXIES", 0)
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
