"""Embedded mock gateways (payments complete, no money moves) stay on this machine and say so."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from paycon.config import Settings
from paycon.domain.errors import ConfigError
from paycon.runtime.embedded_mocks import check_api_is_private
from paycon.runtime.service import Service
from paycon.runtime.session import serve_console
from paycon.tui.app import MOCK_GATEWAYS_TITLE, PayconConsole
from tests.integration.test_demo import embedded_settings
from tests.paycon_fixtures import make_settings

# Checked, never bound: the check runs before anything listens.
BEYOND_LOOPBACK = ["0.0.0.0", "::", "", "192.0.2.1", "paycon.example"]  # noqa: S104


@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_embedded_mocks_are_refused_beside_an_api_beyond_loopback(host: str) -> None:
    settings = Settings.model_validate({"server": {"host": host}, "mock_gateways": "embedded"})
    with pytest.raises(ConfigError, match="PAYCON_MOCK_GATEWAYS=off") as refused:
        check_api_is_private(settings)
    assert "without moving money" in refused.value.detail


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_embedded_mocks_run_beside_an_api_on_loopback(host: str) -> None:
    check_api_is_private(Settings.model_validate({"server": {"host": host}}))


def test_real_gateways_may_serve_any_address() -> None:
    settings = {"server": {"host": "0.0.0.0"}, "mock_gateways": "off"}  # noqa: S104 - not bound
    check_api_is_private(Settings.model_validate(settings))


def test_paycon_run_refuses_with_exit_2_before_listening(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET) is no address of this machine: nothing could listen there anyway.
    result = subprocess.run(
        [sys.executable, "-m", "paycon", "run", "--headless", "--host", "192.0.2.1",
         "--port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "PAYCON_MOCK_GATEWAYS=off" in result.stderr
    assert not (tmp_path / "data" / "paycon.db").exists()  # refused before opening anything


async def _title_of_console(service: Service) -> str:
    titles: list[str] = []

    async def drive(app: PayconConsole) -> None:
        titles.append(app.title)

    await serve_console(service, actor="console:test", drive=drive)
    return titles[0]


async def test_a_paycon_with_embedded_mocks_says_so_in_its_log_and_console(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="paycon.runtime.service"):
        title = await _title_of_console(Service(embedded_settings(db_path)))
    assert title.startswith(f"paycon · {MOCK_GATEWAYS_TITLE} · http://127.0.0.1:")
    assert any(
        r.levelno == logging.WARNING and "without moving money" in r.getMessage()
        for r in caplog.records
    )


async def test_a_paycon_with_real_gateways_has_no_mock_warning(db_path: Path) -> None:
    title = await _title_of_console(Service(make_settings(db_path)))
    assert MOCK_GATEWAYS_TITLE not in title
