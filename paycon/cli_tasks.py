"""``paycon tasks``: operators' outbox commands on the local database, without the console.

Every command opens the database named by the settings (as ``paycon run``
does), acts through the same use cases as the operator API and the console,
and closes it again. Actions are audited as ``cli:<os user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from outbox import Attempt, AuditEntry, Task, TaskState
from paycon.config import Settings
from paycon.domain.errors import Conflict, InvalidInput, NotFound
from paycon.storage.database import Database, DatabaseUnavailable
from paycon.usecases.operations import OutboxOperations
from paycon.views import stats_json, task_detail_json, task_json

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130

EXIT_STATUS = """\
exit status:
  0  done
  1  refused: no such task, or its state does not allow the action
     (replaying a done task, discarding one that is not dead), or not confirmed
  2  usage error or invalid configuration
  3  the database cannot be opened or read

Actions are audited as cli:<your user name> with the reason given. A running
paycon picks replayed tasks up at its next poll (within a second or so)."""

DEFAULT_REASON = "replayed by an operator"
PAGE_LIMIT = 500
MAX_ACTOR_CHARS = 64
ERROR_CHARS = 60
# Wide enough for a table row without wrapping when output goes to a pipe or file.
PIPE_WIDTH = 200

_TASK_ID = re.compile(r"[1-9][0-9]{0,17}")

ConfigOption = Callable[[argparse.ArgumentParser], None]


# --- arguments ----------------------------------------------------------------


def _task_id(text: str) -> int:
    if not _TASK_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a task id: {text!r} (a positive integer)")
    return int(text)


def _limit(text: str) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= PAGE_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a number from 1 to {PAGE_LIMIT}")
    return int(text)


def _reason(text: str) -> str:
    if not text.strip() or len(text) > 255:
        raise argparse.ArgumentTypeError("a reason is 1 to 255 characters, not only spaces")
    return text


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon tasks`` and its actions; ``config_option`` adds ``--config``."""
    tasks = commands.add_parser(
        "tasks",
        help="list, show, replay and discard outbox tasks in the local database",
        description="Operators' outbox commands, working on the database in the config "
        "(PAYCON_DATABASE_URL overrides it), with or without paycon running.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = tasks.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(
            name,
            help=help_text,
            description=description,
            epilog=EXIT_STATUS,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        config_option(parser)
        return parser

    listing = action("list", "tasks newest first", "Tasks newest first, a page at a time.")
    listing.add_argument("--state", choices=[s.value for s in TaskState])
    listing.add_argument("--kind", help="only tasks of this kind (e.g. submit)")
    listing.add_argument("--limit", type=_limit, default=50, help="tasks per page (1-500; 50)")
    listing.add_argument("--cursor", help="where the previous page ended (its hint line)")
    listing.add_argument("--json", action="store_true", help="the operator API's JSON")

    show = action(
        "show",
        "a task with its attempts and audit trail",
        "A task (payload masked), its attempts and its audit trail.",
    )
    show.add_argument("id", type=_task_id, help="task id")
    show.add_argument("--json", action="store_true", help="the operator API's JSON")

    replay = action(
        "replay",
        "run a task again, or every task matching a filter",
        "paycon tasks replay ID: a dead task runs again with fresh attempts, a scheduled "
        "one runs now.\npaycon tasks replay --state dead [--kind K] [--gateway G]: the same "
        "for every matching task,\nafter a confirmation that states how many match.",
    )
    replay.add_argument("id", type=_task_id, nargs="?", help="task id (or use --state)")
    replay.add_argument("--state", choices=["dead", "pending"], help="replay every such task")
    replay.add_argument("--kind", help="with --state: only tasks of this kind")
    replay.add_argument("--gateway", help="with --state: only submit tasks bound for it")
    replay.add_argument("--reason", type=_reason, default=DEFAULT_REASON, help="for the audit")
    replay.add_argument("--yes", action="store_true", help="with --state: do not ask")

    discard = action(
        "discard",
        "give up a dead task (someone dealt with it by hand)",
        "Close a dead task as done without running it; its last error is kept.",
    )
    discard.add_argument("id", type=_task_id, help="task id")
    discard.add_argument("--reason", type=_reason, required=True, help="why, for the audit")

    stats = action(
        "stats",
        "counts by state, backlog, oldest due age, done/s",
        "Outbox figures: tasks by state, the backlog, how long the oldest due task has "
        "waited, and tasks done per second over the last minute.",
    )
    stats.add_argument("--json", action="store_true", help="the operator API's JSON")


# --- running --------------------------------------------------------------------


class _Refused(Exception):
    """The command cannot go on; ``status`` is its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


Action = Callable[[argparse.Namespace, OutboxOperations, Settings], Awaitable[int]]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``paycon tasks`` action; returns the exit status (see EXIT_STATUS)."""
    action = _ACTIONS[args.tasks_command]
    try:
        _check_usage(args)
        return asyncio.run(_with_operations(settings, lambda ops: action(args, ops, settings)))
    except _Refused as exc:
        return _fail(str(exc), exc.status)
    except NotFound as exc:
        return _fail(f"{exc.detail}; `paycon tasks list` shows the ids", EXIT_REFUSED)
    except Conflict as exc:
        return _fail(exc.detail, EXIT_REFUSED)
    except InvalidInput as exc:
        return _fail(exc.detail, EXIT_USAGE)
    except DatabaseUnavailable as exc:
        return _fail(f"{exc}; check database.url or PAYCON_DATABASE_URL", EXIT_UNAVAILABLE)
    except SQLAlchemyError as exc:
        return _fail(
            f"database error: {exc}; check that the database is readable and not locked",
            EXIT_UNAVAILABLE,
        )
    except KeyboardInterrupt:
        # A bulk replay commits in chunks: what was committed stays replayed.
        return _fail("interrupted; `paycon tasks list` shows where things stand", EXIT_INTERRUPTED)


def _fail(message: str, status: int) -> int:
    print(f"paycon: {' '.join(message.split())}", file=sys.stderr)
    return status


def _check_usage(args: argparse.Namespace) -> None:
    if args.tasks_command != "replay":
        return
    filters = [f"--{name}" for name in ("state", "kind", "gateway") if getattr(args, name)]
    if args.id is not None and (filters or args.yes):
        raise _Refused(
            "paycon tasks replay takes a task ID or a filter, not both "
            f"({', '.join(filters) or '--yes'})",
            EXIT_USAGE,
        )
    if args.id is None and args.state is None:
        raise _Refused(
            "paycon tasks replay needs a task ID, or --state dead (with --kind, --gateway) "
            "to replay every matching task",
            EXIT_USAGE,
        )


async def _with_operations(
    settings: Settings, work: Callable[[OutboxOperations], Awaitable[int]]
) -> int:
    db = Database(settings.database)
    missing = _missing_sqlite_file(db)
    if missing is not None:
        raise _Refused(
            f"no database at {missing}: start paycon once (paycon run) to create it, "
            "or point --config or PAYCON_DATABASE_URL at yours",
            EXIT_UNAVAILABLE,
        )
    await db.open()
    try:
        return await work(OutboxOperations(db))
    finally:
        await db.close()


def _missing_sqlite_file(db: Database) -> Path | None:
    """The SQLite file the settings name when it does not exist (reading must not create one)."""
    if not db.is_sqlite or db.url.database in (None, "", ":memory:"):
        return None
    path = Path(str(db.url.database))
    return None if path.exists() else path


def cli_actor() -> str:
    """``cli:<os user name>`` for the audit trail; ``cli:unknown`` when there is none."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        return "cli:unknown"
    return f"cli:{user}"[:MAX_ACTOR_CHARS] if user.strip() else "cli:unknown"


def _console() -> Console:
    # Plain text (no colour, no markup in task data) when not on a terminal.
    console = Console(markup=False, highlight=False, emoji=False)
    if not console.is_terminal:
        console = Console(markup=False, highlight=False, emoji=False, width=PIPE_WIDTH)
    return console


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


# --- actions --------------------------------------------------------------------


async def _list(args: argparse.Namespace, ops: OutboxOperations, _settings: Settings) -> int:
    state = TaskState(args.state) if args.state else None
    page = await ops.tasks(state=state, kind=args.kind, limit=args.limit, cursor=args.cursor)
    if args.json:
        _print_json({"items": [task_json(t) for t in page.items], "next_cursor": page.next_cursor})
        return EXIT_OK
    console = _console()
    if not page.items:
        console.print("no tasks" + _filter_text(args.state, args.kind, None))
        return EXIT_OK
    console.print(_task_table(page.items))
    if page.next_cursor is not None:
        console.print(f"more: paycon tasks list {_list_flags(args)}--cursor {page.next_cursor}")
    return EXIT_OK


def _task_table(tasks: tuple[Task, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("id", "kind", "state", "attempts", "run at"):
        table.add_column(name, no_wrap=True, justify="right" if name == "id" else "left")
    table.add_column("last error", no_wrap=True, overflow="ellipsis")
    for task in tasks:
        table.add_row(
            str(task.id),
            task.kind,
            task.state.value,
            f"{task.attempts}/{task.max_attempts}",
            _when(task.run_at),
            _shorten(task.last_error),
        )
    return table


def _list_flags(args: argparse.Namespace) -> str:
    flags = [f"--{name} {getattr(args, name)}" for name in ("state", "kind") if getattr(args, name)]
    if args.limit != 50:
        flags.append(f"--limit {args.limit}")
    return "".join(f"{flag} " for flag in flags)


async def _show(args: argparse.Namespace, ops: OutboxOperations, _settings: Settings) -> int:
    detail = await ops.task(args.id)
    if args.json:
        _print_json(task_detail_json(detail))
        return EXIT_OK
    task = detail.task
    console = _console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    lease = f"{task.lease_owner} until {_when(task.lease_expires_at)}" if task.lease_owner else "-"
    for name, value in (
        ("task", f"{task.id} ({task.kind})"),
        ("state", task.state.value),
        ("attempts", f"{task.attempts}/{task.max_attempts}"),
        ("run at", _when(task.run_at)),
        ("dedupe key", task.dedupe_key or "-"),
        ("lease", lease),
        ("created", _when(task.created_at)),
        ("updated", _when(task.updated_at)),
        ("last error", task.last_error or "-"),
    ):
        facts.add_row(name, value)
    console.print(facts)
    console.print("\npayload (masked):")
    console.print(json.dumps(task_json(task)["payload"], indent=2, sort_keys=True))
    console.print()
    console.print(_attempts_table(detail.attempts) if detail.attempts else "no attempts yet")
    console.print()
    console.print(_audit_table(detail.audit) if detail.audit else "no operator actions")
    return EXIT_OK


def _attempts_table(attempts: tuple[Attempt, ...]) -> Table:
    table = Table(
        title="attempts", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for name in ("#", "started", "outcome", "duration", "error"):
        table.add_column(name, no_wrap=name != "error")
    for attempt in attempts:
        error = ": ".join(p for p in (attempt.error_class, attempt.error_message) if p)
        table.add_row(
            str(attempt.number),
            _when(attempt.started_at),
            "running" if attempt.outcome is None else attempt.outcome.value,
            "-" if attempt.duration_ms is None else f"{attempt.duration_ms} ms",
            error or "-",
        )
    return table


def _audit_table(audit: tuple[AuditEntry, ...]) -> Table:
    table = Table(
        title="audit", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for name in ("at", "actor", "action", "reason", "detail"):
        table.add_column(name, no_wrap=name in ("at", "actor", "action"))
    for entry in audit:
        table.add_row(_when(entry.at), entry.actor, entry.action, entry.reason, entry.detail or "-")
    return table


async def _replay(args: argparse.Namespace, ops: OutboxOperations, settings: Settings) -> int:
    if args.id is None:
        return await _replay_matching(args, ops, settings)
    task = await ops.replay(args.id, actor=cli_actor(), reason=args.reason)
    _console().print(
        f"task {task.id} replayed: {task.state.value}, "
        f"attempts {task.attempts}/{task.max_attempts}, runs at {_when(task.run_at)}"
    )
    return EXIT_OK


async def _replay_matching(
    args: argparse.Namespace, ops: OutboxOperations, settings: Settings
) -> int:
    state = TaskState(args.state)
    console = _console()
    described = _filter_text(args.state, args.kind, args.gateway)
    count = await ops.count_matching(state=state, kind=args.kind, gateway=args.gateway)
    if count == 0:
        known = ", ".join(sorted(settings.gateways))
        hint = (
            f" (configured gateways: {known})"
            if args.gateway not in (None, *settings.gateways)
            else ""
        )
        console.print(f"no tasks match{described}{hint}; nothing replayed")
        return EXIT_OK
    matches = "task matches" if count == 1 else "tasks match"
    console.print(f"{count} {matches}{described}")
    if not args.yes:
        _confirm(f"replay them, reason {args.reason!r}? [y/N] ")
    replayed = await ops.replay_matching(
        state=state, kind=args.kind, gateway=args.gateway, actor=cli_actor(), reason=args.reason
    )
    console.print(f"replayed {replayed} {_tasks(replayed)}")
    return EXIT_OK


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise _Refused("not replayed: confirm with --yes when not on a terminal", EXIT_USAGE)
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise _Refused("not replayed: not confirmed", EXIT_REFUSED)


async def _discard(args: argparse.Namespace, ops: OutboxOperations, _settings: Settings) -> int:
    task = await ops.discard(args.id, actor=cli_actor(), reason=args.reason)
    _console().print(f"task {task.id} discarded: {task.state.value}, last error kept")
    return EXIT_OK


async def _stats(args: argparse.Namespace, ops: OutboxOperations, _settings: Settings) -> int:
    stats = await ops.stats()
    if args.json:
        _print_json(stats_json(stats))
        return EXIT_OK
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    for state, count in stats.counts.items():
        table.add_row(state.value, str(count))
    table.add_row("backlog", str(stats.backlog))
    oldest = stats.oldest_due_age_s
    table.add_row("oldest due", "-" if oldest is None else f"waiting {_age(oldest)}")
    table.add_row("done/s", f"{stats.done_per_s:.2f} (last {stats.window_s:.0f} s)")
    _console().print(table)
    return EXIT_OK


_ACTIONS: dict[str, Action] = {
    "list": _list,
    "show": _show,
    "replay": _replay,
    "discard": _discard,
    "stats": _stats,
}


# --- text -----------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    """UTC to the second: ``2026-11-27 04:48:28Z``."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _age(seconds: float) -> str:
    """``45s``, ``12m 3s``, ``3h 2m``, ``2d 4h``."""
    whole = int(seconds)
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60),
                                      ("m", 60, "s", 1)):  # fmt: skip
        if whole >= size:
            return f"{whole // size}{unit} {whole % size // sub_size}{sub}"
    return f"{seconds:.0f}s"


def _shorten(text: str | None) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _tasks(count: int) -> str:
    return "task" if count == 1 else "tasks"


def _filter_text(state: str | None, kind: str | None, gateway: str | None) -> str:
    parts = [f"{name}={value}" for name, value in
             (("state", state), ("kind", kind), ("gateway", gateway)) if value]  # fmt: skip
    return f" ({', '.join(parts)})" if parts else ""
