"""The read-back before booking, moving or cancelling: an explicit yes goes ahead; anything else fixes just the
part the caller corrected."""

from __future__ import annotations

import re

from silentpartner.conversation import guards
from silentpartner.conversation.capabilities import Capabilities
from silentpartner.conversation.events import Action
from silentpartner.conversation.reading import Reading
from silentpartner.conversation.rules import answers, booking, times
from silentpartner.conversation.states import Flow, State


def on_confirm(c: Capabilities, r: Reading) -> list[Action] | None:
    m = c.memory
    if m.readback_yes:
        try:
            if m.flow == Flow.RESCHEDULE and m.target_uid:
                return [c.reschedule(m.target_uid)]
            if m.flow == Flow.CANCEL and m.target_uid:
                return [c.cancel(m.target_uid)]
            return [c.book()]
        except guards.Refused as refused:
            return answers.refuse(c, refused.say_key)
    if m.flow == Flow.CANCEL:
        if r.no:
            m.readback_for = None
            m.flow = Flow.NONE
            return c.ask(State.ANYTHING_ELSE, "anything_else", before=[c.say("kept")])
        return None
    correction = correct(c, r)
    if correction is not None:
        return correction
    if r.no:
        return c.ask(State.CHANGE, "ask_change")
    return None


def on_change(c: Capabilities, r: Reading) -> list[Action] | None:
    correction = correct(c, r)
    if correction is not None:
        return correction
    m = c.memory
    d = m.details
    if re.search(r"\b(time|day|date|when)\b", r.plain):
        return c.ask(State.WHEN, "ask_when")
    if re.search(r"\baddress\b|\bstreet\b", r.plain):
        d.address = None
        return booking.next_step(c)
    if re.search(r"\bname\b|\bspell", r.plain):
        d.name = None
        return booking.next_step(c)
    if re.search(r"\b(number|phone)\b", r.plain):
        d.phone_confirmed = False
        return c.ask(State.PHONE, "ask_phone_sms" if c.is_sms else "ask_phone")
    if r.yes and m.chosen and m.hold_id:
        return c.readback()  # "actually it's fine"
    return None


def correct(c: Capabilities, r: Reading) -> list[Action] | None:
    """ "No, Thursday" / "no, the name is Jon Smyth" / "it's 45 Oak Street": fix just that part."""
    m = c.memory
    d = m.details
    if r.when is not None:
        return times.find(c, r.when)  # a new search releases the old hold
    if r.address and r.address != d.address:
        d.address = r.address
        return booking.next_step(c)
    if r.phone and r.phone != d.phone:
        d.phone, d.phone_confirmed = r.phone, True
        return c.readback()
    if r.name_correction:
        if r.name and r.name != d.name:
            d.name = r.name
            return c.readback()
        d.name = None
        return c.ask(State.NAME, "reask_name")
    return None
