"""The console as an operator opens it: ``paycon run`` and ``paycon console`` in a real terminal.

Each test runs ``paycon`` on a pseudo-terminal, reads what it draws and types
keys into it, like a person at a terminal would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY

CTRL_Q = b"\x11"
ENTER_ALT_SCREEN = b"\x1b[?1049h"
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
# A line of paycon's log format: "<time> INFO    paycon.runtime.service [-] ...".
LOG_LINE = re.compile(rb"(DEBUG|INFO|WARNING|ERROR) +[a-z_.]+ \[[^\]]*\] ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def mock_env(**extra: str) -> dict[str, str]:
    return {
        "PAYCON_CLIENT_API_KEYS": CLIENT_KEY,
        "PAYCON_OPERATOR_API_KEYS": OPERATOR_KEY,
        "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{free_port()}",
        "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{free_port()}",
        **extra,
    }


class Terminal:
    """``paycon`` with its stdin, stdout and stderr on a pseudo-terminal of ``rows`` x ``cols``."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path, rows: int = 48,
                 cols: int = 160) -> None:  # fmt: skip
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paycon", *args],
            cwd=cwd,
            env={**os.environ, "TERM": "xterm-256color", **env},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._closed = False

    def read_until(self, needle: bytes, timeout_s: float = 30.0) -> None:
        """Read until ``needle`` has been drawn; fails with what was drawn otherwise."""
        deadline = time.monotonic() + timeout_s
        while needle not in self.output:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"{needle!r} never shown; got {self.text()[-3000:]}")

    def press(self, keys: bytes) -> None:
        os.write(self._master, keys)

    def wait(self, timeout_s: float = 30.0) -> int:
        """Read until the process exits and closes the terminal; its exit status."""
        deadline = time.monotonic() + timeout_s
        while self._read(0.1):
            assert time.monotonic() < deadline, f"still running; got {self.text()[-3000:]}"
        return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def after_console(self) -> str:
        """What was written after the console gave the screen back."""
        end = self.output.rfind(LEAVE_ALT_SCREEN)
        assert end >= 0, "the console never left the alternate screen"
        return self.output[end + len(LEAVE_ALT_SCREEN) :].decode(errors="replace")

    def before_console(self) -> str:
        start = self.output.find(ENTER_ALT_SCREEN)
        assert start >= 0, "the console never took the screen"
        return self.output[:start].decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self._closed:
            os.close(self._master)
            self._closed = True

    def _read(self, timeout_s: float) -> bool:
        """Read what is there; False once the other side has closed."""
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return False
        self.output.extend(chunk)
        return bool(chunk)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def test_run_on_a_terminal_opens_the_console_over_the_demo_and_quits_cleanly(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    port = free_port()
    terminal = Terminal("run", "--demo", "--port", str(port), env=mock_env(), cwd=tmp_path)
    terminals.append(terminal)

    terminal.read_until(b"demo_")  # demo payments on the dashboard's live table
    assert serving(port)
    terminal.press(CTRL_Q)
    assert terminal.wait() == 0, terminal.text()[-3000:]

    assert not serving(port)
    # The console shows the key (test_console_session), so it is not printed behind it.
    assert "client API key" not in terminal.before_console()
    after = terminal.after_console()
    assert "logs are in data/paycon.log" in after
    assert not LOG_LINE.search(terminal.output), "a log line reached the terminal"
    log_text = (tmp_path / "data" / "paycon.log").read_text()
    for line in ("paycon serving", "demo phase: calm", "demo stopped", "paycon stopped"):
        assert line in log_text
    assert LOG_LINE.search(log_text.encode())


def test_sigterm_closes_the_console_and_stops_paycon(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    port = free_port()
    log_file = tmp_path / "logs" / "console.log"
    terminal = Terminal("run", "--read-only", "--port", str(port), "--log-file", str(log_file),
                        env=mock_env(), cwd=tmp_path)  # fmt: skip
    terminals.append(terminal)

    terminal.read_until(b"read-only")
    terminal.read_until(b"gateway_b")  # the dashboard has read the service
    terminal.process.send_signal(signal.SIGTERM)
    assert terminal.wait() == 0, terminal.text()[-3000:]

    assert not serving(port)
    assert f"logs are in {log_file}" in terminal.after_console()
    assert "paycon stopped" in log_file.read_text()
    assert not (tmp_path / "data" / "paycon.log").exists()


def paycon_console(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``paycon console`` off a terminal: it must fail before it would draw anything."""
    return subprocess.run(
        [sys.executable, "-m", "paycon", "console", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def headless_paycon(tmp_path: Path) -> Iterator[str]:
    """``paycon run --headless`` on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "paycon", "run", "--headless", "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, **mock_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not serving(port):
            assert process.poll() is None, "paycon exited early"
            assert time.monotonic() < deadline, "paycon did not start serving"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_console_without_a_token_says_where_to_put_it(tmp_path: Path) -> None:
    result = paycon_console("--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "PAYCON_OPERATOR_TOKEN" in result.stderr
    assert not (tmp_path / "data").exists()  # a client of another paycon writes no config


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://127.0.0.1:8080", "http://:8080",
                                 "http://127.0.0.1:99999", "http://[::1:8080"])  # fmt: skip
def test_console_refuses_a_url_it_cannot_use(url: str) -> None:
    result = paycon_console("--url", url, "--token", OPERATOR_KEY)
    assert result.returncode == 2
    assert f"--url {url!r}" in result.stderr


def test_console_on_an_unreachable_url_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = paycon_console("--url", url, env={"PAYCON_OPERATOR_TOKEN": OPERATOR_KEY})
    assert result.returncode == 3, result.stderr
    assert f"is paycon running at {url}?" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("token", ["ok_not_a_key_of_this_paycon_000", CLIENT_KEY])
def test_console_with_a_refused_token_exits_2(headless_paycon: str, token: str) -> None:
    result = paycon_console("--url", headless_paycon, env={"PAYCON_OPERATOR_TOKEN": token})
    assert result.returncode == 2, result.stderr
    assert "refused the" in result.stderr
    assert "operator key" in result.stderr
    assert token not in result.stderr


def test_console_attaches_to_a_running_paycon(
    headless_paycon: str, tmp_path: Path, terminals: list[Terminal]
) -> None:
    terminal = Terminal("console", "--url", headless_paycon, "--read-only",
                        env={"PAYCON_OPERATOR_TOKEN": OPERATOR_KEY}, cwd=tmp_path)  # fmt: skip
    terminals.append(terminal)

    terminal.read_until(headless_paycon.encode())  # the title says what it is attached to
    terminal.read_until(b"gateway_b")  # the dashboard read the remote paycon
    terminal.press(CTRL_Q)
    assert terminal.wait() == 0, terminal.text()[-3000:]
    assert not LOG_LINE.search(terminal.output)
    port = int(headless_paycon.rsplit(":", 1)[1])
    assert serving(port)  # closing a console attached from elsewhere leaves paycon running


def test_run_on_a_terminal_with_its_port_taken_fails_before_the_console_opens(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        terminal = Terminal("run", "--port", str(port), env=mock_env(), cwd=tmp_path)
        terminals.append(terminal)
        assert terminal.wait() == 3
    shown = terminal.text()
    assert ENTER_ALT_SCREEN.decode() not in shown
    assert f"cannot listen on 127.0.0.1:{port}" in shown
    assert "logs are in data/paycon.log" in shown
    assert "stopped" not in shown
