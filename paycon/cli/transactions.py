"""``paycon transactions``: payments held for review, and an operator's decision on one.

Both act through the operator facade: with ``--url`` a running paycon's
operator API, without it the local database (the decision is booked by the
same rules either way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from rich import box
from rich.table import Table

from paycon.cli.tasks import (
    COMMAND_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    TOKEN_ENV,
    ConfigOption,
    Refused,
    exit_for,
    make_console,
    reason_argument,
    remote_options,
    remote_target,
    with_facade,
)
from paycon.config import Settings
from paycon.domain.transactions import is_transaction_id
from paycon.facade.protocol import OperatorFacade
from paycon.models.queries import TransactionQuery
from paycon.models.transactions import TransactionOut

REVIEW_PAGE = 200

EXIT_STATUS = f"""\
exit status:
  0  done (review: the list was printed, empty or not)
  1  refused: no such transaction, it is not held, or the decision cannot be booked
  2  usage error, invalid configuration, a bad reason, or the operator key was refused
  3  the database cannot be opened or read, or paycon cannot be reached at --url

A payment is held for review when a gateway's word does not fit it (another
gateway, amount or currency, a final status contradicting the recorded one, a
request the gateway refused), when the task carrying it died or was discarded,
or when it has been in flight too long. resolve --status completed|failed
books the outcome through the ledger (failed on a completed payment reverses
it) and is audited: as cli:<your user name> on the local database, or as the
operator key and your user name with --url (operator key from --token or
{TOKEN_ENV})."""


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon transactions [review | resolve ID --status S --reason R]``."""
    parser = commands.add_parser(
        "transactions",
        help="payments held for review; decide one's outcome",
        description="paycon transactions review: the payments held for review, newest first, "
        "with why.\npaycon transactions resolve ID --status completed|failed --reason R: "
        "decide a held payment's outcome (booked through the ledger, audited).",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "transactions_command",
        nargs="?",
        default="review",
        choices=["review", "resolve"],
        metavar="ACTION",
        help="review (the default) or resolve",
    )
    parser.add_argument("id", nargs="?", help="with resolve: the transaction id (tx_...)")
    parser.add_argument(
        "--status", choices=["completed", "failed"], help="with resolve: the payment's outcome"
    )
    parser.add_argument("--reason", type=reason_argument, help="with resolve: why (audited)")
    parser.add_argument("--json", action="store_true", help="review: the JSON it is made from")
    config_option(parser)
    remote_options(parser)


def run(
    args: argparse.Namespace, settings: Settings, environ: Mapping[str, str] | None = None
) -> int:
    """Run one ``paycon transactions`` action; returns the exit status (see EXIT_STATUS)."""
    try:
        _check_usage(args)
        target = remote_target(args, os.environ if environ is None else environ)
        return asyncio.run(with_facade(settings, target, lambda facade: _act(args, facade)))
    except COMMAND_ERRORS as exc:
        return exit_for(exc, interrupted="`paycon transactions review` shows where things stand")


def _check_usage(args: argparse.Namespace) -> None:
    if args.transactions_command == "review":
        extra = [flag for flag, value in (("ID", args.id), ("--status", args.status),
                                          ("--reason", args.reason)) if value]  # fmt: skip
        if extra:
            raise Refused(f"paycon transactions review takes no {' or '.join(extra)}", EXIT_USAGE)
        return
    if args.id is None or args.status is None or args.reason is None:
        raise Refused(
            "paycon transactions resolve needs a transaction ID, --status completed|failed "
            "and --reason",
            EXIT_USAGE,
        )
    if not is_transaction_id(args.id):
        raise Refused(f"{args.id!r} is not a transaction id (tx_ and 26 characters)", EXIT_USAGE)
    if args.json:
        raise Refused("--json goes with review", EXIT_USAGE)


async def _act(args: argparse.Namespace, facade: OperatorFacade) -> int:
    if args.transactions_command == "review":
        page = await facade.transactions(TransactionQuery(review=True), limit=REVIEW_PAGE)
        return _print_review(page.items, as_json=args.json)
    detail = await facade.resolve(args.id, status=args.status, reason=args.reason)
    _print_resolved(args.id, detail.transaction.status)
    return EXIT_OK


def _print_review(items: Sequence[TransactionOut], *, as_json: bool) -> int:
    if as_json:
        answer = {"items": [item.model_dump(mode="json") for item in items]}
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
        return EXIT_OK
    console = make_console()
    if not items:
        console.print("no payment is held for review")
        return EXIT_OK
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("id", "kind", "status", "amount", "gateway", "held for", "why"):
        table.add_column(name, no_wrap=name != "why", overflow="fold")
    now = datetime.now(UTC)
    for item in items:
        review = item.review
        assert review is not None  # a held payment says why
        table.add_row(
            item.id,
            item.kind.value,
            item.status,
            f"{item.amount:f} {item.currency}",
            item.gateway,
            _age((now - review.since).total_seconds()),
            f"{review.reason}: {review.detail}",
        )
    console.print(table)
    console.print(
        f"{len(items)} held; decide one with: paycon transactions resolve ID "
        "--status completed|failed --reason '...'"
    )
    return EXIT_OK


def _print_resolved(transaction_id: str, status: str) -> None:
    make_console().print(f"{transaction_id} resolved: now {status}; the decision is audited")


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
