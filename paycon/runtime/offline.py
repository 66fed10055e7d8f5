"""The operator use cases on a database alone, for commands that run without a server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateways import build_gateways
from paycon.config import Settings
from paycon.metrics import Metrics
from paycon.runtime.gateway_wiring import gateway_configs, http_client
from paycon.storage.database import Database
from paycon.usecases.gateway_control import GatewayControl, RoutingSwitches
from paycon.usecases.operations import OutboxOperations
from paycon.usecases.operator_desk import OperatorDesk
from paycon.usecases.queries import TransactionQueries
from paycon.usecases.reconcile import Reconciliation
from paycon.usecases.review import ReviewDesk


@asynccontextmanager
async def offline_desk(settings: Settings, db: Database) -> AsyncIterator[OperatorDesk]:
    """The use cases on the open ``db``, with the configured gateways as a process that
    has made no call sees them (routing switches as stored, breakers closed, no figures).

    Raises ConfigError for a gateway the settings describe wrongly.
    """
    http = http_client(settings)
    try:
        control = GatewayControl(
            db, build_gateways(gateway_configs(settings), http), RoutingSwitches()
        )
        await control.load()
        yield OperatorDesk(
            queries=TransactionQueries(db),
            operations=OutboxOperations(db),
            review=ReviewDesk(db, max_attempts=settings.outbox.max_attempts),
            gateway_control=control,
            reconciliation=Reconciliation(db, settings.gateways),
            metrics=Metrics(),
        )
    finally:
        await http.aclose()
