"""The ``paycon`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_gateways import cli as mock_cli
from paycon.cli import gateways as cli_gateways
from paycon.cli import ledger as cli_ledger
from paycon.cli import reconcile as cli_reconcile
from paycon.cli import tasks as cli_tasks
from paycon.cli import transactions as cli_transactions
from paycon.cli.tasks import TOKEN_ENV
from paycon.config import DEFAULT_CONFIG_PATH, Settings, ensure_config_file, load_settings
from paycon.domain.errors import (
    ConfigError,
    Forbidden,
    PayconError,
    PortUnavailable,
    Unauthorized,
)
from paycon.domain.masking import mask_key
from paycon.logs import LogBuffer, setup_file_logging, setup_logging
from paycon.storage.database import DatabaseUnavailable

if TYPE_CHECKING:
    from paycon.runtime.service import Service

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3

LOG_FILE_NAME = "paycon.log"
# Files 0600, folders 0700.
PRIVATE_UMASK = 0o077

RUN_DESCRIPTION = """\
Start paycon: the HTTP API, the outbox workers and (unless mock_gateways = "off")
the mock gateways A and B on loopback.

On a terminal the operator console runs in the same process. While it is open,
logs go to a file (--log-file) and to the console's log panel (l), never to
the screen; quitting the console (ctrl+q) stops paycon. Without a terminal
(stdin or stdout redirected), or with --headless, paycon logs to stderr.

Either way SIGINT and SIGTERM stop it cleanly: no new requests, in-flight ones
finish, running outbox tasks finish or are given back, the database is closed."""

RUN_EPILOG = f"""\
--demo: a few demo payments per second (deposits; withdrawals once a customer
has funds) go through the API with the first client key, while the embedded
mock gateways' faults change every 25-40 s: calm, gateway A erring 30%, A down
answering 503 (once its breaker opens, new payments go to B), calm, B dropping its callbacks
(status checks settle those payments), and again; every minute it reconciles each
gateway's settlement report of the day (paycon reconcile). It needs the embedded mocks
and writes real rows to the configured database: use a development one.

examples:
  paycon run                          the console on this terminal (make run adds --demo)
  paycon run --headless               a server: logs on stderr, stop with SIGTERM
  paycon run --demo --port 0          demo traffic on a free port
  PAYCON_DATABASE_URL=sqlite+aiosqlite:////tmp/demo.db paycon run --demo

exit status:
  0  clean stop
  1  the console failed (its error is printed)
  {EXIT_CONFIG}  invalid configuration (the message names the setting)
  {EXIT_UNAVAILABLE}  the database or a port cannot be used"""

CONSOLE_DESCRIPTION = """\
Open the operator console on a paycon running elsewhere (for example
`paycon run --headless`), through its operator API. The URL and the token are
checked with one request before the console opens."""

CONSOLE_EPILOG = f"""\
The token is an operator API key (auth.operator_api_keys in the config file).
Prefer the {TOKEN_ENV} environment variable to --token: shell
history and `ps` keep command lines. For a paycon started from this folder:

  export {TOKEN_ENV}=$(grep -o 'ok_[A-Za-z0-9_-]*' data/paycon.toml | head -n 1)
  paycon console --url http://127.0.0.1:8080

