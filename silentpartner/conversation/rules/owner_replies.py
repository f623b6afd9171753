"""How the owner's assistant answers: short lines that fit a text (a day as one line per job: time, name, job,
street), spoken sentences on the phone, and no receptionist filler."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Outcome
from silentpartner.conversation.owner_lexicon import JobRef
from silentpartner.conversation.states import Flow, State
from silentpartner.speech_text import clock, spoken_day, text_slot

CALLER_NEAR = 20  # minutes: "the caller at 3:10" is the call nearest that time, within this


def reply(c: Capabilities, text: str, *, info: bool = True) -> list[Action]:
    """An answer: just the answer by text; by phone, the answer and "anything else?"."""
    c.memory.flow = Flow.OWNER
    if info and c.memory.outcome.action == "none":
        c.memory.outcome = Outcome(action="info")
    if c.is_sms:
        return c.ask(State.OWNER, text=text)
    return c.ask(State.OWNER, text=f"{text} Anything else?")


def help_line(c: Capabilities) -> list[Action]:
    """What the assistant can do, said in full once, then as examples (never the same line twice)."""
    m = c.memory
    m.misses["owner_help"] = m.misses.get("owner_help", 0) + 1
    return reply(c, _HELP[(m.misses["owner_help"] - 1) % len(_HELP)], info=False)


_HELP = (
    "I can read out a day's jobs, tell you who a job is or what's next, move or cancel a job, text a customer "
    "you're running late, or block time off.",
    "Try something like: what's on Thursday, move the 2pm to Friday, or I'm off Friday afternoon.",
    "Tell me a day, a job's time, or what to change.",
)


def first_name(c: Capabilities) -> str:
    return (c.memory.staff or c.owner_name).split()[0]


def job_words(job: JobRef | None) -> str:
    if job is None:
        return "that job"
    if job.minutes is not None:
        return f"the {clock(job.minutes)}"
    return f"the {job.name} job"


def time_words(c: Capabilities, start: datetime) -> str:
    local = start.astimezone(c.business.tz)
    day = spoken_day(local.date(), c.today())
    return f"{clock(local)} {day}" if day in ("today", "tomorrow") else f"{day} at {clock(local)}"


def _street(address: str | None) -> str:
    return (address or "").split(",")[0]


def _text_time(start: datetime) -> str:
    return f"{start.hour % 12 or 12}:{start.minute:02d} {'AM' if start.hour < 12 else 'PM'}"


def job_line(c: Capabilities, b: dict[str, Any]) -> str:
    """ "2:00 PM Ann Lee, service call, 12 Oak St (Dana)": one job on one line of a text."""
    start = datetime.fromisoformat(b["start"]).astimezone(c.business.tz)
    parts = [f"{_text_time(start)} {b.get('name') or 'a customer'}", c.service_name(b["service"])]
    if b.get("address"):
        parts.append(_street(b["address"]))
    line = ", ".join(parts)
    if b.get("team_member") and c.memory.staff is None and len(c.business.team) > 1:
        line += f" ({b['team_member']})"
    return line


def job_detail(c: Capabilities, b: dict[str, Any]) -> str:
    """Who, what, where and why: "Ann Lee, service call, 12 Oak Street (leaking faucet)"."""
    parts = [b.get("name") or "a customer", c.service_name(b["service"])]
    if b.get("address"):
        parts.append(b["address"])
    if b.get("phone") and c.is_sms:
        parts.append(b["phone"])
    text = ", ".join(parts)
    return text + (f" ({b['notes'].rstrip('.')})" if b.get("notes") else "")


def schedule(c: Capabilities, bookings: list[dict[str, Any]], day_iso: str | None) -> list[Action]:
    """A day's jobs: one line each in a text; a sentence on the phone (greeting the owner on the first one)."""
    today = c.today()
    day = datetime.fromisoformat(day_iso).date() if day_iso else today
    if c.is_sms:
        head = f"{day:%a %b} {day.day}"
        if not bookings:
            return reply(c, f"Nothing booked {head}.")
        lines: list[str] = []
        for on, jobs in _by_day(c, bookings):  # one heading per day ("next week")
            lines += [f"{on:%a %b} {on.day}:", *(job_line(c, b) for b in jobs)]
        return reply(c, "\n".join(lines))
    greeting = f"Hi {first_name(c)}. " if c.memory.state in (State.GREETING, State.OWNER_PIN) else ""
    words = spoken_day(day, today)
    words = words if words in ("today", "tomorrow") else f"on {words}"
    if not bookings:
        return reply(c, f"{greeting}You have nothing booked {words}.")
    spoken = []
    for b in bookings:
        start = datetime.fromisoformat(b["start"]).astimezone(c.business.tz)
        at = f" at {_street(b['address'])}" if b.get("address") else ""
        spoken.append(f"{clock(start)} with {b.get('name') or 'a customer'}{at}")
    listed = spoken[0] if len(spoken) == 1 else ", ".join(spoken[:-1]) + f", then {spoken[-1]}"
    count = "one job" if len(bookings) == 1 else f"{len(bookings)} jobs"
    return reply(c, f"{greeting}You have {count} {words}: {listed}.")


