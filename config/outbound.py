"""Outgoing HTTP to URLs our tenants configure: webhooks, POS endpoints, the OSRM service.

Such URLs must not reach into our own network: private, loopback, link-local, shared and
metadata addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (tests and the
demo). Three things make the refusal hold:

- a URL is read by the parsers that send it (urllib3 for ``requests``, yarl for aiohttp),
  and refused when they could disagree about where it goes;
- an address is judged by where packets end up, so IPv6 forms that carry an IPv4 address
  are judged by that IPv4 address;
- the address that was checked is the address connected to: ``outbound_session()`` and
  ``outbound_connector()`` resolve each host once, check every answer and connect to it, so
  a DNS server cannot answer a public address to the check and a private one to the client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import connection, parse_url
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")
# IPv6 prefixes whose last 32 bits are the IPv4 address the packet is delivered to.
IPV4_IN_LAST_32_BITS = [
    ipaddress.ip_network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, well-known prefix
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated, still routed by some stacks)
]
# Local-use NAT64 may place the IPv4 address at any of several offsets, so no one embedded
# address can be read from it: the whole prefix is refused.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")

_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$")
# WHATWG URL parsers (and inet_aton) read a host whose last label is a number as IPv4.
_NUMERIC_LABEL = re.compile(r"^([0-9]+|0[xX][0-9a-fA-F]*)$")


class UnsafeTarget(Exception):
    """Waybill will not call this URL; the message says why.

    ``permanent`` is False when the refusal comes from what the host resolves to today,
    which its owner may change; a malformed URL or a private IP literal never heals.
    """

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    address: IPAddress | None  # set when the host is an IP literal


def _private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)


# --- addresses ---------------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if int(ip) <= 1:
        return None  # :: and ::1 are judged as themselves, not as 0.0.0.0 and 0.0.0.1
    for network in IPV4_IN_LAST_32_BITS:
        if ip in network:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client; ipaddress already undoes the bit inversion
    return None


def _why_not_public(ip: IPAddress) -> str | None:
    """Why packets to ``ip`` would stay inside a private network, or None when they would not."""
    if ip in NAT64_LOCAL_USE:
        return "local-use NAT64"
    if ip == METADATA_ADDRESS:
        return "the cloud metadata service"
    for reason, applies in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space", ip.version == 4 and ip in SHARED_ADDRESS_SPACE),
        ("private", ip.is_private),
        ("site-local", ip.version == 6 and ip.is_site_local),
        ("reserved", ip.is_reserved),
        ("not globally reachable", not ip.is_global),
    ):
        if applies:
            return reason
    return None


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be called, or None when it is public.

    An IPv6 address that carries an IPv4 address is judged by the IPv4 address, which is
    where a translator or tunnel delivers it (and ``ipaddress`` calls many such forms global).
    """
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.scope_id:
            ip = ipaddress.IPv6Address(address.split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = _why_not_public(embedded)
            if reason:
                return f"an address that carries {embedded}, a non-public address ({reason})"
            if ip.teredo is None and ip.sixtofour is None:
                return None  # mapped, translated or NAT64: the IPv4 address decides
    reason = _why_not_public(ip)
    return f"a non-public address ({reason})" if reason else None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates.

    The one place outbound code asks DNS; tests replace it to play a rebinding DNS server.
    """
    addresses: list[str] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def resolve_checked(host: str, port: int) -> list[str]:
    """Resolve ``host`` once and refuse unless every answer may be called.

    Connections go to these addresses, never to a second lookup. ``socket.gaierror`` passes
    through so each client reports a name that does not resolve in its usual way.
    """
    addresses = resolve(host, port)
    if not _private_allowed():
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise UnsafeTarget(f"'{host}' resolves to {address}, {reason}.", permanent=False)
    return addresses


# --- URLs --------------------------------------------------------------------------------


def _same_host(urllib3_host: str, yarl_host: str) -> bool:
    if ":" in urllib3_host or ":" in yarl_host:
        try:
            return ipaddress.IPv6Address(urllib3_host.strip("[]")) == ipaddress.IPv6Address(
                yarl_host
            )
        except ValueError:
            return False
    return urllib3_host == yarl_host


def parse_target(url: str) -> Target:
    """Where ``url`` sends a request, refusing any URL the sending parsers could read apart.

    Checks the text only: no DNS, no address policy.
    """
    for char in url:
        if char.isspace() or unicodedata.category(char) == "Cc":
            raise UnsafeTarget(f"The URL holds a whitespace or control character ({char!r}).")
    if "\\" in url:
        # urllib3 ends the host at a backslash, other parsers read past it to an '@'.
        raise UnsafeTarget("The URL holds a backslash; write it as %5C if it is meant.")
    authority = _AUTHORITY.match(url)
    if authority is None:
        raise UnsafeTarget("The URL is not an absolute http(s) URL.")
    if "@" in authority.group(1):
        raise UnsafeTarget("The URL holds user-info ('…@' before the host); Waybill refuses it.")
    # Messages name the host at most: a subscription URL may carry a token in its query.
    try:
        sent = parse_url(url)  # what requests connects to
    except LocationParseError:
        raise UnsafeTarget("The URL's host or port is malformed.") from None
    try:
        seen = URL(url)  # what aiohttp connects to
    except ValueError as exc:
        raise UnsafeTarget(f"The URL is malformed: {exc}") from None
    scheme = (sent.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or seen.scheme != scheme:
        raise UnsafeTarget("The URL is not an http(s) URL.")
    host = (sent.host or "").lower()
    if not host or not seen.raw_host:
        raise UnsafeTarget("The URL names no host.")
    if "%" in host or "%" in seen.raw_host:
        raise UnsafeTarget("The URL's host holds a '%' (percent-encoding or an IPv6 zone).")
    if not _same_host(host, seen.raw_host.lower()) or sent.port != seen.explicit_port:
        raise UnsafeTarget("HTTP clients read the URL's host or port differently.")
    if sent.port == 0:
        raise UnsafeTarget("The URL names port 0.")
    host = host.strip("[]")
    address: IPAddress | None = None
    if ":" in host:
        address = ipaddress.IPv6Address(host)
    elif _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            # 2130706433, 0x7f.1 or 0177.0.0.1 all reach 127.0.0.1 through inet_aton.
            raise UnsafeTarget(
                f"'{host}' is not written as a canonical IPv4 address (four decimal parts)."
            ) from None
    elif not _HOST_NAME.match(host):
        raise UnsafeTarget(f"'{host}' is not a valid host name.")
    return Target(
        scheme=scheme, host=host, port=sent.port or DEFAULT_PORTS[scheme], address=address
    )


def check_url(url: str) -> Target:
    """Refuse ``url`` on what its text alone shows: its form, and a non-public IP literal."""
    target = parse_target(url)
    if target.address is not None and not _private_allowed():
        reason = address_refusal(str(target.address))
        if reason:
            raise UnsafeTarget(f"'{target.host}' is {reason}.")
    return target


def check_public_url(url: str) -> None:
    """Refuse a URL Waybill will not call; used when a URL is saved and before it is sent.

    Sending through ``outbound_session()`` or ``outbound_connector()`` checks the address
    again at connect time, which is the check that closes the DNS-rebinding window.
    """
    target = check_url(url)
    if _private_allowed() or target.address is not None:
        return
    try:
        resolve_checked(target.host, target.port)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"'{target.host}' does not resolve: {exc}.", permanent=False) from exc


# --- requests (POS fetches, OSRM) ----------------------------------------------------------


class _PinnedConnectionMixin:
    """Connect to an address ``resolve_checked`` vouched for; TLS still verifies the host name.

    The stock ``_new_conn`` hands the host name to ``create_connection``, which resolves it a
    second time; this one resolves once and dials the checked addresses themselves.
    """

    def _new_conn(self) -> socket.socket:
        try:
            addresses = resolve_checked(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error: OSError | None = None
        for address in addresses:
            try:
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self,
                    f"Connection to {self.host} timed out. (connect timeout={self.timeout})",
                ) from exc
            except OSError as exc:
                error = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {error or 'no address'}"
        )


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": PinnedHTTPConnectionPool,
            "https": PinnedHTTPSConnectionPool,
        }

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # A proxy resolves the host itself, past the pinned address.
        kwargs["proxies"] = None
        return super().send(request, **kwargs)


class OutboundSession(requests.Session):
    """A ``requests`` session that checks each URL as written and connects only where checked."""

    def __init__(self) -> None:
        super().__init__()
        # Environment proxies would resolve the host themselves, past the pinned address.
        self.trust_env = False
        adapter = PinnedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        check_url(url.decode() if isinstance(url, bytes) else url)
        return super().request(method, url, *args, **kwargs)


def outbound_session() -> requests.Session:
    """The only ``requests`` session for URLs tenants or settings configure."""
    return OutboundSession()


# --- aiohttp (webhooks) --------------------------------------------------------------------


class PublicResolver(AbstractResolver):
    """Resolves in a worker thread (as aiohttp's ThreadedResolver) and refuses non-public answers.

    aiohttp skips the resolver for IP-literal hosts; ``check_url`` judges those before sending.
    """

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(None, resolve_checked, host, port)
        results = []
        for address in addresses:
            found = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family not in (socket.AF_UNSPEC, found):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=port,
                    family=found,
                    proto=socket.IPPROTO_TCP,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not results:
            raise OSError(f"'{host}' has no address to connect to.")
        return results

    async def close(self) -> None:
        pass


def outbound_connector(**kwargs: Any) -> aiohttp.TCPConnector:
    """The only aiohttp connector for URLs tenants configure; call it inside a running loop."""
    return aiohttp.TCPConnector(resolver=PublicResolver(), **kwargs)
