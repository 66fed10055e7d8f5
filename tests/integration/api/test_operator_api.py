"""Operators look at outbox tasks and put them right over the API; every action is audited."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, stored_now

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}


async def operator_post(paycon: RunningPaycon, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    async with paycon.http.post(paycon.url + path, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def make_tasks(paycon: RunningPaycon, count: int, *, gateway: str | None = None) -> None:
    for i in range(count):
        body = {**DEPOSIT, "gateway": gateway} if gateway else DEPOSIT
        status, _, _ = await paycon.post_json("/v1/deposits", body, key=f"{gateway}-{i}")
        assert status == 202


def kill_tasks(paycon: RunningPaycon) -> None:
    """Mark every task not dead yet dead now, as exhausted attempts would."""
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute(
            "UPDATE outbox_tasks SET state = 'dead', attempts = max_attempts, updated_at = ?, "
            "last_error = 'GatewayTransient: 502 from gateway' WHERE state != 'dead'",
            (stored_now(),),
        )


async def one_dead_task(paycon: RunningPaycon) -> int:
    """Accept one deposit, kill its task, and return the task's id as the API lists it."""
    await make_tasks(paycon, 1)
    kill_tasks(paycon)
    _, page = await paycon.get("/v1/outbox/tasks?state=dead", token=OPERATOR_KEY)
    return int(page["items"][0]["id"])


async def test_tasks_are_listed_and_shown_with_attempts(paycon: RunningPaycon) -> None:
    await make_tasks(paycon, 3)
    status, page = await paycon.get("/v1/outbox/tasks?state=pending&limit=2", token=OPERATOR_KEY)
    assert status == 200
    assert len(page["items"]) == 2
    assert page["items"][0]["id"] > page["items"][1]["id"]
    first = page["items"][0]
    assert first["kind"] == "submit"
    assert first["dedupe_key"].startswith("submit:gateway_a:tx_")
    assert set(first["payload"]) == {"transaction_id", "route"}
    _, rest = await paycon.get(
        f"/v1/outbox/tasks?state=pending&limit=2&cursor={page['next_cursor']}", token=OPERATOR_KEY
    )
    assert len(rest["items"]) == 1
    status, detail = await paycon.get(f"/v1/outbox/tasks/{first['id']}", token=OPERATOR_KEY)
    assert status == 200
    assert detail["attempts_log"] == []
    assert detail["audit"] == []


async def test_replay_of_a_dead_task_is_audited(paycon: RunningPaycon) -> None:
    task_id = await one_dead_task(paycon)
    status, task = await operator_post(
        paycon, f"/v1/outbox/tasks/{task_id}/replay", {"reason": "gateway fixed"}
    )
    assert status == 200
    assert (task["state"], task["attempts"]) == ("pending", 0)
    _, detail = await paycon.get(f"/v1/outbox/tasks/{task_id}", token=OPERATOR_KEY)
    assert [(e["action"], e["reason"]) for e in detail["audit"]] == [("replay", "gateway fixed")]
    assert detail["audit"][0]["actor"].startswith("operator:key_")


async def test_replay_of_a_done_task_is_409_and_unknown_is_404(paycon: RunningPaycon) -> None:
    await make_tasks(paycon, 1)
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute("UPDATE outbox_tasks SET state = 'done'")
    _, page = await paycon.get("/v1/outbox/tasks?state=done", token=OPERATOR_KEY)
    status, body = await operator_post(paycon, f"/v1/outbox/tasks/{page['items'][0]['id']}/replay")
    assert status == 409
    assert body["code"] == "conflict"
    status, body = await operator_post(paycon, "/v1/outbox/tasks/999999/replay")
    assert status == 404


async def test_discard_needs_a_reason(paycon: RunningPaycon) -> None:
    task_id = await one_dead_task(paycon)
    status, body = await operator_post(paycon, f"/v1/outbox/tasks/{task_id}/discard")
    assert status == 400
    assert body["errors"][0]["field"] == "reason"
    status, task = await operator_post(
        paycon, f"/v1/outbox/tasks/{task_id}/discard", {"reason": "refunded by hand"}
    )
    assert status == 200
    assert task["state"] == "done"
    assert task["last_error"].startswith("GatewayTransient")


