"""``paycon gateways``: the gateways at a glance, and taking one out of routing or back.

It acts through the operator facade, as the console does. With ``--url`` that
is a running paycon's operator API (``RemoteFacade``): live breaker state,
failures, success rate and latency. Without it, the local database
(``LocalFacade``): routing switches and their audit trail only (breaker and
latency live in the running process), and a switch made there reaches running
paycons within seconds. A switch made with ``--url``
applies at once in that paycon and within seconds in the others on its database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from paycon.cli.tasks import (
    COMMAND_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    TOKEN_ENV,
    ConfigOption,
    Refused,
    audit_table,
    exit_for,
    make_console,
    reason_argument,
    remote_options,
    remote_target,
    with_facade,
)
from paycon.config import Settings
from paycon.domain.errors import NotFound
from paycon.facade.protocol import OperatorFacade
from paycon.models.gateways import GatewayOut, GatewayRoutingOut, GatewaysOut
from paycon.models.outbox import OutboxAuditOut
from paycon.usecases.gateway_control import SWITCH_REFRESH_S

EXIT_STATUS = f"""\
exit status:
  0  done
  1  refused: no such gateway
  2  usage error, invalid configuration, a bad reason, or the operator key was refused
  3  the database cannot be opened or read, or paycon cannot be reached at --url

Without --url, the list shows the routing switches and their audit trail from
the local database; breaker state, failures, success rate and latency are live
figures of a running paycon, shown with --url http://HOST:PORT (operator key
from --token or {TOKEN_ENV}). A switch made without --url is audited as
cli:<your user name> and reaches running paycons within {SWITCH_REFRESH_S:.0f} s;
with --url it is audited as the operator key and your user name
(operator:<key id>/<user>) and applies at once in the paycon
that received it, and within {SWITCH_REFRESH_S:.0f} s in other paycons on the same
database. Payments already at a gateway taken out of routing still finish there."""

ROUTING_CHANGES_LISTED = 10
LOCAL_NOTE = (
    "breaker, failures, success rate and latency are live in a running paycon: "
    "add --url http://HOST:PORT to see them"
)


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon gateways [list | disable NAME | enable NAME]``."""
    parser = commands.add_parser(
        "gateways",
        help="the gateways at a glance; take one out of routing or bring it back",
        description="paycon gateways [list]: every gateway with its routing switch (and, with "
        "--url, breaker and recent figures).\npaycon gateways disable NAME --reason R: new "
        "payments no longer route to NAME.\npaycon gateways enable NAME --reason R: it takes "
        "new payments again.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "gateways_command",
        nargs="?",
        default="list",
        choices=["list", "disable", "enable"],
        metavar="ACTION",
        help="list (the default), disable or enable",
    )
    parser.add_argument("name", nargs="?", help="with disable or enable: the gateway")
    parser.add_argument(
        "--reason", type=reason_argument, help="with disable or enable: why (audited)"
    )
    parser.add_argument("--json", action="store_true", help="list: the JSON it is made from")
    config_option(parser)
    remote_options(parser)


def run(
    args: argparse.Namespace, settings: Settings, environ: Mapping[str, str] | None = None
) -> int:
    """Run one ``paycon gateways`` action; returns the exit status (see EXIT_STATUS).

    ``environ`` supplies PAYCON_OPERATOR_TOKEN for ``--url`` (the process
    environment when not given).
    """
    try:
        _check_usage(args)
        target = remote_target(args, os.environ if environ is None else environ)
        live = target is not None
        return asyncio.run(with_facade(settings, target, lambda facade: _act(args, facade, live)))
    except NotFound as exc:
        return exit_for(NotFound(f"{exc.detail}; `paycon gateways` lists them"), interrupted="")
    except COMMAND_ERRORS as exc:
        return exit_for(exc, interrupted="`paycon gateways` shows where things stand")


def _check_usage(args: argparse.Namespace) -> None:
    if args.gateways_command == "list":
        extra = [flag for flag, value in (("NAME", args.name), ("--reason", args.reason)) if value]
        if extra:
            raise Refused(f"paycon gateways list takes no {' or '.join(extra)}", EXIT_USAGE)
        return
    if args.name is None or args.reason is None:
        raise Refused(
            f"paycon gateways {args.gateways_command} needs a gateway NAME and --reason",
            EXIT_USAGE,
        )
    if args.json:
        raise Refused("--json goes with the list", EXIT_USAGE)


# --- acting ----------------------------------------------------------------------


