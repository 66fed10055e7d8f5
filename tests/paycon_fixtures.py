"""Fixtures that run a real paycon: SQLite file in tmp_path, API on an ephemeral loopback port."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from multidict import CIMultiDict

from paycon.config import Settings
from paycon.runtime.service import Service

CLIENT_KEY = "pk_test_client_key_0123456789"
OPERATOR_KEY = "ok_test_operator_key_0123456789"
WEBHOOK_SECRET = "whsec_test_webhook_secret_0123456789"
ENCRYPTION_KEY = Fernet.generate_key().decode()
FINGERPRINT_KEY = "test-fingerprint-key-0123456789abcdef"
TABLES = (
    "transactions",
    "transaction_events",
    "ledger_accounts",
    "journal_entries",
    "postings",
    "idempotency_keys",
    "outbox_tasks",
)


def stored_now() -> str:
    """Now, as the outbox stores times in SQLite (UTC, microseconds, no offset)."""
    return datetime.now(UTC).isoformat(" ", "microseconds").removesuffix("+00:00")


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def make_settings(db_path: Path, **overrides: Any) -> Settings:
    """Settings for a test paycon: its own database file, port 0, known keys."""
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0},
        "database": {"url": f"sqlite+aiosqlite:///{db_path}"},
        "auth": {"client_api_keys": [CLIENT_KEY], "operator_api_keys": [OPERATOR_KEY]},
        "mock_gateways": "off",
        "gateways": {
            "gateway_a": {"url": "http://127.0.0.1:9", "secret": "secret-a"},
            "gateway_b": {"url": "http://127.0.0.1:9", "secret": "secret-b"},
        },
        "security": {"encryption_keys": [ENCRYPTION_KEY], "fingerprint_keys": [FINGERPRINT_KEY]},
        # Notifications go to receivers on loopback; test_notify_urls turns this off.
        "notify": {"webhook_secrets": [WEBHOOK_SECRET], "allow_private": True},
        "log_level": "WARNING",
        # API tests watch the database; workers would change it under them.
        "outbox": {"workers": 0},
    }
    return Settings.model_validate(_merge(data, overrides))


def row_counts(db_path: Path) -> dict[str, int]:
    """Rows per table, read straight from the file."""
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


@dataclass
class RunningPaycon:
    """A started paycon and an HTTP session pointed at it."""

    service: Service
    http: aiohttp.ClientSession
    db_path: Path

    @property
    def url(self) -> str:
        return self.service.url

    def counts(self) -> dict[str, int]:
        return row_counts(self.db_path)

    async def post_json(
        self,
        path: str,
        body: Any,
        *,
        key: str | None = "auto",
        token: str | None = CLIENT_KEY,
    ) -> tuple[int, CIMultiDict[str], Any]:
        """POST ``body`` as JSON; returns status, headers (case-insensitive) and the body."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key == "auto":
            key = f"key-{id(body)}-{len(str(body))}"
        if key is not None:
            headers["Idempotency-Key"] = key
        data = body if isinstance(body, bytes) else None
        async with self.http.post(
            self.url + path, data=data, json=None if data else body, headers=headers
        ) as response:
            answered = CIMultiDict(response.headers)
            return response.status, answered, await response.json(content_type=None)

    async def get(self, path: str, *, token: str | None = CLIENT_KEY) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.get(self.url + path, headers=headers) as response:
            return response.status, await response.json(content_type=None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "paycon.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return make_settings(db_path)


@pytest.fixture
async def paycon(settings: Settings, db_path: Path) -> AsyncIterator[RunningPaycon]:
    """paycon serving on 127.0.0.1 on an ephemeral port, stopped after the test."""
    service = Service(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningPaycon(service, http, db_path)
    finally:
        await service.stop()
