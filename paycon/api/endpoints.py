"""Every route the server has: one table drives routing, auth and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from paycon.api import (
    callbacks,
    health,
    ledger,
    metrics,
    operator,
    payments,
    reconciliation,
    transactions,
    wsdl,
)
from paycon.api.auth import Role
from paycon.api.middleware import Handler
from paycon.api.schemas import (
    CallbackOut,
    DepositIn,
    DiscardIn,
    FaultsIn,
    GatewaySwitchIn,
    HealthOut,
    ProblemOut,
    ReadyOut,
    ReplayFilterIn,
    ReplayIn,
    WithdrawalIn,
)
from paycon.models import outbox as outbox_models
from paycon.models import transactions as transaction_models
from paycon.models.gateways import FaultsOut, GatewayOut, GatewaysOut, OverviewOut
from paycon.models.ledger import JournalPageOut, LedgerAccountPageOut
from paycon.models.reconciliation import (
    ReconciliationBreakOut,
    ReconciliationBreaksOut,
    ReconciliationRunsOut,
)
from paycon.models.requests import ResolveIn, TaskListQuery, TransactionListQuery


@dataclass(frozen=True)
class Endpoint:
    """One route: how it is served, who may call it, and how it is documented."""

    name: str
    method: str
    path: str
    handler: Handler
    role: Role | None
    summary: str
    responses: Mapping[int, type[BaseModel] | None]
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()
    soap_operation: str | None = None
    idempotent: bool = False
    # A body documented as opaque text (signed callbacks), with this description.
    raw_body: str | None = None
    tags: tuple[str, ...] = field(default=("payments",))


_PAYMENT_ERRORS: dict[int, type[BaseModel] | None] = {
    400: ProblemOut, 401: ProblemOut, 409: ProblemOut, 413: ProblemOut, 415: ProblemOut,
    422: ProblemOut,
    # Every gateway for the payment out of routing: retry after Retry-After seconds.
    503: ProblemOut,
}  # fmt: skip
_READ_ERRORS: dict[int, type[BaseModel] | None] = {400: ProblemOut, 401: ProblemOut}
_OPERATOR_ERRORS: dict[int, type[BaseModel] | None] = {400: ProblemOut, 401: ProblemOut,
                                                       403: ProblemOut}  # fmt: skip

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="create_deposit",
        method="POST",
        path="/v1/deposits",
        handler=payments.create_deposit,
        role=Role.CLIENT,
        summary="Accept a deposit",
        request=DepositIn,
        responses={202: transaction_models.TransactionOut, **_PAYMENT_ERRORS},
        soap_operation="CreateDeposit",
        idempotent=True,
    ),
    Endpoint(
        name="create_withdrawal",
        method="POST",
        path="/v1/withdrawals",
        handler=payments.create_withdrawal,
        role=Role.CLIENT,
        summary="Accept a withdrawal; holds the amount from the available balance",
        request=WithdrawalIn,
        responses={202: transaction_models.TransactionOut, **_PAYMENT_ERRORS},
        soap_operation="CreateWithdrawal",
        idempotent=True,
    ),
    Endpoint(
        name="soap_wsdl",
        method="GET",
        path="/v1/soap",
        handler=wsdl.wsdl_document,
        role=None,
        summary="The SOAP service's WSDL 1.1 document (GET /v1/soap?wsdl): CreateDeposit and "
        "CreateWithdrawal, SOAP 1.1 document/literal, on the two endpoints above",
        responses={200: None, 404: ProblemOut},
    ),
    Endpoint(
        name="list_transactions",
        method="GET",
        path="/v1/transactions",
        handler=transactions.list_transactions,
        role=Role.CLIENT,
        summary="List transactions, newest first (review=true: held ones, an operator key)",
        query=TransactionListQuery,
        responses={200: transaction_models.TransactionPageOut, **_READ_ERRORS, 403: ProblemOut},
    ),
    Endpoint(
        name="get_transaction",
        method="GET",
        path="/v1/transactions/{id}",
        handler=transactions.get_transaction,
        role=Role.CLIENT,
        summary="A transaction with its event timeline",
        path_params=("id",),
        responses={200: transaction_models.TransactionDetailOut, **_READ_ERRORS, 404: ProblemOut},
    ),
    Endpoint(
        name="get_transaction_ledger",
        method="GET",
        path="/v1/transactions/{id}/ledger",
        handler=transactions.get_ledger,
        role=Role.CLIENT,
        summary="The balance movements a transaction made, oldest first",
        path_params=("id",),
        responses={200: transaction_models.LedgerOut, **_READ_ERRORS, 404: ProblemOut},
    ),
    Endpoint(
        name="resolve_transaction",
        method="POST",
        path="/v1/transactions/{id}/resolve",
        handler=operator.resolve_transaction,
        role=Role.OPERATOR,
        summary="Decide the outcome of a payment held for review, with a reason (audited)",
        request=ResolveIn,
        path_params=("id",),
        responses={
            200: transaction_models.TransactionDetailOut,
            **_OPERATOR_ERRORS,
            404: ProblemOut,
            409: ProblemOut,
        },
        tags=("operators",),
    ),
    Endpoint(
        name="get_transaction_tasks",
        method="GET",
        path="/v1/transactions/{id}/tasks",
        handler=transactions.get_transaction_tasks,
        role=Role.OPERATOR,
        summary="The outbox tasks that carried a transaction (payloads masked)",
        path_params=("id",),
        responses={200: outbox_models.TransactionTasksOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="get_balances",
        method="GET",
        path="/v1/customers/{customer_id}/balances",
        handler=transactions.get_balances,
        role=Role.CLIENT,
        summary="A customer's balances per currency",
        path_params=("customer_id",),
        responses={200: transaction_models.BalancesOut, **_READ_ERRORS},
    ),
    Endpoint(
        name="list_ledger_accounts",
        method="GET",
        path="/v1/ledger/accounts",
        handler=ledger.list_accounts,
        role=Role.OPERATOR,
        summary="Ledger accounts with their balances, in key order (holder, owner, name, currency)",
        query=ledger.AccountListQuery,
        responses={200: LedgerAccountPageOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="list_ledger_journal",
        method="GET",
        path="/v1/ledger/journal",
        handler=ledger.list_journal,
        role=Role.OPERATOR,
        summary="Journal entries with their postings, newest first",
        query=ledger.JournalQuery,
        responses={200: JournalPageOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="list_reconciliation_runs",
        method="GET",
        path="/v1/reconciliation/runs",
        handler=reconciliation.list_runs,
        role=Role.OPERATOR,
        summary="Runs against the gateways' settlement reports, newest first",
        query=reconciliation.RunsQuery,
        responses={200: ReconciliationRunsOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="list_reconciliation_breaks",
        method="GET",
        path="/v1/reconciliation/breaks",
        handler=reconciliation.list_breaks,
        role=Role.OPERATOR,
        summary="Report lines that do not match paycon (open by default), newest first",
        query=reconciliation.BreaksQuery,
        responses={200: ReconciliationBreaksOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="resolve_reconciliation_break",
        method="POST",
        path="/v1/reconciliation/breaks/{id}/resolve",
        handler=reconciliation.resolve_break,
        role=Role.OPERATOR,
        summary="Mark an open break resolved, with a reason (audited); a break about a payment "
        "is resolved with the payment (POST /v1/transactions/{id}/resolve)",
        request=reconciliation.ResolveBreakIn,
        path_params=("id",),
        responses={
            200: ReconciliationBreakOut,
            **_OPERATOR_ERRORS,
            404: ProblemOut,
            409: ProblemOut,
        },
        tags=("operators",),
    ),
    Endpoint(
        name="receive_callback",
        method="POST",
        path="/v1/callbacks/{gateway}",
        handler=callbacks.receive_callback,
        role=None,
        summary="A gateway's signed callback (X-Signature); JSON from gateway A, XML from B",
        path_params=("gateway",),
        raw_body="the gateway's callback, JSON or XML, signed in X-Signature",
        responses={
            200: CallbackOut,
            400: ProblemOut,
            401: ProblemOut,
            404: ProblemOut,
            413: ProblemOut,
        },
        tags=("gateways",),
    ),
    Endpoint(
        name="outbox_stats",
        method="GET",
        path="/v1/outbox/stats",
        handler=operator.outbox_stats,
        role=Role.OPERATOR,
        summary="Outbox counts by state, oldest due task's age, recent throughput",
        responses={200: outbox_models.OutboxStatsOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="list_outbox_tasks",
        method="GET",
        path="/v1/outbox/tasks",
        handler=operator.list_tasks,
        role=Role.OPERATOR,
        summary="Outbox tasks, newest first, by state and kind",
        query=TaskListQuery,
        responses={200: outbox_models.OutboxTaskPageOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="get_outbox_task",
        method="GET",
        path="/v1/outbox/tasks/{id}",
        handler=operator.get_task,
        role=Role.OPERATOR,
        summary="A task with its attempts and audit trail (payload masked)",
        path_params=("id",),
        responses={200: outbox_models.OutboxTaskDetailOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="replay_outbox_task",
        method="POST",
        path="/v1/outbox/tasks/{id}/replay",
        handler=operator.replay_task,
        role=Role.OPERATOR,
        summary="Run a dead task again with fresh attempts, or a scheduled one now (audited)",
        request=ReplayIn,
        path_params=("id",),
        responses={
            200: outbox_models.OutboxTaskOut,
            **_OPERATOR_ERRORS,
            404: ProblemOut,
            409: ProblemOut,
        },
        tags=("operators",),
    ),
    Endpoint(
        name="discard_outbox_task",
        method="POST",
        path="/v1/outbox/tasks/{id}/discard",
        handler=operator.discard_task,
        role=Role.OPERATOR,
        summary="Give up a dead task, with a reason (audited)",
        request=DiscardIn,
        path_params=("id",),
        responses={
            200: outbox_models.OutboxTaskOut,
            **_OPERATOR_ERRORS,
            404: ProblemOut,
            409: ProblemOut,
        },
        tags=("operators",),
    ),
    Endpoint(
        name="count_outbox_tasks",
        method="GET",
        path="/v1/outbox/count",
        handler=operator.count_matching,
        role=Role.OPERATOR,
        summary="How many tasks a replay with this filter (state dead or pending) would take",
        query=operator.CountQuery,
        responses={200: outbox_models.OutboxCountOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="replay_outbox_tasks",
        method="POST",
        path="/v1/outbox/replay",
        handler=operator.replay_matching,
        role=Role.OPERATOR,
        summary="Replay every task matching a filter, server-side; answers the count (audited)",
        request=ReplayFilterIn,
        responses={200: outbox_models.ReplayCountOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="list_gateways",
        method="GET",
        path="/v1/gateways",
        handler=operator.list_gateways,
        role=Role.OPERATOR,
        summary="Per gateway: routing switch, breaker, recent success rate, latency and errors",
        responses={200: GatewaysOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="disable_gateway",
        method="POST",
        path="/v1/gateways/{name}/disable",
        handler=operator.disable_gateway,
        role=Role.OPERATOR,
        summary="Take a gateway out of routing for new payments, with a reason (audited)",
        request=GatewaySwitchIn,
        path_params=("name",),
        responses={200: GatewayOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="enable_gateway",
        method="POST",
        path="/v1/gateways/{name}/enable",
        handler=operator.enable_gateway,
        role=Role.OPERATOR,
        summary="Bring a gateway back into routing, with a reason (audited)",
        request=GatewaySwitchIn,
        path_params=("name",),
        responses={200: GatewayOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="get_gateway_faults",
        method="GET",
        path="/v1/gateways/{name}/faults",
        handler=operator.get_faults,
        role=Role.OPERATOR,
        summary="An embedded mock gateway's faults (404 when the mocks are not embedded)",
        path_params=("name",),
        responses={200: FaultsOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="set_gateway_faults",
        method="PUT",
        path="/v1/gateways/{name}/faults",
        handler=operator.put_faults,
        role=Role.OPERATOR,
        summary="Switch an embedded mock gateway's faults; a bad value changes nothing",
        request=FaultsIn,
        path_params=("name",),
        responses={200: FaultsOut, **_OPERATOR_ERRORS, 404: ProblemOut},
        tags=("operators",),
    ),
    Endpoint(
        name="overview",
        method="GET",
        path="/v1/overview",
        handler=operator.overview,
        role=Role.OPERATOR,
        summary="The dashboard in one read: traffic, outbox figures, every gateway, payments held",
        responses={200: OverviewOut, **_OPERATOR_ERRORS},
        tags=("operators",),
    ),
    Endpoint(
        name="healthz",
        method="GET",
        path="/healthz",
        handler=health.healthz,
        role=None,
        summary="Liveness: the process serves (no database call)",
        responses={200: HealthOut},
        tags=("service",),
    ),
    Endpoint(
        name="readyz",
        method="GET",
        path="/readyz",
        handler=health.readyz,
        role=None,
        summary="Readiness: database writable, migrations current, not shutting down",
        responses={200: ReadyOut, 503: ReadyOut},
        tags=("service",),
    ),
    Endpoint(
        name="metrics",
        method="GET",
        path="/metrics",
        handler=metrics.metrics,
        role=None,
        summary="Prometheus text: requests, transactions, outbox, gateways, callbacks",
        responses={200: None},
        tags=("service",),
    ),
    Endpoint(
        name="openapi",
        method="GET",
        path="/openapi.json",
        handler=health.openapi_document,
        role=None,
        summary="This document",
        responses={200: None},
        tags=("service",),
    ),
)
