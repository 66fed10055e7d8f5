"""Replay and discard of one task, shared by the outbox list and the task's own screen."""

from __future__ import annotations

from textual import work

from paycon.models.outbox import OutboxTaskOut
from paycon.tui.screens.base import CONSOLE_REPLAY_REASON, ConsoleScreen
from paycon.tui.screens.modals import AskScreen

# What each single-task action needs of the task's state.
REPLAYABLE = ("dead", "pending")
DISCARDABLE = ("dead",)


class TaskActionScreen(ConsoleScreen):
    """A screen that can replay (``r``) and discard (``x``) a task; greys them when they
    cannot apply to the task's state."""

    @staticmethod
    def task_action_allowed(action: str, task: OutboxTaskOut | None) -> bool | None:
        """True when ``action`` fits ``task``; None (shown, greyed) when it does not."""
        states = REPLAYABLE if action == "replay" else DISCARDABLE
        return True if task is not None and task.state in states else None

    def after_task_action(self) -> None:
        """Read again what the action changed (screens that show tasks override this)."""

    def _acted(self) -> None:
        # The operator may have left the screen, or closed the console, meanwhile.
        if self.is_attached:
            self.after_task_action()

    @work(group="actions")
    async def replay_task(self, task_id: int) -> None:
        """A dead task runs again with fresh attempts; a scheduled one runs now."""
        if self.ctx.read_only:
            return
        task = await self.attempt(
            self.ctx.facade.replay(task_id, reason=CONSOLE_REPLAY_REASON),
            doing=f"replay task {task_id}",
        )
        if task is not None:
            self.notify(
                f"Task {task_id} is {task.state} again, attempts {task.attempts}/"
                f"{task.max_attempts}.",
                title="Replayed",
                markup=False,
            )
        self._acted()

    @work(group="actions")
    async def discard_task(self, task_id: int) -> None:
        """Close a dead task for good, after asking why (the reason is audited)."""
        if self.ctx.read_only:
            return
        reason = await self.app.push_screen_wait(
            AskScreen(
                f"Discard task {task_id}",
                "The task will not run again; its last error is kept. Why is it discarded?",
                placeholder="for example: refunded by hand, ticket OPS-123",
            )
        )
        if reason is None:
            return
        task = await self.attempt(
            self.ctx.facade.discard(task_id, reason=reason), doing=f"discard task {task_id}"
        )
        if task is not None:
            self.notify(f"Task {task_id} discarded.", title="Discarded", markup=False)
        self._acted()
