"""The `silentpartner` command: serve · db upgrade · doctor · and what the packages add
(simulate, calendar, setup). Each package module in `COMMAND_MODULES` has `register(subparsers)`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from silentpartner.business import BusinessConfigError
from silentpartner.settings import ConfigError, load_settings

MAX_WEBSOCKET_FRAME = 64 * 1024

# Modules that contribute subcommands; each defines register(subparsers).
COMMAND_MODULES: list[str] = [
    "silentpartner.calendar.cli",
    "silentpartner.calendar.setup_cli",
    "silentpartner.simulate",
    "silentpartner.messaging.jobs_cli",
]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, BusinessConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="silentpartner",
        description="Silent Partner: an AI phone receptionist that books on your calendar.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the web server (Twilio webhooks, media streams, Cal.com webhooks)",
        description="Run the server under uvicorn. With no keys it serves the demo business "
        "on the embedded calendar and offline speech.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(handler=_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(title="db commands", metavar="COMMAND")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the newest (the server does this at start)")
    upgrade.set_defaults(handler=_db_upgrade)

    doctor = sub.add_parser(
        "doctor",
        help="check settings, businesses and outside services; exit 1 on problems",
        description="Checks settings and every business; with keys present, that Cal.com "
        "answers and each event type exists, and that the Twilio numbers point "
        "at PUBLIC_URL.",
    )
    doctor.set_defaults(handler=_doctor)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    from silentpartner.business import load_businesses

    load_businesses(settings)  # fail fast on a broken businesses file, before uvicorn starts
    uvicorn.run(
        "silentpartner.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=None if args.reload else args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips="*",
        # Twilio media messages are well under 1 KB; refuse huge frames before buffering them.
        ws_max_size=MAX_WEBSOCKET_FRAME,
    )
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from silentpartner.store import migrate
    from silentpartner.store.db import Database

    settings = load_settings()

    async def run() -> str | None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            return await migrate.current_revision(db)
        finally:
            await db.close()

    print(f"database at revision {asyncio.run(run())}")
    return 0


def _doctor(_args: argparse.Namespace) -> int:
    from silentpartner import doctor
    from silentpartner.app import open_runtime

    settings = load_settings()

    async def run() -> int:
        runtime = await open_runtime(settings, migrate_db=False)
        try:
            findings = await doctor.run_doctor(runtime)
        finally:
            await runtime.close()
        print(doctor.render(findings))
        print(doctor.summarize(runtime.businesses, findings))
        return 1 if any(f.level == "fail" for f in findings) else 0

    return asyncio.run(run())
