"""Every answer is uncacheable, never sniffed, and names no library versions."""

from __future__ import annotations

import pytest

from tests.paycon_fixtures import CLIENT_KEY, RunningPaycon

DEPOSIT = b'{"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}'
ANSWERS = [
    ("GET", "/healthz", None, 200),
    ("GET", "/metrics", None, 200),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/v1/transactions", CLIENT_KEY, 200),
    ("POST", "/v1/deposits", CLIENT_KEY, 202),
    ("GET", "/v1/transactions", None, 401),
    ("GET", "/nowhere", None, 404),
]


@pytest.mark.parametrize(("method", "path", "token", "status"), ANSWERS)
async def test_answers_carry_the_security_headers(
    paycon: RunningPaycon, method: str, path: str, token: str | None, status: int
) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "headers-1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = DEPOSIT if method == "POST" else None
    async with paycon.http.request(
        method, paycon.url + path, data=data, headers=headers
    ) as response:
        assert response.status == status
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Server"] == "paycon"
