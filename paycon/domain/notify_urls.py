"""Where a merchant notification may be sent: the rules for a ``notify_url``.

Pure rules, no I/O: ``notify_target`` reads the URL, and ``address_refusal``
judges the addresses its host resolves to (``paycon.domain.addresses``). The
resolving itself is the caller's (``paycon.network``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from paycon.domain.addresses import IPAddress, host_address, refusal
from paycon.domain.errors import FieldError, NotifyUrlRefused

FIELD = "notify_url"
# RFC 3986's characters only: nothing a parser could read two ways (no backslash,
# space, control or non-ASCII character).
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


@dataclass(frozen=True)
class NotifyTarget:
    """A ``notify_url``'s host, and the address it spells when it is one."""

    host: str
    address: IPAddress | None


def refused(message: str) -> NotifyUrlRefused:
    """The 422 naming the ``notify_url`` field."""
    return NotifyUrlRefused(f"notify_url refused: {message}", errors=[FieldError(FIELD, message)])


def notify_target(url: str, *, allow_private: bool) -> NotifyTarget:
    """The host ``url`` points at. ``https`` only, plain ``http`` too with ``allow_private``.

    Raises NotifyUrlRefused (naming the field) for another scheme, a host
    that is neither an address nor a host name, ``localhost``, or (without
    ``allow_private``) an address outside the public ranges.
    """
    if not _URL_CHARACTERS.fullmatch(url):
        raise refused("only unencoded ASCII URL characters (RFC 3986) are allowed")
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed:
        raise refused("must be an https URL")
    try:
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise refused("the port is not a number from 1 to 65535") from None
    if not host:
        raise refused("must name a host")
    try:
        address = host_address(host)
    except ValueError as exc:
        raise refused(str(exc)) from None
    if address is None:
        _check_name(host, allow_private=allow_private)
    elif not allow_private and (why := refusal(address)) is not None:
        raise refused(f"{host} is a {why} address; notifications go to public addresses only")
    return NotifyTarget(host=host, address=address)


def _check_name(host: str, *, allow_private: bool) -> None:
    name = host.removesuffix(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise refused(f"{host!r} is not a valid host name (use the xn-- form of a name)")
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise refused(f"{host} is a loopback name; notifications go to public addresses only")


def address_refusal(host: str, addresses: Iterable[IPAddress]) -> NotifyUrlRefused | None:
    """The refusal when any of the addresses ``host`` resolved to is not public.

    Every address must be public, not only the first: a client may try any of
    them. The addresses themselves are not named: the merchant learns nothing
    of how names resolve inside paycon's network.
    """
    for address in addresses:
        why = refusal(address)
        if why is not None:
            return refused(
                f"{host} resolves to a {why} address; notifications go to public addresses only"
            )
    return None
