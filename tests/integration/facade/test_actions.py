"""What operators do, the same through either facade, and what it changes in the database."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from paycon.domain.errors import Conflict, InvalidInput, NotFound
from paycon.facade.remote import RemoteFacade
from paycon.models.queries import TaskQuery
from tests.integration.facade.conftest import Attached
from tests.integration.facade.support import audit_rows, deposit, set_task_states, task_row
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon


async def counted(attached: Attached, query: TaskQuery) -> int:
    return (await attached.facade.count_matching(query)).matching


async def _only_task(attached: Attached) -> int:
    page = await attached.facade.tasks(TaskQuery())
    assert len(page.items) == 1
    return page.items[0].id


async def test_replay_makes_a_dead_task_pending_and_is_audited(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    set_task_states(paycon, "dead")
    task_id = await _only_task(attached)
    replayed = await attached.facade.replay(task_id, reason="gateway fixed")
    assert (replayed.state, replayed.attempts) == ("pending", 0)
    assert task_row(paycon, task_id) == ("pending", 0)
    detail = await attached.facade.task(task_id)
    assert [(e.action, e.reason) for e in detail.audit] == [("replay", "gateway fixed")]
    assert detail.audit[0].actor.startswith(attached.actor_prefix)


async def test_a_remote_operator_named_by_the_client_is_audited_beside_the_key(
    paycon: RunningPaycon,
) -> None:
    await deposit(paycon, "k1")
    set_task_states(paycon, "dead")
    named = RemoteFacade(paycon.url, OPERATOR_KEY, operator="alice.ops")
    badly_named = RemoteFacade(paycon.url, OPERATOR_KEY, operator="alice ops")
    try:
        [task] = (await named.tasks(TaskQuery())).items
        with pytest.raises(InvalidInput, match="X-Operator-Name"):
            await badly_named.replay(task.id, reason="gateway fixed")
        assert task_row(paycon, task.id)[0] == "dead"
        await named.replay(task.id, reason="gateway fixed")
        [entry] = (await named.task(task.id)).audit
        assert re.fullmatch(r"operator:key_\w+/alice\.ops", entry.actor), entry.actor
    finally:
        await named.aclose()
        await badly_named.aclose()


async def test_replay_of_a_done_task_conflicts_and_changes_nothing(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    set_task_states(paycon, "done")
    task_id = await _only_task(attached)
    with pytest.raises(Conflict):
        await attached.facade.replay(task_id, reason="again")
    assert task_row(paycon, task_id)[0] == "done"
    with pytest.raises(NotFound):
        await attached.facade.replay(999_999, reason="again")


async def test_discard_closes_a_dead_task_and_refuses_a_pending_one(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    task_id = await _only_task(attached)
    with pytest.raises(Conflict):
        await attached.facade.discard(task_id, reason="refunded by hand")
    set_task_states(paycon, "dead")
    discarded = await attached.facade.discard(task_id, reason="refunded by hand")
    assert discarded.state == "done"
    assert discarded.last_error is not None
    assert task_row(paycon, task_id)[0] == "done"
    assert audit_rows(paycon, "outbox_audit")[-1][1:] == ("discard", "refunded by hand")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 256])
async def test_a_bad_reason_is_invalid_input_and_changes_nothing(
    attached: Attached, paycon: RunningPaycon, reason: str
) -> None:
    await deposit(paycon, "k1")
    set_task_states(paycon, "dead")
    task_id = await _only_task(attached)
    with pytest.raises(InvalidInput):
        await attached.facade.discard(task_id, reason=reason)
    with pytest.raises(InvalidInput):
        await attached.facade.replay(task_id, reason=reason)
    with pytest.raises(InvalidInput):
        await attached.facade.replay_matching(TaskQuery(state="dead"), reason=reason)
    with pytest.raises(InvalidInput):
        await attached.facade.set_gateway_enabled("gateway_a", enabled=False, reason=reason)
    assert task_row(paycon, task_id)[0] == "dead"
    assert audit_rows(paycon, "outbox_audit") == []
    assert audit_rows(paycon, "operator_audit") == []


async def test_count_and_replay_matching_by_gateway(
    attached: Attached, paycon: RunningPaycon
) -> None:
    for i in range(3):
        await deposit(paycon, f"a{i}")
    await deposit(paycon, "b0", gateway="gateway_b")
    set_task_states(paycon, "dead")
    on_a = TaskQuery(state="dead", gateway="gateway_a")
    assert await counted(attached, on_a) == 3
    assert await counted(attached, TaskQuery(state="dead")) == 4
    assert await counted(attached, TaskQuery(state="pending")) == 0
    assert await attached.facade.replay_matching(on_a, reason="A is back") == 3
    assert await counted(attached, on_a) == 0
    assert await counted(attached, TaskQuery(state="dead")) == 1
    actions = [row[1:] for row in audit_rows(paycon, "outbox_audit")]
    assert actions.count(("replay", "A is back")) == 3
    assert ("replay_matching", "A is back") in actions


async def test_a_replay_given_the_count_leaves_tasks_that_died_since(
    attached: Attached, paycon: RunningPaycon
) -> None:
    first = await deposit(paycon, "k1")
    second = await deposit(paycon, "k2")
    set_task_states(paycon, "dead", where=f"dedupe_key LIKE '%{first['id']}'")
    dead = TaskQuery(state="dead")
    matching = await attached.facade.count_matching(dead)
    assert matching.matching == 1
    assert matching.as_of.tzinfo is not None
    set_task_states(paycon, "dead", where=f"dedupe_key LIKE '%{second['id']}'")
    assert await counted(attached, dead) == 2

    replayed = await attached.facade.replay_matching(dead, reason="once", as_of=matching.as_of)
    assert replayed == 1
    [left] = (await attached.facade.tasks(dead)).items
    assert left.dedupe_key is not None
    assert left.dedupe_key.endswith(second["id"])
    assert await attached.facade.replay_matching(dead, reason="the rest") == 1
    assert await counted(attached, dead) == 0


async def test_a_replay_refuses_a_moment_without_a_zone(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    set_task_states(paycon, "dead")
    naive = datetime(2026, 11, 27, 8, 30)
    with pytest.raises(InvalidInput, match="zone"):
        await attached.facade.replay_matching(TaskQuery(state="dead"), reason="r", as_of=naive)
    assert await counted(attached, TaskQuery(state="dead")) == 1
    assert audit_rows(paycon, "outbox_audit") == []


@pytest.mark.parametrize("state", [None, "done", "running"])
async def test_matching_needs_a_replayable_state(attached: Attached, state: str | None) -> None:
    with pytest.raises(InvalidInput):
        await attached.facade.count_matching(TaskQuery(state=state))
    with pytest.raises(InvalidInput):
        await attached.facade.replay_matching(TaskQuery(state=state), reason="try")