exit status:
  0  the console was closed
  1  the console failed (its error is printed)
  {EXIT_CONFIG}  usage error, or the token is refused
  {EXIT_UNAVAILABLE}  paycon cannot be reached at the URL"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paycon",
        description="Payment processing service with a transactional outbox and an "
        "operations console.",
        epilog="Settings come from the config file, overridden by PAYCON_* environment "
        "variables, overridden by these flags.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="start the service (API, workers; the console on a terminal)",
        description=RUN_DESCRIPTION,
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _config_option(run)
    run.add_argument("--headless", action="store_true", help="no console; log to stderr")
    run.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks one)")
    run.add_argument("--workers", type=int, help="outbox workers (default 8; 0: API only)")
    run.add_argument(
        "--demo",
        action="store_true",
        help="post demo payments and cycle the mock gateways' faults (see below)",
    )
    run.add_argument(
        "--read-only", action="store_true", help="a console without actions (replay, faults, ...)"
    )
    run.add_argument(
        "--log-file",
        type=Path,
        metavar="FILE",
        help=f"where logs go while the console is open (default {LOG_FILE_NAME} next to the "
        "config file); headless, logs go to stderr",
    )

    console = commands.add_parser(
        "console",
        help="the console attached to a running paycon through its operator API",
        description=CONSOLE_DESCRIPTION,
        epilog=CONSOLE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    console.add_argument(
        "--url", required=True, help="the running paycon's base URL (http://127.0.0.1:8080)"
    )
    console.add_argument("--token", help=f"an operator API key (default: ${TOKEN_ENV})")
    console.add_argument(
        "--read-only", action="store_true", help="hide actions (replay, discard, faults, ...)"
    )

    mocks = commands.add_parser(
        "mock-gateways",
        help="run the mock gateways A and B alone, for developing against them",
        description="Fake payment gateways A (JSON) and B (XML) with switchable faults. "
        "Secrets default to PAYCON_GATEWAY_A/B_SECRET, else to the paycon config's.",
    )
    mock_cli.add_arguments(mocks)
    _config_option(mocks)

    show = commands.add_parser(
        "config", help="print where the config is and the effective settings (keys masked)"
    )
    _config_option(show)
    show.add_argument(
        "--show-keys",
        action="store_true",
        help="print the API keys and the webhook secrets whole (encryption, fingerprint and"
        " gateway secrets stay masked)",
    )

    cli_tasks.add_parser(commands, _config_option)
    cli_gateways.add_parser(commands, _config_option)
    cli_transactions.add_parser(commands, _config_option)
    cli_ledger.add_parser(commands, _config_option)
    cli_reconcile.add_parser(commands, _config_option)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG_PATH,
        metavar="FILE",
        help=f"TOML config file; created with new keys if missing (default {DEFAULT_CONFIG_PATH})",
    )


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    if getattr(args, "url", None) and not args.config.exists():
        # A client of a remote paycon needs no local config, and must not create one.
        return Settings()
    created = ensure_config_file(args.config)
    overrides = dict(environ)
    for flag, name in (("host", "PAYCON_HOST"), ("port", "PAYCON_PORT"),
                       ("workers", "PAYCON_WORKERS")):  # fmt: skip
        value = getattr(args, flag, None)
        if value is not None:
            overrides[name] = str(value)
    settings = load_settings(args.config, overrides)
    if created:
        # A console about to take the screen shows the key itself (printed now, it
        # would be seen only on quitting).
        console = args.command == "run" and not args.headless and _on_terminal()
        print(_created_message(args.config, settings, show_key=not console), file=sys.stderr)
    return settings


def _created_message(config: Path, settings: Settings, *, show_key: bool) -> str:
    """What a first run says: the new file, and the client key this once (unless the
    console shows it)."""
    lines = [f"paycon: created {config} with new API keys and secrets"]
    keys = settings.auth.client_api_keys
    if keys and show_key:
        # Shown once, when it is made: later starts say where it is, never the key itself.
        lines.append(f"paycon: client API key: {keys[0]}")
        lines.append(f"paycon: {_where_keys_are(config)}")
    return "\n".join(lines)


