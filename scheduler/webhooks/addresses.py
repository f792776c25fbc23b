"""Which URLs a webhook may call: https to a public address, checked at registration and at each delivery.

A URL is refused when its host is, or resolves to, an address that is not public: loopback,
private, link-local (cloud metadata at 169.254.169.254), shared (CGNAT), multicast, reserved,
unspecified, documentation ranges, or an IPv6 address carrying one of those (IPv4-mapped,
NAT64, 6to4, Teredo). Every address the name resolves to must be public, and the delivery
connects to the address that was checked (``pinned``), so a DNS answer that changes between the
check and the connection (rebinding) cannot send us elsewhere.
``CRENEAU_WEBHOOK_ALLOW_PRIVATE=true`` lifts all of this (and allows ``http://``): for tests and
closed networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from scheduler.domain.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2000


class WebhookUrlRefused(InvalidInput):
    """The URL is not https, or does not lead to a public address."""

    code = "webhook-url-refused"
    title = "Webhook URL refused"


def is_public(address: IPAddress) -> bool:
    """True for an address anyone on the Internet can reach, and nothing behind it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified
                                      or address.is_loopback or address.is_link_local or address.is_private)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split into what a delivery needs."""

    url: str
    scheme: str
    host: str
    port: int


def parse(url: str, *, allow_private: bool) -> Target:
    """The URL's parts, if its form is acceptable (the scheme, a host, no credentials); refused otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("The URL is malformed.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise WebhookUrlRefused("The URL must start with https://.")
    if not parts.hostname:
        raise WebhookUrlRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("The URL must not carry credentials.")
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, parts.hostname.rstrip(".").lower(), port or default)


def literal_address(host: str) -> IPAddress | None:
    """The host as an IP address, when it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (the host itself when it is an address)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


async def check_for_registration(url: str, *, allow_private: bool) -> Target:
    """Refuse a URL that is not https or leads to a non-public address (a name that does not resolve yet
    passes:
    it is checked again at every delivery)."""
    target = parse(url, allow_private=allow_private)
    if allow_private:
        return target
    if target.host == "localhost" or target.host.endswith((".localhost", ".local", ".internal")):
        raise WebhookUrlRefused("The URL's host is not a public address.")
    try:
        addresses = await resolve(target.host, target.port)
    except OSError:
        return target
    if not all(is_public(address) for address in addresses):
        raise WebhookUrlRefused("The URL's host is not a public address.")
    return target


async def pinned_address(target: Target, *, allow_private: bool) -> IPAddress:
    """The address to connect to for a delivery, resolved now and checked; WebhookUrlRefused when not
    public."""
    try:
        addresses = await resolve(target.host, target.port)
    except OSError:
        raise WebhookUrlRefused("The URL's host does not resolve.") from None
    if not addresses:
        raise WebhookUrlRefused("The URL's host does not resolve.")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise WebhookUrlRefused("The URL's host is not a public address.")
    return addresses[0]
