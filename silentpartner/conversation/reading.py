"""One caller turn, read once: every intent and every detail in it, whatever was asked.

`read(text, context)` returns a `Reading`; the conversation decides from it alone (never by parsing the words
again). What was asked (the conversation state) only settles what a bare answer means: "John Smith" is a name
when the question was the name, "the first one" is a slot when times were just offered; a name introduced
("this is John") or a phone number, address or time said out of turn counts whatever was asked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from silentpartner.business import Business, FaqEntry
from silentpartner.conversation import faq, guards
from silentpartner.conversation.lexicon import Intent, describes_problem, fixture_in, intents_in, plain, symptom_in
from silentpartner.conversation.memory import KnownBooking, OfferedSlot
from silentpartner.conversation.owner_reading import OwnerReading, read_owner
from silentpartner.conversation.picking import on_offered_day, ordinal_pick, pick_offered
from silentpartner.conversation.spoken.addresses import extract_address
from silentpartner.conversation.spoken.emails import extract_email
from silentpartner.conversation.spoken.names import answered_name, capitalised_name, introduced_name
from silentpartner.conversation.spoken.numbers import digits_from_speech
from silentpartner.conversation.spoken.phone_numbers import parse_phone_number
from silentpartner.conversation.spoken.yes_no import is_no, is_yes
from silentpartner.conversation.states import State
from silentpartner.conversation.when import Alternatives, Ambiguous, InThePast, TimeWindow, resolve_choice
from silentpartner.conversation.when import understand_when as _understand_when
from silentpartner.conversation.when.moves import MoveWords, read_move
from silentpartner.conversation.wording import clean_note

When = TimeWindow | Alternatives | Ambiguous | InThePast


@dataclass(frozen=True)
class ReadContext:
    """What the words are read against: the question asked, the clock, the business, what was just offered."""

    state: State
    now: datetime  # aware
    business: Business
    owner_name: str
    offered: tuple[OfferedSlot, ...] = ()  # the latest offer, in order
    bookings: tuple[KnownBooking, ...] = ()  # the caller's own bookings, once looked up
    ambiguous: Ambiguous | None = None  # a time question asked back
    rescheduling: bool = False  # the caller is moving a booking: times name the booking or the new time
    runs_the_day: bool = False  # the owner or a team member: read the owner's intents too

    @property
    def tz(self) -> ZoneInfo:
        return self.business.tz


@dataclass(frozen=True)
class Reading:
    text: str
    plain: str
    intents: frozenset[Intent] = frozenset()
    yes: bool = False
    no: bool = False
    name: str | None = None  # introduced ("this is John"), or the answer to a name question
    name_correction: bool = False  # "the name is...", "it's spelled..."
    phone: str | None = None  # E.164, only a valid number
    digits: str = ""  # every digit said, for a phone number given in pieces
    address: str | None = None
    problem: str | None = None  # a clean note when the words describe a problem
    fixture: str | None = None  # "water heater", for a short acknowledgement
    emergency: bool = False  # the business's emergency words, or "it's an emergency"
    water_running: bool = False  # the business's safety words: say the safety line first
    when: When | None = None  # for a move request, the new time (see `move`)
    move: MoveWords | None = None  # a request to move a booking, read for the booking's day and the new time
    owner: OwnerReading | None = None  # the owner's (or a team member's) asks and changes
    when_choice: TimeWindow | None = None  # the answer to a time question asked back
    slot: str | None = None  # the id of the offered slot picked
    booking: str | None = None  # the uid of the caller's booking they named
    email: str | None = None
    faq: FaqEntry | None = None
    asks_for_owner: bool = False  # "can I talk to Mike?"
    attack: bool = False  # trying to talk the receptionist out of its rules
    claims_owner: bool = False
    extras: dict[str, str] = field(default_factory=dict)

    def has(self, *intents: Intent) -> bool:
        return any(i in self.intents for i in intents)

    @property
    def window(self) -> TimeWindow | None:
        return self.when if isinstance(self.when, TimeWindow) else None

    @property
    def says_a_time(self) -> bool:
        return isinstance(self.when, TimeWindow | Alternatives)


_FAQ_OVER_CORE = 0.7  # how sure an FAQ match must be to answer instead of hours, prices or the area
_NAME_STATES = frozenset({State.NAME})
_SHORT_NAME_STATES = frozenset({State.PROBLEM, State.NEED, State.GREETING, State.MESSAGE})
_NAME_FIX = re.compile(r"\b(name|spell|spelled|spelt|spelling)\b", re.I)


def read(text: str, context: ReadContext) -> Reading:
    said = text.strip()
    words = plain(said)
    owner = re.escape(context.owner_name.lower())
    kinds = set(intents_in(re.sub(rf"\b{owner}\b", "the owner", words)))
    state = context.state
    today = context.now.astimezone(context.tz).date()

    yes, no = _yes_no(said, words)
    asking = kinds & {Intent.PRICE, Intent.HOURS, Intent.SERVICES, Intent.AREA, Intent.ROBOT, Intent.SHUTOFF}
    question = _is_question(said, words)
    # "do you work on tankless heaters?" names a fixture but is a question, not a problem at the caller's place
    describes = symptom_in(words) or (describes_problem(words) and not (question and asking))
    problem = clean_note(said) if describes else None
    emergency, water = _emergency(words, context.business)
    emergency = emergency or water  # water running now is an emergency, whatever the list says
    if Intent.URGENT in kinds and Intent.NOT_URGENT not in kinds and not (asking and not problem):
        emergency = True  # "it's urgent" (but "how much is an emergency call-out?" is a question)
    if asking and not problem:
        kinds.discard(Intent.URGENT)
    if Intent.NOT_URGENT in kinds:
        emergency = False

    when = _when(said, context, today)
    move = None
    if Intent.RESCHEDULE in kinds or context.rescheduling:
        move = read_move(_without_phone(said), context.now, context.tz)
        when = move.new
    when_choice = resolve_choice(said, context.ambiguous) if context.ambiguous else None

    slot = None
    if context.offered and not (no and ordinal_pick(said) is None):  # "no, I can't wait till tomorrow"
        index = pick_offered(said, context.offered, context.tz, today)
        slot = context.offered[index].id if index is not None else None
        if slot is None:
            # "noon" after "Saturday at 9, 10 or 11" is Saturday at noon, not today
            reread = on_offered_day(said, context.offered, context.tz, today)
            if reread != said:
                when = _understand(reread, context)

    name = _name(said, words, state, problem, kinds)
    if name and state == State.NAME and len(words.split()) <= 4:
        kinds -= {Intent.PRICE, Intent.HOURS, Intent.SERVICES, Intent.AREA}  # "Doug Price" is a name here
        asking = set()
    matched = faq.best_match(said, context.business.faq) if question else None
    core = asking & {Intent.PRICE, Intent.HOURS, Intent.AREA}
    if matched is not None and core and matched.score < _FAQ_OVER_CORE:
        matched = None  # "how much is a service call?" is the price question, not an FAQ that mentions calls
    owner = read_owner(said, context.now, context.tz) if context.runs_the_day else None
    reading = Reading(
        text=said,
        owner=owner,
        plain=words,
        intents=frozenset(kinds),
        yes=yes,
        no=no,
        name=name,
        name_correction=bool(_NAME_FIX.search(said)),
        phone=parse_phone_number(said),
        digits=digits_from_speech(said),
        address=_address(said, state),
        problem=problem,
        fixture=fixture_in(words),
        emergency=emergency,
        water_running=water,
        when=when,
        move=move,
        when_choice=when_choice,
        slot=slot,
        booking=_pick_booking(said, context, today),
        email=extract_email(said),
        faq=matched.entry if matched else None,  # type: ignore[arg-type]
        asks_for_owner=_asks_for_owner(words, context.owner_name),
        attack=guards.is_rule_attack(said),
        claims_owner=guards.claims_to_be_owner(said) or guards.asks_for_the_schedule(said),
    )
    return reading


_QUESTION_START = re.compile(
    r"^(?:(?:hi|hello|hey|yeah|so|and|um|uh|ok|okay|also|oh|quick question|one more thing)\b[\s,]*)*"
    r"(?:do|does|did|is|are|can|could|will|would|should|what|how|when|where|which|who|why|any chance|have you"
    r"|i was wondering|i wonder|i would like to know|just wondering)\b"
)


def _is_question(said: str, words: str) -> bool:
    """Asked, not told: a question mark, or a sentence that starts the way questions do."""
    return said.rstrip().endswith("?") or bool(_QUESTION_START.search(words))


_LEADS_YES = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok|okay|correct|right|perfect|great|sounds good|that works)\b")
_LEADS_NO = re.compile(r"^(?:no|nope|nah|not)\b")
_BUT = re.compile(r"\b(but|actually|instead|wait|change|except|although|however)\b")


def _yes_no(said: str, words: str) -> tuple[bool, bool]:
    """Yes or no to the question asked: a short answer, or one that starts with it ("yeah, that works"). A yes
    with a "but" is not a yes; "no" somewhere in a long sentence ("if something goes wrong") is not a no."""
    short = len(words.split()) <= 6
    yes = is_yes(said) and (short or bool(_LEADS_YES.search(words))) and not _BUT.search(words)
    no = is_no(said) and (short or bool(_LEADS_NO.search(words)))
    return yes, no


def _understand(text: str, context: ReadContext) -> When | None:
    return _understand_when(text, context.now, context.tz)


def _when(said: str, context: ReadContext, today: date) -> When | None:
    words = _without_phone(said)
    # "it drips all night, Monday morning is fine": the part about the problem says when the trouble happens,
    # not when to come; read the time only from the other parts.
    clauses = re.split(r"(?<=[,.;!?])\s+", words)
    kept = [c for c in clauses if _SCHEDULING.search(c) or not describes_problem(plain(c))]
    if not kept:
        return None
    return _understand(" ".join(kept), context)


# Words that show a time is about the visit, in a sentence that is mostly about the problem.
_SCHEDULING = re.compile(
    r"\b(come|out|over|visit|book|schedule|appointment|available|free|works?|suits?|fit|send|someone|somebody"
    r"|earliest|soon|asap|by|around|at|can you|could you|tomorrow|today|next|fine|good|great|ok|okay)\b",
    re.IGNORECASE,
)
_PHONE_SAID = re.compile(r"(?:\+?1[\s.-]*)?\(?\d{3}\)?[\s.-]*\d{3}[\s.-]*\d{4}\b")


def _without_phone(said: str) -> str:
    """The words without a phone number in them, so "971 555 0102, and tomorrow at 3" is read as 3 PM."""
    return _PHONE_SAID.sub(" ", said)


def _name(said: str, words: str, state: State, problem: str | None, kinds: set[Intent]) -> str | None:
    name = introduced_name(said)
    if name:
        return name
    if state in _NAME_STATES:
        return answered_name(said)  # the answer to "what's your name?"
    if state in _SHORT_NAME_STATES and not problem and not kinds and len(words.split()) <= 3:
        # "Karen Page" said when asked what's wrong: a name given early, kept
        name = answered_name(said)
        if name and len(name.split()) >= 2:
            return name
    return _name_clause(said)


def _name_clause(said: str) -> str | None:
    """A written-out text with a name as one of its parts: "Leaky faucet. Amy Wong, 14 Elm St"."""
    clauses = [c.strip() for c in re.split(r"[,;.!?\n]", said) if c.strip()]
    if len(clauses) < 3:
        return None
    for clause in clauses:
        name = capitalised_name(clause)
        if name and not describes_problem(plain(clause)):
            return name
    return None


def _address(said: str, state: State) -> str | None:
    address = extract_address(said)
    if address is None and state == State.ADDRESS and re.search(r"\d", said) and len(said.split()) >= 2:
        # "4410 Hawthorne" with no street type, said when asked for the address
        address = re.sub(r"^(?:it'?s|it is|the address is|my address is|i'?m at|we'?re at)\s+", "", said, flags=re.I)
        address = address.strip().rstrip(".")
    return address


def _emergency(words: str, business: Business) -> tuple[bool, bool]:
    """(an emergency by the business's own words, water running now)."""
    emergencies = business.emergencies
    return _any_phrase(words, emergencies.keywords), _any_phrase(words, emergencies.safety_keywords)


def _any_phrase(words: str, phrases: Sequence[str]) -> bool:
    return any(_phrase(p).search(words) for p in phrases)


_PHRASES: dict[str, re.Pattern[str]] = {}


def _phrase(keyword: str) -> re.Pattern[str]:
    """A configured phrase, tolerant of endings ("pipes", "flooded") and of a few words between ("the pipe under
    the sink burst"); short words are exact and fix their neighbours ("no water" is not "not draining, water")."""
    pattern = _PHRASES.get(keyword)
    if pattern is None:
        words = plain(keyword).split()
        pattern_text = r"\b" + re.escape(words[0]) + (r"\w{0,3}" if len(words[0]) >= 4 else "")
        for before, word in itertools.pairwise(words):
            short = len(before) <= 3 or len(word) <= 3
            pattern_text += (r"\W+" if short else r"(?:\W+\w+){0,4}?\W+") + re.escape(word)
            pattern_text += r"\w{0,3}" if len(word) >= 4 else ""
        pattern = re.compile(pattern_text + r"\b")
        _PHRASES[keyword] = pattern
    return pattern


def _asks_for_owner(words: str, owner: str) -> bool:
    """ "Can I talk to Mike?", "is Mike there?", with the owner's own name."""
    name = re.escape(owner.lower())
    return bool(
        re.search(rf"\b(?:talk|speak|chat) (?:to|with) {name}\b|\bis {name} (?:there|around|in|available)\b", words)
        or re.search(rf"\b(?:put|get|transfer|connect) me (?:through )?to {name}\b|\bget {name} on\b", words)
    )


def _pick_booking(said: str, context: ReadContext, today) -> str | None:
    """Which of the caller's bookings they named: "the first one", "Thursday's", "the estimate"."""
    bookings = context.bookings
    if not bookings:
        return None
    index = ordinal_pick(said)
    if index is not None and (index < len(bookings)):
        return bookings[index].uid
    lowered = said.lower()
    tz = context.tz
    from silentpartner.conversation.picking import mentions_day

    matches = [
        b
        for b in bookings
        if mentions_day(lowered, b.start, tz, today) or _mentions_service(lowered, context.business, b.service)
    ]
    return matches[0].uid if len(matches) == 1 else None


def _mentions_service(lowered: str, business: Business, slug: str) -> bool:
    try:
        name = business.service(slug).name
    except KeyError:
        return False
    words = [w for w in name.lower().split() if len(w) > 4 and w not in ("service",)]
    return any(re.search(rf"\b{re.escape(w)}", lowered) for w in words)
