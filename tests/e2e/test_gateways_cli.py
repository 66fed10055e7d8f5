"""``paycon gateways``: the list, and taking a gateway out of routing and back, locally or --url."""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from paycon.cli.main import main
from paycon.config import ensure_config_file
from tests.e2e.test_tasks_cli import CLIENT, DEPOSIT, OPERATOR, Headless, headless

__all__ = ["headless"]  # the running paycon these tests share with test_tasks_cli's


def gateways(*args: str, config: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``paycon gateways ARGS --config CONFIG`` in this process: status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["gateways", *args, "--config", str(config)], env)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def local(tmp_path: Path, headless: Headless) -> tuple[Path, dict[str, str]]:
    """A config on the headless paycon's database, used without --url."""
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    return config, {"PAYCON_DATABASE_URL": headless.env["PAYCON_DATABASE_URL"]}


def deposit_gateway(headless: Headless, key: str) -> str:
    response = httpx.post(
        headless.url + "/v1/deposits",
        json=DEPOSIT,
        headers={"Authorization": f"Bearer {CLIENT}", "Idempotency-Key": key},
        timeout=5,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["gateway"])


def remote(headless: Headless, *args: str, token: str = OPERATOR) -> tuple[int, str, str]:
    return gateways(
        *args, "--url", headless.url, "--token", token, config=headless.config, env=headless.env
    )


def test_the_live_list_has_breaker_figures_and_errors(headless: Headless) -> None:
    headless.dead_task_of(headless.post_deposit("live-1", "gateway_a"))
    status, out, err = remote(headless)
    assert status == 0, err
    assert "gateway_a last error: GatewayNotReached: " in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:4]}
    assert rows["gateway_a"][1:4] == ["json", "on", "closed"]
    assert rows["gateway_b"][1:4] == ["xml", "on", "closed"]
    assert "breaker" in out.splitlines()[0]
    status, out, _ = remote(headless, "list", "--json")
    assert status == 0
    body = json.loads(out)
    assert [g["name"] for g in body["gateways"]] == ["gateway_a", "gateway_b"]
    assert body["gateways"][0]["breaker"]["state"] == "closed"


def test_disable_and_enable_over_the_api(headless: Headless) -> None:
    status, out, err = remote(headless, "disable", "gateway_a", "--reason", "A is down")
    assert status == 0, err
    try:
        assert out.startswith("gateway_a out of routing: new payments go elsewhere")
        assert "at once in the paycon at --url, within 2 s in other paycons on its database" in out
        assert deposit_gateway(headless, "cli-gw-1") == "gateway_b"
        status, out, _ = remote(headless)
        assert "OFF" in next(line for line in out.splitlines() if line.startswith("gateway_a"))
    finally:
        status, out, err = remote(headless, "enable", "gateway_a", "--reason", "A is back")
    assert status == 0, err
    assert out.startswith("gateway_a back in routing")
    assert deposit_gateway(headless, "cli-gw-2") == "gateway_a"
    # The list over the API shows the routing changes as the local list does, newest first.
    status, out, err = remote(headless)
    assert status == 0, err
    changes = out[out.index("routing changes, newest first") :]
    assert changes.index("A is back") < changes.index("A is down")
    assert "enable gateway_a" in changes
    with sqlite3.connect(headless.db_path) as conn:
        rows = conn.execute(
            "SELECT actor, action, reason FROM operator_audit WHERE reason LIKE 'A is %' "
            "ORDER BY id"
        ).fetchall()
    assert [row[1:] for row in rows] == [("disable", "A is down"), ("enable", "A is back")]
    assert all(actor.startswith("operator:key_") for actor, _, _ in rows)


def test_help_says_where_and_when_a_switch_applies(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gateways", "--help"], {})
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "with --url it is audited as the operator key and your user name "
        "(operator:<key id>/<user>) and applies at once in the paycon that "
        "received it, and within 2 s in other paycons on the same database" in help_text
    )


def test_remote_refusals_have_their_exit_status(headless: Headless) -> None:
    status, _, err = remote(headless, "disable", "gateway_z", "--reason", "x")
    assert status == 1
    assert "no gateway named 'gateway_z'" in err
    assert "`paycon gateways` lists them" in err
    status, _, err = remote(headless, token="ok_wrong")
    assert status == 2
    assert "refused the operator key" in err
    status, _, err = gateways(
        "--url", "http://127.0.0.1:9", "--token", OPERATOR, config=headless.config, env={}
    )
    assert status == 3
    assert "cannot reach paycon at http://127.0.0.1:9" in err


def test_the_local_list_shows_switches_and_says_what_it_cannot(
    local: tuple[Path, dict[str, str]],
) -> None:
    config, env = local
    status, out, err = gateways(config=config, env=env)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[2].split() == ["gateway_a", "json", "on", *["-"] * 8]
    assert "add --url http://HOST:PORT to see them" in out


def test_a_local_switch_reaches_the_running_paycon(
    local: tuple[Path, dict[str, str]], headless: Headless
) -> None:
    config, env = local
    status, out, err = gateways("disable", "gateway_a", "--reason", "offline", config=config,
                                env=env)  # fmt: skip
    assert status == 0, err
    assert "running paycons apply it within 2 s" in out
    try:
        status, out, _ = gateways(config=config, env=env)
        assert "OFF" in next(line for line in out.splitlines() if line.startswith("gateway_a"))
        assert f"cli:{getpass.getuser()}" in out
        assert "disable gateway_a" in out
        deadline = time.monotonic() + 5
        while deposit_gateway(headless, f"local-{time.monotonic()}") != "gateway_b":
            assert time.monotonic() < deadline, "the running paycon never saw the switch"
            time.sleep(0.2)
    finally:
        status, _, err = gateways("enable", "gateway_a", "--reason", "back", config=config,
                                  env=env)  # fmt: skip
    assert status == 0, err


def test_local_refusals_have_their_exit_status(local: tuple[Path, dict[str, str]]) -> None:
    config, env = local
    status, _, err = gateways("disable", "gateway_z", "--reason", "x", config=config, env=env)
    assert status == 1
    assert "configured: gateway_a, gateway_b" in err
    status, _, err = gateways("disable", "gateway_a", config=config, env=env)
    assert status == 2
    assert "needs a gateway NAME and --reason" in err
    status, _, err = gateways("list", "gateway_a", config=config, env=env)
    assert status == 2
    status, _, err = gateways("--token", OPERATOR, config=config, env=env)
    assert (status, "--token goes with --url" in err) == (2, True)
    for reason in ("  ", "a\x01b", "\x1b[2Jgone", "rub\x7fout"):
        with pytest.raises(SystemExit) as refused:
            gateways("disable", "gateway_a", "--reason", reason, config=config, env=env)
        assert refused.value.code == 2
    status, out, _ = gateways(config=config, env=env)
    assert "OFF" not in out  # nothing was switched


def test_a_missing_database_is_exit_3(tmp_path: Path) -> None:
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {"PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"}
    status, _, err = gateways(config=config, env=env)
    assert status == 3
    assert "no database at" in err
