"""A first start as an operator runs it: private files, and the client key shown once."""

from __future__ import annotations

import signal
import stat
from pathlib import Path

import pytest

from paycon.cli.main import main
from tests.e2e.test_cli import free_port, paycon, wait_until_serving


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _start_and_stop(tmp_path: Path) -> str:
    """``paycon run --headless`` until it serves, then SIGTERM; its stderr."""
    port = free_port()
    process = paycon(
        "run", "--headless", "--port", str(port),
        env={"PAYCON_MOCK_GATEWAYS": "off"},
        cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_until_serving(port, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    return stderr


def test_first_start_keeps_data_private_and_shows_the_client_key_once(tmp_path: Path) -> None:
    first = _start_and_stop(tmp_path)
    data = tmp_path / "data"
    key = next(line.split(": ")[-1] for line in first.splitlines() if "client API key: " in line)
    assert key.startswith("pk_")
    assert key in (data / "paycon.toml").read_text()
    assert "paycon config --show-keys" in first

    # While it ran the database had its WAL and shared-memory files: all owner-only.
    assert _mode(data) == 0o700
    for name in ("paycon.toml", "paycon.db", "paycon.db-wal", "paycon.db-shm"):
        if (data / name).exists() or name == "paycon.db":
            assert _mode(data / name) == 0o600, name

    second = _start_and_stop(tmp_path)
    assert key not in second
    assert "client API key: " not in second
    assert "paycon config --show-keys" in second
    assert f"config {Path('data/paycon.toml')}" in second


def test_config_show_keys_prints_the_keys_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paycon.toml"
    assert main(["config", "--config", str(config)]) == 0
    created = capsys.readouterr()
    key = created.err.split("client API key: ")[1].split()[0]
    assert key not in created.out  # masked without --show-keys

    assert main(["config", "--config", str(config), "--show-keys"]) == 0
    shown = capsys.readouterr()
    assert key in shown.out
    assert key not in shown.err  # not created again, so not announced again
