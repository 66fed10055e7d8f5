"""Both facades on one service answer every read with equal records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from paycon.facade.local import LocalFacade
from paycon.facade.protocol import OperatorFacade
from paycon.facade.remote import RemoteFacade
from paycon.models.gateways import TrafficOut
from paycon.models.queries import TaskQuery, TransactionQuery
from tests.integration.facade.conftest import LOCAL_ACTOR
from tests.integration.facade.support import complete, deposit, set_task_states
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon


async def dead_count(facade: OperatorFacade) -> int:
    """How many tasks are dead (the count's moment differs between two reads)."""
    return (await facade.count_matching(TaskQuery(state="dead"))).matching


def payments_in(traffic: TrafficOut) -> int:
    """The payments a traffic figure counts, whatever its window when it was read."""
    return round(traffic.payments_per_s * traffic.window_s)


async def test_every_read_is_the_same_through_both(paycon: RunningPaycon) -> None:
    first = await deposit(paycon, "k1", reference="order-1", notify_url="http://127.0.0.1:9/n")
    await deposit(paycon, "k2", gateway="gateway_b", reference="order-1")
    await complete(paycon, first["id"])
    set_task_states(paycon, "dead", where="kind = 'notify'")
    local = LocalFacade.for_service(paycon.service, actor=LOCAL_ACTOR)
    remote = RemoteFacade(paycon.url, OPERATOR_KEY)
    try:
        reads: list[Callable[[OperatorFacade], Awaitable[object]]] = [
            lambda f: f.transactions(TransactionQuery(), limit=1),
            lambda f: f.transactions(TransactionQuery(gateway="gateway_b")),
            lambda f: f.search_transactions("order-1"),
            lambda f: f.search_transactions(first["id"]),
            lambda f: f.transaction(first["id"]),
            lambda f: f.tasks(TaskQuery()),
            lambda f: f.tasks(TaskQuery(state="dead", kind="notify")),
            lambda f: f.tasks(TaskQuery(gateway="gateway_a")),
            lambda f: f.task(1),
            dead_count,
            lambda f: f.gateways(),
        ]
        for read in reads:
            assert await read(local) == await read(remote)
        # Only the moment of reading differs: the time, the oldest due task's age, and
        # the traffic window (the service's age while it is younger than the window).
        local_view, remote_view = await local.overview(), await remote.overview()
        moment_free = local_view.outbox.model_copy(update={"oldest_due_age_s": None})
        assert moment_free == remote_view.outbox.model_copy(update={"oldest_due_age_s": None})
        assert local_view.held_for_review == remote_view.held_for_review == 0
        assert local_view.gateways == remote_view.gateways
        assert payments_in(local_view.traffic) == payments_in(remote_view.traffic)
        assert local_view.traffic.error_rate == remote_view.traffic.error_rate
    finally:
        await remote.aclose()
        await local.aclose()
