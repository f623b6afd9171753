"""Who has the floor on a phone call: when the caller's turn is over, when they cut in, when silence speaks.

Sans-I/O, like `dtmf.py`: `CallFloor.feed(now, event)` takes what happened (the caller started or paused,
what Whisper and the end-of-turn model made of the turn so far, what the agent is doing, a tick of the
clock) and returns what to do (`EndTurn`, `DropTurn`, `BargeIn`, `PromptSilence`). `LiveCall` moves the
bytes and runs the models; every decision about turns is made here, so a whole call's turn-taking can be
tested as a list of timed events.

End of turn. The VAD closes a segment at a short pause (`CallTiming.end_silence_ms`, 250 ms); the call
transcribes the turn so far and scores it with the end-of-turn model, and the floor weighs both:

- the words end mid-clause ("... because", "um", a trailing comma, 7 digits of a phone number):
  wait up to `hold_s` (`hold_long_s` while a phone number or address is being given);
- the words could be all there is but often are not (a lone "hi", "okay" after an open question, a noun
  phrase with no verb yet), or the voice sounds unfinished, or there is no end-of-turn model, or the
  caller has already paused once inside this turn (someone thinking as they go does it again, and
  Whisper can make a finished-looking sentence of half of theirs): wait up to `unsure_s`;
- the words read as finished and so does the voice (or it is a yes/no to a yes/no question): the turn
  ends now.

Waiting means: the turn ends when the wait has run out with the caller still silent; if the caller speaks
again first, the new speech joins the same turn and the next pause is judged afresh. Nothing ends a turn
while the VAD hears sound that may be speech, and a sound too short to be speech (an "uh") starts the
wait again from its end. The conversation gets one `EndTurn` per turn, with the transcript of all of it.

`TurnRules(policy="silence")` is the old policy, kept for comparison: every pause of `end_silence_ms`
ends the turn on its own, as soon as its transcript is in (use it with 500 ms).

Barge-in: confirmed caller speech (the VAD has heard `min_speech_ms` of it, so a cough or an "mm-hm" is
not a barge-in) while the agent's audio is playing and every line in it may be interrupted. The booking
read-back and the goodbye may not.

Silence: once the agent has finished and the caller has been quiet `reprompt_s`, a gentle re-prompt;
after that every `goodbye_s` more of the caller's silence another `PromptSilence` (the conversation says
goodbye on the second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from silentpartner.conversation.events import Expect
from silentpartner.voice.turn_text import read_turn

# -- events (into the floor) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerStarted:
    """The VAD confirmed speech (it has heard `min_speech_ms` of it)."""


@dataclass(frozen=True)
class CallerPaused:
    """The VAD closed a segment at a short pause; its audio joins the turn and is being transcribed."""

    segment: int  # the call's segment counter, increasing
    speech_ended_at: float  # when the caller's voice stopped (before the pause that closed the segment)


@dataclass(frozen=True)
class Hearing:
    """The VAD hears something that may be speech (`on`), or has dropped it as too short to be speech (a
    cough, a short "uh"); `sound_ended_at` is when that sound stopped."""

    on: bool
    sound_ended_at: float | None = None


@dataclass(frozen=True)
class Heard:
    """The transcript of the turn so far, up to and including `segment`."""

    segment: int
    text: str


@dataclass(frozen=True)
class Scored:
    """The end-of-turn model's probability that the turn so far (up to `segment`) is complete; None when
    there is no model or it failed."""

    segment: int
    complete: float | None


@dataclass(frozen=True)
class KeyPressed:
    pass


@dataclass(frozen=True)
class AgentAsked:
    """The agent finished its turn; `expect` is the kind of answer its question invites."""

    expect: Expect


@dataclass(frozen=True)
class AgentState:
    talking: bool  # agent audio is being synthesized or is buffered at Twilio
    interruptible: bool  # every line in that audio may be cut off (and the call is not hanging up)
    busy: bool  # talking, or the conversation is still working on a reply, or the call is ending


@dataclass(frozen=True)
class Tick:
    pass


FloorEvent = CallerStarted | CallerPaused | Hearing | Heard | Scored | KeyPressed | AgentAsked | AgentState | Tick


# -- decisions (out of the floor) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EndTurn:
    """The caller has finished: hand `text` (the whole turn) to the conversation."""

    text: str
    speech_ended_at: float
    reason: str  # why it ended when it did, for the logs
    waited: float  # seconds from the end of speech to this decision


@dataclass(frozen=True)
class DropTurn:
    """The turn held no words (a noise): forget its audio."""


@dataclass(frozen=True)
class BargeIn:
    """The caller cut in: stop the agent's audio."""


