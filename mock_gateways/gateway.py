"""One mock gateway's behaviour, independent of its wire format.

``MockGateway`` holds the faults, the ledger, the settlement book and the
seeded dice, takes payments, settles them after the callback delay (a
success also as a settlement line) and sends their callbacks.
The gateway apps (``gateway_a``, ``gateway_b``) translate HTTP to calls on
it; ``server.MockGateways`` starts and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping

from mock_gateways.callbacks import (
    CallbackEncoder,
    CallbackEvent,
    CallbackIdentity,
    CallbackSender,
    DeliveryPolicy,
    callback_event,
    callback_events,
    wrong_route_url,
)
from mock_gateways.decisions import PaymentPlan, Roll, plan_payment, plan_request
from mock_gateways.errors import GhostUnavailable, PaymentDeclined, UnknownTransaction
from mock_gateways.faults import Faults
from mock_gateways.history import UNNAMED, FaultHistory
from mock_gateways.ledger import Ledger, LedgerEntry
from mock_gateways.payments import PaymentRequest
from mock_gateways.settlement import (
    SettlementBook,
    minor_unit,
    reversal_line,
    settled_line,
    value_date,
)
from mock_gateways.tasks import TaskOwner

logger = logging.getLogger(__name__)


# A payment that fails after its success says so with this reason.
LATE_FAILURE_REASON = "late_failure"


def reference_prefix(name: str) -> str:
    """What a gateway's references start with: ``gateway_a`` → ``GA``."""
    return "G" + name.rsplit("_", 1)[-1].upper()


