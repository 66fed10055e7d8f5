"""Bearer-key authentication: client keys and operator keys, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from paycon.domain.errors import Forbidden, Unauthorized
from paycon.domain.keys import key_digest, key_id


class Role(IntEnum):
    """Operators may do everything clients may, and more."""

    CLIENT = 1
    OPERATOR = 2


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key fingerprint (never the key) and its role."""

    client_id: str
    role: Role

    def require(self, role: Role) -> None:
        """Raises Forbidden unless this principal has at least ``role``."""
        if self.role < role:
            raise Forbidden(f"this endpoint needs an {role.name.lower()} key")


class KeyRing:
    """The configured API keys, kept only as digests."""

    def __init__(self, client_keys: Iterable[str], operator_keys: Iterable[str]) -> None:
        self._keys = [(key_digest(k), Role.CLIENT) for k in client_keys] + [
            (key_digest(k), Role.OPERATOR) for k in operator_keys
        ]

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal for an ``Authorization: Bearer <key>`` header.

        Every configured key is compared, in constant time, whatever matches.
        Raises Unauthorized for a missing, malformed or unknown key.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send the API key as 'Authorization: Bearer <key>'")
        token = token.strip()
        presented = key_digest(token)
        role: Role | None = None
        for digest, key_role in self._keys:
            if hmac.compare_digest(digest, presented) and (role is None or key_role > role):
                role = key_role
        if role is None:
            raise Unauthorized("the API key is not valid")
        return Principal(client_id=key_id(token), role=role)
