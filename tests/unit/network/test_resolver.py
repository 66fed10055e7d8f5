"""The system resolver runs getaddrinfo off the event loop and gives up in time."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from ipaddress import ip_address
from typing import Any

import pytest

from paycon.network.resolver import ResolveFailed, SystemResolver


def answers(*addresses: str) -> Callable[..., Sequence[Any]]:
    def lookup(host: str, port: object, family: int, kind: int) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, kind, 6, "", (a, 0))
            for a in addresses
        ]

    return lookup


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., SystemResolver]]:
    made: list[SystemResolver] = []

    def build(lookup: Callable[..., Sequence[Any]], timeout_s: float = 1.0) -> SystemResolver:
        made.append(SystemResolver(timeout_s=timeout_s, lookup=lookup))
        return made[-1]

    yield build
    for resolver in made:
        resolver.close()


async def test_every_address_once_in_the_systems_order(
    make: Callable[..., SystemResolver],
) -> None:
    resolver = make(answers("93.184.215.14", "2606:2800::1", "93.184.215.14"))
    assert await resolver.resolve("merchant.example") == [
        ip_address("93.184.215.14"),
        ip_address("2606:2800::1"),
    ]


async def test_a_name_that_does_not_resolve(make: Callable[..., SystemResolver]) -> None:
    def unknown(*args: object) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(ResolveFailed, match="does not resolve"):
        await make(unknown).resolve("nowhere.example")


async def test_a_slow_lookup_gives_up_in_time_and_never_blocks_the_loop(
    make: Callable[..., SystemResolver],
) -> None:
    release = threading.Event()

    def hanging(*args: object) -> list[Any]:
        release.wait(5)
        return []

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        with pytest.raises(ResolveFailed, match=r"within 0\.2 s"):
            await make(hanging, timeout_s=0.2).resolve("slow.example")
    finally:
        release.set()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    assert time.monotonic() - started < 1.0
    assert ticks >= 5  # the loop kept running while the lookup hung