def _where_keys_are(config: Path) -> str:
    option = "" if config == DEFAULT_CONFIG_PATH else f" --config {config}"
    return (
        f"the API keys are in {config} (auth.client_api_keys); "
        f"`paycon config{option} --show-keys` prints them"
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.demo and settings.mock_gateways != "embedded":
        print(
            "paycon: --demo needs the embedded mock gateways, but mock_gateways is "
            f'"{settings.mock_gateways}": set PAYCON_MOCK_GATEWAYS=embedded, or drop --demo',
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if args.demo and not settings.notify.allow_private:
        # The demo is local development: notify_urls on this machine are fine.
        notify = settings.notify.model_copy(update={"allow_private": True})
        settings = settings.model_copy(update={"notify": notify})
    with_console = not args.headless and _on_terminal()
    if not args.headless and not with_console:
        print("paycon: not on a terminal; running headless (logs on stderr)", file=sys.stderr)
    # The service (aiohttp, the API, the workers) loads only for commands that run it.
    from paycon.runtime import session
    from paycon.runtime.demo import demo_for
    from paycon.runtime.service import Service

    service = Service(settings)
    demo = demo_for if args.demo else None

    def announce() -> None:
        # With the console the key is shown there: printed now, it would be seen only on quitting.
        _announce(service, settings, args.config)

    if not with_console:
        setup_logging(settings.log_level)
        return _serving(settings, session.serve_headless(service, demo=demo, on_ready=announce))
    log_path = args.log_file or args.config.parent / LOG_FILE_NAME
    try:
        log_handler = _console_logging(settings, log_path)
    except OSError as exc:
        print(f"paycon: cannot write the log file {log_path}: {exc.strerror or exc}; "
              "choose another with --log-file", file=sys.stderr)  # fmt: skip
        return EXIT_UNAVAILABLE
    buffer = LogBuffer()
    logging.getLogger().addHandler(buffer)
    with contextlib.closing(log_handler):
        status = _serving(
            settings,
            session.serve_console(
                service,
                actor=cli_tasks.cli_actor("console"),
                read_only=args.read_only,
                logs=buffer,
                demo=demo,
                on_ready=announce,
                key_kept_in=str(args.config),
            ),
        )
    stopped = "stopped; " if status in (EXIT_OK, EXIT_FAILED) else ""
    print(f"paycon: {stopped}logs are in {log_path}", file=sys.stderr)
    return status


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _console_logging(settings: Settings, path: Path) -> logging.Handler:
    """Logs to ``path`` (rotated) while the console owns the terminal; returns its handler."""
    handler = setup_file_logging(settings.log_level, path)
    logging.captureWarnings(True)  # warnings, too, stay off the console's screen
    return handler


def _serving(settings: Settings, serve: Coroutine[Any, Any, int | None]) -> int:
    """Run ``serve`` to the end; map start-up failures to exit statuses with one line."""
    try:
        status = asyncio.run(serve)
    except ConfigError as exc:
        print(f"paycon: {exc.detail}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        print(f"paycon: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except PortUnavailable as exc:
        print(f"paycon: {exc.detail}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        print(
            f"paycon: cannot listen on {settings.server.host}:{settings.server.port}: "
            f"{exc.strerror or exc}; choose another with --port or PAYCON_PORT",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    return EXIT_OK if not status else EXIT_FAILED


def _announce(service: Service, settings: Settings, config: Path) -> None:
    keys = settings.auth.client_api_keys
    lines = [f"paycon: serving {service.url} (config {config})"]
    if keys:
        lines.append(f"paycon: {_where_keys_are(config)}")
    else:
        lines.append("paycon: no client API keys configured: set auth.client_api_keys")
    lines.append(f"paycon: API description at {service.url}/openapi.json")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _show_config(args: argparse.Namespace, settings: Settings) -> int:
    print(f"config file: {args.config.resolve()}")
    data = settings.model_dump(mode="json")
    auth = data["auth"]
    if not args.show_keys:
        for name in ("client_api_keys", "operator_api_keys"):
            auth[name] = [mask_key(k) for k in auth[name]]
        data["notify"]["webhook_secrets"] = ["…" for _ in data["notify"]["webhook_secrets"]]
    for name in ("encryption_keys", "fingerprint_keys"):
        data["security"][name] = ["…" for _ in data["security"][name]]
    from paycon.runtime.gateway_wiring import (
        DEFAULT_PROTOCOLS,  # the effective protocol, not a blank
    )

    for name, gateway in data["gateways"].items():
        gateway["secret"] = "…"  # noqa: S105 - masking, not a password
        gateway["protocol"] = gateway["protocol"] or DEFAULT_PROTOCOLS.get(name)
    # Readable as printed: "pk_-Ri…5i8Y", not "pk_-Ri\u20265i8Y".
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return EXIT_OK


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``paycon`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    # Whatever paycon creates (data/, the database, its WAL, logs) is for its owner only.
    os.umask(PRIVATE_UMASK)
    environ = os.environ if environ is None else environ
    if args.command == "console":  # a client of another paycon: no config of its own
        return _attach(args, environ)
    try:
        settings = _settings(args, environ)
    except ConfigError as exc:
        print(f"paycon: {exc.detail}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "run":
        return _run(args, settings)
    if args.command == "mock-gateways":
        return _run_mocks(args, settings, environ)
    if args.command == "tasks":
        return cli_tasks.run(args, settings, environ)
    if args.command == "gateways":
        return cli_gateways.run(args, settings, environ)
    if args.command == "transactions":
        return cli_transactions.run(args, settings, environ)
    if args.command == "ledger":
        return cli_ledger.run(args, settings)
    if args.command == "reconcile":
        return cli_reconcile.run(args, settings)
    return _show_config(args, settings)


def _attach(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    token = args.token or environ.get(TOKEN_ENV, "")
    if not token:
        print(f"paycon: an operator API key is needed: set {TOKEN_ENV} (or --token)",
              file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    problem = cli_tasks.url_problem(args.url)
    if problem:
        print(f"paycon: --url {args.url!r}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    # Nothing may write to the terminal the console draws on: logs go to its panel only.
    buffer = LogBuffer()
    logging.getLogger().handlers[:] = [buffer]
    logging.getLogger().setLevel(logging.INFO)
    logging.captureWarnings(True)
    from paycon.runtime import session

    try:
        status = asyncio.run(session.attach_remote(args.url, token, read_only=args.read_only,
                                                   logs=buffer))  # fmt: skip
    except Unauthorized as exc:
        print(f"paycon: {exc.detail}; give one of its operator API keys "
              "(auth.operator_api_keys)", file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    except Forbidden as exc:
        print(f"paycon: {exc.detail}", file=sys.stderr)
        return EXIT_CONFIG
    except PayconError as exc:  # unreachable, or not a paycon operator API at that URL
        print(f"paycon: {exc.detail}; is paycon running at {args.url}?", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return EXIT_OK if not status else EXIT_FAILED


def _run_mocks(args: argparse.Namespace, settings: Settings, environ: Mapping[str, str]) -> int:
    setup_logging(settings.log_level)
    # Unless told otherwise, sign callbacks with the secrets paycon verifies them with.
    for name, attr in (("gateway_a", "secret_a"), ("gateway_b", "secret_b")):
        env = f"PAYCON_{name.upper()}_SECRET"
        if getattr(args, attr) is None and env not in environ and name in settings.gateways:
            setattr(args, attr, settings.gateways[name].secret)
    return mock_cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