class MockGateway:
    """A fake payment gateway's state and lifecycle. ``start`` before serving, ``stop`` after.

    ``peer`` is the other gateway, as far as its callbacks go (name, format,
    secret): the ``callback_wrong_route`` fault sends callbacks as that
    gateway. Without a peer that fault has nothing to send as, and does nothing.
    """

    def __init__(
        self,
        *,
        name: str,
        secret: str,
        encode_callback: CallbackEncoder,
        faults: Faults | None = None,
        seed: int | None = None,
        delivery: DeliveryPolicy | None = None,
        clock_s: Callable[[], float] = time.time,
        peer: CallbackIdentity | None = None,
    ) -> None:
        self.name = name
        self.ledger = Ledger(reference_prefix=reference_prefix(name))
        self.settlements = SettlementBook()
        self._peer = peer
        # Misbehaviours that belong to no payment (a refused request records nothing).
        self._request_faults: Counter[str] = Counter()
        self._initial_faults = faults or Faults()
        self._faults = self._initial_faults
        self.fault_history = FaultHistory()
        self._seed = seed
        self._rng = self._new_rng()
        self._clock_s = clock_s
        self._sender = CallbackSender(
            secret=secret,
            encode=encode_callback,
            policy=delivery or DeliveryPolicy(),
            clock_s=clock_s,
        )
        self._tasks = TaskOwner(name)
        self._stopping = asyncio.Event()

    @property
    def faults(self) -> Faults:
        """The faults in force now."""
        return self._faults

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` has begun; waits and hangs end early from then on."""
        return self._stopping.is_set()

    def set_faults(
        self, changes: Mapping[str, object], *, actor: str = UNNAMED, reason: str | None = None
    ) -> Faults:
        """Apply a partial fault update and return the faults now in force; the switch goes
        into ``fault_history`` with ``actor`` and ``reason``.

        Raises ``InvalidFaults`` (changing nothing, recording nothing) if any change is bad.
        """
        before = self._faults
        self._faults = before.updated(changes)
        self.fault_history.record(
            before, self._faults, changes, actor=actor, reason=reason, at_s=self._clock_s()
        )
        logger.info("%s faults now %s (by %s)", self.name, self._faults.to_json(), actor)
        return self._faults

    def roll(self) -> Roll:
        """Draw the dice for one gateway request (see ``decisions``)."""
        return Roll.draw(self._rng)

    def note_request_fault(self, fault: str) -> None:
        """Count one misbehaviour injected into a request that recorded nothing."""
        self._request_faults[fault] += 1

    def injected_faults(self) -> dict[str, int]:
        """Every misbehaviour injected since the last reset, by fault (payments' and requests')."""
        totals = Counter(self.ledger.injected_totals())
        totals.update(self._request_faults)
        return dict(sorted(totals.items()))

    def submit(self, request: PaymentRequest, roll: Roll) -> LedgerEntry:
        """Record a submission and return its entry in its current state.

        A new payment is pending and settles after the callback delay; a
        repeat changes only its submission count. Raises ``ConflictingRepeat``
        when a repeat's terms differ, ``PaymentDeclined`` (recording nothing)
        for a new payment while ``submit_decline`` is set, and
        ``GhostUnavailable`` (after recording) when the ``ghost_503_rate`` fault
        hits this request.
        """
        if self._faults.submit_decline and not self._holds(request.transaction_id):
            self.note_request_fault("submit_decline")
            raise PaymentDeclined(
                self._faults.submit_decline,
                f"the payment is refused: {self._faults.submit_decline}",
            )
        entry, is_new = self.ledger.submit(request, self._clock_s())
        if is_new:
            plan = plan_payment(self._faults, roll)
            self._tasks.spawn(
                self._settle(request.transaction_id, plan), name=f"settle:{request.transaction_id}"
            )
        if plan_request(self._faults, roll).ghost_503:
            self.ledger.note_injected(request.transaction_id, "ghost_503")
            # Said exactly as a real outage says it: the client cannot tell them apart.
            raise GhostUnavailable("the gateway is down for maintenance")
        return entry

    def _holds(self, transaction_id: str) -> bool:
        try:
            self.ledger.get(transaction_id)
        except UnknownTransaction:
            return False
        return True

    def status(self, transaction_id: str) -> LedgerEntry:
        """The entry for ``transaction_id``; raises ``UnknownTransaction`` if unknown."""
        return self.ledger.get(transaction_id)

    async def pause(self, delay_ms: int) -> None:
        """Sleep ``delay_ms``, or less if the gateway starts stopping meanwhile."""
        if delay_ms <= 0 or self.stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay_ms / 1000)

    async def reset(
        self, *, faults: bool = False, actor: str = UNNAMED, reason: str | None = None
    ) -> None:
        """Forget every payment and settlement, cancel their pending work and re-seed the dice.

        With ``faults``, also restore the faults the gateway started with (a switch
        recorded in ``fault_history`` with ``actor`` and ``reason``).
        """
        await self._tasks.cancel_all()
        self.ledger.clear()
        self.settlements.clear()
        self._request_faults.clear()
        self._rng = self._new_rng()
        if faults:
            before, self._faults = self._faults, self._initial_faults
            self.fault_history.record(
                before,
                self._faults,
                self._faults.to_json(),
                actor=actor,
                reason=reason or "reset to the faults it started with",
                at_s=self._clock_s(),
            )
        logger.info("%s reset (faults %s)", self.name, "restored" if faults else "kept")

    async def start(self) -> None:
        """Open the callback session; call from the running event loop."""
        self._stopping.clear()
        await self._sender.start()

    def begin_stop(self) -> None:
        """End every latency wait and hang now, so in-flight requests finish quickly."""
        self._stopping.set()

    async def stop(self) -> None:
        """Cancel settlements and callback deliveries, then close the session."""
        self.begin_stop()
        await self._tasks.cancel_all()
        await self._sender.close()

    def _new_rng(self) -> random.Random:
        # The gateway name keeps A's and B's dice apart under one seed.
        return random.Random(None if self._seed is None else f"{self.name}:{self._seed}")

    async def _settle(self, transaction_id: str, plan: PaymentPlan) -> None:
        await asyncio.sleep(plan.callback_delay_ms / 1000)
        entry = self.ledger.settle(
            transaction_id, declined=plan.declined, unreported=plan.unreported
        )
        logger.info("%s settled %s: %s", self.name, transaction_id, entry.status)
        if entry.status == "success":
            self._book_settlement(entry, plan)
        events = (
            []
            if entry.unreported
            else callback_events(entry.request, entry.status, entry.reason, plan)
        )
        if not events:
            logger.info("%s dropped the callbacks of %s", self.name, transaction_id)
        for event in events:
            await self._send(entry.request.callback_url, event, plan)
        if plan.late_failure and entry.status == "success":
            await self._fail_late(transaction_id, plan)

    async def _fail_late(self, transaction_id: str, plan: PaymentPlan) -> None:
        """The ``late_failure_rate`` fault: a success turns into a failure a while later."""
        await asyncio.sleep(plan.callback_delay_ms / 1000)
        entry = self.ledger.fail_late(transaction_id, LATE_FAILURE_REASON)
        self.ledger.note_injected(transaction_id, "late_failure")
        original = self.settlements.settled(transaction_id)
        if original is not None:
            on = value_date(self._clock_s())
            self.settlements.add(reversal_line(original, entry.request.amount, on))
        logger.info("%s failed %s after its success", self.name, transaction_id)
        if plan.drop_callbacks or entry.unreported:
            return
        event = callback_event(entry.request, "failure", LATE_FAILURE_REASON, plan)
        await self._send(entry.request.callback_url, event, plan)

    def _book_settlement(self, entry: LedgerEntry, plan: PaymentPlan) -> None:
        """Record the settlement line of a payment that succeeded now, with the fee in force.

        The settlement faults are counted here: ``settle_unreported``,
        ``report_missing`` and ``report_amount_skew`` (never on a missing line).
        """
        payment = entry.request
        skew = plan.report_skew and not plan.report_missing
        gross = payment.amount + minor_unit(payment.currency) if skew else payment.amount
        line = settled_line(
            gateway_reference=entry.gateway_reference,
            transaction_id=payment.transaction_id,
            payment_type=payment.type,
            gross=gross,
            currency=payment.currency,
            on=value_date(self._clock_s()),
            fee_bps=self._faults.settlement_fee_bps,
            fee_minor=self._faults.settlement_fee_minor,
            reported=not plan.report_missing,
        )
        self.settlements.add(line)
        for fault, hit in (
            ("settle_unreported", entry.unreported),
            ("report_missing", plan.report_missing),
            ("report_amount_skew", skew),
        ):
            if hit:
                self.ledger.note_injected(payment.transaction_id, fault)

    async def _send(self, url: str, event: CallbackEvent, plan: PaymentPlan) -> None:
        transaction_id = event.transaction_id
        as_gateway = self._peer if plan.wrong_route else None
        if as_gateway is not None:
            other_url = wrong_route_url(url, self.name, as_gateway.name)
            if other_url is None:
                logger.info("%s: no route to swap in %s; sent as usual", self.name, url)
                as_gateway = None
            else:
                url = other_url
                self.ledger.note_injected(transaction_id, "callback_wrong_route")
        if event.amount != self.ledger.get(transaction_id).request.amount:
            self.ledger.note_injected(transaction_id, "callback_amount_skew")
        self.ledger.add_callback(
            transaction_id,
            event.event_id,
            event.status,
            amount=event.amount,
            url=url,
            as_gateway=as_gateway.name if as_gateway else None,
        )
        await self._sender.deliver(
            url,
            event,
            lambda attempt: self.ledger.add_attempt(transaction_id, event.event_id, attempt),
            as_gateway=as_gateway,
        )
