"""The operator facade over HTTP: a running paycon's operator API.

Answers are parsed into the same models the in-process facade hands out (the
ones the API documents), and problem+json answers become the same errors: 404
``NotFound``, 409 ``Conflict``, other 4xx ``InvalidInput`` (with the invalid
fields), 401 ``Unauthorized`` and 403 ``Forbidden`` (the key was refused), and
anything that keeps the answer from arriving (connection refused, a timeout, a
5xx, a body that is not JSON) ``FacadeUnavailable`` naming the URL.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from paycon.domain.actors import OPERATOR_NAME_HEADER, is_operator_name
from paycon.domain.as_of import check_as_of
from paycon.domain.errors import (
    Conflict,
    FacadeUnavailable,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayconError,
    Unauthorized,
)
from paycon.domain.transactions import MAX_REFERENCE_CHARS, is_transaction_id, rfc3339
from paycon.facade.checks import (
    MAX_SEARCH_RESULTS,
    check_search_limit,
    check_task_id,
    replayable_state,
)
from paycon.facade.protocol import CONSOLE_FAULTS_REASON
from paycon.facade.reconciliation import BREAKS_SHOWN, RUNS_SHOWN
from paycon.models.gateways import GatewayOut, GatewaysOut, OverviewOut
from paycon.models.outbox import (
    OutboxCountOut,
    OutboxStatsOut,
    OutboxTaskDetailOut,
    OutboxTaskOut,
    OutboxTaskPageOut,
    ReplayCountOut,
    TransactionTasksOut,
)
from paycon.models.queries import Page, TaskQuery, TransactionDetail, TransactionQuery
from paycon.models.reconciliation import (
    ReconciliationBreakOut,
    ReconciliationBreaksOut,
    ReconciliationRunOut,
    ReconciliationRunsOut,
)
from paycon.models.transactions import (
    LedgerOut,
    TransactionDetailOut,
    TransactionOut,
    TransactionPageOut,
)

M = TypeVar("M", bound=BaseModel)


def _params(values: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}


def _segment(text: str) -> str:
    """``text`` as one path segment, whatever it holds."""
    return quote(text, safe="")


def local_operator_name() -> str | None:
    """This machine's user name, to send as who is at the keyboard; None when there is
    none, or it is not a name the operator API takes (``paycon.domain.actors``)."""
    try:
        user = getpass.getuser().strip()
    except (OSError, KeyError):
        return None
    return user if is_operator_name(user) else None


class RemoteFacade:
    """``OperatorFacade`` over a running paycon's operator API at ``url``.

    ``token`` is an operator key; actions are audited as ``operator:<its key id>``,
    or ``operator:<its key id>/<operator>`` when ``operator`` names who is at the
    keyboard (see ``paycon.domain.actors``). ``transport`` replaces httpx's
    default (tests hand in their own).
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        operator: str | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if operator is not None:
            headers[OPERATOR_NAME_HEADER] = operator
        self._client = httpx.AsyncClient(
            base_url=self._url,
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
        )

    @property
    def where(self) -> str:
        return self._url

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """The operator API's JSON answer to one request, as it is.

        ``params`` that are None are left out. Raises the facade's errors (see the module).
        """
        try:
            response = await self._client.request(
                method, path, params=_params(params or {}), json=body
            )
        except httpx.TimeoutException as exc:
            raise FacadeUnavailable(f"paycon at {self._url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise FacadeUnavailable(
                f"cannot reach paycon at {self._url}: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success and answer is not None:
            return answer
        raise self._error(response, answer)

    def _error(self, response: httpx.Response, answer: Any) -> PayconError:
        status = response.status_code
        problem = answer if isinstance(answer, dict) else {}
        detail = str(problem.get("detail") or response.reason_phrase or f"HTTP {status}")
        if status == 401:
            return Unauthorized(f"paycon at {self._url} refused the operator key: {detail}")
        if status == 403:
            return Forbidden(
                f"paycon at {self._url} refused the key: {detail} (use an operator key)"
            )
        if status == 404:
            return NotFound(detail)
        if status == 409:
            return Conflict(detail)
        if 400 <= status < 500:
            errors = [
                FieldError(str(e.get("field", "")), str(e.get("message", "")))
                for e in problem.get("errors") or ()
                if isinstance(e, dict)
            ]
            return InvalidInput(detail, errors=errors)
        if response.is_success:
            return FacadeUnavailable(f"paycon at {self._url} answered a body that is not JSON")
        return FacadeUnavailable(f"paycon at {self._url} answered HTTP {status}: {detail}")

    async def _read(self, model: type[M], method: str, path: str, **request: Any) -> M:
        """The answer to one request as ``model``; an answer of another shape is
        FacadeUnavailable (the paycon there speaks another version of the API)."""
        return self._parsed(model, await self._call(method, path, **request), path)

    def _parsed(self, model: type[M], answer: Any, path: str) -> M:
        try:
            return model.model_validate(answer)
        except ValidationError as exc:
            raise FacadeUnavailable(
                f"paycon at {self._url} answered {path} in an unexpected shape: "
                f"{exc.error_count()} fields do not fit"
            ) from exc

    async def overview(self) -> OverviewOut:
        return await self._read(OverviewOut, "GET", "/v1/overview")

    async def outbox_stats(self) -> OutboxStatsOut:
        return await self._read(OutboxStatsOut, "GET", "/v1/outbox/stats")

    async def transactions(
        self, query: TransactionQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TransactionOut]:
        params = {"status": query.status, "kind": query.kind, "gateway": query.gateway,
                  "customer_id": query.customer_id, "review": "true" if query.review else None,
                  "limit": limit, "cursor": cursor}  # fmt: skip
        page = await self._read(TransactionPageOut, "GET", "/v1/transactions", params=params)
        return Page(tuple(page.items), page.next_cursor)

    async def search_transactions(
        self, text: str, *, limit: int = 50
    ) -> tuple[TransactionOut, ...]:
        check_search_limit(limit)
        if not text or len(text) > MAX_REFERENCE_CHARS:
            return ()
        found: list[TransactionOut] = []
        if is_transaction_id(text):
            with contextlib.suppress(NotFound):
                answer = await self._transaction(text)  # its timeline is left out
                found.append(self._parsed(TransactionOut, answer, "/v1/transactions/{id}"))
        page = await self._read(
            TransactionPageOut,
            "GET",
            "/v1/transactions",
            params={"reference": text, "limit": min(limit, MAX_SEARCH_RESULTS)},
        )
        found += [t for t in page.items if t.id != text]
        return tuple(found[:limit])

    async def _transaction(self, transaction_id: str) -> Any:
        """``GET /v1/transactions/{id}``'s answer: the transaction and its timeline."""
        if not is_transaction_id(transaction_id):  # cannot name one: NotFound, as locally
            raise NotFound(f"transaction {transaction_id} does not exist")
        return await self._call("GET", f"/v1/transactions/{transaction_id}")

    async def transaction(self, transaction_id: str) -> TransactionDetail:
        path = f"/v1/transactions/{transaction_id}"
        answer = await self._transaction(transaction_id)
        body = self._parsed(TransactionDetailOut, answer, path)
        ledger = await self._read(LedgerOut, "GET", f"{path}/ledger")
        tasks = await self._read(TransactionTasksOut, "GET", f"{path}/tasks")
        return TransactionDetail(
            transaction=self._parsed(TransactionOut, answer, path),
            events=tuple(body.events),
            ledger=tuple(ledger.items),
            tasks=tuple(tasks.items),
        )

    async def tasks(
        self, query: TaskQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[OutboxTaskOut]:
        params = {"state": query.state, "kind": query.kind, "gateway": query.gateway,
                  "limit": limit, "cursor": cursor}  # fmt: skip
        page = await self._read(OutboxTaskPageOut, "GET", "/v1/outbox/tasks", params=params)
        return Page(tuple(page.items), page.next_cursor)

    async def task(self, task_id: int) -> OutboxTaskDetailOut:
        check_task_id(task_id)
        return await self._read(OutboxTaskDetailOut, "GET", f"/v1/outbox/tasks/{task_id}")

    async def replay(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        check_task_id(task_id)
        return await self._read(
            OutboxTaskOut, "POST", f"/v1/outbox/tasks/{task_id}/replay", body={"reason": reason}
        )

    async def discard(self, task_id: int, *, reason: str) -> OutboxTaskOut:
        check_task_id(task_id)
        return await self._read(
            OutboxTaskOut, "POST", f"/v1/outbox/tasks/{task_id}/discard", body={"reason": reason}
        )

    async def resolve(self, transaction_id: str, *, status: str, reason: str) -> TransactionDetail:
        if not is_transaction_id(transaction_id):
            raise NotFound(f"no transaction {transaction_id!r}")
        await self._call(
            "POST",
            f"/v1/transactions/{transaction_id}/resolve",
            body={"status": status, "reason": reason},
        )
        return await self.transaction(transaction_id)

    async def count_matching(self, query: TaskQuery) -> OutboxCountOut:
        state = replayable_state(query)
        params = {"state": state, "kind": query.kind, "gateway": query.gateway}
        return await self._read(OutboxCountOut, "GET", "/v1/outbox/count", params=params)

    async def replay_matching(
        self, query: TaskQuery, *, reason: str, as_of: datetime | None = None
    ) -> int:
        state = replayable_state(query)
        check_as_of(as_of)
        request = {
            "state": state,
            "kind": query.kind,
            "gateway": query.gateway,
            "reason": reason,
            "as_of": None if as_of is None else rfc3339(as_of, timespec="microseconds"),
        }
        body = {name: value for name, value in request.items() if value is not None}
        answer = await self._read(ReplayCountOut, "POST", "/v1/outbox/replay", body=body)
        return answer.replayed

    async def gateways(self) -> tuple[GatewayOut, ...]:
        return tuple((await self._read(GatewaysOut, "GET", "/v1/gateways")).gateways)

    async def set_gateway_enabled(self, name: str, *, enabled: bool, reason: str) -> GatewayOut:
        action = "enable" if enabled else "disable"
        return await self._read(
            GatewayOut, "POST", f"/v1/gateways/{_segment(name)}/{action}", body={"reason": reason}
        )

    async def set_faults(self, name: str, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        body = await self._call(
            "PUT",
            f"/v1/gateways/{_segment(name)}/faults",
            body={**changes, "reason": CONSOLE_FAULTS_REASON},
        )
        return dict(body)

    async def reconciliation_runs(self) -> tuple[ReconciliationRunOut, ...]:
        page = await self._read(
            ReconciliationRunsOut, "GET", "/v1/reconciliation/runs", params={"limit": RUNS_SHOWN}
        )
        return tuple(page.items)

    async def reconciliation_breaks(self) -> tuple[ReconciliationBreakOut, ...]:
        page = await self._read(
            ReconciliationBreaksOut,
            "GET",
            "/v1/reconciliation/breaks",
            params={"limit": BREAKS_SHOWN},
        )
        return tuple(page.items)

    async def resolve_break(self, break_id: int, *, reason: str) -> ReconciliationBreakOut:
        return await self._read(
            ReconciliationBreakOut,
            "POST",
            f"/v1/reconciliation/breaks/{int(break_id)}/resolve",
            body={"reason": reason},
        )

    async def aclose(self) -> None:
        await self._client.aclose()
