"""``paycon ledger verify``: check the double-entry ledger's invariants on the local database."""

from __future__ import annotations

import argparse
import asyncio
import sys

from paycon.cli.tasks import (
    COMMAND_ERRORS,
    EXIT_OK,
    EXIT_REFUSED,
    ConfigOption,
    exit_for,
    with_database,
)
from paycon.config import Settings
from paycon.storage.database import Database
from paycon.storage.ledger_check import verify

SHOWN_BREAKS = 20

EXIT_STATUS = """\
exit status:
  0  the ledger is clean
  1  breaks were found (the first are listed, one a line)
  2  usage error or invalid configuration
  3  the database cannot be opened or read

It checks the whole ledger: every journal entry's postings sum to zero, every
account's stored balance equals the sum of its postings, and no customer's
available, held or owed is below zero. A break is listed as
  KIND: SUBJECT: DETAIL
where KIND is unbalanced_entry (SUBJECT a journal entry id), balance_differs
or negative_balance (SUBJECT an account: holder owner name currency). Each
paycon process with outbox workers runs the same check every
review.ledger_check_every_s (60 s) on what changed, and exports the count as
paycon_ledger_breaks on /metrics (the console shows a red banner while it is
not zero)."""


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon ledger verify``."""
    parser = commands.add_parser(
        "ledger",
        help="check the double-entry ledger (verify)",
        description="paycon ledger verify: check that every journal entry balances, every "
        "stored balance equals its postings and no customer's available is below zero, on "
        "the database of the configuration (read only).",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ledger_command", choices=["verify"], metavar="ACTION", help="verify")
    parser.add_argument(
        "--max-breaks",
        type=int,
        default=SHOWN_BREAKS,
        metavar="N",
        help=f"list at most N breaks (default {SHOWN_BREAKS}); the count is of all found",
    )
    config_option(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``paycon ledger verify``; returns the exit status (see EXIT_STATUS)."""
    try:
        return asyncio.run(
            with_database(settings, lambda db: verify_ledger(db, shown=args.max_breaks))
        )
    except COMMAND_ERRORS as exc:
        return exit_for(exc, interrupted="run paycon ledger verify again")


async def verify_ledger(db: Database, *, shown: int) -> int:
    """Check the ledger on ``db`` in one snapshot, print the first ``shown`` breaks and
    return the exit status (EXIT_OK when clean, EXIT_REFUSED with breaks)."""
    async with db.snapshot() as conn:  # its statements must agree
        breaks = await conn.run_sync(verify)
    if not breaks:
        print("ledger clean: every entry balances, every balance equals its postings, "
              "no available below zero")  # fmt: skip
        return EXIT_OK
    for found in breaks[: max(shown, 0)]:
        print(found.line())
    more = len(breaks) - max(shown, 0)
    print(f"{len(breaks)} break(s)" + (f", {more} not listed" if more > 0 else ""),
          file=sys.stderr)  # fmt: skip
    return EXIT_REFUSED
