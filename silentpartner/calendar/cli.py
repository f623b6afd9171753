"""`silentpartner calendar ...`: services, slots, book, bookings, cancel, reschedule, against whichever
backend the business uses. Times are printed in the business timezone; a time given without an offset
is read in the business timezone."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from silentpartner.business import Business, load_businesses
from silentpartner.calendar.port import (
    Booking,
    BookingRequest,
    CalendarError,
    CalendarPort,
    Slot,
    SlotUnavailable,
)
from silentpartner.clock import Clock, FixedClock, SystemClock
from silentpartner.settings import load_settings


class UsageError(Exception):
    """A command-line value we cannot read; the message says what was expected."""


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--business", metavar="SLUG", help="which business (needed when several are configured)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument(
        "--now", metavar="ISO", help="pretend it is this time (ISO 8601; without an offset, business time)"
    )

    calendar = subparsers.add_parser(
        "calendar",
        help="look at and change the business calendar (services, slots, bookings)",
        description="Works against whichever calendar the business uses (embedded or Cal.com). "
        "Times print in the business timezone.",
    )
    sub = calendar.add_subparsers(title="calendar commands", metavar="COMMAND")

    p = sub.add_parser("services", parents=[common], help="list the services (event types)")
    p.set_defaults(handler=_handler(_services))

    p = sub.add_parser("slots", parents=[common], help="free start times for a service")
    p.add_argument("--service", required=True, help="service slug, e.g. service-call")
    p.add_argument("--date", required=True, help="first day: YYYY-MM-DD, today or tomorrow")
    p.add_argument("--days", type=int, default=1, help="how many days from --date (default 1)")
    p.add_argument("--member", help="only this team member's times")
    p.set_defaults(handler=_handler(_slots))

    p = sub.add_parser("book", parents=[common], help="book a time")
    p.add_argument("--service", required=True, help="service slug")
    p.add_argument("--start", required=True, metavar="ISO", help="start time, e.g. 2026-11-25T09:00")
    p.add_argument("--name", required=True, help="the customer's name")
    p.add_argument("--phone", required=True, help="the customer's phone number")
    p.add_argument("--address", help="where the job is")
    p.add_argument("--notes", help="what the job is about")
    p.add_argument("--email", help="the customer's email, if they have one")
    p.add_argument("--member", help="book with this team member")
    p.set_defaults(handler=_handler(_book))

    p = sub.add_parser("bookings", parents=[common], help="a customer's bookings by phone number, upcoming first")
    p.add_argument("--phone", required=True, help="the customer's phone number")
    p.add_argument("--all", action="store_true", help="include past and cancelled bookings (with their status)")
    p.set_defaults(handler=_handler(_bookings))

    p = sub.add_parser("cancel", parents=[common], help="cancel a booking")
    p.add_argument("uid", help="the booking uid")
    p.add_argument("--reason", required=True, help="why (kept with the booking)")
    p.set_defaults(handler=_handler(_cancel))

    p = sub.add_parser("reschedule", parents=[common], help="move a booking")
    p.add_argument("uid", help="the booking uid")
    p.add_argument("--start", required=True, metavar="ISO", help="new start time")
    p.add_argument("--reason", help="why (optional)")
    p.set_defaults(handler=_handler(_reschedule))

    calendar.set_defaults(handler=lambda _args: (calendar.print_help(), 2)[1])


# -- running a command ----------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Business, CalendarPort, Clock], Awaitable[Any]]


def _handler(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = load_settings()
        business = load_businesses(settings).get(args.business)
        try:
            clock: Clock = FixedClock(parse_time(args.now, business)) if args.now else SystemClock()
            return asyncio.run(_run(command, args, business, settings, clock))
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except SlotUnavailable as exc:
            tail = ""
            if exc.alternatives:
                tail = "; free nearby: " + ", ".join(_when(s.start, business) for s in exc.alternatives)
            print(f"error: {exc.reason}{tail}", file=sys.stderr)
            return 1
        except CalendarError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


async def _run(command: Command, args: argparse.Namespace, business: Business, settings, clock: Clock) -> int:
    from silentpartner.calendar.registry import CalendarParts, open_calendar
    from silentpartner.runtime import new_http_client
    from silentpartner.store import migrate
    from silentpartner.store.db import Database

    db = Database(settings.database_url)
    http = new_http_client() if business.calendar != "local" else None
    try:
        await migrate.upgrade(db)
        calendar = open_calendar(business, CalendarParts(settings=settings, db=db, http=http, clock=clock))
        try:
            result = await command(args, business, calendar, clock)
        finally:
            await calendar.close()
    finally:
        if http is not None:
            await http.aclose()
        await db.close()
    if args.json:
        print(json.dumps(result["json"], indent=2))
    else:
        print(result["text"])
    return 0


# -- the commands ---------------------------------------------------------------------------------


async def _services(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    services = await calendar.list_services()
    rows = [{**_plain(info), "team": [m.name for m in business.team_for(info.slug)]} for info in services]
    lines = [
        f"{r['slug']:<14} {r['name']:<22} {r['duration_minutes']:>3} min"
        + (f"   team: {', '.join(r['team'])}" if r["team"] else "")
        for r in rows
    ]
    return {"json": rows, "text": "\n".join(lines)}


async def _slots(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    if args.days < 1 or args.days > 366:
        raise UsageError("--days must be between 1 and 366")
    first = parse_day(args.date, business, clock)
    tz = business.tz
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(first + timedelta(days=args.days), time(0), tzinfo=tz)
    slots = await calendar.find_slots(args.service, start, end, team_member=args.member)
    data = [_slot_json(s, business) for s in slots]
    if not slots:
        return {"json": data, "text": f"no free times for {args.service} from {first:%a %b} {first.day}"}
    lines = []
    for slot in slots:
        who = f"  {slot.team_member}" if slot.team_member else ""
        lines.append(f"{_when(slot.start, business)}{who}")
    return {"json": data, "text": "\n".join(lines)}


async def _book(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    request = BookingRequest(
        service=args.service,
        start=parse_time(args.start, business),
        name=args.name,
        phone=args.phone,
        email=args.email,
        address=args.address,
        notes=args.notes,
        team_member=args.member,
        source="cli",
    )
    booking = await calendar.book(request)
    return {"json": _booking_json(booking, business), "text": f"booked {_describe(booking, business)}"}


async def _bookings(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    bookings = await calendar.bookings_for_phone(args.phone, include_past=args.all)
    data = [_booking_json(b, business) for b in bookings]
    text = "\n".join(_describe(b, business) for b in bookings) or f"no bookings for {args.phone}"
    return {"json": data, "text": text}


async def _cancel(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    booking = await calendar.cancel(args.uid, args.reason)
    return {"json": _booking_json(booking, business), "text": f"cancelled {_describe(booking, business)}"}


async def _reschedule(args, business: Business, calendar: CalendarPort, clock: Clock) -> dict[str, Any]:
    booking = await calendar.reschedule(args.uid, parse_time(args.start, business), reason=args.reason)
    text = f"moved {_describe(booking, business)}"
    if booking.rescheduled_from:
        text += f" (was {booking.rescheduled_from})"
    return {"json": _booking_json(booking, business), "text": text}


# -- reading and printing times -------------------------------------------------------------------


def parse_time(text: str, business: Business) -> datetime:
    """ISO 8601; a time without an offset is wall-clock time in the business timezone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{text!r} is not an ISO time like 2026-11-25T09:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=business.tz)
    return value


