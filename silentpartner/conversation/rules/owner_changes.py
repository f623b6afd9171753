"""The owner's changes: move or cancel a job, a running-late text to the customer, time off and back. Each is
found, read back, and made only after a yes; the customer is texted as for any change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action, Outcome, SendSms
from silentpartner.conversation.memory import OwnerTask
from silentpartner.conversation.owner_lexicon import OwnerIntent
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import times
from silentpartner.conversation.rules.owner_replies import job_detail, job_line, job_words, reply, time_words
from silentpartner.conversation.shapes import slot_args
from silentpartner.conversation.states import State
from silentpartner.conversation.when import Alternatives, TimeWindow
from silentpartner.speech_text import clock, spoken_day

DEFAULT_LATE = 15  # minutes, when the owner says only "running late"
NAMED_JOB_DAYS = 30  # how far ahead "the Lee job" is looked for


def start(c: Capabilities, r: Reading) -> list[Action]:
    o = r.owner
    assert o is not None
    m = c.memory
    if o.has(OwnerIntent.BLOCK, OwnerIntent.REOPEN):
        window = o.window or _whole_day(c, o.day)
        if window is None:
            return reply(c, "Which day and time? For example, Friday afternoon.")
        m.owner_task = OwnerTask(
            kind="reopen" if o.has(OwnerIntent.REOPEN) else "block",
            start=window.start,
            end=window.end,
            label=window.label,
            member=_whose_time(c, whole_business=o.whole_business),
        )
        first = window.start.astimezone(c.business.tz).date()
        last = (window.end.astimezone(c.business.tz) - timedelta(microseconds=1)).date()
        return [c.owner_schedule(first, until=last + timedelta(days=1), purpose="owner:block")]
    kind = "move" if o.has(OwnerIntent.MOVE) else "cancel" if o.has(OwnerIntent.CANCEL) else "late"
    m.windows = o.new_time
    if o.job is None:
        # "running 20 late": keep what was said, and the next answer ("the 2pm") says which job
        m.owner_task = OwnerTask(kind=kind, late_minutes=o.late_minutes, label="that job")
        return reply(c, "Which job? Say its time, like the 2pm, or the customer's name.")
    action = find_job(c, r, kind)
    assert m.owner_task is not None
    m.owner_task.late_minutes = o.late_minutes
    return [action]


def which_job(c: Capabilities, r: Reading) -> list[Action] | None:
    """The answer to "Which job?" for a change asked without one."""
    o = r.owner
    task = c.memory.owner_task
    if o is None or task is None or task.uid is not None or o.job is None or o.intents & _CHANGE_INTENTS:
        return None
    late, windows = task.late_minutes, c.memory.windows
    action = find_job(c, r, task.kind)
    assert c.memory.owner_task is not None
    c.memory.owner_task.late_minutes, c.memory.windows = late, windows
    return [action]


_CHANGE_INTENTS = {OwnerIntent.MOVE, OwnerIntent.CANCEL, OwnerIntent.LATE, OwnerIntent.BLOCK, OwnerIntent.REOPEN}


def find_job(c: Capabilities, r: Reading, kind: str) -> Action:
    """Load the jobs on the day the job is on (today when no day was said), to find the one meant."""
    o = r.owner
    assert o is not None
    job = o.job
    c.memory.owner_task = OwnerTask(
        kind=kind,
        job_minutes=job.minutes if job else None,
        job_name=job.name if job else None,
        label=job_words(job),
    )
    c.memory.target_uid = None
    if o.day is None and job is not None and job.minutes is None:
        # "the Lee job" with no day: look through the coming weeks
        return c.owner_schedule(c.today(), until=c.today() + timedelta(days=NAMED_JOB_DAYS), purpose="owner:find")
    return c.owner_schedule(o.day or c.today(), purpose="owner:find")


def _whose_time(c: Capabilities, *, whole_business: bool) -> str | None:
    """A team member's time off is theirs; the owner's "I'm off" is their own (the team may still work), and
    "close Friday" closes the business."""
    if c.memory.staff is not None:
        return c.memory.staff
    if whole_business or not c.business.team:
        return None
    return c.business.team[0].name


def _whole_day(c: Capabilities, day: date | None) -> TimeWindow | None:
    if day is None:
        return None
    tz = c.business.tz
    return TimeWindow(
        start=datetime.combine(day, datetime.min.time(), tzinfo=tz),
        end=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz),
        label=spoken_day(day, c.today()),
    )


def job_found(c: Capabilities, bookings: list[dict[str, Any]]) -> list[Action]:
    m = c.memory
    task = m.owner_task
    assert task is not None
    name = (task.job_name or "").lower()
    tz = c.business.tz

    def minutes(b: dict[str, Any]) -> int:
        local = datetime.fromisoformat(b["start"]).astimezone(tz)
        return local.hour * 60 + local.minute

    matches = [
        b
        for b in bookings
        if (task.job_minutes is not None and minutes(b) == task.job_minutes)
        or (name and name in (b.get("name") or "").lower())
    ]
    if not matches:
        m.owner_task = None
        where = "coming up" if task.job_minutes is None else "on that day"
        return reply(c, f"I don't see {task.label} {where}.")
    if len(matches) > 1:
        m.owner_task = None
        return reply(c, "There's more than one: " + "; ".join(job_line(c, b) for b in matches) + ". Which name?")
    job = matches[0]
    start = datetime.fromisoformat(job["start"]).astimezone(tz)
    if task.kind == "who":
        m.owner_task = None
        return reply(c, f"{time_words(c, start)}: {job_detail(c, job)}.")
    task.uid, task.customer, task.phone, task.start = job["uid"], job.get("name"), job.get("phone"), start
    task.member = job.get("team_member")
    m.target_uid, m.service = job["uid"], job["service"]
    who = task.customer or "the customer"
    if task.kind == "cancel":
        what = c.service_name(job["service"])
        return c.ask(State.CONFIRM, text=f"Cancel {who}'s {what} {c.label(start)} and text them it's cancelled?")
    if task.kind == "late":
        if not task.phone:
            m.owner_task = None
            return reply(c, f"I don't have a number for {who}, so I can't text them.")
        late = task.late_minutes or DEFAULT_LATE
        return c.ask(
            State.CONFIRM,
            text=f"I'll text {who} that you're running about {late} minutes late, so you'll be there around "
            f"{clock(start + timedelta(minutes=late))}. Send it?",
        )
    if m.windows:  # "move the 2pm to Friday morning"
        return times.find(c, m.windows[0] if len(m.windows) == 1 else Alternatives(m.windows))
    return c.ask(State.WHEN, text=f"Move {who}'s {time_words(c, start)} to when?")


def confirm_move(c: Capabilities) -> list[Action]:
    m = c.memory
    task = m.owner_task
    assert task is not None and m.chosen
    slot = m.offered[m.chosen]
    m.readback_for = slot.id
    old = time_words(c, task.start) if task.start else "their time"
    who = f" (with {slot.team_member})" if slot.team_member and slot.team_member != task.member else ""
    return c.ask(
        State.CONFIRM, text=f"Move {task.customer or 'the customer'} from {old} to {slot.label}{who} and text them?"
    )


def confirm_time_off(c: Capabilities, bookings: list[dict[str, Any]]) -> list[Action]:
    task = c.memory.owner_task
    assert task is not None and task.start is not None and task.end is not None
    tz = c.business.tz
    inside = [
        b
        for b in bookings
        if task.start <= datetime.fromisoformat(b["start"]) < task.end
        and (task.member is None or b.get("team_member") in (task.member, None))
    ]
    span = task.label
    if task.end - task.start < timedelta(days=1):
        span += f" ({clock(task.start.astimezone(tz))} to {clock(task.end.astimezone(tz))})"
    whose = "the whole business" if task.member is None else ("you" if c.memory.staff or task.member else "")
    if task.kind == "reopen":
        return c.ask(State.CONFIRM, text=f"Open {span} again for {whose}, so callers can book it?")
    note = ""
    if inside:
        listed = ", ".join(job_line(c, b) for b in inside)
        note = f" You already have {len(inside)} job{'s' if len(inside) > 1 else ''} then ({listed}); they stay."
    return c.ask(State.CONFIRM, text=f"Block {span} for {whose}, so callers aren't offered it?{note}")


def on_confirm(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    task = m.owner_task
    assert task is not None
    if r.no:
        m.owner_task = None
        return reply(c, "Okay, I'll leave it.")
    if not r.yes:
        return None
    if task.kind == "cancel" and task.uid:
        return [c.run_tool("owner_cancel", "owner:change", uid=task.uid, member=m.staff)]
    if task.kind == "move" and task.uid and m.chosen:
        slot = slot_args(m.offered[m.chosen])
        return [
            c.run_tool("owner_reschedule", "owner:change", uid=task.uid, slot=slot, member=m.staff, hold_id=m.hold_id)
        ]
    if task.kind == "late" and task.uid and task.phone and task.start is not None:
        return _running_late(c, task)
    if task.kind in ("block", "reopen") and task.start is not None and task.end is not None:
        span = {"start": task.start.isoformat(), "end": task.end.isoformat(), "member": task.member}
        if task.kind == "block":
            return [c.run_tool("owner_block", "owner:change", reason=f"time off: {task.label}", **span)]
        return [c.run_tool("owner_reopen", "owner:change", **span)]
    return None


def _running_late(c: Capabilities, task: OwnerTask) -> list[Action]:
    assert task.start is not None and task.phone
    late = task.late_minutes or DEFAULT_LATE
    expected = task.start.astimezone(c.business.tz) + timedelta(minutes=late)
    who = c.memory.staff or c.owner_name
    body = (
        f"{c.business.name}: {who} is running about {late} minutes late and expects to be with you around "
        f"{clock(expected)}. Sorry for the wait!"
    )
    c.memory.owner_task = None
    if c.memory.outcome.action == "none":
        c.memory.outcome = Outcome(action="info")
    text = SendSms(to=task.phone, body=body, kind="running_late", booking_uid=task.uid)
    return [text, *reply(c, f"Sent. {task.customer or 'They'} will expect you around {clock(expected)}.")]


def changed(c: Capabilities, name: str, result: dict[str, Any]) -> list[Action]:
    m = c.memory
    if result.get("unavailable"):
        return times.offer(c, nearest=False, taken=True)  # the new time was taken meanwhile
    task, m.owner_task = m.owner_task, None
    label = task.label if task else "that time"
    if name == "owner_block":
        return reply(c, f"Done: {label} is blocked.")
    if name == "owner_reopen":
        if result.get("reopened"):
            return reply(c, f"Done: {label} is open again.")
        return reply(c, "There was no time off then, so nothing changed.")
    booking = result.get("booking") or {}
    who = booking.get("name") or "The customer"
    if name == "owner_cancel":
        return reply(c, f"Done: {who}'s job is cancelled, and they've been texted.")
    start = datetime.fromisoformat(booking["start"]) if booking.get("start") else None
    return reply(c, f"Done: {who} is now {c.label(start) if start else 'moved'}, and they've been texted.")
