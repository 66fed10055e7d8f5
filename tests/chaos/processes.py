"""The two processes chaos runs: the mock gateways (the independent record) and paycon.

paycon is a headless subprocess on a SQLite file in the run's folder; it is
SIGKILLed and started again on the same port, with every start's log appended
to one file so the log check sees all of them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


async def wait_until_up(http: aiohttp.ClientSession, url: str, *, timeout_s: float) -> None:
    """Until ``url`` answers 200; raises ``TimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s")
        await asyncio.sleep(0.05)


class Child:
    """A Python child process (``python -m ...``) with its output appended to a log file."""

    def __init__(self, args: list[str], *, env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self._args = [sys.executable, *args]
        self._env = {**os.environ, **env}
        self._cwd = cwd
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the process (again); its output goes to the end of the log file."""
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self._args, env=self._env, cwd=self._cwd, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self._process.wait)
        self._process = None

    async def stop(self) -> None:
        """SIGINT and a wait (killed if it takes longer than 30 s)."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    def exited(self) -> int | None:
        """The exit code if the process ended on its own, else None."""
        return None if self._process is None else self._process.poll()
