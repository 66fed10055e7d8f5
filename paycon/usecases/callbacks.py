"""Gateway callbacks: verify, store in the inbox and apply, in one commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from gateways import CallbackMalformed, CallbackRejected, Gateway
from paycon.domain.delivery import status_from_gateway
from paycon.domain.errors import InvalidInput, NotFound, Unauthorized
from paycon.domain.review import GatewayWord
from paycon.metrics import Metrics
from paycon.storage.callbacks import UNKNOWN_TRANSACTION, receive_callback
from paycon.storage.database import Database

log = logging.getLogger(__name__)

# Outcomes worth an operator's eye in the log (the held ones are on the review list too).
NOT_APPLIED = frozenset({"backwards", "conflict", "wrong_gateway", "amount_mismatch"})


class CallbackInbox:
    """Receives gateways' callbacks; each event id is applied once."""

    def __init__(
        self,
        db: Database,
        gateways: Mapping[str, Gateway],
        *,
        status_check_after_s: float,
        max_attempts: int,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._metrics = metrics or Metrics()
        self._gateways = gateways
        self._check_after_s = status_check_after_s
        self._max_attempts = max_attempts
        self._clock = clock

    async def receive(self, gateway_name: str, raw_body: bytes, signature: str | None) -> str:
        """Verify, store and apply one callback; returns the outcome.

        Raises NotFound for an unknown gateway or (after storing it) an unknown
        transaction, Unauthorized for a missing, forged or stale signature,
        InvalidInput for a body that cannot be read.
        """
        gateway = self._gateways.get(gateway_name)
        if gateway is None:
            raise NotFound(f"no gateway named {gateway_name!r}")
        now_s = self._clock()
        try:
            event = gateway.parse_callback(raw_body, signature, now_s=now_s)
        except CallbackRejected as exc:
            self._metrics.count_callback(gateway_name, "rejected")
            log.warning("callback refused", extra={"gateway": gateway_name, "why": str(exc)})
            raise Unauthorized(f"callback signature refused: {exc}") from None
        except CallbackMalformed as exc:
            raise InvalidInput(f"malformed callback: {exc}") from None
        word = GatewayWord(
            gateway_name, status_from_gateway(event.status), event.reason,
            event.amount, event.currency,
        )  # fmt: skip
        now = datetime.fromtimestamp(now_s, UTC)
        text = raw_body.decode("utf-8", errors="replace")
        outcome = await self._db.write(
            lambda conn: receive_callback(
                conn, event_id=event.event_id, transaction_id=event.transaction_id, word=word,
                raw_body=text, now=now, check_after_s=self._check_after_s,
                max_attempts=self._max_attempts,
            )
        )  # fmt: skip
        self._metrics.count_callback(gateway_name, outcome)
        if outcome in NOT_APPLIED:
            log.warning(
                "callback not applied",
                extra={"gateway": gateway_name, "event_id": event.event_id,
                       "transaction_id": event.transaction_id, "outcome": outcome},
            )  # fmt: skip
        if outcome == UNKNOWN_TRANSACTION:
            raise NotFound(f"transaction {event.transaction_id} is unknown here (callback stored)")
        return outcome
