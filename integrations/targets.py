"""Where a webhook may be sent: an https URL of a public address.

A webhook URL is typed by an administrator, and the server then makes requests to it:
without a check, an endpoint pointed at ``http://127.0.0.1:5432/`` or the cloud's
metadata address (169.254.169.254) would let that administrator reach the server's own
network. So the URL is checked when it is registered AND at every delivery, with its
host name resolved each time, and the request connects to the very address that was
checked (a name that resolves to a public address at registration and to a private one
later — DNS rebinding — is refused at delivery).

``WEBHOOKS_ALLOW_HTTP`` lets ``http://`` URLs through (development, tests);
``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` lets private, loopback and link-local addresses through
(tests, whose receiver listens on loopback).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``, ``port``) and what to ask for."""

    scheme: str
    host: str  # the name, for the Host header and the TLS certificate
    address: str  # the checked address to connect to
    port: int
    path: str  # path and query, at least "/"


def forbidden_address(text: str) -> bool:
    """True for an address no webhook may reach: private, loopback, link-local,
    multicast, reserved, unspecified, shared (carrier-grade NAT) or otherwise not
    global, IPv4 inside IPv6 (mapped, 6to4, Teredo) included."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) is judged as itself.
        inner = [address.ipv4_mapped, address.sixtofour]
        if address.teredo is not None:
            inner.extend(address.teredo)
        if any(forbidden_address(str(v4)) for v4 in inner if v4 is not None):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def parse(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of a webhook URL, or ``ValidationError`` saying what
    is wrong with it (no resolution: ``check`` does that)."""
    url = (url or "").strip()
    if not url:
        raise _refuse(_("Enter the receiver's URL."), "required")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(
            _("Keep the URL to %(limit)d characters.") % {"limit": MAX_URL_LENGTH}, "too_long"
        )
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise _refuse(_("A URL has no spaces or control characters."), "invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(
            _("Enter a whole URL, e.g. https://hooks.example.gov/sdif."), "invalid"
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise _refuse(_("Use an https:// URL: webhooks are sent over TLS only."), "https_required")
    if scheme not in ("http", "https"):
        raise _refuse(_("Enter a whole URL, e.g. https://hooks.example.gov/sdif."), "invalid")
    if parts.username is not None or parts.password is not None:
        raise _refuse(
            _("Leave the user name and password out of the URL: each request is signed."),
            "credentials",
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse(_("Enter a whole URL, e.g. https://hooks.example.gov/sdif."), "invalid")
    if parts.fragment:
        raise _refuse(_("Leave the #fragment out of the URL."), "fragment")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _addresses(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def check(url: str) -> Target:
    """The URL checked and resolved, ready to connect to; ``ValidationError`` when it
    may not be used (not https, unresolvable, or any of its addresses not public)."""
    scheme, host, port, path = parse(url)
    addresses = _addresses(host, port)
    if not addresses:
        raise _refuse(
            _("%(host)s could not be found (no address for that name).") % {"host": host},
            "unresolvable",
        )
    # Every address must be public: a name with one private address among public ones
    # could be steered to it.
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS and any(
        forbidden_address(address) for address in addresses
    ):
        raise _refuse(
            _(
                "%(host)s is a private, loopback, link-local or reserved address: "
                "webhooks are sent only to addresses on the public internet."
            )
            % {"host": host},
            "private_address",
        )
    return Target(scheme=scheme, host=host, address=addresses[0], port=port, path=path)
