"""The use cases operators reach through the operator facade, in one bundle."""

from __future__ import annotations

from dataclasses import dataclass

from paycon.metrics import Metrics
from paycon.usecases.gateway_control import GatewayControl
from paycon.usecases.operations import OutboxOperations
from paycon.usecases.queries import TransactionQueries
from paycon.usecases.reconcile import Reconciliation
from paycon.usecases.review import ReviewDesk


@dataclass(frozen=True)
class OperatorDesk:
    """What the in-process facade reads and acts through.

    ``metrics`` are the serving process's own figures; a command that runs
    without a server (``paycon tasks`` on the local database) has a fresh
    ``Metrics`` and gateways that made no call yet.
    """

    queries: TransactionQueries
    operations: OutboxOperations
    review: ReviewDesk
    gateway_control: GatewayControl
    reconciliation: Reconciliation
    metrics: Metrics
