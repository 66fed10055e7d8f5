"""Resolving host names, behind an interface tests replace.

``SystemResolver`` asks the operating system (``getaddrinfo``) on threads of
its own, so slow lookups of merchants' names never take the threads the
rest of the process resolves with, and gives up after a timeout.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address
from typing import Any, Protocol

from paycon.domain.addresses import IPAddress


class ResolveFailed(Exception):
    """A name did not resolve: no such name, no address, or no answer in time."""


class Resolver(Protocol):
    """Turns a host name into the addresses it stands for."""

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        """Every address of ``host`` (at least one). Raises ResolveFailed."""
        ...


class SystemResolver:
    """``getaddrinfo`` on a small thread pool of its own, bounded by ``timeout_s``."""

    def __init__(
        self,
        *,
        timeout_s: float,
        threads: int = 4,
        lookup: Callable[..., Sequence[Any]] = socket.getaddrinfo,
    ) -> None:
        self._timeout_s = timeout_s
        self._lookup = lookup  # getaddrinfo's signature; tests pass a stand-in
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="paycon-resolver")

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        """Every address of ``host``, in the system's order. Raises ResolveFailed."""
        loop = asyncio.get_running_loop()
        lookup = loop.run_in_executor(
            self._executor, self._lookup, host, None, socket.AF_UNSPEC, socket.SOCK_STREAM
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                answers = await lookup
        except TimeoutError:
            raise ResolveFailed(f"{host} did not resolve within {self._timeout_s:g} s") from None
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveFailed(f"{host} does not resolve") from exc
        addresses: list[IPAddress] = []
        for *_, sockaddr in answers:
            address = ip_address(str(sockaddr[0]))
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise ResolveFailed(f"{host} has no address")
        return addresses

    def close(self) -> None:
        """Stop the threads; lookups still running are abandoned."""
        self._executor.shutdown(wait=False, cancel_futures=True)
