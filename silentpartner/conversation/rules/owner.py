"""The owner's assistant: the owner (or a team member) runs their day by texting or calling the business line.

Asks: the day's jobs, who a job is, the next job, what is new, what a caller wanted, how many calls. Changes
(rules/owner_changes.py): move or cancel a job, tell a customer you're running late, take time off or give it
back; each is read back and waits for a yes. By phone the PIN comes first when one is set, and changes need it
(caller ID can be spoofed); texts from the owner's and team's numbers don't. A team member sees and changes
only their own jobs and their own time off. Answers are worded in rules/owner_replies.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from silentpartner.conversation import guards
from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Say, SendSms
from silentpartner.conversation.lexicon import Intent
from silentpartner.conversation.memory import OwnerTask
from silentpartner.conversation.owner_lexicon import OwnerIntent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import owner_changes, owner_replies, times
from silentpartner.conversation.rules.owner_replies import reply
from silentpartner.conversation.states import Flow, State

_CHANGES = {OwnerIntent.MOVE, OwnerIntent.CANCEL, OwnerIntent.LATE, OwnerIntent.BLOCK, OwnerIntent.REOPEN}
_TIME_STATES = {
    State.SLOT_CHOICE: times.on_slot_choice,
    State.WHEN: times.on_when,
    State.WHEN_WHICH: times.on_when_which,
}


def start(c: Capabilities) -> list[Action]:
    """By text, the owner's first text is the question; by phone, the PIN (when set), then today's jobs."""
    m = c.memory
    m.flow = Flow.OWNER
    if c.is_sms:
        c.move(State.OWNER)
        return []
    if c.pin_set:
        return c.ask(State.OWNER_PIN, text=f"Hi {owner_replies.first_name(c)}. What's your PIN?")
    return [c.owner_schedule(purpose="owner:schedule")]


def on_pin(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    if c.pin_matches(r.digits):
        m.pin_ok = True  # today's jobs next, greeting the owner (the state moves on with the answer)
        return [c.owner_schedule(purpose="owner:schedule")]
    m.pin_tries += 1
    if m.pin_tries < 2:
        return c.ask(State.OWNER_PIN, text="That's not it. Say or key in your PIN once more.")
    warn = SendSms(
        to=c.business.owner_mobile,
        body=f"{c.business.name}: a call from your number failed the PIN twice. Nothing was read out.",
        kind="owner_message",
    )
    return [warn, Say("Sorry, I can't open the schedule without the PIN. Goodbye.", interruptible=False), *c.hang_up()]


def said(c: Capabilities, r: Reading) -> list[Action]:
    m = c.memory
    o = r.owner
    if m.state == State.OWNER_PIN:
        return on_pin(c, r)
    if o is None:
        return owner_replies.help_line(c)
    if m.state == State.CONFIRM and m.owner_task is not None:
        answered = owner_changes.on_confirm(c, r)
        if answered is not None:
            return answered
    continued = owner_changes.which_job(c, r)
    if continued is not None:
        return continued
    if m.state in _TIME_STATES and m.owner_task is not None and not o.intents:
        answered = _TIME_STATES[m.state](c, r)  # the new time for a job being moved
        if answered is not None:
            return answered
    if o.intents & _CHANGES:
        try:
            guards.can_change_by_owner(m, pin_set=c.pin_set)
        except guards.Refused:
            return reply(c, "To change jobs by phone I need your PIN, and none is set up. Text me the change instead.")
        return owner_changes.start(c, r)
    if o.has(OwnerIntent.WHO):
        return [owner_changes.find_job(c, r, "who")]
    if o.has(OwnerIntent.NEXT):
        today = c.today()
        return [c.owner_schedule(today, until=today + timedelta(days=14), purpose="owner:next")]
    if o.has(OwnerIntent.CALLS, OwnerIntent.CALLER, OwnerIntent.NEWS):
        return [_activity(c, r)]
    if o.has(OwnerIntent.SCHEDULE) or (r.says_a_time and not r.intents):
        if o.days:
            return [c.owner_schedule(o.days[0], until=o.days[1], purpose="owner:schedule")]
        return [c.owner_schedule(o.day, purpose="owner:schedule")]
    if r.has(Intent.GOODBYE, Intent.THANKS) or (r.no and len(r.plain.split()) <= 3):
        return reply(c, "Anytime.") if c.is_sms else c.goodbye()
    return owner_replies.help_line(c)


def _activity(c: Capabilities, r: Reading) -> Action:
    """Calls and new bookings, from the activity log."""
    o = r.owner
    assert o is not None
    tz = c.business.tz
    now = c.now_local()
    day = o.day or now.date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    if o.has(OwnerIntent.NEWS):
        return c.run_tool(
            "owner_news", "owner:news", since=start.isoformat(), until=now.isoformat(), member=c.memory.staff
        )
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    if o.has(OwnerIntent.CALLER) and o.job and o.job.minutes is not None:
        c.memory.owner_task = OwnerTask(kind="caller", job_minutes=o.job.minutes)
        return c.run_tool("owner_calls", "owner:caller", start=start.isoformat(), end=end.isoformat())
    return c.run_tool("owner_calls", "owner:calls", start=start.isoformat(), end=end.isoformat())


def after_tool(c: Capabilities, name: str, purpose: str, result: dict[str, Any]) -> list[Action]:
    m = c.memory
    if result.get("refused"):
        m.owner_task = None
        return reply(c, "That job isn't on your calendar." if m.staff else "I couldn't find that job.")
    bookings = result.get("bookings", [])
    if purpose in ("owner", "owner:schedule"):
        return owner_replies.schedule(c, bookings, result.get("day"))
    if purpose == "owner:next":
        return owner_replies.next_job(c, bookings)
    if purpose == "owner:find":
        return owner_changes.job_found(c, bookings)
    if purpose == "owner:block":
        return owner_changes.confirm_time_off(c, bookings)
    if purpose in ("owner:calls", "owner:caller"):
        task, m.owner_task = m.owner_task, None
        return owner_replies.calls(c, result.get("calls", []), at=task.job_minutes if task else None)
    if purpose == "owner:news":
        return owner_replies.news(c, result)
    if purpose == "owner:change":
        return owner_changes.changed(c, name, result)
    if name == "find_slots":
        exact = times.exact_hit(c, result)
        if exact is not None:
            return [c.choose(exact)]  # the very time they asked for is free: hold it and read the move back
        return times.offer(c, nearest=bool(result.get("nearest")))
    if name == "hold_slot" and m.owner_task is not None and m.chosen:
        return owner_changes.confirm_move(c)
    if result.get("unavailable"):
        return times.offer(c, nearest=False, taken=True)
    return owner_replies.help_line(c)
