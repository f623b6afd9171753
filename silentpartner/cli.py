"""The `silentpartner` command: serve · db upgrade · doctor · and what the packages add
(simulate, calendar, setup). Each package module in `COMMAND_MODULES` has `register(subparsers)`.

An operator's mistake (a setting, the businesses file, a database that cannot be opened or reached) ends
the command with one line on stderr naming the problem and the fix, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from silentpartner.business import BusinessConfigError
from silentpartner.settings import ConfigError, Settings, load_settings
from silentpartner.store.problems import DatabaseUnavailable

OPERATOR_ERRORS = (ConfigError, BusinessConfigError, DatabaseUnavailable)

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
    except OPERATOR_ERRORS as exc:
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

    from silentpartner.logs import configure_logging

    settings = load_settings()
    _preflight(settings)
    # uvicorn's own lines (startup, errors) go through the same JSON log; requests are logged by the app.
    configure_logging(settings.log_level)
    uvicorn.run(
        "silentpartner.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=None if args.reload else args.workers,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="*",
        # Twilio media messages are well under 1 KB; refuse huge frames before buffering them.
        ws_max_size=MAX_WEBSOCKET_FRAME,
        # The sans-I/O websockets protocol: about a third less CPU per relayed call than uvicorn's default legacy
        # one (bench/relay.py). uvloop and httptools are picked by default when installed (uvicorn[standard]).
        ws="websockets-sansio",
    )
    return 0


def _preflight(settings: Settings) -> None:
    """What would otherwise fail inside the server's startup, as a traceback: the businesses file, each
    Cal.com business's key, and the database (opened and migrated here, once, before uvicorn starts)."""
    from silentpartner.business import load_businesses
    from silentpartner.calendar.calcom import api_key_for
    from silentpartner.store import migrate
    from silentpartner.store.db import Database

    for business in load_businesses(settings):
        if business.calendar == "calcom" and not api_key_for(business, settings):
            raise ConfigError(
                f"{business.calcom_api_key_env}: business {business.slug} uses Cal.com but the key is not set; "
                "create an API key in Cal.com (Settings > Developer > API keys) and set it"
            )

    async def migrate_once() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.close()

    asyncio.run(migrate_once())


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
    from silentpartner.business import load_businesses

    settings = load_settings()
    businesses = load_businesses(settings)
    findings = asyncio.run(doctor.diagnose(settings, businesses))
    print(doctor.render(findings))
    print(doctor.summarize(businesses, findings))
    return 1 if any(f.level == "fail" for f in findings) else 0
