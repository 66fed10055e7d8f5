"""Command line: serve both mock gateways until interrupted.

``add_arguments`` and ``serve`` are what ``paycon mock-gateways`` wires in;
``main`` is ``python -m mock_gateways``. This is the only module that reads
the environment (the two secrets) and the only one that sets up logging.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mock_gateways.errors import ConfigError, InvalidFaults, MockGatewayError
from mock_gateways.faults import Faults, parse_assignment

if TYPE_CHECKING:
    from mock_gateways.server import MockGateways

logger = logging.getLogger(__name__)

# Names of environment variables, not secrets.
SECRET_A_ENV = "PAYCON_GATEWAY_A_SECRET"  # noqa: S105
SECRET_B_ENV = "PAYCON_GATEWAY_B_SECRET"  # noqa: S105


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mock gateways' options to ``parser`` (``--host``, ports, secrets, seed, faults)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port-a", type=_port, default=8081, help="gateway A port (%(default)s)")
    parser.add_argument("--port-b", type=_port, default=8082, help="gateway B port (%(default)s)")
    parser.add_argument(
        "--secret-a", help=f"gateway A's callback signing secret (default: ${SECRET_A_ENV})"
    )
    parser.add_argument(
        "--secret-b", help=f"gateway B's callback signing secret (default: ${SECRET_B_ENV})"
    )
    parser.add_argument(
        "--seed", type=int, help="make every random choice repeatable (default: unseeded)"
    )
    for gateway in ("a", "b"):
        parser.add_argument(
            f"--fault-{gateway}",
            dest=f"faults_{gateway}",
            type=fault_assignment,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a start-time fault of gateway {gateway.upper()}, repeatable "
            "(error_rate=0.3, outage=503, latency_ms=200, callback_reorder=true, "
            "ghost_503_rate=0.2, auth_failure=true, settlement_fee_bps=150, ...)",
        )


def fault_assignment(text: str) -> dict[str, object]:
    """argparse type for ``--fault-a``/``--fault-b``: one validated ``name=value`` change."""
    try:
        return parse_assignment(text)
    except InvalidFaults as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def faults_from(assignments: Sequence[Mapping[str, object]]) -> Faults:
    """The faults named on the command line, later assignments winning, over the defaults."""
    merged: dict[str, object] = {}
    for assignment in assignments:
        merged.update(assignment)
    return Faults().updated(merged)


def resolve_secrets(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, str]:
    """Gateway A's and B's secrets: the options, else the environment.

    Raises ``ConfigError`` saying how to set a secret that is missing.
    """
    secrets = []
    for option, variable, given in (
        ("--secret-a", SECRET_A_ENV, args.secret_a),
        ("--secret-b", SECRET_B_ENV, args.secret_b),
    ):
        secret = given or environ.get(variable)
        if not secret:
            raise ConfigError(
                f"no callback signing secret: pass {option} SECRET or set {variable} "
                f"(use the same value paycon is configured with)"
            )
        secrets.append(secret)
    return secrets[0], secrets[1]


def banner(mocks: MockGateways) -> str:
    """Where the gateways listen and how to work their faults, ready to paste."""
    return "\n".join(
        [
            f"mock gateway A (JSON) listening on {mocks.url_a}",
            f"mock gateway B (XML)  listening on {mocks.url_b}",
            "switch a fault on:  "
            f"curl -X PUT {mocks.url_a}/_mock/faults -d '{{\"error_rate\": 0.3}}'",
            f"see the faults:     curl {mocks.url_a}/_mock/faults",
            f"watch the ledger:   curl {mocks.url_a}/_mock/ledger",
            f'settled today:      curl "{mocks.url_a}/_mock/settlements?date=$(date -u +%F)"',
            f"back to healthy:    curl -X POST {mocks.url_a}/_mock/reset -d '{{\"faults\": true}}'",
            "(gateway B: the same paths on its own port)",
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    """Run both gateways as ``args`` say until cancelled, then stop them cleanly.

    Raises ``ConfigError`` when a secret is missing and ``StartError`` when a
    port cannot be used.
    """
    from mock_gateways.server import MockGateways  # aiohttp: only when serving

    secret_a, secret_b = resolve_secrets(args, os.environ)
    mocks = MockGateways(
        secret_a=secret_a,
        secret_b=secret_b,
        host=args.host,
        port_a=args.port_a,
        port_b=args.port_b,
        seed=args.seed,
        faults_a=faults_from(args.faults_a),
        faults_b=faults_from(args.faults_b),
    )
    await mocks.start()
    try:
        print(banner(mocks), flush=True)
        await asyncio.Event().wait()  # until cancelled
    finally:
        await mocks.stop()
        logger.info("mock gateways stopped")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mock_gateways``: serve until SIGINT or SIGTERM; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m mock_gateways",
        description="Fake payment gateways A (JSON) and B (XML) with switchable faults.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Serve as ``args`` say until SIGINT or SIGTERM (logging already set up); the exit status."""
    try:
        asyncio.run(_serve_until_signalled(args))
    except MockGatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve_until_signalled(args: argparse.Namespace) -> None:
    serving = asyncio.create_task(serve(args), name="mock_gateways:serve")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, serving.cancel)
    await asyncio.wait([serving])
    if not serving.cancelled():
        serving.result()  # re-raise what stopped it


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535; 0 picks a free one)")
    return port
