"""What the console's workers send back to their screens: past-tense results of facade reads."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from paycon.models.gateways import GatewayOut, OverviewOut
from paycon.models.outbox import OutboxTaskDetailOut
from paycon.models.queries import Page, TransactionDetail
from paycon.models.transactions import TransactionOut


class OverviewFetched(Message):
    """The dashboard's figures and the newest transactions."""

    def __init__(self, overview: OverviewOut, transactions: tuple[TransactionOut, ...]) -> None:
        super().__init__()
        self.overview = overview
        self.transactions = transactions


class PageFetched(Message):
    """Rows of a list (transactions or tasks): ``more`` adds them below the rows shown,
    otherwise they replace them; ``wanted`` is how many were asked for."""

    def __init__(self, page: Page[Any], *, more: bool, wanted: int) -> None:
        super().__init__()
        self.page = page
        self.more = more
        self.wanted = wanted


class TransactionFetched(Message):
    """A transaction with its timeline, ledger lines and tasks."""

    def __init__(self, detail: TransactionDetail) -> None:
        super().__init__()
        self.detail = detail


class TaskFetched(Message):
    """A task with its attempts and audit trail."""

    def __init__(self, detail: OutboxTaskDetailOut) -> None:
        super().__init__()
        self.detail = detail


class GatewaysFetched(Message):
    """Every gateway's breaker, figures, routing and faults."""

    def __init__(self, gateways: tuple[GatewayOut, ...]) -> None:
        super().__init__()
        self.gateways = gateways


class OpenTransaction(Message):
    """Asks the app to show a transaction's detail screen (screens do not import each other)."""

    def __init__(self, transaction_id: str) -> None:
        super().__init__()
        self.transaction_id = transaction_id


class OpenTask(Message):
    """Asks the app to show a task's detail screen."""

    def __init__(self, task_id: int) -> None:
        super().__init__()
        self.task_id = task_id


class ShowTransactions(Message):
    """Asks the app to show the transactions list under a filter (``review:held``)."""

    def __init__(self, filter_text: str) -> None:
        super().__init__()
        self.filter_text = filter_text
