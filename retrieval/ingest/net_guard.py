"""Which URLs the feed poller may fetch.

Only ``http`` and ``https``. A feed named in the feeds file is trusted wherever it is
(an intranet feed, or a test server on 127.0.0.1). Everything a feed leads to — the links
of its entries, and redirects of the feed or of a page — is checked: a host name is
resolved with ``getaddrinfo`` and *every* address must be globally routable, so a public
feed cannot make the bot probe the network it runs in. The one exception is the feed's own
origin: a feed on ``127.0.0.1:8080`` may link to pages on ``127.0.0.1:8080``.

"Same origin" here means the same host name, compared as written (lowercase), and the same
port (80/443 when none is given). ``localhost`` and ``127.0.0.1`` are two origins, and so
are two ports of one machine: a feed on ``127.0.0.1:8080`` linking to ``127.0.0.1:22`` or
``localhost:8080`` is refused.

IP literals are judged without any look-up or connection, so a link to ``192.168.1.1`` is
refused before a socket exists.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class Refused(Exception):
    """A URL the poller must not fetch; the message says why."""


@dataclass(frozen=True)
class Origin:
    """Host name (lowercase, as written) and port of a URL."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def origin_of(url: str) -> Origin:
    """The origin of an http(s) URL; raises Refused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"malformed URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise Refused(f"only http and https URLs are fetched, not {scheme or 'a relative URL'!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(f"URL without a host: {url!r}")
    return Origin(host, port or DEFAULT_PORTS[scheme])


def check_url(url: str, *, trusted: Origin | None = None, resolve: Resolver | None = None) -> Origin:
    """The URL's origin if it may be fetched, else raise Refused.

    ``trusted`` is the origin of the feed that led here: it may be anything. Any other
    origin must resolve to globally routable addresses only.
    """
    origin = origin_of(url)
    if trusted is not None and origin == trusted:
        return origin
    for address in _addresses(origin, resolve or socket.getaddrinfo):
        why = blocked_reason(address)
        if why:
            shown = origin.host if origin.host == str(address) else f"{origin.host} ({address})"
            article = "an" if why[0] in "aeio" or why.startswith("unsp") else "a"  # a unique-local
            raise Refused(
                f"{shown} is {article} {why} address; only public hosts are fetched from a feed's links"
            )
    return origin


def blocked_reason(address: IPAddress) -> str:
    """Why an address is off limits ("loopback", "private", …), or "" when it is public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return blocked_reason(embedded)
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "shared (CGNAT)"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local"),
        (isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL, "unique-local"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "non-global"),
    )
    return next((name for hit, name in checks if hit), "")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _addresses(origin: Origin, resolve: Resolver) -> list[IPAddress]:
    literal = _literal(origin.host)
    if literal is not None:
        return [literal]
    try:
        infos = resolve(origin.host, origin.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve {origin.host}: {getattr(exc, 'strerror', None) or exc}") from exc
    found: list[IPAddress] = []
    for info in infos:
        try:
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    if not found:
        raise Refused(f"cannot resolve {origin.host}: no IP address")
    return found


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
