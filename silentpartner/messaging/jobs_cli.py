"""`silentpartner jobs parked | retry ID`: the jobs that kept failing (a reminder Twilio refused, a
reconcile Cal.com kept timing out), so the owner or operator can see why and give them another go."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from silentpartner.clock import SystemClock
from silentpartner.settings import load_settings
from silentpartner.store import jobs, migrate
from silentpartner.store.db import Database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="see and retry scheduled jobs that kept failing")
    steps = parser.add_subparsers(title="jobs commands", metavar="COMMAND")
    parked = steps.add_parser("parked", help="list parked jobs, newest first, with their last error")
    parked.add_argument("--business", metavar="SLUG", help="only this business's jobs")
    parked.add_argument("--json", action="store_true", help="print JSON instead of text")
    parked.set_defaults(handler=_parked)
    retry = steps.add_parser("retry", help="give a parked job a fresh round of attempts")
    retry.add_argument("job_id", type=int, metavar="ID", help="the id `jobs parked` shows")
    retry.set_defaults(handler=_retry)


async def _with_db(work):
    db = Database(load_settings().database_url)
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            return await work(session)
    finally:
        await db.close()


def _parked(args: argparse.Namespace) -> int:
    async def work(session):
        return [
            {
                "id": job.id,
                "kind": job.kind,
                "business": job.business,
                "attempts": job.attempts,
                "last_error": job.last_error,
                "parked_at": job.updated_at.isoformat(),
            }
            for job in await jobs.parked(session, args.business)
        ]

    rows = asyncio.run(_with_db(work))
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no parked jobs")
    else:
        for row in rows:
            print(
                f"#{row['id']} {row['kind']} ({row['business'] or '-'}) parked {row['parked_at']} "
                f"after {row['attempts']} attempts: {row['last_error']}"
            )
        print(f"{len(rows)} parked job(s); `silentpartner jobs retry ID` runs one again")
    return 0


def _retry(args: argparse.Namespace) -> int:
    async def work(session):
        return await jobs.requeue(session, args.job_id, now=SystemClock().now())

    if asyncio.run(_with_db(work)):
        print(f"job #{args.job_id} will run again on the next worker round")
        return 0
    print(f"error: job #{args.job_id} is not parked (see `silentpartner jobs parked`)", file=sys.stderr)
    return 1