async def _act(args: argparse.Namespace, facade: OperatorFacade, live: bool) -> int:
    """List or switch through ``facade``: with ``live`` a running paycon's (--url), else
    the local database's, whose gateways have no live figures."""
    if args.gateways_command == "list":
        gateways = await facade.gateways()
        if live:
            _list_live(gateways, as_json=args.json)
        else:
            _list_stored(gateways, as_json=args.json)
        return EXIT_OK
    status = await facade.set_gateway_enabled(
        args.name, enabled=args.gateways_command == "enable", reason=args.reason
    )
    _print_switched(status.name, enabled=status.enabled, at_once=live)
    return EXIT_OK


def _list_live(gateways: Sequence[GatewayOut], *, as_json: bool) -> None:
    if as_json:
        _print_json(GatewaysOut(gateways=list(gateways)).model_dump(mode="json"))
        return
    console = make_console()
    console.print(_live_table(gateways, now=datetime.now(UTC)))
    for gateway in gateways:
        if gateway.recent_errors:
            console.print(f"{gateway.name} last error: {gateway.recent_errors[0]}")
    _print_routing_changes(
        console, [(g.name, change) for g in gateways for change in g.routing_changes]
    )


def _list_stored(gateways: Sequence[GatewayOut], *, as_json: bool) -> None:
    """Each gateway's routing switch and latest changes as stored (nothing live)."""
    if as_json:
        stored = [
            GatewayRoutingOut(
                name=g.name,
                enabled=g.enabled,
                routing_changes=g.routing_changes,
                protocol=g.protocol,
            ).model_dump(mode="json")
            for g in gateways
        ]
        _print_json({"gateways": stored})
        return
    console = make_console()
    console.print(_stored_table(gateways))
    _print_routing_changes(
        console, [(g.name, change) for g in gateways for change in g.routing_changes]
    )
    console.print(f"\n{LOCAL_NOTE}")


def _live_table(gateways: Sequence[GatewayOut], *, now: datetime) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in _COLUMNS:
        table.add_column(name, no_wrap=True, justify="right" if name in _NUMBERS else "left")
    for gateway in gateways:
        breaker, recent = gateway.breaker, gateway.recent
        table.add_row(
            gateway.name,
            gateway.protocol,
            "on" if gateway.enabled else "OFF",
            breaker.state,
            f"{breaker.failures}/{breaker.fail_max}" if breaker.state == "closed" else "-",
            _since(breaker.open_since or breaker.opened_at, now)
            if breaker.state != "closed"
            else "-",
            str(breaker.failed_trials) if breaker.state != "closed" else "-",
            _until(breaker.may_half_open_at, now) if breaker.state == "open" else "-",
            "-" if recent.success_rate is None else f"{recent.success_rate:.0%}",
            _ms(recent.latency_p50_ms),
            _ms(recent.latency_p99_ms),
        )
    return table


# A closed breaker's failures toward opening; an open one's time open, failed trials, next trial.
_COLUMNS = ("gateway", "protocol", "routing", "breaker", "failures", "open for", "failed trials",
            "next trial in", "success", "p50", "p99")  # fmt: skip
_NUMBERS = frozenset(
    {"failures", "open for", "failed trials", "next trial in", "success", "p50", "p99"}
)


def _until(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return f"{max(0.0, (moment - now).total_seconds()):.0f}s"


def _since(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return f"{max(0.0, (now - moment).total_seconds()):.0f}s"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _print_routing_changes(console: Console, changes: list[tuple[str, OutboxAuditOut]]) -> None:
    """The latest routing changes of every gateway, newest first (nothing when none)."""
    if not changes:
        return
    changes.sort(key=lambda named: named[1].at, reverse=True)
    console.print()
    console.print(
        audit_table(
            tuple(_named(name, change) for name, change in changes[:ROUTING_CHANGES_LISTED]),
            title="routing changes, newest first",
        )
    )


def _named(gateway: str, change: OutboxAuditOut) -> OutboxAuditOut:
    return change.model_copy(update={"action": f"{change.action} {gateway}"})


def _stored_table(gateways: Sequence[GatewayOut]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in _COLUMNS:
        table.add_column(name, no_wrap=True)
    for gateway in gateways:
        table.add_row(
            gateway.name,
            gateway.protocol,
            "on" if gateway.enabled else "OFF",
            *["-"] * (len(_COLUMNS) - 3),
        )
    return table


# --- output ------------------------------------------------------------------------


def _print_switched(name: str, *, enabled: bool, at_once: bool) -> None:
    state = (
        "back in routing: new payments may route to it"
        if enabled
        else ("out of routing: new payments go elsewhere; payments already there finish there")
    )
    within = f"within {SWITCH_REFRESH_S:.0f} s"
    when = (
        f" (at once in the paycon at --url, {within} in other paycons on its database)"
        if at_once
        else f" (running paycons apply it {within})"
    )
    make_console().print(f"{name} {state}{when}")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
