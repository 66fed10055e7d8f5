"""schemathesis against the live /openapi.json: no 5xx, and every answer as the document says.

The API runs as in the other API tests (a real SQLite file, an ephemeral
loopback port); schemathesis runs as its own process, with the checks set in
``schemathesis.toml`` beside this file, once with a client key and once with an
operator key. ``FUZZ_MAX_EXAMPLES`` (default 5 per operation and phase) and
``FUZZ_SEED`` set the budget and the seed; ``make fuzz`` raises the budget.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon

CONFIG = Path(__file__).with_name("schemathesis.toml")
# schemathesis imports the hooks the config names (tests.fuzz.hooks) from here.
ROOT = Path(__file__).parents[2]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "20261203"))
# How long one run may take (more than the per-test timeout of the rest of the suite).
RUN_TIMEOUT_S = float(os.environ.get("FUZZ_TIMEOUT_S", "110"))


async def run_schemathesis(url: str, key: str, workdir: Path) -> tuple[int, str]:
    """Run ``schemathesis run`` against ``url``; its exit code and what it printed."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # NO_PROXY: straight to the loopback port, whatever proxy the shell names.
        env={**os.environ, "COLUMNS": "120", "PYTHONPATH": str(ROOT), "NO_PROXY": "*"},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT_S + 10)
@pytest.mark.parametrize("key", [CLIENT_KEY, OPERATOR_KEY], ids=["client", "operator"])
async def test_every_answer_is_one_the_document_describes(
    paycon: RunningPaycon, key: str, tmp_path: Path
) -> None:
    code, output = await run_schemathesis(paycon.url, key, tmp_path)
    print(output)  # the report, for `pytest -rP` (make fuzz) to show on success too
    # The summary's last line says how many cases ran; a run that tested nothing proves nothing.
    assert " generated" in output, output
    assert code == 0, (
        f"schemathesis failed (FUZZ_SEED={SEED} FUZZ_MAX_EXAMPLES={MAX_EXAMPLES}):\n{output}"
    )
