"""``paycon reconcile``: reconcile a gateway's settlement report with paycon's ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from paycon.cli.tasks import (
    COMMAND_ERRORS,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    ConfigOption,
    cli_actor,
    exit_for,
    with_database,
)
from paycon.config import Settings
from paycon.domain.money import Money
from paycon.domain.reconcile import RunSummary
from paycon.storage.database import Database

DESCRIPTION = """\
paycon reconcile: match each line of a gateway's daily settlement report with
paycon's payment and the gateway's clearing account, book the settlement of
every matched line (clearing -> settled, the fee -> fees) once, ever, and
record every break with what each side says, in one commit per run. Running
the same report again books nothing twice."""

EPILOG = """\
the report:
  --file REPORT.csv   a report as the gateway delivered it (CSV: gateway_reference,
                      transaction_id, type, gross, fee, net, currency, value_date);
                      its day is the one its lines name, or --date
  --fetch             fetch it from the gateway's URL (GET /_mock/settlements?date=D:
                      the mock gateways' route, loopback addresses only); the day is
                      --date, by default yesterday (UTC): a day's report is complete
                      once the day is over

breaks (each on the review list when paycon holds the payment):
  unknown_transaction  the report settles a payment paycon does not have (its gross
                       goes to the gateway's suspense account)
  other_gateway        paycon holds the payment on another gateway (suspense too)
  not_final            paycon has it still in flight (nothing booked yet)
  status_differs       paycon failed it, or it is of another type (nothing booked)
  reversal             the report reverses a payment paycon holds as completed
  amount_differs       the amounts differ (the difference goes to suspense)
  missing_from_report  paycon completed it through the gateway that day; no line
A break that booked nothing is decided again by the next run: once an
operator has resolved the payment, the line matches and books.

exit status:
  0  reconciled; no break of this gateway is open
  1  reconciled; breaks are open (from this report or earlier ones)
  2  usage error: unknown gateway, no such file, a malformed report (the line is
     named), invalid configuration; nothing was written
  3  the database cannot be opened, or the gateway's report cannot be fetched"""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (YYYY-MM-DD)") from None


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption
) -> None:
    """Register ``paycon reconcile``."""
    parser = commands.add_parser(
        "reconcile",
        help="reconcile a gateway's settlement report with the ledger",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--gateway", required=True, metavar="NAME", help="the gateway (as configured)"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, metavar="REPORT.csv", help="the report's file")
    source.add_argument("--fetch", action="store_true", help="fetch the report from the gateway")
    parser.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the report's day (default: --file its lines' day, --fetch yesterday UTC)",
    )
    config_option(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``paycon reconcile``; returns the exit status (see EPILOG)."""
    from paycon.usecases.reconcile import ReportUnavailable  # httpx: only for this command

    try:
        return asyncio.run(with_database(settings, lambda db: _reconcile(db, settings, args)))
    except ReportUnavailable as exc:
        print(f"paycon: {exc.detail}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except COMMAND_ERRORS as exc:
        return exit_for(exc, interrupted="run the same paycon reconcile again: it is idempotent")


async def _reconcile(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    from paycon.usecases.reconcile import Reconciliation

    desk = Reconciliation(db, settings.gateways)
    desk.check_gateway(args.gateway)
    if args.fetch:
        day = args.date or (datetime.now(UTC).date() - timedelta(days=1))
        report = await desk.fetch(args.gateway, day)
    else:
        day = args.date
        report = desk.read_file(args.file)
    summary = await desk.reconcile(args.gateway, report, day=day, actor=cli_actor())
    print(summary_text(summary, report.source))
    return EXIT_REFUSED if summary.open_breaks else EXIT_OK


def summary_text(summary: RunSummary, source: str) -> str:
    """The run's summary as printed: counts, breaks by kind, totals per currency."""
    out = [
        f"run {summary.run_id}: {summary.gateway}, report of {summary.report_date} ({source})",
        f"  lines     {summary.lines}",
        f"  matched   {summary.matched}  (booked now: {summary.booked})",
        f"  breaks    {sum(summary.breaks.values())}  (new: {summary.new_breaks})",
    ]
    out += [f"    {kind:<20} {count}" for kind, count in summary.breaks.items()]
    for currency, t in summary.totals.items():

        def money(minor: int, currency: str = currency) -> str:
            return Money(minor, currency).wire()

        out.append(
            f"  {currency}  {t.lines} lines  gross {money(t.gross_minor)}  "
            f"fee {money(t.fee_minor)}  net {money(t.net_minor)}"
        )
    state = (
        f"{summary.open_breaks} break(s) of {summary.gateway} open: "
        "see GET /v1/reconciliation/breaks, or the console's reconciliation screen"
        if summary.open_breaks
        else f"no break of {summary.gateway} open"
    )
    out.append(state)
    return "\n".join(out)
