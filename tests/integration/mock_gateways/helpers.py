"""HTTP clients for the mock gateways' wire formats, and independent checks.

The clients speak each gateway's protocol over real HTTP and hand back what
came over the wire, normalized to A's field names so one test can cover both
gateways. ``signature_is_valid`` recomputes the HMAC here, independently of
``mock_gateways.signing``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp
import defusedxml.ElementTree

T = TypeVar("T")

# B's element names → A's field names, so assertions read the same for both.
_B_TO_A_NAMES = {
    "Status": "status",
    "TransactionId": "transactionId",
    "Code": "error",
    "Message": "message",
    "EventId": "eventId",
    "Reason": "reason",
    "Amount": "amount",
    "Currency": "currency",
}


@dataclass(frozen=True)
class Answer:
    """A gateway's answer: HTTP status, content type and its fields in A's names."""

    http_status: int
    content_type: str
    fields: Mapping[str, str]
    root: str | None = None  # B's root element

    @property
    def payment_status(self) -> str:
        return self.fields["status"]

    @property
    def error(self) -> str:
        return self.fields["error"]


class GatewayClient(Protocol):
    """What the tests need from either gateway."""

    name: str
    secret: str

    async def submit(
        self,
        transaction_id: str,
        *,
        amount: str = "10.00",
        currency: str = "EUR",
        type: str = "deposit",
        callback_url: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer: ...

    async def status(self, transaction_id: str) -> Answer: ...

    def parse_callback(self, body: bytes) -> dict[str, str]: ...


class GatewayAClient:
    """Gateway A over JSON."""

    name = "gateway_a"

    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, secret: str, callback_url: str
    ) -> None:
        self.http, self.base_url, self.secret = http, base_url, secret
        self.callback_url = callback_url

    async def submit(
        self,
        transaction_id: str,
        *,
        amount: str = "10.00",
        currency: str = "EUR",
        type: str = "deposit",
        callback_url: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        body = {
            "transactionId": transaction_id,
            "amount": amount,
            "currency": currency,
            "type": type,
            "callbackUrl": callback_url or self.callback_url,
        }
        return await self.post_raw(json.dumps(body).encode(), timeout_s=timeout_s)

    async def post_raw(self, body: bytes, *, timeout_s: float | None = None) -> Answer:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with self.http.post(
            f"{self.base_url}/payments",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        ) as response:
            return await self._answer(response)

    async def status(self, transaction_id: str) -> Answer:
        async with self.http.get(f"{self.base_url}/status/{transaction_id}") as response:
            return await self._answer(response)

    def parse_callback(self, body: bytes) -> dict[str, str]:
        document: dict[str, str] = json.loads(body)
        return document

    @staticmethod
    async def _answer(response: aiohttp.ClientResponse) -> Answer:
        document = json.loads(await response.read())
        assert isinstance(document, dict), document
        return Answer(response.status, response.content_type, document)


class GatewayBClient:
    """Gateway B over XML."""

    name = "gateway_b"

    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, secret: str, callback_url: str
    ) -> None:
        self.http, self.base_url, self.secret = http, base_url, secret
        self.callback_url = callback_url

    async def submit(
        self,
        transaction_id: str,
        *,
        amount: str = "10.00",
        currency: str = "EUR",
        type: str = "deposit",
        callback_url: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        body = (
            "<Payment>"
            f"<TransactionId>{transaction_id}</TransactionId>"
            f"<Amount>{amount}</Amount>"
            f"<Currency>{currency}</Currency>"
            f"<Type>{type}</Type>"
            f"<CallbackUrl>{callback_url or self.callback_url}</CallbackUrl>"
            "</Payment>"
        )
        return await self.post_raw(body.encode(), timeout_s=timeout_s)

    async def post_raw(self, body: bytes, *, timeout_s: float | None = None) -> Answer:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with self.http.post(
            f"{self.base_url}/ProcessPayment",
            data=body,
            headers={"Content-Type": "application/xml"},
            timeout=timeout,
        ) as response:
            return await self._answer(response)

    async def status(self, transaction_id: str) -> Answer:
        url = f"{self.base_url}/GetStatus"
        async with self.http.get(url, params={"TransactionId": transaction_id}) as response:
            return await self._answer(response)

    def parse_callback(self, body: bytes) -> dict[str, str]:
        root, fields = parse_flat_xml(body)
        assert root == "Callback", root
        return fields

    @staticmethod
    async def _answer(response: aiohttp.ClientResponse) -> Answer:
        root, fields = parse_flat_xml(await response.read())
        return Answer(response.status, response.content_type, fields, root)


def parse_flat_xml(body: bytes) -> tuple[str, dict[str, str]]:
    """A flat XML document's root tag and children, children renamed to A's names."""
    root = defusedxml.ElementTree.fromstring(body)
    fields = {_B_TO_A_NAMES.get(child.tag, child.tag): child.text or "" for child in root}
    return root.tag, fields


class AdminClient:
    """The ``/_mock/`` routes of one gateway."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http, self.base_url = http, base_url

    async def faults(self) -> dict[str, Any]:
        async with self.http.get(f"{self.base_url}/_mock/faults") as response:
            assert response.status == 200
            document: dict[str, Any] = await response.json()
            return document

    async def put_faults_raw(self, body: bytes) -> tuple[int, dict[str, Any]]:
        async with self.http.put(f"{self.base_url}/_mock/faults", data=body) as response:
            document: dict[str, Any] = await response.json()
            return response.status, document

    async def set_faults(self, **changes: object) -> dict[str, Any]:
        status, document = await self.put_faults_raw(json.dumps(changes).encode())
        assert status == 200, document
        return document

    async def ledger_page(self, query: str = "") -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base_url}/_mock/ledger{query}") as response:
            document: dict[str, Any] = await response.json()
            return response.status, document

    async def ledger(self) -> dict[str, Any]:
        """The whole ledger: every page's payments under the first page's summary."""
        status, document = await self.ledger_page("?limit=1000")
        assert status == 200, document
        while document["next_cursor"] is not None:
            status, page = await self.ledger_page(f"?limit=1000&cursor={document['next_cursor']}")
            assert status == 200, page
            document["payments"] += page["payments"]
            document["next_cursor"] = page["next_cursor"]
        return document

    async def payments(self) -> dict[str, dict[str, Any]]:
        """Ledger entries by transaction id, after checking none was charged twice."""
        ledger = await self.ledger()
        entries = {entry["transaction_id"]: entry for entry in ledger["payments"]}
        assert all(entry["charges"] <= 1 for entry in entries.values()), ledger
        return entries

    async def reset(self, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        async with self.http.post(f"{self.base_url}/_mock/reset", data=body) as response:
            document: dict[str, Any] = await response.json()
            return response.status, document

    async def wait_settled(self, count: int, timeout_s: float = 10.0) -> dict[str, dict[str, Any]]:
        """Wait until ``count`` payments are recorded and none is pending."""
        async with asyncio.timeout(timeout_s):
            while True:
                payments = await self.payments()
                if len(payments) >= count and all(
                    entry["status"] != "pending" for entry in payments.values()
                ):
                    return payments
                await asyncio.sleep(0.02)

    async def wait_until(
        self, predicate: Callable[[dict[str, dict[str, Any]]], bool], timeout_s: float = 10.0
    ) -> dict[str, dict[str, Any]]:
        """Poll the ledger until ``predicate`` holds for its payments by transaction id."""
        async with asyncio.timeout(timeout_s):
            while True:
                payments = await self.payments()
                if predicate(payments):
                    return payments
                await asyncio.sleep(0.02)

    async def wait_callbacks_done(
        self, count: int, timeout_s: float = 10.0
    ) -> dict[str, dict[str, Any]]:
        """Wait until ``count`` payments settled and every callback sent has an answer."""
        async with asyncio.timeout(timeout_s):
            while True:
                payments = await self.wait_settled(count, timeout_s)
                if all(_callbacks_done(entry) for entry in payments.values()):
                    return payments
                await asyncio.sleep(0.02)


def _callbacks_done(entry: Mapping[str, Any]) -> bool:
    return all(callback["delivered"] for callback in entry["callbacks"])


def signature_is_valid(header: str, body: bytes, secret: str, *, tolerance_s: int = 300) -> bool:
    """Check ``t=..,v1=..`` against an HMAC-SHA256 computed here, and ``t`` against now."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = parts["t"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance_s
    return fresh and hmac.compare_digest(expected, parts["v1"])


async def gather_limited(awaitables: Iterable[Awaitable[T]], limit: int = 50) -> list[T]:
    """Await all, at most ``limit`` at a time, results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(awaitable: Awaitable[T]) -> T:
        async with semaphore:
            return await awaitable

    return await asyncio.gather(*(one(awaitable) for awaitable in awaitables))
