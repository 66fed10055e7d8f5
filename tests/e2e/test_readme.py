"""The README's examples do what it says on a paycon that other clients use at the same time."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx

from tests.e2e.test_tasks_cli import CLIENT, DEPOSIT, Headless, headless

__all__ = ["headless"]

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8080"


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)


def run(command: str, headless: Headless) -> str:
    done = subprocess.run(
        ["bash", "-c", command.replace(README_URL, headless.url)],
        env={"KEY": CLIENT, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return done.stdout


def test_the_transaction_example_finds_the_callers_own_payment(headless: Headless) -> None:
    blocks = shell_blocks()
    [deposit] = [b for b in blocks if "Idempotency-Key: order-1001" in b]
    [lookup] = [b.splitlines()[0] for b in blocks if b.startswith("TX=$(")]
    mine = json.loads(run(deposit, headless))
    # Meanwhile other payments arrive, as the demo's do with `make run`.
    for n in range(3):
        response = httpx.post(
            headless.url + "/v1/deposits",
            json=DEPOSIT,
            headers={"Authorization": f"Bearer {CLIENT}", "Idempotency-Key": f"other-{n}"},
            timeout=5,
        )
        assert response.status_code == 202
    found = run(lookup + '\necho "$TX"', headless).strip()
    assert found == mine["id"]