@dataclass(frozen=True)
class PromptSilence:
    seconds: float  # how long the caller has been silent


Decision = EndTurn | DropTurn | BargeIn | PromptSilence


# -- policy -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRules:
    """How long to wait for more, by what the words and the voice say. All in seconds of the caller's
    silence, counted from the end of their speech."""

    policy: Literal["weigh", "silence"] = "weigh"
    complete: float = 0.5  # the end-of-turn model's probability that counts as "sounds finished"
    unsure_s: float = 1.2  # more than a 700 ms mid-sentence pause, with room for the VAD to hear it end
    hold_s: float = 2.0  # the words stop mid-clause
    hold_long_s: float = 2.5  # ... while the caller gives a phone number or an address
    max_turn_s: float = 25.0  # a turn this long ends at its next pause, whatever it says


@dataclass
class _Turn:
    started_at: float
    segments: list[int] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    scores: dict[int, float | None] = field(default_factory=dict)
    speech_ended_at: float = 0.0
    sound_ended_at: float = 0.0  # the end of the last sound heard since, too short to be speech
    due: float | None = None  # when the turn ends unless the caller speaks again
    wait: float = 0.0
    reason: str = ""

    def text(self) -> str:
        """The latest transcript with words in it (a last segment of noise transcribes to nothing)."""
        for segment in reversed(self.segments):
            text = self.texts.get(segment, "").strip()
            if text:
                return text
        return ""


