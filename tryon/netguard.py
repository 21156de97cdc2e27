"""Which network addresses a webhook may reach (no Django models: the order rules and delivery both use it).

A webhook URL is chosen by the client, so without a guard any customer could make the server POST to
its own loopback, the cloud metadata address or the operator's private network (SSRF). Only globally
routable addresses are allowed, after unwrapping the IPv6 forms that carry an IPv4 address
(IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo), since
those reach the embedded address on networks that translate them. Operators with internal receivers
list their networks in WEBHOOK_ALLOWED_NETWORKS; WEBHOOK_ALLOW_PRIVATE (development) allows everything.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


def address_allowed(address: str | IPAddress) -> bool:
    """True when a webhook may be sent to this address."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    try:
        ip = ipaddress.ip_address(str(address).split("%")[0]) if isinstance(address, str) else address
    except ValueError:
        return False
    if any(ip in net for net in _allowed_networks() if net.version == ip.version):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return address_allowed(inner)
    return ip.is_global and not ip.is_multicast


def literal_host(url: str) -> IPAddress | None:
    """The URL's host when it is an IP address literal (any of the forms a resolver would accept)."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Forms like 127.1, 0x7f.0.0.1 or 2130706433: inet_aton accepts them, and so do HTTP clients.
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def url_refusal(url: str) -> str:
    """Why this webhook URL is refused when the order is created ('' when it is fine). Host names are
    checked again at delivery, on the address actually connected to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http or https URL."
    if parts.username or parts.password:
        return "Credentials in the URL are not accepted."
    ip = literal_host(url)
    if ip is not None and not address_allowed(ip):
        return "Private, loopback, link-local and other non-public addresses are not accepted."
    host = parts.hostname.rstrip(".").lower()
    if not settings.WEBHOOK_ALLOW_PRIVATE and (host == "localhost" or host.endswith(".localhost")):
        return "Private, loopback, link-local and other non-public addresses are not accepted."
    return ""
