"""What the console's workers send back to their screens: past-tense results of facade reads."""

from __future__ import annotations

from textual.message import Message

from paycon.facade.models import (
    GatewayStatus,
    Overview,
    Page,
    TaskDetailView,
    TaskSummary,
    TransactionDetail,
    TransactionSummary,
)


class OverviewFetched(Message):
    """The dashboard's figures and the newest transactions."""

    def __init__(self, overview: Overview, transactions: tuple[TransactionSummary, ...]) -> None:
        super().__init__()
        self.overview = overview
        self.transactions = transactions


class TransactionsFetched(Message):
    """One page of the transactions list; ``more`` adds it below the rows already shown."""

    def __init__(self, page: Page[TransactionSummary], *, more: bool) -> None:
        super().__init__()
        self.page = page
        self.more = more


class TransactionFetched(Message):
    """A transaction with its timeline, ledger lines and tasks."""

    def __init__(self, detail: TransactionDetail) -> None:
        super().__init__()
        self.detail = detail


class TasksFetched(Message):
    """One page of the outbox list; ``more`` adds it below the rows already shown."""

    def __init__(self, page: Page[TaskSummary], *, more: bool) -> None:
        super().__init__()
        self.page = page
        self.more = more


class TaskFetched(Message):
    """A task with its attempts and audit trail."""

    def __init__(self, detail: TaskDetailView) -> None:
        super().__init__()
        self.detail = detail


class GatewaysFetched(Message):
    """Every gateway's breaker, figures, routing and faults."""

    def __init__(self, gateways: tuple[GatewayStatus, ...]) -> None:
        super().__init__()
        self.gateways = gateways
