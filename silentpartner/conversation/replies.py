"""Templated lines that sound like a person and vary a little (seeded, so tests are repeatable)."""

from __future__ import annotations

import random

LINES: dict[str, tuple[str, ...]] = {
    "greet": (
        "Thanks for calling {business}, this is {agent}. How can I help you today?",
        "{business}, this is {agent} speaking. What can I do for you?",
    ),
    "greet_known": ("Thanks for calling {business}, this is {agent} — good to hear from you again. How can I help?",),
    "greet_forwarded": (
        "Thanks for calling {business}, this is {agent}. {owner} is out on a job right now, but I can book a "
        "visit or take a message. What can I do for you?",
    ),
    "hello_again": ("Hi there! You're through to {business}. How can I help?",),
    "greet_sms": ("Hi, this is {agent} from {business}. How can I help?",),
    "ask_name": ("Can I get your name, please?", "Who am I speaking with?", "And what's your name?"),
    "ask_name_again": ("Sorry, I didn't catch your name. Could you say it again, or spell it for me?",),
    "confirm_phone": (
        "Is the number you're calling from the best one to reach you, ending in {last4}?",
        "Is the number ending in {last4} the best one to reach you on?",
    ),
    "ask_phone": (
        "What's the best number to reach you on? You can say it or type it on your keypad.",
        "What number should we call you back on? Feel free to key it in.",
    ),
    "ask_phone_sms": ("What's the best number to reach you on?",),
    "phone_again": ("Sorry, I didn't get that number. Could you say it again, digit by digit?",),
    "ask_address": ("What's the address where you need us?", "And what's the address for the visit?"),
    "ask_problem": ("What seems to be the problem?", "Can you tell me a little about what's going on?"),
    "ask_when": ("When would suit you?", "What day and time works best for you?"),
    "when_again": (
        "Sorry, I didn't catch the day. You could say something like tomorrow afternoon, or Thursday at 10.",
    ),
    "offer": ("I have {options}. Would any of those work?", "I could do {options}. Does one of those suit you?"),
    "offer_one": ("I have {options}. Would that work?",),
    "offer_nearest": ("I don't have anything {label}, but I could do {options}. Would any of those work?",),
    "none_at_all": (
        "I'm sorry, I can't see any openings in the next couple of weeks. I can take a message and "
        "have {owner} call you back. Would you like that?",
    ),
    "pick_again": ("Which of those would you like? Or tell me another day that suits you.",),
    "readback": ("So that's {what} {when} at {address} for {name}{deposit}. Shall I book it?",),
    "readback_reschedule": ("So I'll move your {what} from {old} to {when}. Is that right?",),
    "deposit": (" — that one needs a ${amount:.0f} deposit, and I'll text you a link to pay it",),
    "what_change": ("No problem. What would you like to change?",),
    "booked": (
        "You're all set: {what} {when}. We'll text a confirmation to the number ending in {last4}.",
        "Done — you're booked for {what} {when}. A confirmation text is on its way to the number ending in {last4}.",
    ),
    "rescheduled": ("All done — your {what} is now {when}. I'll text you the new time.",),
    "cancelled": ("Okay, your {what} {when} is cancelled. I'll text you to confirm.",),
    "slot_taken": ("Ah, I'm sorry — that time was just taken. {rest}",),
    "anything_else": ("Is there anything else I can help with?", "Anything else I can do for you?"),
    "goodbye": ("Thanks for calling {business}. Have a good day!", "Thanks for calling — take care. Bye now!"),
    "goodbye_sms": ("Thanks for texting {business}!",),
    "no_bookings": ("I don't see any upcoming appointments under this number. Would you like to book one?",),
    "your_booking": ("Your {what} is {when}.",),
    "your_bookings": ("You have {count} upcoming appointments: {list}.",),
    "ask_reschedule_when": ("I see your {what} {when}. When would you like to move it to?",),
    "ask_cancel": ("I see your {what} {when}. Do you want me to cancel it?",),
    "which_booking": ("I see {list}. Which one do you mean?",),
    "kept": ("Okay, I'll leave it as it is.",),
    "ask_message": (
        "Sure, what's the message for {owner}?",
        "Of course. What would you like me to pass on to {owner}?",
    ),
    "message_taken": ("Got it. I'll pass that on to {owner} and they'll get back to you.",),
    "transfer": ("Sure, let me put you through to {owner} now. One moment.",),
    "transfer_sms": ("I've asked {owner} to call you back as soon as they can.",),
    "gas": (
        "If you smell gas, please leave the building right now, don't switch anything on or off, and call the "
        "gas company or 911 from outside. Once you're safe, call us back and we'll help. I'm letting {owner} "
        "know right away.",
    ),
    "emergency_offer": (
        "That sounds urgent. The earliest I can get someone out is {when} — shall I book that?{transfer}",
    ),
    "emergency_transfer_option": (" Or I can put you straight through to {owner}.",),
    "emergency_none": ("That sounds urgent, and I can't see an emergency opening today.",),
    "hours": ("We're open {hours}.",),
    "services": ("We do {services}.",),
    "area": ("We cover {area}.",),
    "area_unknown": ("I'd have to check with {owner} about the area — I can take a message if you like.",),
    "price": ("{prices}.",),
    "then_anything": ("Can I help with anything else, like booking a visit?",),
    "off_topic": (
        "I'm just the receptionist for {business}, so I can't help with that — but I can book a visit, answer "
        "questions about us, or take a message. What would you like?",
        "Ha, I wish I could help with that! I can book a visit, answer questions, or take a message for {owner}.",
    ),
    "refuse_rules": (
        "I'm sorry, I can't do that. I can only help with your own appointments. Is there something I can book "
        "or change for you?",
    ),
    "refuse_owner": (
        "I'm sorry, I can only read out the schedule when {owner} calls from their own phone. Can I help you "
        "with an appointment of your own?",
    ),
    "still_there": ("Are you still there?", "Hello, are you still with me?"),
    "silence_bye": ("I'll let you go for now — feel free to call back any time. Goodbye!",),
    "filler": ("One moment while I check the calendar.", "Just a second, let me check the calendar."),
    "tool_failed": (
        "I'm sorry, I can't reach the calendar right now. I'll let {owner} know and they'll call you back "
        "to sort it out.",
    ),
    "owner_schedule": ("You have {count} {day}{first}.",),
    "owner_none": ("You have nothing booked {day}.",),
    "didnt_get": ("Sorry, I didn't quite get that. {prompt}",),
    "yes_or_no": ("Sorry, was that a yes or a no?",),
    "ok": ("Okay.", "Alright.", "Sure."),
}


class Replies:
    """Picks one of a few phrasings per line. The choice depends on (seed, how many lines so far), so a
    conversation restored from `to_state` carries on with the same sequence."""

    def __init__(self, seed: int | None = None, count: int = 0) -> None:
        self.seed = seed if seed is not None else 0
        self.count = count

    def line(self, key: str, **values: object) -> str:
        choices = LINES[key]
        self.count += 1
        pick = random.Random(f"{self.seed}:{self.count}").randrange(len(choices)) if len(choices) > 1 else 0
        return choices[pick].format(**values)
