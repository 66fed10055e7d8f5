"""The ``paycon`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mock_gateways import cli as mock_cli
from paycon import cli_tasks
from paycon.config import DEFAULT_CONFIG_PATH, Settings, ensure_config_file, load_settings
from paycon.domain.errors import ConfigError
from paycon.logs import setup_logging
from paycon.service import Service, run_until_signalled
from paycon.storage.database import DatabaseUnavailable

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3


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
        description="Start paycon. Stops cleanly on SIGINT/SIGTERM.",
    )
    _config_option(run)
    run.add_argument("--headless", action="store_true", help="no console; log to stderr")
    run.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks one)")
    run.add_argument("--workers", type=int, help="outbox workers (default 8)")

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

    cli_tasks.add_parser(commands, _config_option)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG_PATH,
        help=f"TOML config file; created with new keys if missing (default {DEFAULT_CONFIG_PATH})",
    )


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    if ensure_config_file(args.config):
        print(f"paycon: created {args.config} with new API keys and secrets", file=sys.stderr)
    overrides = dict(environ)
    for flag, name in (("host", "PAYCON_HOST"), ("port", "PAYCON_PORT"),
                       ("workers", "PAYCON_WORKERS")):  # fmt: skip
        value = getattr(args, flag, None)
        if value is not None:
            overrides[name] = str(value)
    return load_settings(args.config, overrides)


def _mask(key: str) -> str:
    return key[:6] + "…" + key[-4:]


def _run(args: argparse.Namespace, settings: Settings) -> int:
    setup_logging(settings.log_level)
    if not args.headless:
        print(
            "paycon: the console is not available yet; running headless (logs on stderr)",
            file=sys.stderr,
        )
    service = Service(settings)
    ready = asyncio.Event()

    async def main() -> None:
        task = asyncio.create_task(run_until_signalled(service, ready=ready), name="paycon")
        ready_wait = asyncio.create_task(ready.wait(), name="paycon-ready")
        await asyncio.wait({task, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set():
            _announce(service, settings, args.config)
        else:
            ready_wait.cancel()
        await task

    try:
        asyncio.run(main())
    except DatabaseUnavailable as exc:
        print(f"paycon: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        print(
            f"paycon: cannot listen on {settings.server.host}:{settings.server.port}: "
            f"{exc.strerror or exc}; choose another with --port or PAYCON_PORT",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    return EXIT_OK


def _announce(service: Service, settings: Settings, config: Path) -> None:
    keys = settings.auth.client_api_keys
    lines = [f"paycon: serving {service.url} (config {config})"]
    if keys:
        lines.append(f"paycon: client API key: {keys[0]}")
    else:
        lines.append("paycon: no client API keys configured: set auth.client_api_keys")
    lines.append(f"paycon: API description at {service.url}/openapi.json")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _show_config(args: argparse.Namespace, settings: Settings) -> int:
    print(f"config file: {args.config.resolve()}")
    data = settings.model_dump(mode="json")
    auth = data["auth"]
    for name in ("client_api_keys", "operator_api_keys"):
        auth[name] = [_mask(k) for k in auth[name]]
    data["security"]["encryption_keys"] = ["…" for _ in data["security"]["encryption_keys"]]
    for gateway in data["gateways"].values():
        gateway["secret"] = "…"  # noqa: S105 - masking, not a password
    print(json.dumps(data, indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``paycon`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    environ = os.environ if environ is None else environ
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
        return cli_tasks.run(args, settings)
    return _show_config(args, settings)


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
