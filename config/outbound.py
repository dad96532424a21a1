"""Outgoing HTTP to URLs our tenants configure (POS endpoints, later webhooks).

Such URLs must not reach into our own network: private, loopback, link-local and metadata
addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (tests and the demo).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeTarget(Exception):
    """The URL resolves to an address Waybill will not call."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(f"'{url}' is not an http(s) URL.")
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"'{parts.hostname}' does not resolve: {exc}.") from exc
    for info in infos:
        address = info[4][0]
        if not _is_public(address):
            raise UnsafeTarget(f"'{parts.hostname}' resolves to {address}, a non-public address.")