async def test_filtered_replay_counts_server_side(paycon: RunningPaycon) -> None:
    await make_tasks(paycon, 3, gateway="gateway_a")
    await make_tasks(paycon, 2, gateway="gateway_b")
    kill_tasks(paycon)
    status, body = await operator_post(
        paycon, "/v1/outbox/replay", {"state": "dead", "gateway": "gateway_b", "reason": "B back"}
    )
    assert (status, body) == (200, {"replayed": 2})
    _, stats = await paycon.get("/v1/outbox/stats", token=OPERATOR_KEY)
    assert stats["counts"]["dead"] == 3
    assert stats["counts"]["pending"] == 2
    status, body = await operator_post(paycon, "/v1/outbox/replay", {"state": "dead"})
    assert (status, body) == (200, {"replayed": 3})


async def test_a_replay_given_the_count_as_of_takes_only_what_was_counted(
    paycon: RunningPaycon,
) -> None:
    await make_tasks(paycon, 2)
    kill_tasks(paycon)
    status, counted = await paycon.get("/v1/outbox/count?state=dead", token=OPERATOR_KEY)
    assert status == 200
    assert counted["matching"] == 2
    assert counted["as_of"].endswith("Z")
    await make_tasks(paycon, 1, gateway="gateway_b")
    kill_tasks(paycon)  # dies after the operator saw "2"
    status, body = await operator_post(
        paycon, "/v1/outbox/replay", {"state": "dead", "as_of": counted["as_of"]}
    )
    assert (status, body) == (200, {"replayed": 2})
    _, page = await paycon.get("/v1/outbox/tasks?state=dead", token=OPERATOR_KEY)
    assert [t["dedupe_key"][:17] for t in page["items"]] == ["submit:gateway_b:"]
    _, audit = await paycon.get(f"/v1/outbox/tasks/{page['items'][0]['id']}", token=OPERATOR_KEY)
    assert audit["audit"] == []


@pytest.mark.parametrize(
    "as_of",
    [
        "yesterday",
        "2026-11-27T08:30:00",  # no zone
        "2026-11-27",
        1795768200,
        "2026-11-27T08:30:00.000Z" + " " * 64,
    ],
)
async def test_a_bad_as_of_is_400_and_replays_nothing(paycon: RunningPaycon, as_of: Any) -> None:
    await make_tasks(paycon, 1)
    kill_tasks(paycon)
    body = {"state": "dead", "as_of": as_of}
    status, problem = await operator_post(paycon, "/v1/outbox/replay", body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == ["as_of"]
    _, stats = await paycon.get("/v1/outbox/stats", token=OPERATOR_KEY)
    assert stats["counts"]["dead"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/outbox/tasks?state=lost", None),
        ("GET", "/v1/outbox/tasks?limit=0", None),
        ("GET", "/v1/outbox/tasks?cursor=garbage", None),
        ("GET", "/v1/outbox/tasks/abc", None),
        ("POST", "/v1/outbox/replay", {"state": "done"}),
        ("POST", "/v1/outbox/replay", {"gateway": "gateway_a", "kind": "notify"}),
        ("POST", "/v1/outbox/replay", {"colour": "red"}),
        ("POST", "/v1/outbox/replay", {"state": "dead", "reason": "a\u0000b"}),
        ("POST", "/v1/outbox/replay", {"state": "dead", "reason": "line\nbreak"}),
        ("POST", "/v1/outbox/replay", {"state": "dead", "reason": "rub\u007fout"}),
        ("POST", "/v1/outbox/replay", {"state": "dead", "reason": "c1\u0085next line"}),
        ("POST", "/v1/outbox/replay", {"state": "dead", "reason": "fixed \u202edesrever"}),
    ],
)
async def test_bad_operator_input_is_400(
    paycon: RunningPaycon, method: str, path: str, body: Any
) -> None:
    if method == "GET":
        status, answer = await paycon.get(path, token=OPERATOR_KEY)
    else:
        status, answer = await operator_post(paycon, path, body)
    assert status == 400, answer
    assert answer["status"] == 400


async def test_client_keys_may_not_act_on_tasks(paycon: RunningPaycon) -> None:
    status, _, body = await paycon.post_json("/v1/outbox/replay", {"state": "dead"}, key=None)
    assert status == 403
    assert body["code"] == "forbidden"
    status, _ = await paycon.get("/v1/outbox/tasks")
    assert status == 403


@pytest.mark.parametrize("action", ["replay", "discard"])
async def test_a_reason_with_control_characters_is_400_and_changes_nothing(
    paycon: RunningPaycon, action: str
) -> None:
    task_id = await one_dead_task(paycon)
    status, problem = await operator_post(
        paycon, f"/v1/outbox/tasks/{task_id}/{action}", {"reason": "fixed\u001b[2J\u0000"}
    )
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == ["reason"]
    _, detail = await paycon.get(f"/v1/outbox/tasks/{task_id}", token=OPERATOR_KEY)
    assert (detail["state"], detail["audit"]) == ("dead", [])
