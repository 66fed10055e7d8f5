"""``paycon transactions``: the review list and resolving a held payment, locally or --url."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

from paycon.cli.main import main
from paycon.config import ensure_config_file
from tests.integration.api.test_review import available, callback_b, transaction
from tests.integration.facade.support import deposit
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon


async def transactions(*args: str, config: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``paycon transactions ARGS --config CONFIG`` (in a thread: it runs its own loop)."""

    def call() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["transactions", *args, "--config", str(config)], env)
        return status, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(call)


async def test_review_and_resolve_over_the_api_and_locally(
    paycon: RunningPaycon, tmp_path: Path
) -> None:
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {"PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{paycon.db_path}", "COLUMNS": "200"}
    remote = ("--url", paycon.url, "--token", OPERATOR_KEY)
    status, out, err = await transactions("review", *remote, config=config, env=env)
    assert (status, out.strip()) == (0, "no payment is held for review"), err

    first = await deposit(paycon, "k1")
    second = await deposit(paycon, "k2")
    await callback_b(paycon, first["id"], "b-1")
    await callback_b(paycon, second["id"], "b-2")
    status, out, err = await transactions("review", *remote, config=config, env=env)
    assert status == 0, err
    assert first["id"] in out
    assert second["id"] in out
    assert "wrong_gateway: callback: gateway_b says completed" in out
    assert "2 held" in out
    status, out, _ = await transactions("review", "--json", config=config, env=env)
    assert status == 0
    assert [item["id"] for item in json.loads(out)["items"]] == [second["id"], first["id"]]

    status, out, err = await transactions(
        "resolve", first["id"], "--status", "completed", "--reason", "A confirmed it", *remote,
        config=config, env=env,
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert f"{first['id']} resolved: now completed" in out
    status, out, err = await transactions(
        "resolve", second["id"], "--status", "failed", "--reason", "B never had it",
        config=config, env=env,
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert (await transaction(paycon, second["id"]))["events"][-1]["actor"].startswith("cli:")
    assert await available(paycon) == ("10.00", "0.00")

    # A second decision is refused, and so are bad calls; nothing moves.
    status, _, err = await transactions(
        "resolve", first["id"], "--status", "failed", "--reason", "again", *remote,
        config=config, env=env,
    )  # fmt: skip
    assert status == 1
    assert "not held" in err
    status, _, err = await transactions(
        "resolve", first["id"], "--status", "failed", config=config, env=env
    )
    assert status == 2
    assert "--reason" in err
    status, _, err = await transactions(
        "resolve", "tx_nope", "--status", "failed", "--reason", "x", config=config, env=env
    )
    assert status == 2
    assert await available(paycon) == ("10.00", "0.00")
