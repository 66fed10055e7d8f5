"""``paycon tasks``: operators' outbox commands, without the console.

Every command acts through the operator facade, as the console does. Without
``--url`` it opens the database named by the settings (as ``paycon run`` does),
acts through the use cases (``LocalFacade``) and closes it again; actions are
audited as ``cli:<os user>``. With ``--url`` it acts on a running paycon
through its operator API (``RemoteFacade``), audited as the operator key. Both
print the same: the operator API's JSON, or tables made from it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from outbox import TaskState, task_id_from_text
from paycon.config import Settings
from paycon.domain.errors import (
    ConfigError,
    Conflict,
    FacadeUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    PayconError,
    Unauthorized,
)
from paycon.domain.reasons import REASON_RULE, check_reason
from paycon.facade.protocol import OperatorFacade
from paycon.models.gateways import FaultChangeOut
from paycon.models.outbox import OutboxAttemptOut, OutboxAuditOut, OutboxTaskOut, OutboxTaskPageOut
from paycon.models.queries import TaskQuery
from paycon.storage.database import Database, DatabaseUnavailable

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130

TOKEN_ENV = "PAYCON_OPERATOR_TOKEN"  # noqa: S105 - a variable name, not a secret

EXIT_STATUS = f"""\
exit status:
  0  done
  1  refused: no such task, or its state does not allow the action
     (replaying a done task, discarding one that is not dead), or not confirmed
  2  usage error, invalid configuration, or the operator key was refused
  3  the database cannot be opened or read, or paycon cannot be reached at --url

Without --url, commands work on the local database and actions are audited as
cli:<your user name>; a running paycon picks replayed tasks up at its next poll
(within a second or so). With --url http://HOST:PORT they act on that running
paycon through its operator API with an operator key (--token, or the
{TOKEN_ENV} environment variable, which keeps it out of shell history),
audited as that key and your user name (operator:<key id>/<user>)."""

DEFAULT_REASON = "replayed by an operator"
PAGE_LIMIT = 500
MAX_ACTOR_CHARS = 64
ERROR_CHARS = 60
# Wide enough for a table row without wrapping when output goes to a pipe or file.
PIPE_WIDTH = 200

ConfigOption = Callable[[argparse.ArgumentParser], None]


# --- arguments ----------------------------------------------------------------


def _task_id(text: str) -> int:
    task_id = task_id_from_text(text)
    if task_id is None:
        raise argparse.ArgumentTypeError(f"not a task id: {text!r} (a positive integer)")
    return task_id


def _limit(text: str) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= PAGE_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a number from 1 to {PAGE_LIMIT}")
    return int(text)


def reason_argument(text: str) -> str:
    """An operator's ``--reason``, checked as everywhere else (paycon.domain.reasons)."""
    try:
        return check_reason(text)
    except InvalidInput:
        raise argparse.ArgumentTypeError(f"a reason is {REASON_RULE}") from None


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon tasks`` and its actions; ``config_option`` adds ``--config``."""
    tasks = commands.add_parser(
        "tasks",
        help="list, show, replay and discard outbox tasks (local database, or --url)",
        description="Operators' outbox commands, working on the database in the config "
        "(PAYCON_DATABASE_URL overrides it), with or without paycon running, or with --url "
        "on a running paycon through its operator API.",
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
        remote_options(parser)
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
    replay.add_argument(
        "--reason", type=reason_argument, default=DEFAULT_REASON, help="for the audit"
    )
    replay.add_argument("--yes", action="store_true", help="with --state: do not ask")

    discard = action(
        "discard",
        "give up a dead task (someone dealt with it by hand)",
        "Close a dead task as done without running it; its last error is kept.",
    )
    discard.add_argument("id", type=_task_id, help="task id")
    discard.add_argument("--reason", type=reason_argument, required=True, help="why, for the audit")

    stats = action(
        "stats",
        "counts by state, backlog (due), scheduled, oldest due age, done/s",
        "Outbox figures: tasks by state, the backlog, how long the oldest due task has "
        "waited, and tasks done per second over the last minute.",
    )
    stats.add_argument("--json", action="store_true", help="the operator API's JSON")


def remote_options(parser: argparse.ArgumentParser) -> None:
    """``--url`` and ``--token``: act on a running paycon instead of the local database."""
    parser.add_argument(
        "--url", help="act on the paycon running at this URL (http://127.0.0.1:8080)"
    )
    parser.add_argument("--token", help=f"with --url: an operator API key (default: ${TOKEN_ENV})")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be where a paycon listens (for ``--url``), or None when it can."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "expected http://HOST:PORT or https://HOST"
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:
        return str(exc)
    return None


def remote_target(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(url, token) when ``--url`` is given, None for the local database.

    Raises Refused (usage) for a malformed URL, a missing key, or --token without --url.
    """
    if args.url is None:
        if args.token is not None:
            raise Refused("--token goes with --url (a running paycon's operator API)", EXIT_USAGE)
        return None
    problem = url_problem(args.url)
    if problem is not None:
        raise Refused(f"--url {args.url!r}: {problem}", EXIT_USAGE)
    token = args.token or environ.get(TOKEN_ENV, "")
    if not token:
        raise Refused(f"--url needs an operator API key: set {TOKEN_ENV} (or --token)", EXIT_USAGE)
    return args.url, token


