"""Which IP addresses a notification may go to, and every way a host can spell one.

Pure rules, no I/O. An address is *public* when it is global unicast and in no
special-purpose range (IANA's IPv4 and IPv6 special-purpose registries). An
address that embeds an IPv4 address (IPv4-mapped, NAT64's well-known prefix,
6to4) is judged by the address it embeds; IPv4-compatible and Teredo forms are
refused outright.

A host is read the way the C library's ``inet_aton`` (and so ``getaddrinfo``
and every HTTP client built on it) reads it: ``2130706433``, ``0x7f000001``,
``0177.0.0.1`` and ``127.1`` are all 127.0.0.1.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_V4_RANGES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), name)
    for network, name in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)

# Checked in order: the first match names the range.
_V6_RANGES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), name)
    for network, name in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("64:ff9b:1::/48", "NAT64 local-use"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo"),
        ("2001:2::/48", "benchmarking"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignments"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")

_V4_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not public (the range's name), or None when it is."""
    if isinstance(address, IPv4Address):
        return next((name for network, name in _V4_RANGES if address in network), None)
    embedded = _embedded_v4(address)
    if embedded is not None:
        inner = refusal(embedded)
        return None if inner is None else f"{inner} (as IPv6)"
    for network, name in _V6_RANGES:
        if address in network:
            return name
    return None if address in _V6_GLOBAL_UNICAST else "reserved"


def _embedded_v4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def host_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any of its forms; None for a name.

    ``host`` is a URL's host without brackets. Raises ValueError for a host
    that is neither a valid address nor a name (``1.2.3.256``, ``::g``, a
    name whose last label is a number).
    """
    if ":" in host:
        try:
            address = ip_address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not a valid IPv6 address") from None
        if isinstance(address, IPv6Address) and address.scope_id:
            raise ValueError("an IPv6 address with a zone is not a public address")
        return address
    labels = host.removesuffix(".").split(".")
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    address_v4 = _inet_aton(labels)
    if address_v4 is None:
        raise ValueError(f"{host!r} is neither an IPv4 address nor a host name")
    return address_v4


def _inet_aton(parts: list[str]) -> IPv4Address | None:
    """``a``, ``a.b``, ``a.b.c`` or ``a.b.c.d``, each part decimal, octal (``0…``)
    or hex (``0x…``); the last part fills the remaining bytes."""
    if not 1 <= len(parts) <= 4 or not all(_V4_PART.fullmatch(part) for part in parts):
        return None
    values = [int(part, 16) if part[:2].lower() == "0x" else int(part, 8 if part[0] == "0" else 10)
              for part in parts]  # fmt: skip
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (5 - len(parts))):
        return None
    number = last
    for position, value in enumerate(leading):
        number |= value << (8 * (3 - position))
    return IPv4Address(number)