class CallFloor:
    def __init__(
        self,
        rules: TurnRules | None = None,
        *,
        reprompt_s: float = 8.0,
        goodbye_s: float = 30.0,
        now: float = 0.0,
    ) -> None:
        self.rules = rules or TurnRules()
        self.reprompt_s = reprompt_s
        self.goodbye_s = goodbye_s
        self.expect: Expect = "open"
        self.agent = AgentState(talking=False, interruptible=True, busy=False)
        self._turn: _Turn | None = None
        self._closed: list[_Turn] = []  # the "silence" policy's turns, ended by a pause, awaiting their text
        self._speaking = False  # between CallerStarted and CallerPaused
        self._hearing = False
        self._last_caller_at = now  # the caller's last speech or key
        self._quiet_since = now  # when the agent last went quiet (or a prompt was given)
        self._prompts = 0

    @property
    def turn_open(self) -> bool:
        return self._turn is not None

    @property
    def joins_segments(self) -> bool:
        """Whether a turn may span several VAD segments (so the call transcribes them together)."""
        return self.rules.policy == "weigh"

    @property
    def hearing(self) -> bool:
        """What the floor last heard of the VAD (see `Hearing`)."""
        return self._hearing

    def deadline(self) -> float | None:
        """When a `Tick` may next end the caller's turn, if one is waiting."""
        if self._turn is None or self._speaking or self._hearing:
            return None
        return self._turn.due

    def feed(self, now: float, event: FloorEvent) -> list[Decision]:
        if isinstance(event, CallerStarted):
            return self._caller_started(now)
        if isinstance(event, CallerPaused):
            return self._caller_paused(now, event)
        if isinstance(event, Hearing):
            return self._heard_sound(now, event)
        if isinstance(event, Heard | Scored):
            turn = next((t for t in [self._turn, *self._closed] if t is not None and event.segment in t.segments), None)
            if turn is None:
                return []  # a result for a turn that already ended
            if isinstance(event, Heard):
                turn.texts[event.segment] = event.text
            else:
                turn.scores[event.segment] = event.complete
            return self._release_closed(now) if turn is not self._turn else self._judge(now)
        if isinstance(event, KeyPressed):
            self._last_caller_at = self._quiet_since = now
            self._prompts = 0
            return []
        if isinstance(event, AgentAsked):
            self.expect = event.expect
            return []
        if isinstance(event, AgentState):
            if self.agent.busy and not event.busy:
                self._quiet_since = now
            self.agent = event
            return []
        return [*self._end_if_due(now), *self._silence(now)]

    # -- the caller's turn ----------------------------------------------------------------------------------

    def _caller_started(self, now: float) -> list[Decision]:
        decisions: list[Decision] = []
        if self.agent.talking and self.agent.interruptible:
            decisions.append(BargeIn())
        self._speaking = self._hearing = True
        self._last_caller_at = now
        if self._turn is None:
            self._turn = _Turn(started_at=now)
        else:
            self._turn.due = None  # the caller went on: the pause was inside the turn
        return decisions

    def _caller_paused(self, now: float, event: CallerPaused) -> list[Decision]:
        self._speaking = self._hearing = False
        self._last_caller_at = self._quiet_since = now
        self._prompts = 0
        if self._turn is None:  # a VAD that reports a pause without a start; treat it as both
            self._turn = _Turn(started_at=event.speech_ended_at)
        self._turn.segments.append(event.segment)
        self._turn.speech_ended_at = self._turn.sound_ended_at = event.speech_ended_at
        self._turn.due = None
        if self.rules.policy == "silence":
            self._closed.append(self._turn)
            self._turn = None
            return self._release_closed(now)
        return self._judge(now)

    def _release_closed(self, now: float) -> list[Decision]:
        """The "silence" policy: each pause ended a turn; hand them over in order as their text comes in."""
        decisions: list[Decision] = []
        while self._closed and self._closed[0].segments[-1] in self._closed[0].texts:
            turn = self._closed.pop(0)
            text = turn.text()
            waited = round(now - turn.speech_ended_at, 3)
            decisions.append(EndTurn(text, turn.speech_ended_at, "a pause", waited) if text else DropTurn())
        return decisions

    def _heard_sound(self, now: float, event: Hearing) -> list[Decision]:
        self._hearing = event.on
        if event.on or self.rules.policy == "silence":  # the old policy ended turns on the VAD's pause alone
            return []
        turn = self._turn
        if turn is not None and not self._speaking:
            turn.sound_ended_at = max(turn.sound_ended_at, event.sound_ended_at or now)
            if turn.due is not None:
                turn.due = max(turn.due, turn.sound_ended_at + turn.wait)
        return self._end_if_due(now)

    def _judge(self, now: float) -> list[Decision]:
        """Once the last segment's transcript (and, when the words allow it, its score) is in: set when the
        turn ends."""
        turn = self._turn
        if turn is None or self._speaking or not turn.segments:
            return []
        segment = turn.segments[-1]
        if segment not in turn.texts:
            return []
        text = turn.text()
        if not text:
            self._turn = None
            return [DropTurn()]
        wait, reason = self._wait_for(turn, segment, text)
        if wait is None:
            return []  # the words read as finished; the voice has not been scored yet
        if turn.speech_ended_at - turn.started_at >= self.rules.max_turn_s:
            wait, reason = 0.0, "a very long turn"
        turn.due, turn.wait, turn.reason = turn.sound_ended_at + wait, wait, reason
        return self._end_if_due(now)

    def _wait_for(self, turn: _Turn, segment: int, text: str) -> tuple[float | None, str]:
        """Seconds of silence after the speech that end this turn, and why; None until the score is in."""
        rules = self.rules
        reading = read_turn(text, self.expect)
        if reading.verdict == "unfinished":
            long = self.expect in ("phone", "address")
            return (rules.hold_long_s if long else rules.hold_s), reading.reason
        if reading.verdict == "unsure":
            return rules.unsure_s, reading.reason
        if reading.reason == "a yes or no" and self.expect == "yes_no":
            return 0.0, reading.reason
        if len(turn.segments) > 1:
            return rules.unsure_s, "paused inside this turn before"
        if segment not in turn.scores:
            return None, ""
        score = turn.scores[segment]
        if score is None:
            return rules.unsure_s, "no end-of-turn model"
        if score >= rules.complete:
            return 0.0, f"finished (sounds complete, {score:.2f})"
        return rules.unsure_s, f"sounds unfinished ({score:.2f})"

    def _end_if_due(self, now: float) -> list[Decision]:
        turn = self._turn
        if turn is None or turn.due is None or now < turn.due or self._speaking or self._hearing:
            return []
        self._turn = None
        return [EndTurn(turn.text(), turn.speech_ended_at, turn.reason, round(now - turn.speech_ended_at, 3))]

    # -- silence --------------------------------------------------------------------------------------------

    def _silence(self, now: float) -> list[Decision]:
        if self.agent.busy or self._speaking or self._hearing or self._turn is not None:
            return []
        idle = now - max(self._quiet_since, self._last_caller_at)
        silent = now - self._last_caller_at
        due = (self._prompts == 0 and idle >= self.reprompt_s) or (
            self._prompts > 0 and silent >= self.goodbye_s * self._prompts
        )
        if not due:
            return []
        self._prompts += 1
        self._quiet_since = now
        return [PromptSilence(seconds=round(silent, 1))]