# --- running --------------------------------------------------------------------


class Refused(Exception):
    """The command cannot go on; ``status`` is its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


Action = Callable[[argparse.Namespace, OperatorFacade], Awaitable[int]]


def run(
    args: argparse.Namespace, settings: Settings, environ: Mapping[str, str] | None = None
) -> int:
    """Run one ``paycon tasks`` action; returns the exit status (see EXIT_STATUS).

    ``environ`` supplies PAYCON_OPERATOR_TOKEN for ``--url`` (the process
    environment when not given).
    """
    action = _ACTIONS[args.tasks_command]
    try:
        _check_usage(args)
        target = remote_target(args, os.environ if environ is None else environ)
        return asyncio.run(with_facade(settings, target, lambda facade: action(args, facade)))
    except NotFound as exc:
        return _fail(f"{exc.detail}; `paycon tasks list` shows the ids", EXIT_REFUSED)
    except COMMAND_ERRORS as exc:
        return exit_for(exc, interrupted="`paycon tasks list` shows where things stand")


# What a command may end with, each mapped to an exit status by exit_for.
COMMAND_ERRORS = (Refused, PayconError, DatabaseUnavailable, SQLAlchemyError, KeyboardInterrupt)


def exit_for(exc: BaseException, *, interrupted: str) -> int:
    """The exit status (and one line on stderr) for an error of a local or remote command.

    Raises ``exc`` again when it is not one a command expects.
    """
    if isinstance(exc, Refused):
        return _fail(str(exc), exc.status)
    if isinstance(exc, NotFound | Conflict):
        return _fail(exc.detail, EXIT_REFUSED)
    if isinstance(exc, Unauthorized | Forbidden):
        return _fail(f"{exc.detail}; give one of its auth.operator_api_keys", EXIT_USAGE)
    if isinstance(exc, InvalidInput):
        return _fail(exc.detail + _field_text(exc), EXIT_USAGE)
    if isinstance(exc, ConfigError):
        return _fail(exc.detail, EXIT_USAGE)
    if isinstance(exc, FacadeUnavailable):
        return _fail(exc.detail, EXIT_UNAVAILABLE)
    if isinstance(exc, DatabaseUnavailable):
        return _fail(f"{exc}; check database.url or PAYCON_DATABASE_URL", EXIT_UNAVAILABLE)
    if isinstance(exc, SQLAlchemyError):
        return _fail(
            f"database error: {exc}; check that the database is readable and not locked",
            EXIT_UNAVAILABLE,
        )
    if isinstance(exc, KeyboardInterrupt):
        # A bulk replay commits in chunks: what was committed stays replayed.
        return _fail(f"interrupted; {interrupted}", EXIT_INTERRUPTED)
    raise exc


def _field_text(exc: InvalidInput) -> str:
    return "".join(f"; {e.field}: {e.message}" for e in exc.errors)


def _fail(message: str, status: int) -> int:
    print(f"paycon: {' '.join(message.split())}", file=sys.stderr)
    return status


def _check_usage(args: argparse.Namespace) -> None:
    if args.tasks_command != "replay":
        return
    filters = [f"--{name}" for name in ("state", "kind", "gateway") if getattr(args, name)]
    if args.id is not None and (filters or args.yes):
        raise Refused(
            "paycon tasks replay takes a task ID or a filter, not both "
            f"({', '.join(filters) or '--yes'})",
            EXIT_USAGE,
        )
    if args.id is None and args.state is None:
        raise Refused(
            "paycon tasks replay needs a task ID, or --state dead (with --kind, --gateway) "
            "to replay every matching task",
            EXIT_USAGE,
        )


async def with_facade(
    settings: Settings,
    target: tuple[str, str] | None,
    work: Callable[[OperatorFacade], Awaitable[int]],
) -> int:
    """Run ``work`` on the operator facade: of the local database (actions audited as
    ``cli:<os user>``), or of the paycon at ``target`` (url, token)."""
    if target is not None:
        url, token = target
        from paycon.facade.remote import RemoteFacade, local_operator_name  # httpx: for --url

        remote = RemoteFacade(url, token, operator=local_operator_name())
        try:
            return await work(remote)
        finally:
            await remote.aclose()

    async def local(db: Database) -> int:
        from paycon.facade.local import LocalFacade  # the use cases: only on the database
        from paycon.runtime.offline import offline_desk

        async with offline_desk(settings, db) as desk:
            return await work(LocalFacade(desk, actor=cli_actor(), where=db.safe_url()))

    return await with_database(settings, local)


async def with_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Open the settings' database (never creating a SQLite file), run ``work``, close it."""
    db = Database(settings.database)
    missing = _missing_sqlite_file(db)
    if missing is not None:
        raise Refused(
            f"no database at {missing}: start paycon once (paycon run) to create it, "
            "or point --config or PAYCON_DATABASE_URL at yours",
            EXIT_UNAVAILABLE,
        )
    await db.open()
    try:
        return await work(db)
    finally:
        await db.close()


