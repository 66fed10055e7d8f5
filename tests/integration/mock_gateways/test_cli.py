"""The command line: option parsing, secrets, and ``python -m mock_gateways`` end to end."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

import mock_gateways
from mock_gateways.cli import add_arguments, faults_from, resolve_secrets
from mock_gateways.errors import ConfigError
from mock_gateways.faults import Faults

REPO_ROOT = Path(mock_gateways.__file__).resolve().parent.parent


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mock-gateways")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_listen_on_loopback_8081_and_8082_without_faults() -> None:
    args = parse()

    assert (args.host, args.port_a, args.port_b, args.seed) == ("127.0.0.1", 8081, 8082, None)
    assert faults_from(args.faults_a) == faults_from(args.faults_b) == Faults()


def test_fault_flags_become_each_gateways_start_faults() -> None:
    args = parse(
        "--fault-a",
        "error_rate=0.3",
        "--fault-a",
        "outage=503",
        "--fault-b",
        "latency_ms=200",
        "--fault-b",
        "callback_reorder=true",
        "--fault-b",
        "outage=refuse",
        "--seed",
        "42",
    )

    assert faults_from(args.faults_a) == Faults(error_rate=0.3, outage="503")
    assert faults_from(args.faults_b) == Faults(
        latency_ms=200, callback_reorder=True, outage="refuse"
    )
    assert args.seed == 42


def test_the_money_integrity_faults_are_set_at_start_too() -> None:
    args = parse(
        "--fault-a",
        "callback_amount_skew=0.5",
        "--fault-a",
        "callback_wrong_route=0.25",
        "--fault-b",
        "late_failure_rate=1",
        "--fault-b",
        "ghost_503_rate=0.1",
        "--fault-b",
        "auth_failure=true",
    )

    assert faults_from(args.faults_a) == Faults(callback_amount_skew=0.5, callback_wrong_route=0.25)
    assert faults_from(args.faults_b) == Faults(
        late_failure_rate=1.0, ghost_503_rate=0.1, auth_failure=True
    )


def test_a_later_fault_flag_wins() -> None:
    args = parse("--fault-a", "error_rate=0.1", "--fault-a", "error_rate=0.2")

    assert faults_from(args.faults_a).error_rate == 0.2


@pytest.mark.parametrize(
    ("flag", "complaint"),
    [
        ("error_rate", "expected name=value"),
        ("=0.3", "expected name=value"),
        ("nope=1", "nope: unknown fault"),
        ("error_rate=2", "error_rate: must be a number between 0 and 1"),
        ("error_rate=lots", "error_rate: must be a number"),
        ("latency_ms=-5", "latency_ms: must be whole milliseconds"),
        ("outage=502", "outage: must be false"),
        ("callback_reorder=maybe", "callback_reorder: must be true or false"),
    ],
)
def test_a_bad_fault_flag_is_a_usage_error_that_names_the_problem(
    flag: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--fault-a", flag)

    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port: str) -> None:
    with pytest.raises(SystemExit):
        parse("--port-a", port)


def test_secret_options_win_over_the_environment() -> None:
    environ = {"PAYCON_GATEWAY_A_SECRET": "env-a", "PAYCON_GATEWAY_B_SECRET": "env-b"}

    assert resolve_secrets(parse("--secret-a", "opt-a"), environ) == ("opt-a", "env-b")


def test_a_missing_secret_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError, match=r"--secret-b SECRET or set PAYCON_GATEWAY_B_SECRET"):
        resolve_secrets(parse(), {"PAYCON_GATEWAY_A_SECRET": "env-a"})


async def test_python_m_mock_gateways_serves_until_sigint(http: aiohttp.ClientSession) -> None:
    environ = {
        **os.environ,
        "PAYCON_GATEWAY_A_SECRET": "cli-a",
        "PAYCON_GATEWAY_B_SECRET": "cli-b",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mock_gateways",
        "--port-a",
        "0",
        "--port-b",
        "0",
        "--seed",
        "5",
        "--fault-b",
        "outage=503",
        cwd=REPO_ROOT,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = ""
        async with asyncio.timeout(20):
            while "back to healthy" not in banner:
                banner += (await process.stdout.readline()).decode()
        url_a, url_b = re.findall(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert f"curl -X PUT {url_a}/_mock/faults -d '{{\"error_rate\": 0.3}}'" in banner

        async with http.get(f"{url_b}/GetStatus", params={"TransactionId": "x"}) as response:
            assert response.status == 503  # the start-time fault
        async with http.put(f"{url_a}/_mock/faults", data='{"error_rate": 0.3}') as response:
            assert (await response.json())["error_rate"] == 0.3
        [settled_today] = re.findall(
            r'curl "([^"]+/_mock/settlements\?date=)\$\(date -u \+%F\)"', banner
        )
        async with http.get(f"{settled_today}2026-12-03") as response:
            assert (response.status, response.content_type) == (200, "text/csv")

        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0
    log = stderr.decode()
    assert "gateway_b GET /GetStatus?TransactionId=x -> 503" in log
    assert "(fault: outage=503)" in log
    assert "mock gateways stopped" in log
