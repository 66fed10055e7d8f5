"""``python -m tests.chaos``: see ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

from tests.chaos.run import ChaosOptions, run_chaos

DESCRIPTION = """\
Run paycon through chaos and check what it promises.

The mock gateways run in a process of their own (their ledger is the
independent record of what the gateways did); paycon runs headless as a
subprocess on a SQLite file in a temporary folder, on free loopback ports.
A seeded load of deposits and withdrawals for several customers is posted,
each with its idempotency key and retried with the same key on connection
errors, 409 and 5xx. Meanwhile paycon is SIGKILLed at seeded moments and
started again, and the gateways' faults change on a seeded schedule (30 %
errors, 10 % timeouts, an outage of one gateway, 20 % dropped, 10 %
duplicated and reordered callbacks, skewed amounts, callbacks on the wrong
route, late failures, 503s after charging, refused credentials).

Then the faults are lifted, the run waits until nothing moves, replays the
tasks that died (as an operator would after an incident) and checks, one
line each: kills survived; every 202 has its transaction, none twice per
key; every transaction final as its gateway's ledger says, or held; the
payments held are exactly those an injected misbehaviour or a dead task
should hold; nothing charged twice or on two gateways; balances equal
completed deposits minus completed withdrawals; no task running or due; no
IBAN, API key or secret in paycon's log.

`make chaos` runs it with the defaults. Exits 1 if any check fails, and
prints the seed and the command to repeat the run; the run's files (logs,
database) are kept then.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the load, kills, faults and mocks (default: a random one, printed)",
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of paycon (%(default)s)")
    parser.add_argument(
        "--duration", type=float, default=240.0, help="seconds of load and faults (%(default)s)"
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=30.0,
        help="seconds one gateway is out, within --duration (%(default)s)",
    )
    parser.add_argument("--customers", type=int, default=6, help="customers (%(default)s)")
    parser.add_argument(
        "--rate", type=float, default=12.0, help="payments posted per second (%(default)s)"
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=300.0,
        help="seconds to wait for everything to settle at the end (%(default)s)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the run's folder (logs, database) even when it passes",
    )
    args = parser.parse_args(argv)
    if args.outage > args.duration or min(args.duration, args.rate) <= 0 or args.kills < 0:
        parser.error("need --duration > 0, --rate > 0, --kills >= 0 and --outage <= --duration")
    options = ChaosOptions(
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31),
        kills=args.kills,
        duration_s=args.duration,
        outage_s=args.outage,
        customers=args.customers,
        rate_per_s=args.rate,
        settle_timeout_s=args.settle_timeout,
        keep=args.keep,
    )
    report = asyncio.run(run_chaos(options, out=lambda line: print(line, flush=True)))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
