"""`silentpartner simulate`: talk to the receptionist in a terminal (or script it with --jsonl)."""

from __future__ import annotations

import argparse
import asyncio


def register(subparsers: argparse._SubParsersAction) -> None:
    simulate = subparsers.add_parser(
        "simulate",
        help="talk to the receptionist in the terminal, over the real engine, calendar and store",
        description="A conversation with the receptionist. Type what the caller says; '#dtmf 123#' presses "
        "keys, an empty line is silence. Uses a fresh temporary database unless --db is given.",
    )
    simulate.add_argument("--business", metavar="SLUG", help="which business answers (default: the only one)")
    simulate.add_argument(
        "--from", dest="caller", metavar="+E164", default="+15035550123", help="the caller's number (caller ID)"
    )
    simulate.add_argument("--forwarded-from", metavar="+E164", help="the call was forwarded from this number")
    simulate.add_argument("--now", metavar="ISO", help="pin the clock (no offset = the business timezone)")
    simulate.add_argument("--brain", choices=("rules", "chat"), default="rules", help="rules (offline) or chat")
    simulate.add_argument("--db", metavar="URL", help="database URL (default: a fresh temporary SQLite file)")
    simulate.add_argument("--jsonl", action="store_true", help="machine mode: one JSON line per agent turn")
    simulate.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    simulate.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from silentpartner.conversation.simulate import SimulateOptions, run_simulation

    options = SimulateOptions(
        business=args.business,
        caller=args.caller,
        forwarded_from=args.forwarded_from,
        now=args.now,
        brain=args.brain,
        db=args.db,
        jsonl=args.jsonl,
        seed=args.seed,
    )
    return asyncio.run(run_simulation(options))
