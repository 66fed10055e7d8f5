"""Every fault switch is recorded by the mock: who, when, each value before and after, why."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.mock_gateways.conftest import GatewayUnderTest


async def put(
    gateway: GatewayUnderTest, body: dict[str, Any], **headers: str
) -> tuple[int, dict[str, Any]]:
    admin = gateway.admin
    async with admin.http.put(
        f"{admin.base_url}/_mock/faults", data=json.dumps(body), headers=headers
    ) as response:
        document: dict[str, Any] = await response.json()
        return response.status, document


async def history(gateway: GatewayUnderTest, query: str = "") -> tuple[int, dict[str, Any]]:
    admin = gateway.admin
    async with admin.http.get(f"{admin.base_url}/_mock/faults/history{query}") as response:
        document: dict[str, Any] = await response.json()
        return response.status, document


async def test_switches_are_listed_newest_first_with_who_what_and_why(
    gateway: GatewayUnderTest,
) -> None:
    await put(gateway, {"outage": "503"}, **{"X-Actor": "alice", "X-Reason": "drill INC-7"})
    await put(gateway, {"outage": False, "error_rate": 0.3})  # no X-Actor: its address
    await gateway.admin.reset(b'{"faults": true}')

    status, body = await history(gateway)

    assert status == 200
    reset, curl, alice = body["changes"]
    assert (alice["actor"], alice["reason"]) == ("alice", "drill INC-7")
    assert alice["changes"] == [{"fault": "outage", "before": False, "after": "503"}]
    assert alice["at"].endswith("Z")
    assert (curl["actor"], curl["reason"]) == ("http:127.0.0.1", None)
    assert curl["changes"] == [
        {"fault": "outage", "before": "503", "after": False},
        {"fault": "error_rate", "before": 0.0, "after": 0.3},
    ]
    assert reset["changes"] == [{"fault": "error_rate", "before": 0.3, "after": 0.0}]
    assert reset["reason"] == "reset to the faults it started with"
    assert [e["seq"] for e in body["changes"]] == [3, 2, 1]
    status, body = await history(gateway, "?limit=1")
    assert [e["seq"] for e in body["changes"]] == [3]


async def test_a_switch_back_and_forth_is_two_entries(gateway: GatewayUnderTest) -> None:
    await put(gateway, {"outage": False}, **{"X-Actor": "bob"})
    await put(gateway, {"outage": "503"}, **{"X-Actor": "bob"})
    _, body = await history(gateway)
    assert [e["changes"] for e in body["changes"]] == [
        [{"fault": "outage", "before": False, "after": "503"}],
        [{"fault": "outage", "before": False, "after": False}],  # asked for, changed nothing
    ]


async def test_bad_names_and_refused_switches_record_nothing(gateway: GatewayUnderTest) -> None:
    status, _ = await put(gateway, {"outage": "503"}, **{"X-Actor": "a\u202eb"})
    assert status == 400
    status, _ = await put(gateway, {"outage": "sometimes"}, **{"X-Actor": "alice"})
    assert status == 400
    status, _ = await history(gateway, "?limit=0")
    assert status == 400
    _, body = await history(gateway)
    assert body["changes"] == []
    assert (await gateway.admin.faults())["outage"] is False