def _missing_sqlite_file(db: Database) -> Path | None:
    """The SQLite file the settings name when it does not exist (reading must not create one)."""
    if not db.is_sqlite or db.url.database in (None, "", ":memory:"):
        return None
    path = Path(str(db.url.database))
    return None if path.exists() else path


def cli_actor(kind: str = "cli") -> str:
    """``<kind>:<os user name>`` for the audit trail (``cli`` for commands, ``console``
    for the console paycon runs itself); ``<kind>:unknown`` when there is none."""
    try:
        user = getpass.getuser().strip()
    except (OSError, KeyError):
        user = ""
    return f"{kind}:{user or 'unknown'}"[:MAX_ACTOR_CHARS]


def make_console() -> Console:
    """Where commands print: data never read as markup; plain text, 200 wide, off a terminal."""
    console = Console(markup=False, highlight=False, emoji=False)
    if not console.is_terminal:
        console = Console(markup=False, highlight=False, emoji=False, width=PIPE_WIDTH)
    return console


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


# --- actions --------------------------------------------------------------------


async def _list(args: argparse.Namespace, facade: OperatorFacade) -> int:
    page = await facade.tasks(
        TaskQuery(state=args.state, kind=args.kind), limit=args.limit, cursor=args.cursor
    )
    if args.json:
        answer = OutboxTaskPageOut(items=list(page.items), next_cursor=page.next_cursor)
        _print_json(answer.model_dump(mode="json"))
        return EXIT_OK
    console = make_console()
    tasks = page.items
    if not tasks:
        console.print("no tasks" + _filter_text(args.state, args.kind, None))
        return EXIT_OK
    console.print(_task_table(tasks))
    if page.next_cursor is not None:
        console.print(f"more: paycon tasks list {_list_flags(args)}--cursor {page.next_cursor}")
    return EXIT_OK


