"""The ``paycon`` command as an operator runs it: a real process, real signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.paycon_fixtures import CLIENT_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def paycon(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "paycon", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_serving(port: int, process: subprocess.Popen[str], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"paycon exited early: {process.communicate()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("paycon did not start serving")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_headless_run_serves_and_stops_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    port, port_a, port_b = free_port(), free_port(), free_port()
    process = paycon(
        "run", "--headless", "--port", str(port),
        env={
            "PAYCON_CLIENT_API_KEYS": CLIENT_KEY,
            "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{port_a}",
            "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{port_b}",
        },
        cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_until_serving(port, process)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/deposits",
            data=json.dumps(
                {"customer_id": "c1", "amount": "5.00", "currency": "EUR", "country": "DE"}
            ).encode(),
            headers={
                "Authorization": f"Bearer {CLIENT_KEY}",
                "Idempotency-Key": "cli-1",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 202
        # The embedded mock gateways listen where the gateway URLs point.
        with urllib.request.urlopen(f"http://127.0.0.1:{port_a}/_mock/ledger", timeout=5) as r:
            assert r.status == 200
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "created data/paycon.toml" in stderr
    assert "client API key: " in stderr
    assert "paycon stopped" in stderr
    assert (tmp_path / "data" / "paycon.db").exists()


def test_invalid_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    process = paycon("run", "--headless", env={"PAYCON_PORT": "eighty"}, cwd=tmp_path)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    lines = [line for line in stderr.splitlines() if not line.startswith("paycon: created")]
    assert lines == [lines[0]]
    assert "PAYCON_PORT" in lines[0]


def test_port_in_use_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = paycon(
            "run", "--headless", "--port", str(port), env={"PAYCON_MOCK_GATEWAYS": "off"},
            cwd=tmp_path,
        )  # fmt: skip
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3
    assert "--port" in stderr


@pytest.mark.parametrize("taken_by", ["api", "mock gateway A"])
def test_a_port_in_use_is_exit_3_and_stops_once(tmp_path: Path, taken_by: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if taken_by == "api":
            options, env = ["--port", str(port)], {"PAYCON_MOCK_GATEWAYS": "off"}
        else:
            options = ["--port", str(free_port())]
            env = {
                "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{port}",
                "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{free_port()}",
            }
        process = paycon("run", "--headless", *options, env=env, cwd=tmp_path)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert str(port) in stderr
    assert stderr.count("paycon stopped") <= 1, stderr


def test_config_prints_masked_keys_readably_and_the_effective_protocols(tmp_path: Path) -> None:
    process = paycon("config", cwd=tmp_path, env={"PAYCON_CLIENT_API_KEYS": CLIENT_KEY})
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    settings = json.loads(out[out.index("{") :])
    assert "\\u" not in out
    assert settings["auth"]["client_api_keys"] == [f"{CLIENT_KEY[:6]}…{CLIENT_KEY[-4:]}"]
    protocols = {name: g["protocol"] for name, g in settings["gateways"].items()}
    assert protocols == {"gateway_a": "json", "gateway_b": "xml"}


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paycon", "--help"], capture_output=True, text=True, check=True,
        cwd=tmp_path,
    )  # fmt: skip
    for command in ("run", "console", "mock-gateways", "config", "tasks", "gateways"):
        assert command in result.stdout


def mock_env(**extra: str) -> dict[str, str]:
    """Known client key; the embedded mock gateways on free ports."""
    return {
        "PAYCON_CLIENT_API_KEYS": CLIENT_KEY,
        "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{free_port()}",
        "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{free_port()}",
        **extra,
    }


def get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {CLIENT_KEY}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.load(response)


def stop(process: subprocess.Popen[str], signum: signal.Signals = signal.SIGTERM) -> str:
    """Signal ``process``, wait for it, and return its stderr."""
    try:
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return stderr


def test_the_commands_load_no_server_client_or_console_until_they_need_one() -> None:
    """What keeps ``paycon tasks`` and ``paycon --help`` quick to start: the service, the
    gateway clients, HTTP and the console load only for the commands that use them."""
    heavy = [
        "aiohttp",
        "httpx",
        "textual",
        "paycon.runtime.service",
        "gateways",
        "mock_gateways.server",
    ]
    probe = f"import sys, paycon.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"


def test_run_demo_headless_shows_payments_completing(tmp_path: Path) -> None:
    port = free_port()
    process = paycon("run", "--demo", "--headless", "--port", str(port), env=mock_env(),
                     cwd=tmp_path)  # fmt: skip
    try:
        wait_until_serving(port, process)
        deadline = time.monotonic() + 20
        completed: list[dict[str, Any]] = []
        while len(completed) < 5 and time.monotonic() < deadline:
            time.sleep(0.5)
            page = get_json(f"http://127.0.0.1:{port}/v1/transactions?status=completed&limit=50")
            completed = page["items"]
    finally:
        stderr = stop(process)
    assert process.returncode == 0, stderr
    assert len(completed) >= 5, stderr
    assert {t["customer_id"] for t in completed} > {"demo_anna"}
    assert "demo phase: calm" in stderr
    assert "demo stopped" in stderr
    assert stderr.index("demo stopped") < stderr.index("paycon stopped")


def test_demo_needs_the_embedded_mocks(tmp_path: Path) -> None:
    process = paycon("run", "--demo", "--headless", env={"PAYCON_MOCK_GATEWAYS": "off"},
                     cwd=tmp_path)  # fmt: skip
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "--demo needs the embedded mock gateways" in stderr
    assert "PAYCON_MOCK_GATEWAYS=embedded" in stderr


def test_run_off_a_terminal_runs_headless_and_says_so_once(tmp_path: Path) -> None:
    port = free_port()
    process = paycon("run", "--port", str(port), env=mock_env(), cwd=tmp_path)
    try:
        wait_until_serving(port, process)
    finally:
        stderr = stop(process)
    assert process.returncode == 0, stderr
    assert stderr.count("not on a terminal; running headless") == 1
    assert "paycon stopped" in stderr  # the logs went to stderr
    assert not (tmp_path / "data" / "paycon.log").exists()


def test_run_help_explains_the_console_demo_and_exit_statuses(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paycon", "run", "--help"], capture_output=True, text=True,
        check=True, cwd=tmp_path,
    )  # fmt: skip
    for text in ("--demo", "--read-only", "--log-file", "--headless", "SIGTERM", "exit status"):
        assert text in result.stdout


def test_gateways_command_is_wired(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paycon", "gateways"], capture_output=True, text=True,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 3
    assert "no database at data/paycon.db" in result.stderr
