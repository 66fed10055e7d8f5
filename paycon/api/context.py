"""What request handlers need, stored once on the application."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from gateways import Gateway
from paycon.api.auth import KeyRing, Principal
from paycon.config import Settings
from paycon.metrics import Metrics
from paycon.storage.database import Database
from paycon.usecases.callbacks import CallbackInbox
from paycon.usecases.gateway_control import GatewayControl
from paycon.usecases.operations import OutboxOperations
from paycon.usecases.payments import PaymentIntake
from paycon.usecases.queries import TransactionQueries
from paycon.usecases.review import ReviewDesk


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    db: Database
    keys: KeyRing
    intake: PaymentIntake
    queries: TransactionQueries
    operations: OutboxOperations
    callbacks: CallbackInbox
    gateways: Mapping[str, Gateway]
    metrics: Metrics
    gateway_control: GatewayControl
    review: ReviewDesk
    # Set once the process has begun to stop: /readyz then answers 503.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


CONTEXT = web.AppKey("paycon_context", ApiContext)
PRINCIPAL = web.RequestKey("paycon_principal", Principal)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


def principal(request: web.Request) -> Principal:
    """The authenticated caller (set by the auth middleware)."""
    return request[PRINCIPAL]