def _by_day(c: Capabilities, bookings: list[dict[str, Any]]) -> list[tuple[date, list[dict[str, Any]]]]:
    days: dict[date, list[dict[str, Any]]] = {}
    for b in bookings:
        days.setdefault(datetime.fromisoformat(b["start"]).astimezone(c.business.tz).date(), []).append(b)
    return sorted(days.items())


def next_job(c: Capabilities, bookings: list[dict[str, Any]]) -> list[Action]:
    now = c.now_local()
    upcoming = [b for b in bookings if datetime.fromisoformat(b["start"]) >= now]
    if not upcoming:
        return reply(c, "Nothing booked in the next two weeks.")
    b = upcoming[0]
    start = datetime.fromisoformat(b["start"]).astimezone(c.business.tz)
    when = text_slot(start) if c.is_sms else c.label(start)
    return reply(c, f"Next: {when}, {job_detail(c, b)}.")


def _call_line(c: Capabilities, call: dict[str, Any]) -> str:
    at = datetime.fromisoformat(call["started_at"]).astimezone(c.business.tz)
    who = call.get("name") or "a caller"
    number = f" ({call['from']})" if call.get("from") else ""
    ended = {"booked": "booked", "message": "left a message", "transferred": "was put through to you"}.get(
        call.get("outcome") or "", "nothing booked"
    )
    what = call.get("message") or call.get("problem")
    return f"{clock(at)}: {who}{number}, {ended}" + (f": {what.rstrip('.')}" if what else "")


def calls(c: Capabilities, found: list[dict[str, Any]], *, at: int | None) -> list[Action]:
    """The call at a time ("what did the caller at 3:10 want"), or today's calls counted by how they ended."""
    tz = c.business.tz

    def minutes(call: dict[str, Any]) -> int:
        local = datetime.fromisoformat(call["started_at"]).astimezone(tz)
        return local.hour * 60 + local.minute

    if at is not None:
        near = sorted(found, key=lambda call: abs(minutes(call) - at))
        if not near or abs(minutes(near[0]) - at) > CALLER_NEAR:
            return reply(c, f"I don't see a call around {clock(at)}.")
        return reply(c, _call_line(c, near[0]) + ".")
    if not found:
        return reply(c, "No calls today yet.")
    counts: dict[str, int] = {}
    for call in found:
        outcome = call.get("outcome") or "none"
        key = {"booked": "booked", "message": "left a message", "transferred": "put through to you"}.get(
            outcome, "nothing booked"
        )
        counts[key] = counts.get(key, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return reply(c, f"{len(found)} call{'s' if len(found) != 1 else ''} today: {parts}.")


def news(c: Capabilities, result: dict[str, Any]) -> list[Action]:
    """New bookings and messages since a time (this morning by default)."""
    tz = c.business.tz
    since = datetime.fromisoformat(result["since"]).astimezone(tz)
    made = result.get("bookings", [])
    messages = [call for call in result.get("calls", []) if call.get("outcome") == "message" or call.get("message")]
    when = "this morning" if since.hour == 0 and since.minute == 0 and since.date() == c.today() else clock(since)
    if not made and not messages:
        return reply(c, f"Nothing new since {when}.")
    parts = []
    if made:
        listed = "; ".join(
            f"{b.get('name') or 'someone'} {text_slot(datetime.fromisoformat(b['start']).astimezone(tz))}" for b in made
        )
        parts.append(f"{len(made)} new booking{'s' if len(made) > 1 else ''}: {listed}")
    if messages:
        listed = "; ".join(_call_line(c, call) for call in messages)
        parts.append(f"{len(messages)} message{'s' if len(messages) > 1 else ''}: {listed}")
    return reply(c, f"Since {when}: " + ". ".join(parts) + ".")
