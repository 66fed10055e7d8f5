"""Merchant notifications: checking a ``notify_url`` at acceptance, and the ``notify`` task.

A notification POSTs the final transaction to its ``notify_url``, signed
with the webhook secrets (never an API key). It goes through a client of
its own (``paycon.network.guarded``), which connects only to addresses it
has just checked, follows no redirect, and is bounded by one deadline per
delivery; at most ``MAX_ANSWER_BYTES`` of the merchant's answer are read.
The ``notify`` tasks run on workers of their own (``paycon.runtime.pools``), so a
slow merchant only ever holds those.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection

from gateways.signatures import SIGNATURE_HEADER, sign_all
from outbox import Done, PermanentError, Task
from paycon.config import NotifySettings
from paycon.domain.errors import NotifyFailed
from paycon.domain.notify_urls import address_refusal, notify_target, refused
from paycon.domain.transactions import Transaction
from paycon.models.transactions import TransactionOut
from paycon.network.guarded import AddressRefused
from paycon.network.resolver import ResolveFailed, Resolver
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.payments import append_event

log = logging.getLogger(__name__)

# The most of a merchant's answer ever read; only its status matters.
MAX_ANSWER_BYTES = 4096


def _now() -> datetime:
    return datetime.now(UTC)


class NotifyUrlCheck:
    """Decides at acceptance whether a ``notify_url`` may be stored."""

    def __init__(self, settings: NotifySettings, resolver: Resolver) -> None:
        self._allow_private = settings.allow_private
        self._resolver = resolver

    async def check(self, url: str) -> None:
        """Return when notifications may go to ``url``.

        The host must be, or resolve only to, public addresses (every
        address, since a client may use any). A name that does not resolve
        now is refused as well: the merchant learns of a typo at once, not
        from a notification that never arrives. With ``allow_private``
        every address is allowed and names are not resolved. Raises
        NotifyUrlRefused (422, naming the field).
        """
        target = notify_target(url, allow_private=self._allow_private)
        if self._allow_private or target.address is not None:
            return
        try:
            addresses = await self._resolver.resolve(target.host)
        except ResolveFailed:
            raise refused(f"{target.host} does not resolve to an address") from None
        refusal = address_refusal(target.host, addresses)
        if refusal is not None:
            raise refusal


class Notifications:
    """The ``notify`` task handler."""

    def __init__(
        self,
        db: Database,
        *,
        client: httpx.AsyncClient,
        webhook_secrets: Sequence[str],
        deadline_s: float,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._client = client
        self._secrets = tuple(webhook_secrets)
        self._deadline_s = deadline_s
        self._clock = clock

    async def notify(self, task: Task) -> Done:
        """POST the final transaction to the merchant's ``notify_url``, signed.

        Anything but a 2xx answer in time is retried with backoff until the
        task's attempts run out (NotifyFailed). A host that now resolves to
        an address notifications may not go to, or no webhook secret, is a
        PermanentError: the task dies at once, for an operator to look at.
        """
        tx = await self._transaction(task)
        if tx.notify_url is None:
            return Done()
        if not self._secrets:
            raise PermanentError(
                "no webhook secret to sign with: set notify.webhook_secrets "
                "(PAYCON_WEBHOOK_SECRETS), then replay the task"
            )
        shown = TransactionOut.of(tx).model_dump(mode="json")
        body = json.dumps(shown, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_all(self._secrets, body, int(self._clock().timestamp())),
        }
        status = await self._deliver(tx.notify_url, body, headers)
        if not 200 <= status < 300:
            redirect = "; redirects are not followed" if 300 <= status < 400 else ""
            raise NotifyFailed(f"HTTP {status} from {_host(tx.notify_url)}{redirect}")
        now = self._clock()

        def writes(conn: Connection) -> None:
            append_event(
                conn, tx.id, "merchant_notified", f"{tx.status.value} sent to the notify_url",
                "paycon", now,
            )  # fmt: skip

        return Done(writes=writes)

    async def _deliver(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The answer's status; at most ``MAX_ANSWER_BYTES`` of its body are read."""
        host = _host(url)
        try:
            async with asyncio.timeout(self._deadline_s):
                async with self._client.stream("POST", url, content=body, headers=headers) as r:
                    await _read_at_most(r, MAX_ANSWER_BYTES)
                    return r.status_code
        except TimeoutError:
            raise NotifyFailed(f"no answer from {host} within {self._deadline_s:g} s") from None
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, AddressRefused):
                raise PermanentError(f"notify_url refused at delivery: {exc}") from exc
            raise NotifyFailed(f"{type(exc).__name__} from {host}: {exc}") from exc

    async def _transaction(self, task: Task) -> Transaction:
        transaction_id = str(task.payload.get("transaction_id", ""))
        transaction = await self._db.lookup(
            lambda conn: queries.find_transaction(conn, transaction_id)
        )
        if transaction is None:
            raise PermanentError(f"transaction {transaction_id!r} does not exist")
        return transaction


async def _read_at_most(response: httpx.Response, limit: int) -> None:
    """Read the answer's body until it ends or ``limit`` bytes came; the rest is never read."""
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size >= limit:
            return


def _host(url: str) -> str:
    """The URL's host, for errors (a notify_url's path may carry a merchant's token)."""
    return urlsplit(url).hostname or "the notify_url"
