"""Every line the receptionist says, in a few phrasings, chosen so a conversation sounds like a person.

The choice depends on (seed, how many lines so far), so tests are repeatable and a text thread restored from
storage carries on with the same sequence; a phrasing equal to the line just said is skipped when another
exists, so nothing is said twice in a row.
"""

from __future__ import annotations

import random

LINES: dict[str, tuple[str, ...]] = {
    # -- opening
    "greet": (
        "Thanks for calling {business}, this is {agent}. How can I help you today?",
        "{business}, this is {agent} speaking. What can I do for you?",
    ),
    "greet_known": ("Thanks for calling {business}, this is {agent}. Good to hear from you again. How can I help?",),
    "greet_forwarded": (
        "Thanks for calling {business}, this is {agent}. {owner} is out on a job right now, but I can book a "
        "visit or take a message. What can I do for you?",
    ),
    "recording_notice": ("Just so you know, this call is recorded.",),  # a business may word its own
    "hello_again": ("Hi there! You're through to {business}. How can I help?",),
    "greet_sms": ("Hi, this is {agent} from {business}. How can I help?",),
    "hi_name": ("Hi {first}, how can I help you today?", "Hi {first}. What can I do for you?"),
    "still_here": ("Yes, I'm here. {prompt}",),
    # -- the questions, and how each is asked again with an example when the answer didn't come through
    "ask_need": ("How can I help you today?", "What can I do for you?"),
    "reask_need": (
        "Sorry, I didn't quite follow. I can book a visit, check or change an appointment, or take a message "
        "for {owner}. Which would help?",
    ),
    "ask_problem": ("What seems to be the problem?", "Can you tell me a little about what's going on?"),
    "reask_problem": (
        "Sorry, I missed that. What needs fixing? For example, a leaking tap or a blocked drain.",
        "Could you tell me in a few words what's wrong? Something like the toilet keeps running.",
    ),
    "ask_name": ("Can I get your name, please?", "Who am I speaking with?", "And what's your name?"),
    "reask_name": (
        "Sorry, I didn't catch your name. Could you say your first and last name, or spell it for me?",
        "I didn't quite get the name. Could you say it once more, or spell it, like S M I T H?",
    ),
    "confirm_phone": (
        "Is the number you're calling from, ending in {last4}, the best one to reach you?",
        "Is the number ending in {last4} the best one to reach you on?",
    ),
    "reask_phone_confirm": ("Sorry, should we use the number ending in {last4}? Just yes or no is fine.",),
    "ask_phone": (
        "What's the best number to reach you on? You can say it or type it on your keypad.",
        "What number should we call you back on? Feel free to key it in.",
    ),
    "ask_phone_sms": ("What's the best number to reach you on?",),
    "reask_phone": (
        "Sorry, I didn't get the whole number. Could you say it digit by digit, area code first, like five oh "
        "three, five five five, one two three four? Or type it on your keypad.",
    ),
    "reask_phone_sms": (
        "Sorry, I couldn't read that number. Could you send it with the area code, like 503-555-1234?",
    ),
    "ask_address": ("What's the address where you need us?", "And what's the address for the visit?"),
    "reask_address": (
        "Sorry, I didn't get the address. Could you give me the house number and street, like 12 Oak Street?",
        "I missed the address. What's the house number and street name, for example 4410 Southeast Hawthorne?",
    ),
    "ask_when": ("When would suit you?", "What day and time works best for you?"),
    "reask_when": (
        "Sorry, I didn't catch the day. You could say something like tomorrow afternoon, Thursday at 10, or "
        "as soon as possible.",
    ),
    "reask_when_which": ("Sorry, I didn't catch which one. {question}",),
    "reask_slot_choice": (
        "Sorry, which time would you like: {options}? Or tell me another day that suits you.",
        "Which of those works, {options}? Or name another day.",
    ),
    "reask_confirm": ("Sorry, should I go ahead? Just yes or no.",),
    "reask_cancel_confirm": ("Sorry, do you want me to cancel it? Yes or no.",),
    "ask_change": ("No problem. What would you like to change: the time, the address or the name?",),
    "reask_change": ("Sorry, what should I change? You can say a new time, a new address, or the right name.",),
    "reask_emergency_offer": ("Sorry, shall I book {when} for you?{transfer}",),
    "reask_which_booking": ("Sorry, which appointment do you mean: {list}?",),
    "reask_offer_book": ("Would you like me to book a visit? Yes or no.",),
    "ask_message": (
        "Sure, what's the message for {owner}?",
        "Of course. What would you like me to pass on to {owner}?",
    ),
    "reask_message": ("Sorry, what would you like me to tell {owner}?",),
    "message_offer": ("Would you like me to take a message for {owner}?",),
    "reask_message_offer": ("Shall I take a message for {owner}? Yes or no.",),
    "anything_else": ("Is there anything else I can help with?", "Anything else I can do for you?"),
    "reask_anything_else": ("Is there anything else you need today, or is that everything?",),
    # -- repair: after two misses, a way out
    "way_out": (
        "I'm sorry, I'm not getting this right. I can take a message and have {owner} call you back on the "
        "number ending in {last4}, or put you through to {owner} now. Which would you prefer?",
    ),
    "way_out_no_number": (
        "I'm sorry, I'm not getting this right. I can put you through to {owner} now, or take a message with "
        "your number. Which would you prefer?",
    ),
    "way_out_no_transfer": (
        "I'm sorry, I'm not getting this right. Shall I have {owner} call you back on the number ending in {last4}?",
    ),
    "way_out_sms": ("Sorry, I'm not following. Shall I ask {owner} to get back to you?",),
    "reask_way_out": ("Would you like a message for {owner}, or to be put through to {owner}?",),
    "way_out_final": (
        "No problem. I'll pass your number to {owner} with what you've told me, and {owner} will call you back. "
        "Thanks for calling {business}.",
    ),
    "try_again": ("Sure, let's try again.",),
    "welcome": ("You're welcome. {prompt}",),
    "take_your_time": ("Sure, take your time.", "No rush, I'll wait."),
    "repeat": ("Sure. {prompt}", "Of course. {prompt}"),
    # -- offers
    "offer": ("I have {options}. Would any of those work?", "I could do {options}. Does one of those suit you?"),
    "offer_one": ("I have {options}. Would that work?",),
    "offer_nearest": ("I don't have anything {label}, but I could do {options}. Would any of those work?",),
    "offer_reason": ("{reason}, but I could do {options}. Would any of those work?",),
    "offer_closing": ("{reason}, so I have {options}. Would {any} work?",),
    "offer_passed": ("{passed} The nearest I have {are} {options}. Would {any} work?",),
    "none_at_all": (
        "I'm sorry, I can't see any openings in the next couple of weeks. I can take a message and have "
        "{owner} call you back. Would you like that?",
    ),
    "too_far": ("I can only book up to {days} days ahead. What day in that time would suit you?",),
    "pick_other_day": ("Okay. What other day or time would suit you?", "No problem. When else might work?"),
    "readback": ("So that's {what} {when} at {address} for {name}{deposit}. Shall I book it?",),
    "readback_reschedule": ("So I'll move your {what} from {old} to {when}. Is that right?",),
    "deposit": (", and that one needs a ${amount:.0f} deposit; I'll text you a link to pay it",),
    "booked": (
        "You're all set: {what} {when}. We'll text a confirmation to the number ending in {last4}.",
        "Done, you're booked for {what} {when}. A confirmation text is on its way to the number ending in {last4}.",
    ),
    "rescheduled": ("All done, your {what} is now {when}. I'll text you the new time.",),
    "cancelled": ("Okay, your {what} {when} is cancelled. I'll text you to confirm.",),
    "slot_taken": ("Ah, I'm sorry, that time was just taken.",),
    "not_booked": ("Okay, I won't book anything.",),
    # -- existing bookings
    "no_bookings": ("I don't see any upcoming appointments under this number. Would you like to book one?",),
    "no_bookings_again": (
        "There's still nothing booked under this number. If it was booked from another phone, I can ask {owner} "
        "to look it up. Shall I take a message?",
    ),
    "withheld": (
        "I can only look up appointments for the number you're calling from, and it's withheld. I can take a "
        "message for {owner} instead.",
    ),
    "your_booking": ("Your {what} is {when}.",),
    "your_bookings": ("You have {count} upcoming appointments: {list}.",),
    "ask_reschedule_when": ("I see your {what} {when}. When would you like to move it to?",),
    "ask_cancel": ("I see your {what} {when}. Do you want me to cancel it?",),
    "which_booking": ("I see {list}. Which one do you mean?",),
    "kept": ("Okay, I'll leave it as it is.",),
    # -- messages and people
    "message_taken": (
        "Got it. I'll pass that on to {owner}, and they'll call you back on the number ending in {last4}.",
    ),
    "message_added": ("Got it, I'll add that for {owner}.",),
    "transfer": ("Sure, let me put you through to {owner} now. One moment.",),
    "transfer_sms": ("I've asked {owner} to call you back as soon as possible.",),
    # -- emergencies
    "gas": (
        "If you smell gas, please leave the building right now, don't switch anything on or off, and call the "
        "gas company or 911 from outside. Once you're safe, call us back and we'll help. I'm letting {owner} "
        "know right away.",
    ),
    "emergency_offer": (
        "That sounds urgent. The earliest I can get someone out is {when}. Shall I book that?{transfer}",
    ),
    "emergency_transfer_option": (" Or I can put you straight through to {owner}.",),
    "emergency_none": ("That sounds urgent, and I can't see an emergency opening today.",),
    # -- answers about the business
    "hours": ("We're open {hours}.",),
    "services": ("We do {services}.",),
    "area": ("We cover {area}.",),
    "area_yes": ("Yes, we cover {place}.",),
    "area_no": ("I'm afraid {place} is outside our area; we cover {area}.",),
    "area_unknown": ("I'd have to check with {owner} about the area. I can take a message if you like.",),
    "out_of_area": (
        "I'm sorry, {place} is outside the area we cover; we go to {area}. I can take a message for {owner} in "
        "case they can help. Would you like that?",
    ),
    "robot": (
        "Yes, I'm {agent}, {owner_s} AI assistant. I can book a visit, take a message, or put you through to {owner}.",
    ),
    "faq_unknown": ("That's a good question for {owner}. I can take a message and have them get back to you.",),
    "then_anything": ("Can I help with anything else, like booking a visit?",),
    "then_continue": ("{prompt}",),
    # -- refusals: said once in full, then briefly
    "refuse_rules": ("I'm sorry, I can't do that. I can only help with your own appointments.",),
    "refuse_owner": ("I'm sorry, I can only read out the schedule when {owner} calls from their own phone.",),
    "refuse_again": ("I'm afraid I can't help with that.",),
    # -- endings
    "goodbye": ("Thanks for calling {business}. Have a good day!", "Thanks for calling, take care. Bye now!"),
    "goodbye_midway": (
        "No problem, nothing's been booked. Feel free to call back any time. Bye for now!",
        "That's fine, I haven't booked anything. Call us back whenever suits. Take care!",
    ),
    "goodbye_sms": ("Thanks for texting {business}!",),
    "still_there": ("Are you still there?", "Hello, are you still with me?"),
    "silence_bye": ("I'll let you go for now. Feel free to call back any time. Goodbye!",),
    "filler": ("One moment while I check the calendar.", "Just a second, let me check the calendar."),
    "tool_failed": (
        "I'm sorry, I can't reach the calendar right now. I'll let {owner} know and they'll call you back to "
        "sort it out.",
    ),
    "booking_not_confirmed": (
        "I'm sorry, the calendar didn't take that booking, so nothing is booked yet. I'll let {owner} know and "
        "they'll call you back to sort out a time.",
    ),
    "something_wrong": (
        "I'm sorry, something went wrong on my end. I've asked {owner} to call you back as soon as possible.",
    ),
    "something_wrong_transfer": ("I'm sorry, something went wrong on my end. Let me put you through to {owner}.",),
    "owner_schedule": ("You have {count} {day}{first}.",),
    "owner_none": ("You have nothing booked {day}.",),
    "ok": ("Okay.", "Alright.", "Sure."),
}


class Replies:
    """Picks one phrasing per line, deterministically from (seed, count)."""

    def __init__(self, seed: int | None = None, count: int = 0) -> None:
        self.seed = seed if seed is not None else 0
        self.count = count

    def line(self, key: str, avoid: str = "", **values: object) -> str:
        """One phrasing of `key`, never equal to `avoid` (the line just said) when another phrasing exists."""
        choices = [c.format(**values) for c in LINES[key]]
        self.count += 1
        start = random.Random(f"{self.seed}:{self.count}").randrange(len(choices)) if len(choices) > 1 else 0
        for offset in range(len(choices)):
            text = choices[(start + offset) % len(choices)]
            if text != avoid:
                return text
        return choices[start]
