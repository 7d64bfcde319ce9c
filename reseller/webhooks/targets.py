"""Where a webhook may be sent, and sending it there: the URL's host is resolved once,
every address is checked (no private, loopback or link-local target, also when written
as an IPv6 form carrying such an IPv4 address), and the POST connects to the address that
was checked, so a DNS answer that changes in between (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from reseller.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose last 32 bits are an IPv4 address the packet ends up at.
_CARRY_IPV4 = (
    ipaddress.ip_network("::ffff:0:0/96"),  # IPv4-mapped (RFC 4291 §2.5.5.2)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765 §2.1)
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052 §2.1)
    ipaddress.ip_network("::/96"),  # IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)
)
# RFC 8215 local-use NAT64: the operator's own translator, into any network it serves.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


class WebhookUrlRefused(DomainError):
    status = 422
    code = "webhook_url_refused"
    title = _l("The webhook URL is not allowed")


class WebhookHostUnresolved(WebhookUrlRefused):
    """The host did not resolve (at registration: refused; at send time: retried)."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, translated, NAT64, 6to4,
    IPv4-compatible), or None."""
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48 (RFC 3056)
        return ip.sixtofour
    if any(ip in network for network in _CARRY_IPV4):
        return ipaddress.IPv4Address(ip.packed[-4:])
    return None


def _global(ip: IPAddress) -> bool:
    return ip.is_global and not ip.is_multicast


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return False
        carried = embedded_ipv4(ip)
        if carried is not None:  # judge the IPv4 host the packet reaches
            return _global(carried)
    return _global(ip)


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # with the query
    addresses: tuple[str, ...]  # checked, in resolver order


def parse_url(url: str, *, allow_private: bool) -> Any:
    """The URL's parts, refusing what no host lookup could make acceptable."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as error:
        raise WebhookUrlRefused(_l("The URL is not valid.")) from error
    allowed_schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise WebhookUrlRefused(_l("Use an https:// URL with a host name."))
    if parts.username or parts.password:
        raise WebhookUrlRefused(_l("Do not put credentials in the URL."))
    return parts


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host once and check every address (all must be public unless
    ``allow_private``, i.e. sandbox mode)."""
    parts = parse_url(url, allow_private=allow_private)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise WebhookHostUnresolved(_l("The host name does not resolve.")) from error
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookHostUnresolved(_l("The host name does not resolve."))
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise WebhookUrlRefused(
            _l("The host resolves to a private, loopback or link-local address."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url.strip(), scheme=parts.scheme, host=parts.hostname, port=port,
                  path=path, addresses=addresses)


def _pinned(connection_class: type[http.client.HTTPConnection], address: str, **kwargs: Any
            ) -> http.client.HTTPConnection:
    """A connection to ``address`` that still names the URL's host (Host header, TLS SNI
    and certificate check), never looking the name up again."""
    connection = connection_class(**kwargs)

    def connect(where: tuple[str, int], *args: Any) -> socket.socket:
        return socket.create_connection((address, where[1]), *args)

    connection._create_connection = connect  # http.client's hook for opening the socket
    return connection


def post(target: Target, headers: dict[str, str], body: bytes, timeout: float
         ) -> tuple[int, bytes]:
    """POST to the first checked address that accepts a connection; redirects are not
    followed (a 3xx is the answer). Raises OSError when none connects."""
    error: OSError | None = None
    for address in target.addresses:
        kwargs: dict[str, Any] = {"host": target.host, "port": target.port, "timeout": timeout}
        if target.scheme == "https":
            kwargs["context"] = ssl.create_default_context()
        connection = _pinned(http.client.HTTPSConnection if target.scheme == "https"
                             else http.client.HTTPConnection, address, **kwargs)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
        except (ConnectionError, TimeoutError) as refused:  # try the next address
            connection.close()
            error = refused
            continue
        try:
            response = connection.getresponse()
            return response.status, response.read(1000)
        finally:
            connection.close()
    raise error or OSError("no address to connect to")
