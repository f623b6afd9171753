"""`silentpartner setup calcom-webhook --business SLUG`: point Cal.com's webhooks at us.

Registers PUBLIC_URL + /webhooks/calcom with CALCOM_WEBHOOK_SECRET for the booking triggers we handle,
or updates the webhook already registered for that URL (running it again changes nothing else).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from silentpartner.calendar.calcom import WEBHOOK_TRIGGERS, api_key_for
from silentpartner.calendar.calcom_http import CalcomClient
from silentpartner.calendar.port import CalendarError


def _setup_subparsers(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `setup` command's own subparsers, shared with other packages that add setup steps."""
    parser = subparsers.choices.get("setup")
    if parser is None:
        parser = subparsers.add_parser("setup", help="connect outside services (Cal.com webhooks, ...)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(title="setup steps", metavar="STEP")


def register(subparsers: argparse._SubParsersAction) -> None:
    steps = _setup_subparsers(subparsers)
    webhook = steps.add_parser(
        "calcom-webhook",
        help="register (or update) our Cal.com webhook at PUBLIC_URL/webhooks/calcom",
        description="Registers PUBLIC_URL + /webhooks/calcom with CALCOM_WEBHOOK_SECRET for "
        + ", ".join(WEBHOOK_TRIGGERS)
        + ". Idempotent: an existing webhook for that URL is updated, not duplicated.",
    )
    webhook.add_argument("--business", metavar="SLUG", help="the business whose Cal.com key to use")
    webhook.set_defaults(handler=_calcom_webhook)


def _calcom_webhook(args: argparse.Namespace) -> int:
    import httpx

    from silentpartner.business import load_businesses
    from silentpartner.settings import load_settings

    settings = load_settings()
    business = load_businesses(settings).get(args.business)
    key = api_key_for(business, settings)
    if not key:
        print(f"error: {business.calcom_api_key_env} is not set: create an API key in Cal.com first", file=sys.stderr)
        return 2
    secret = settings.secret("calcom_webhook_secret")
    if not secret:
        print(
            "error: CALCOM_WEBHOOK_SECRET is not set: choose a long random secret "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`) and set it",
            file=sys.stderr,
        )
        return 2
    url = settings.public_url + "/webhooks/calcom"
    if not settings.public_url.startswith("https://"):
        print(f"warning: {url} is not https; Cal.com must be able to reach it", file=sys.stderr)

    async def run() -> tuple[str, object]:
        async with httpx.AsyncClient() as http:
            client = CalcomClient(settings.calcom_api_url, key, http)
            return await client.ensure_webhook(url, secret, list(WEBHOOK_TRIGGERS))

    try:
        action, hook_id = asyncio.run(run())
    except CalendarError as exc:
        print(f"error: could not register the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"{action} Cal.com webhook {hook_id} -> {url} ({len(WEBHOOK_TRIGGERS)} triggers)")
    return 0