def _task_table(tasks: Sequence[OutboxTaskOut]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("id", "kind", "state", "attempts", "run at"):
        table.add_column(name, no_wrap=True, justify="right" if name == "id" else "left")
    table.add_column("last error", no_wrap=True, overflow="ellipsis")
    for task in tasks:
        table.add_row(
            str(task.id),
            task.kind,
            task.state,
            f"{task.attempts}/{task.max_attempts}",
            _when(task.run_at),
            _shorten(task.last_error),
        )
    return table


def _list_flags(args: argparse.Namespace) -> str:
    flags = [f"--{name} {getattr(args, name)}" for name in ("state", "kind") if getattr(args, name)]
    if args.limit != 50:
        flags.append(f"--limit {args.limit}")
    if args.url:
        flags.append(f"--url {args.url}")
    return "".join(f"{flag} " for flag in flags)


async def _show(args: argparse.Namespace, facade: OperatorFacade) -> int:
    task = await facade.task(args.id)
    if args.json:
        _print_json(task.model_dump(mode="json"))
        return EXIT_OK
    console = make_console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    lease_until = _when(task.lease_expires_at)
    lease = f"{task.lease_owner} until {lease_until}" if task.lease_owner else "-"
    for name, value in (
        ("task", f"{task.id} ({task.kind})"),
        ("state", task.state),
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
    console.print(json.dumps(dict(task.payload), indent=2, sort_keys=True))
    console.print()
    console.print(_attempts_table(task.attempts_log) if task.attempts_log else "no attempts yet")
    console.print()
    console.print(audit_table(task.audit) if task.audit else "no operator actions")
    return EXIT_OK


def _attempts_table(attempts: Sequence[OutboxAttemptOut]) -> Table:
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
            attempt.outcome or "running",
            "-" if attempt.duration_ms is None else f"{attempt.duration_ms} ms",
            error or "-",
        )
    return table


def audit_table(audit: Sequence[OutboxAuditOut | FaultChangeOut], *, title: str = "audit") -> Table:
    """Audited actions, oldest or newest first as given: when, who, what, why."""
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for name in ("at", "actor", "action", "reason", "detail"):
        table.add_column(name, no_wrap=name in ("at", "actor", "action"))
    for entry in audit:
        table.add_row(
            _when(entry.at), entry.actor, entry.action, entry.reason or "-", entry.detail or "-"
        )
    return table


async def _replay(args: argparse.Namespace, facade: OperatorFacade) -> int:
    if args.id is None:
        return await _replay_matching(args, facade)
    task = await facade.replay(args.id, reason=args.reason)
    make_console().print(
        f"task {task.id} replayed: {task.state}, "
        f"attempts {task.attempts}/{task.max_attempts}, runs at {_when(task.run_at)}"
    )
    return EXIT_OK


async def _replay_matching(args: argparse.Namespace, facade: OperatorFacade) -> int:
    console = make_console()
    described = _filter_text(args.state, args.kind, args.gateway)
    query = TaskQuery(state=args.state, kind=args.kind, gateway=args.gateway)
    matching = await facade.count_matching(query)
    count = matching.matching
    if count == 0:
        hint = ""
        if args.gateway is not None:
            known = [gateway.name for gateway in await facade.gateways()]
            if args.gateway not in known:
                hint = f" (configured gateways: {', '.join(known)})"
        console.print(f"no tasks match{described}{hint}; nothing replayed")
        return EXIT_OK
    matches = "task matches" if count == 1 else "tasks match"
    console.print(f"{count} {matches}{described}")
    if not args.yes:
        _confirm(f"replay them, reason {args.reason!r}? [y/N] ")
    replayed = await facade.replay_matching(query, reason=args.reason, as_of=matching.as_of)
    console.print(f"replayed {replayed} {_tasks(replayed)}")
    return EXIT_OK


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise Refused("not replayed: confirm with --yes when not on a terminal", EXIT_USAGE)
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not replayed: not confirmed", EXIT_REFUSED)


async def _discard(args: argparse.Namespace, facade: OperatorFacade) -> int:
    task = await facade.discard(args.id, reason=args.reason)
    make_console().print(f"task {task.id} discarded: {task.state}, last error kept")
    return EXIT_OK


async def _stats(args: argparse.Namespace, facade: OperatorFacade) -> int:
    stats = await facade.outbox_stats()
    if args.json:
        _print_json(stats.model_dump(mode="json"))
        return EXIT_OK
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    for state, count in stats.counts.model_dump().items():
        table.add_row(state, str(count))
    table.add_row("backlog", str(stats.backlog))
    table.add_row("scheduled", str(stats.scheduled))
    oldest = stats.oldest_due_age_s
    table.add_row("oldest due", "-" if oldest is None else f"waiting {_age(oldest)}")
    table.add_row("done/s", f"{stats.done_per_s:.2f} (last {stats.window_s:.0f} s)")
    make_console().print(table)
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
