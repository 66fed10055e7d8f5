"""What the database keeps to recognise a repeated payment request: a keyed fingerprint."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import aiohttp

from paycon.config import Settings
from paycon.runtime.service import Service
from tests.paycon_fixtures import RunningPaycon

DESTINATION = {"iban": "DE89370400440532013000", "holder": "Jane Doe"}
WITHDRAWAL: dict[str, object] = {
    "customer_id": "cus_1",
    "amount": "10.00",
    "currency": "EUR",
    "country": "DE",
    "destination": DESTINATION,
}


def stored_fingerprints(db_path: Path) -> dict[str, str]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT key, request_hash FROM idempotency_keys").fetchall())


def unkeyed_digest() -> str:
    """The digest paycon stored before fingerprints were keyed, for WITHDRAWAL."""
    canonical = {
        "kind": "withdrawal",
        "customer_id": "cus_1",
        "amount_minor": 1000,
        "currency": "EUR",
        "country": "DE",
        "gateway": None,
        "reference": None,
        "notify_url": None,
        "destination": ["DE89370400440532013000", "Jane Doe"],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def test_the_stored_fingerprint_is_not_the_unkeyed_digest(paycon: RunningPaycon) -> None:
    status, _, _ = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="wd-1")
    assert status == 422  # no funds: the refusal is stored under the key all the same
    stored = stored_fingerprints(paycon.db_path)["wd-1"]
    assert stored.startswith("h1:")
    assert unkeyed_digest() not in stored

    status, headers, _ = await paycon.post_json("/v1/withdrawals", WITHDRAWAL, key="wd-1")
    assert status == 422
    assert headers["Idempotent-Replayed"] == "true"
    other = {**WITHDRAWAL, "destination": {**DESTINATION, "holder": "John Doe"}}
    status, _, problem = await paycon.post_json("/v1/withdrawals", other, key="wd-1")
    assert status == 422
    assert problem["code"] == "idempotency_key_reused"


async def test_a_key_answered_before_the_upgrade_still_replays_and_is_keyed_at_start(
    settings: Settings, db_path: Path
) -> None:
    service = Service(settings)
    await service.start()
    await service.stop()
    answer = json.dumps({"code": "insufficient_funds", "status": 422})
    with sqlite3.connect(db_path) as conn:  # as an older paycon left it
        conn.execute(
            "INSERT INTO idempotency_keys (key, client_id, request_hash, response_status, "
            "response_body, transaction_id, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
            ("wd-old", "key_0123456789ab", unkeyed_digest(), 422, answer, "2026-01-01 00:00:00"),
        )

    service = Service(settings)
    await service.start()
    try:
        stored = stored_fingerprints(db_path)["wd-old"]
        assert stored.startswith("h1:")
        assert unkeyed_digest() not in stored
        async with aiohttp.ClientSession() as http:
            running = RunningPaycon(service, http, db_path)
            status, headers, body = await running.post_json(
                "/v1/withdrawals", WITHDRAWAL, key="wd-old"
            )
            assert (status, headers["Idempotent-Replayed"]) == (422, "true")
            assert body["code"] == "insufficient_funds"
            moved = {**WITHDRAWAL, "amount": "11.00"}
            status, _, problem = await running.post_json("/v1/withdrawals", moved, key="wd-old")
            assert problem["code"] == "idempotency_key_reused"
    finally:
        await service.stop()
