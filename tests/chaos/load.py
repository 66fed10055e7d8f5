"""The merchant side: a seeded mix of deposits and withdrawals, sent as a careful client would.

Each payment has its own idempotency key (also its ``reference``, so the
checks find its transaction). A connection error, a ``409`` (the first try
with that key still running), a ``5xx`` or a timeout is retried with the
same key and the same body until a final answer (``202``, or ``422`` when
the customer's funds do not cover a withdrawal) or the retry deadline.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

CURRENCY = "EUR"
# Even customers pay from Germany (routed to gateway A first), odd ones from France
# (gateway B first, by the run's routing rule), so both gateways carry payments.
COUNTRIES = ("DE", "FR")
DEPOSIT_SHARE = 0.65


def iban_de(account: int) -> str:
    """A German IBAN with valid check digits for this account number."""
    bban = f"37040044{account:010d}"
    digits = int(bban + "131400")  # "DE" as 13 14, then "00"
    return f"DE{98 - digits % 97:02d}{bban}"


@dataclass(frozen=True)
class PlannedPayment:
    """One payment the client will ask for."""

    key: str
    kind: str  # "deposit" | "withdrawal"
    customer_id: str
    amount: Decimal

    def body(self) -> dict[str, Any]:
        """The JSON body; the same on every retry."""
        body: dict[str, Any] = {
            "customer_id": self.customer_id,
            "amount": format(self.amount, "f"),
            "currency": CURRENCY,
            "country": country_of(self.customer_id),
            "reference": self.key,
        }
        if self.kind == "withdrawal":
            body["destination"] = {"iban": iban_for(self.customer_id), "holder": "Chaos Customer"}
        return body


def customer_ids(count: int) -> list[str]:
    return [f"chaos_c{i}" for i in range(count)]


def _number(customer_id: str) -> int:
    return int(customer_id.removeprefix("chaos_c"))


def country_of(customer_id: str) -> str:
    return COUNTRIES[_number(customer_id) % len(COUNTRIES)]


def iban_for(customer_id: str) -> str:
    return iban_de(1_000_000 + _number(customer_id))


def plan(rng: random.Random, *, customers: int, count: int) -> list[PlannedPayment]:
    """``count`` payments drawn from the seed: 65 % deposits, the rest withdrawals."""
    ids = customer_ids(customers)
    planned = []
    for i in range(count):
        kind = "deposit" if rng.random() < DEPOSIT_SHARE else "withdrawal"
        cents = rng.randint(1000, 20000) if kind == "deposit" else rng.randint(500, 12000)
        planned.append(
            PlannedPayment(f"chaos-{i:05d}", kind, rng.choice(ids), Decimal(cents).scaleb(-2))
        )
    return planned


@dataclass
class Answer:
    """The final answer one planned payment got, and what it took."""

    payment: PlannedPayment
    status: int | None = None  # None: no final answer before the retry deadline
    transaction_id: str | None = None
    problem: str | None = None  # the problem type's last segment for a 4xx
    tries: int = 0
    replayed: bool = False  # the 202 came with Idempotent-Replayed: true
    retried: Counter[str] = field(default_factory=Counter)  # why it was retried


class LoadGenerator:
    """Posts planned payments at ``rate_per_s`` from ``workers`` concurrent clients."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        rate_per_s: float,
        workers: int = 8,
        retry_for_s: float = 120.0,
    ) -> None:
        self._http = http
        self._url = url
        self._token = token
        self._interval_s = workers / rate_per_s
        self._workers = workers
        self._retry_for_s = retry_for_s
        self.answers: list[Answer] = []

    async def run(self, planned: list[PlannedPayment], *, until: float) -> list[Answer]:
        """Send payments until the monotonic time ``until`` (or the plan runs out); each
        one started is carried to its final answer. Returns every answer, in plan order."""
        queue = iter(planned)

        async def client() -> None:
            for payment in queue:
                if time.monotonic() >= until:
                    return
                sent_at = time.monotonic()
                self.answers.append(await self.send(payment))
                # Pacing, not synchronisation: keep the offered load near rate_per_s.
                await asyncio.sleep(max(0.0, self._interval_s - (time.monotonic() - sent_at)))

        async with asyncio.TaskGroup() as group:
            for i in range(self._workers):
                group.create_task(client(), name=f"chaos-client-{i}")
        self.answers.sort(key=lambda a: a.payment.key)
        return self.answers

    async def send(self, payment: PlannedPayment) -> Answer:
        """One payment to its final answer, retried with the same key and body."""
        answer = Answer(payment)
        path = "/v1/deposits" if payment.kind == "deposit" else "/v1/withdrawals"
        headers = {"Authorization": f"Bearer {self._token}", "Idempotency-Key": payment.key}
        deadline = time.monotonic() + self._retry_for_s
        pause_s = 0.1
        while True:
            answer.tries += 1
            try:
                async with self._http.post(
                    self._url + path,
                    json=payment.body(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as response:
                    status = response.status
                    body = await response.json(content_type=None) if status < 500 else {}
            except (aiohttp.ClientError, TimeoutError) as exc:
                answer.retried[type(exc).__name__] += 1
            else:
                if status != 409 and status < 500:
                    answer.status = status
                    if status == 202:
                        answer.transaction_id = str(body["id"])
                        answer.replayed = response.headers.get("Idempotent-Replayed") == "true"
                    else:
                        answer.problem = str(body.get("type", "")).rsplit(":", 1)[-1]
                    return answer
                answer.retried[str(status)] += 1
            if time.monotonic() > deadline:
                return answer
            await asyncio.sleep(pause_s)
            pause_s = min(pause_s * 2, 1.0)
