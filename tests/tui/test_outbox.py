"""The outbox screen on a real paycon: listing by state and filter, replay, run now, discard,
replay of the filtered set; each checked in the database and the operator API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Button, Input, Static, Tabs

from paycon.models.queries import TaskQuery
from paycon.tui.app import PayconConsole
from paycon.tui.screens.modals import AskScreen
from paycon.tui.screens.outbox import OutboxScreen
from paycon.tui.screens.task_detail import TaskDetailScreen
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import (
    ACTOR,
    SIZE,
    ConsoleFactory,
    accept_deposits,
    actions_asked,
    actions_finished,
    api_task,
    cursor_key,
    filter_by,
    kill,
    screen_text,
    seed_dead_tasks,
    sql,
    submit_task_ids,
    summary,
    table_keys,
    task_state,
    until,
    until_true,
)


async def dead_tasks(paycon: RunningPaycon, a: int, b: int) -> tuple[list[int], list[int]]:
    """``a`` dead submit tasks for gateway_a and ``b`` for gateway_b."""
    await accept_deposits(paycon, a, gateway="gateway_a")
    await accept_deposits(paycon, b, gateway="gateway_b")
    dead_a = submit_task_ids(paycon.db_path, "gateway_a")
    dead_b = submit_task_ids(paycon.db_path, "gateway_b")
    kill(paycon.db_path, dead_a + dead_b)
    return dead_a, dead_b


def listed(app: PayconConsole) -> list[int]:
    """Task ids in the outbox list, top to bottom."""
    return [int(key) for key in table_keys(app, "#tasks")]


async def test_tabs_list_by_state_newest_first_a_page_at_a_time(
    paycon: RunningPaycon, console: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OutboxScreen, "PAGE_ROWS", 2)
    dead_a, dead_b = await dead_tasks(paycon, 2, 1)
    await accept_deposits(paycon, 3, gateway="gateway_b", customer_id="cus_2")
    pending = list(reversed(submit_task_ids(paycon.db_path)))[:3]
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: listed(app) == dead_b + dead_a[::-1][:1], what="dead page")
        assert "n for more" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: listed(app) == [*dead_b, *reversed(dead_a)], what="page two")
        await pilot.press("n")
        await until(pilot, lambda: bool(app._notifications))
        assert "No more tasks match." in list(app._notifications)[-1].message

        await pilot.press("right_square_bracket")
        await until(pilot, lambda: listed(app) == pending[:2], what="the pending tab")
        assert app.screen.query_one("#states", Tabs).active == "pending"
        await pilot.press("n")
        await until(pilot, lambda: listed(app) == pending, what="every pending task")
        assert "3 shown · pending tasks" in screen_text(app)

        await pilot.press("left_square_bracket")
        await filter_by(pilot, "gateway:gateway_a")
        await until(pilot, lambda: listed(app) == list(reversed(dead_a)), what="gateway_a")
        await filter_by(pilot, "colour:blue")
        await until(pilot, lambda: len(app._notifications) == 2)
        assert "unknown filter" in list(app._notifications)[-1].message
        assert listed(app) == list(reversed(dead_a))  # the last good filter still applies


async def test_replay_one_dead_task_and_an_error_when_it_changed_meanwhile(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    older, newest = (await dead_tasks(paycon, 2, 0))[0]
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: listed(app) == [newest, older])
        await pilot.press("r")
        await until(pilot, lambda: listed(app) == [older], what="the list re-read")
        assert task_state(paycon.db_path, newest) == ("pending", 0)
        body = await api_task(paycon, newest)
        assert body["state"] == "pending"
        assert [(e["action"], e["actor"]) for e in body["audit"]] == [("replay", ACTOR)]

        # Someone else closes the other task before the operator acts on it.
        sql(paycon.db_path, "UPDATE outbox_tasks SET state = 'done' WHERE id = ?", older)
        await pilot.press("r")
        await until(pilot, lambda: len(app._notifications) == 2, what="an error notification")
        note = list(app._notifications)[-1]
        assert (note.severity, note.title) == ("error", f"Could not replay task {older}")
        assert "Conflict" in note.message
        assert app.is_running
    assert task_state(paycon.db_path, older)[0] == "done"


async def test_replay_of_a_scheduled_task_runs_it_now(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    await accept_deposits(paycon, 1, gateway="gateway_a")
    [task_id] = submit_task_ids(paycon.db_path)
    sql(paycon.db_path, "UPDATE outbox_tasks SET run_at = '2099-01-01 00:00:00.000000'")
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "right_square_bracket")
        await until(pilot, lambda: listed(app) == [task_id])
        assert "scheduled in" in screen_text(app)
        await pilot.press("r")

        async def due_now() -> bool:
            detail = await app.ctx.facade.task(task_id)
            return detail.run_at <= datetime.now(UTC)

        await until_true(pilot, due_now)
        await until(pilot, lambda: "due now" in screen_text(app), what="shown due")
        assert task_state(paycon.db_path, task_id) == ("pending", 0)


async def test_discard_asks_for_a_reason_and_keeps_the_last_error(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [task_id], _ = await dead_tasks(paycon, 1, 0)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: listed(app) == [task_id])
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("enter")  # a blank reason is refused, the dialog stays
        assert isinstance(app.screen, AskScreen)
        assert "audit" in str(app.screen.query_one("#error", Static).render())
        await pilot.press("escape")  # cancelled: nothing changes
        await actions_finished(pilot)
        assert actions_asked(app) == []
        assert task_state(paycon.db_path, task_id)[0] == "dead"

        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        app.screen.query_one("#answer", Input).value = "refunded by hand"
        await pilot.press("enter")
        await until(pilot, lambda: listed(app) == [], what="the dead list emptied")
    body = await api_task(paycon, task_id)
    assert body["state"] == "done"
    assert body["last_error"].startswith("GatewayTransient")
    assert [(e["action"], e["reason"]) for e in body["audit"]] == [("discard", "refunded by hand")]


async def test_replay_all_states_the_count_asks_why_cancel_changes_nothing_a_reason_replays(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    dead_a, dead_b = await dead_tasks(paycon, 3, 2)
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(listed(app)) == 5)
        await filter_by(pilot, "gateway:gateway_b")
        await until(pilot, lambda: listed(app) == list(reversed(dead_b)))

        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        question = str(app.screen.query_one("#prompt").render())
        assert "Replay 2 dead tasks for gateway_b?" in question
        assert "Replay 2 tasks" in str(app.screen.query_one("#ok", Button).label)
        await pilot.press("enter")  # enter alone, no reason: refused, nothing replayed
        assert isinstance(app.screen, AskScreen)
        assert "audit trail" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
        await actions_finished(pilot)
        assert actions_asked(app) == ["count_matching"]
        assert [task_state(paycon.db_path, t)[0] for t in dead_a + dead_b] == ["dead"] * 5

        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        # A task for gateway_b dies while the operator reads "Replay 2": it is not replayed.
        await accept_deposits(paycon, 1, gateway="gateway_b")
        [died_since] = set(submit_task_ids(paycon.db_path, "gateway_b")) - set(dead_b)
        kill(paycon.db_path, [died_since])
        await pilot.press(*"B is back", "enter")
        await until(pilot, lambda: listed(app) == [died_since], what="only the counted replayed")
        assert [e["reason"] for e in (await api_task(paycon, dead_b[0]))["audit"]] == ["B is back"]
        assert [task_state(paycon.db_path, t) for t in dead_b] == [("pending", 0)] * 2
        assert [task_state(paycon.db_path, t)[0] for t in dead_a] == ["dead"] * 3
        assert task_state(paycon.db_path, died_since)[0] == "dead"
        assert (await app.ctx.facade.count_matching(TaskQuery(state="dead"))).matching == 4
        assert "Replayed 2 dead tasks for gateway_b." in list(app._notifications)[-1].message

        # Running tasks cannot be replayed: the key is shown greyed and does nothing.
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: app.screen.query_one("#states", Tabs).active == "running")
        assert not app.screen.active_bindings["R"].enabled
        asked = actions_asked(app)
        await pilot.press("R", "left_square_bracket")  # once the tab moves, R was handled
        await until(pilot, lambda: app.screen.query_one("#states", Tabs).active == "pending")
        await actions_finished(pilot)
        assert actions_asked(app) == asked


async def test_task_detail_opened_by_id_shows_payload_error_audit_and_replays(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    [transaction_id] = await accept_deposits(paycon, 1, gateway="gateway_a")
    [task_id] = submit_task_ids(paycon.db_path)
    kill(paycon.db_path, [task_id])
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: listed(app) == [task_id])
        await filter_by(pilot, str(task_id))
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        await until(pilot, lambda: f'"transaction_id": "{transaction_id}"' in screen_text(app))
        shown = screen_text(app)
        assert "GatewayTransient: 502 from gateway" in shown
        assert "state     dead" in shown
        await pilot.press("r")
        await until(pilot, lambda: table_keys(app, "#audit") == ["0"], what="the audit entry")
        assert "replayed from the console" in screen_text(app)
        assert task_state(paycon.db_path, task_id) == ("pending", 0)
        await pilot.press("t")
        await until(pilot, lambda: getattr(app.screen, "transaction_id", None) == transaction_id)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert app.screen.query_one("#filter", Input).value == ""


async def test_a_refresh_after_paging_past_one_read_keeps_every_row_and_the_cursor(
    paycon: RunningPaycon, console: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OutboxScreen, "PAGE_ROWS", 200)
    seeded = seed_dead_tasks(paycon.db_path, 600, gateway="gateway_a")
    assert len(seeded) - 1 > OutboxScreen.READ_MAX_ROWS  # a refresh takes more than one read
    newest, oldest = seeded[-1], seeded[0]
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(listed(app)) == 200)
        await pilot.press("n")
        await until(pilot, lambda: len(listed(app)) == 400, what="page two")
        await pilot.press("n")
        await until(pilot, lambda: listed(app) == seeded[::-1], what="page three")
        await pilot.press("ctrl+end")
        assert cursor_key(app, "#tasks") == str(oldest)

        # Someone else closes the newest task; the operator refreshes.
        sql(paycon.db_path, "UPDATE outbox_tasks SET state = 'done' WHERE id = ?", newest)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: listed(app)[:1] != [newest], what="the refresh")
        assert listed(app) == seeded[-2::-1]
        assert cursor_key(app, "#tasks") == str(oldest)
        assert summary(app) == "599 shown · dead tasks"

        # A task replayed off the list: the cursor stays in its place, on the next one down.
        await pilot.press("up", "up")
        replayed = seeded[2]
        assert cursor_key(app, "#tasks") == str(replayed)
        await pilot.press("r")
        await until(pilot, lambda: str(replayed) not in table_keys(app, "#tasks"), what="replay")
        assert listed(app) == [*seeded[-2:2:-1], seeded[1], oldest]
        assert cursor_key(app, "#tasks") == str(seeded[1])


async def test_a_gateway_filter_finds_its_tasks_behind_thousands_of_another_gateways(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    # Two dead tasks for gateway_b, then thousands for gateway_a.
    on_b = seed_dead_tasks(paycon.db_path, 2, gateway="gateway_b")
    seed_dead_tasks(paycon.db_path, 5000, gateway="gateway_a")
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(listed(app)) == 50)
        await filter_by(pilot, "gateway:gateway_b")
        await until(pilot, lambda: listed(app) == on_b[::-1], what="the tasks further back")
        assert summary(app) == "2 shown · dead tasks for gateway_b"
        # The filter is the tasks' resource column: one index range, the whole answer.
        await pilot.press("ctrl+r")
        await until(pilot, lambda: listed(app) == on_b[::-1], what="a refresh")
        assert summary(app) == "2 shown · dead tasks for gateway_b"