def parse_day(text: str, business: Business, clock: Clock) -> date:
    today = clock.now().astimezone(business.tz).date()
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UsageError(f"{text!r} is not a date like 2026-11-25 (or today, tomorrow)") from None


def _when(moment: datetime, business: Business) -> str:
    local = moment.astimezone(business.tz)
    h12 = local.hour % 12 or 12
    return f"{local:%a %b} {local.day:>2} {local:%Y} {h12:>2}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _describe(booking: Booking, business: Business) -> str:
    try:
        service = business.service(booking.service).name
    except KeyError:
        service = booking.service
    parts = [booking.uid, _when(booking.start, business), service, booking.name or "", booking.status]
    if booking.team_member:
        parts.append(f"with {booking.team_member}")
    return "  ".join(p for p in parts if p)


def _slot_json(slot: Slot, business: Business) -> dict[str, Any]:
    tz = business.tz
    return {
        "id": slot.id,
        "service": slot.service,
        "start": slot.start.astimezone(tz).isoformat(),
        "end": slot.end.astimezone(tz).isoformat(),
        "team_member": slot.team_member,
    }


def _booking_json(booking: Booking, business: Business) -> dict[str, Any]:
    tz = business.tz
    data = _plain(booking)
    data.pop("extra", None)
    data["start"] = booking.start.astimezone(tz).isoformat()
    data["end"] = booking.end.astimezone(tz).isoformat()
    data["timezone"] = business.timezone
    return data


def _plain(value: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(value)
