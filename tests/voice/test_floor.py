"""The call floor as lists of timed events: no audio, no models. The transcripts and end-of-turn scores are
what Whisper tiny.en and smart-turn v3.2 gave on the synthesized caller (tests/support/caller_voice.py) at
each pause, so the timelines are the ones a real call produces, minus the audio."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from silentpartner.voice.floor import (
    AgentAsked,
    AgentState,
    BargeIn,
    CallerPaused,
    CallerStarted,
    CallFloor,
    Decision,
    DropTurn,
    EndTurn,
    FloorEvent,
    Heard,
    Hearing,
    KeyPressed,
    PromptSilence,
    Scored,
    Tick,
    TurnRules,
)

VAD_PAUSE = 0.25  # CallTiming.end_silence_ms: the VAD reports a pause this long after the voice stops
CONFIRM = 0.25  # CallTiming.min_speech_ms: the VAD confirms speech this long after it starts
STT = 0.4  # Whisper's time on the turn so far
SCORE = 0.1  # smart-turn's time
TICK = 0.02

AGENT_SPEAKING = AgentState(talking=True, interruptible=True, busy=True)
AGENT_READ_BACK = AgentState(talking=True, interruptible=False, busy=True)
AGENT_QUIET = AgentState(talking=False, interruptible=True, busy=False)


@dataclass(frozen=True)
class Segment:
    """One stretch of the caller's voice, and what the models made of the turn up to its end."""

    seconds: float  # how long the voice lasts
    heard: str  # Whisper's transcript of the turn so far
    score: float | None  # smart-turn's P(complete) for the turn so far; None: no model
    pause_after: float = 0.7  # silence before the next segment


def caller(
    start: float, segments: list[Segment], first_segment: int = 1, stt: float = STT
) -> list[tuple[float, FloorEvent]]:
    """The events a call feeds the floor while the caller says `segments`, starting to speak at `start`."""
    events: list[tuple[float, FloorEvent]] = []
    t = start
    for number, segment in enumerate(segments, first_segment):
        events.append((t, Hearing(True)))
        events.append((t + CONFIRM, CallerStarted()))
        voice_ends = t + segment.seconds
        paused = voice_ends + VAD_PAUSE
        events.append((paused, CallerPaused(number, speech_ended_at=voice_ends)))
        events.append((paused + SCORE, Scored(number, segment.score)))
        events.append((paused + stt, Heard(number, segment.heard)))
        t = voice_ends + segment.pause_after
    return events


def run(floor: CallFloor, events: list[tuple[float, FloorEvent]], until: float) -> list[tuple[float, Decision]]:
    """Feed the events in time order with a clock tick every TICK seconds between them, as the call's
    watcher does; each decision with the time it was made."""
    timeline = sorted(events, key=lambda item: item[0])
    out: list[tuple[float, Decision]] = []
    t = 0.0
    index = 0
    while t <= until:
        while index < len(timeline) and timeline[index][0] <= t + 1e-9:
            at, event = timeline[index]
            out += [(at, decision) for decision in floor.feed(at, event)]
            index += 1
        out += [(t, decision) for decision in floor.feed(t, Tick())]
        t = round(t + TICK, 6)
    return out


def turns(decisions: list[tuple[float, Decision]]) -> list[tuple[float, EndTurn]]:
    return [(at, d) for at, d in decisions if isinstance(d, EndTurn)]


def quiet_floor(rules: TurnRules | None = None, expect: str = "open") -> CallFloor:
    floor = CallFloor(rules, reprompt_s=8.0, goodbye_s=30.0)
    floor.feed(0.0, AGENT_QUIET)
    floor.feed(0.0, AgentAsked(expect))  # type: ignore[arg-type]
    return floor


# "Hi, yeah, I'm calling because, um, my water heater, it's making a banging noise." with 700 ms at each
# comma, as transcribed and scored at each pause.
WATER_HEATER = [
    Segment(0.3, "Bye.", 0.86),  # tiny.en hears the lone "Hi," as "Bye."
    Segment(0.4, "Hi, yeah.", 0.06),
    Segment(0.9, "Hi. Yeah. I'm calling because.", 0.05),
    Segment(0.35, "Hi. Yeah. I'm calling because.", 0.01),  # the "um" is dropped by Whisper
    Segment(0.8, "Hi. Yeah. I'm calling because. My water heater.", 0.82),
    Segment(1.4, "Hi. Yeah. I'm calling because. Um, my water heater. It's making a banging noise.", 0.97),
]
# "I need, um, a plumber to look at my, my garbage disposal.": the voice sounds finished at "my".
DISPOSAL = [
    Segment(0.5, "I need...", 0.98),
    Segment(0.35, "I need...", 0.15),
    Segment(1.3, "I need a plumber to look at my.", 0.97),
    Segment(1.0, "I need a plumber to look at my garbage disposal.", 0.98),
]
# "So the thing is, the kitchen sink, it's been draining really slowly."
KITCHEN_SINK = [
    Segment(0.8, "So the thing is...", 0.95),
    Segment(0.8, "So the thing is, the kitchen sink.", 0.71),
    Segment(1.5, "So the thing is, the kitchen sink, it's been draining really slowly.", 0.98),
]


# "Hi, yeah, I'm calling because, um, my kitchen faucet, it's leaking.": at the fourth pause Whisper makes a
# finished sentence of it ("because of my kitchen faucet") and the voice sounds finished enough (0.62).
KITCHEN_FAUCET = [
    Segment(0.3, "Fight.", 0.84),
    Segment(0.4, "Hi, yeah.", 0.22),
    Segment(1.5, "Hi. Yeah. I'm calling because I'm...", 0.87),
    Segment(0.9, "Hi. Yeah. I'm calling because of my kitchen faucet.", 0.62),
    Segment(0.8, "Hi. Yeah. I'm calling because I'm my kitchen faucet. It's leaking.", 0.24),
]


def speech_end(start: float, segments: list[Segment]) -> float:
    return start + sum(s.seconds + s.pause_after for s in segments[:-1]) + segments[-1].seconds


# ---------------------------------------------------------------------------------------------------------------
# End of turn


def test_a_caller_pausing_at_commas_is_not_answered_until_the_sentence_ends() -> None:
    for segments in (WATER_HEATER, DISPOSAL, KITCHEN_SINK, KITCHEN_FAUCET):
        floor = quiet_floor()
        decisions = run(floor, caller(1.0, segments), until=12.0)
        ended = turns(decisions)
        assert len(ended) == 1, [d for _, d in ended]
        at, turn = ended[0]
        assert at >= speech_end(1.0, segments)
        assert turn.text == segments[-1].heard
        assert not any(isinstance(d, DropTurn | BargeIn) for _, d in decisions)


def test_the_old_silence_policy_answers_the_same_callers_mid_sentence() -> None:
    old = TurnRules(policy="silence")
    for segments in (WATER_HEATER, DISPOSAL, KITCHEN_SINK, KITCHEN_FAUCET):
        for stt in (STT, 1.5):  # Whisper done before the caller goes on, or after
            decisions = run(quiet_floor(old), caller(1.0, segments, stt=stt), until=15.0)
            ended = turns(decisions)
            assert ended[0][0] < speech_end(1.0, segments)
            assert [turn.text for _, turn in ended] == [s.heard for s in segments]  # a turn per pause


def test_a_short_complete_answer_is_answered_without_extra_delay() -> None:
    # The turn ends the moment its transcript is in: the VAD's short pause and Whisper are all it costs.
    for heard, score, reason in (
        ("Yes.", 0.99, "finished (sounds complete, 0.99)"),
        ("John Smith.", 0.96, "finished (sounds complete, 0.96)"),
        ("My kitchen faucet is leaking.", 0.98, "finished (sounds complete, 0.98)"),
    ):
        floor = quiet_floor()
        decisions = run(floor, caller(1.0, [Segment(0.6, heard, score)]), until=6.0)
        assert turns(decisions) == [(1.6 + VAD_PAUSE + STT, EndTurn(heard, 1.6, reason, VAD_PAUSE + STT))]


def test_a_yes_to_a_yes_no_question_does_not_wait_for_the_voice_to_be_scored() -> None:
    floor = quiet_floor(expect="yes_no")
    events = [
        (1.0, CallerStarted()),
        (1.7, CallerPaused(1, speech_ended_at=1.45)),
        (1.9, Heard(1, "Yeah.")),
        (2.5, Scored(1, 0.4)),  # late, and unsure: not waited for
    ]
    assert turns(run(floor, events, until=4.0)) == [(1.9, EndTurn("Yeah.", 1.45, "a yes or no", 0.45))]
    # After an open question the same "Yeah." is the caller starting to talk: give them a moment.
    floor = quiet_floor(expect="open")
    ended = turns(run(floor, events, until=4.0))
    assert [at for at, _ in ended] == pytest.approx([1.45 + TurnRules().unsure_s], abs=TICK)


def test_a_half_given_phone_number_waits_for_the_rest() -> None:
    # "Five oh three, [1.5 s] five five five, zero one nine nine." after the agent asked for a number.
    number = [
        Segment(1.0, "503.", 0.98, pause_after=1.5),
        Segment(2.0, "503-555-0199.", 0.99),
    ]
    floor = quiet_floor(expect="phone")
    ended = turns(run(floor, caller(1.0, number), until=10.0))
    assert [turn.text for _, turn in ended] == ["503-555-0199."]
    assert ended[0][0] >= speech_end(1.0, number)
    # Asked something else, the lone "503." is over after the short wait, before the caller goes on.
    floor = quiet_floor(expect="open")
    assert [turn.text for _, turn in turns(run(floor, caller(1.0, number), until=10.0))] == ["503.", "503-555-0199."]


def test_a_caller_who_stops_part_way_through_a_number_is_answered_after_the_long_hold() -> None:
    rules = TurnRules()
    floor = quiet_floor(rules, expect="phone")
    ended = turns(run(floor, caller(1.0, [Segment(2.0, "503 555 01", 0.97)]), until=8.0))
    assert [at for at, _ in ended] == pytest.approx([3.0 + rules.hold_long_s], abs=TICK)
    assert ended[0][1].reason == "part of a phone number (8 digits)"


def test_without_the_end_of_turn_model_the_words_decide_after_a_longer_silence() -> None:
    rules = TurnRules()
    floor = quiet_floor(rules)
    ended = turns(run(floor, caller(1.0, [Segment(0.6, "John Smith.", None)]), until=5.0))
    assert [turn.reason for _, turn in ended] == ["no end-of-turn model"]
    assert [at for at, _ in ended] == pytest.approx([1.6 + rules.unsure_s], abs=TICK)
    # ... and still hold on unfinished words
    floor = quiet_floor(rules)
    no_model = [Segment(s.seconds, s.heard, None, s.pause_after) for s in DISPOSAL]
    ended = turns(run(floor, caller(1.0, no_model), until=12.0))
    assert [turn.text for _, turn in ended] == [DISPOSAL[-1].heard]


def test_a_finished_looking_sentence_the_voice_calls_unfinished_waits_a_little() -> None:
    # The model sometimes scores a finished sentence below one half (this one, cut with a shorter tail).
    rules = TurnRules()
    floor = quiet_floor(rules)
    ended = turns(run(floor, caller(1.0, [Segment(2.2, "The water heater is making a loud noise.", 0.24)]), 8.0))
    assert [at for at, _ in ended] == pytest.approx([3.2 + rules.unsure_s], abs=TICK)


def test_no_turn_ends_while_the_vad_hears_sound() -> None:
    rules = TurnRules()
    floor = quiet_floor(rules)
    events = caller(1.0, [Segment(0.5, "My water heater.", 0.9)])  # a noun phrase: the short wait
    deadline = 1.5 + rules.unsure_s
    events += [(deadline - 0.1, Hearing(True))]  # a sound the VAD has not made up its mind about
    assert turns(run(floor, events, until=deadline + 2.0)) == []
    # It was a cough: the wait starts again from its end.
    events += [(deadline + 2.1, Hearing(False, sound_ended_at=deadline + 1.85))]
    ended = turns(run(quiet_floor(rules), events, until=deadline + 4.0))
    assert [at for at, _ in ended] == pytest.approx([deadline + 1.85 + rules.unsure_s], abs=TICK)


def test_a_short_uh_too_short_to_be_speech_starts_the_wait_again() -> None:
    # "The address is." scored unfinished-sounding, then an "uh" the VAD drops as too short.
    rules = TurnRules()
    floor = quiet_floor(rules)
    events = caller(1.0, [Segment(0.9, "The address.", 0.9)])  # Whisper lost the "is": a noun phrase
    events += [(2.6, Hearing(True)), (2.95, Hearing(False, sound_ended_at=2.7))]
    ended = turns(run(floor, events, until=6.0))
    assert [at for at, _ in ended] == pytest.approx([2.7 + rules.unsure_s], abs=TICK)


def test_results_for_earlier_pauses_are_superseded_and_one_turn_goes_to_the_driver() -> None:
    floor = quiet_floor()
    events = [
        (1.0, CallerStarted()),
        (1.75, CallerPaused(1, speech_ended_at=1.5)),
        (2.3, CallerStarted()),  # the caller goes on before the first pause was transcribed
        (2.4, Heard(1, "I was hoping.")),
        (2.45, Scored(1, 0.99)),
        (3.6, CallerPaused(2, speech_ended_at=3.35)),
        (3.7, Scored(2, 0.97)),
        (4.0, Heard(2, "I was hoping someone could come out today.")),
    ]
    decisions = run(floor, events, until=6.0)
    ended = turns(decisions)
    assert [turn.text for _, turn in ended] == ["I was hoping someone could come out today."]
    # Someone who paused inside the turn once gets the short wait after the words read as finished.
    assert [turn.reason for _, turn in ended] == ["paused inside this turn before"]
    assert [at for at, _ in ended] == pytest.approx([3.35 + TurnRules().unsure_s], abs=TICK)


def test_a_turn_of_noise_is_dropped_and_the_next_one_still_ends() -> None:
    floor = quiet_floor()
    events = caller(1.0, [Segment(0.4, "", 0.5)])
    events += caller(3.0, [Segment(0.6, "Yes.", 0.99)], first_segment=2)
    decisions = run(floor, events, until=6.0)
    assert [type(d).__name__ for _, d in decisions] == ["DropTurn", "EndTurn"]
    assert turns(decisions)[0][1].text == "Yes."


def test_a_very_long_turn_ends_at_its_next_pause() -> None:
    rules = TurnRules(max_turn_s=10.0)
    floor = quiet_floor(rules)
    events = [(1.0, CallerStarted()), (11.6, CallerPaused(1, 11.35)), (12.0, Heard(1, "... and then the"))]
    assert [at for at, _ in turns(run(floor, events, until=13.0))] == [12.0]


# ---------------------------------------------------------------------------------------------------------------
# Barge-in


def test_the_caller_barges_in_over_an_interruptible_line() -> None:
    floor = quiet_floor()
    floor.feed(0.5, AGENT_SPEAKING)
    assert floor.feed(1.0, Hearing(True)) == []  # not yet: it may be a cough
    assert floor.feed(1.25, CallerStarted()) == [BargeIn()]


def test_no_barge_in_over_the_read_back_or_when_the_agent_is_quiet() -> None:
    floor = quiet_floor()
    floor.feed(0.5, AGENT_READ_BACK)
    assert floor.feed(1.25, CallerStarted()) == []
    # What was said over it is still a turn.
    assert turns(run(floor, [(1.9, CallerPaused(1, 1.65)), (2.0, Scored(1, 0.99)), (2.3, Heard(1, "Yes."))], 3.0))
    floor = quiet_floor()
    floor.feed(0.5, AgentState(talking=False, interruptible=True, busy=True))  # thinking, nothing playing
    assert floor.feed(1.25, CallerStarted()) == []


def test_going_on_after_a_pause_is_not_a_barge_in() -> None:
    floor = quiet_floor()
    decisions = run(floor, caller(1.0, DISPOSAL), until=10.0)
    assert not any(isinstance(d, BargeIn) for _, d in decisions)


# ---------------------------------------------------------------------------------------------------------------
# Silence


def prompts(decisions: list[tuple[float, Decision]]) -> list[tuple[float, float]]:
    return [(round(at, 2), d.seconds) for at, d in decisions if isinstance(d, PromptSilence)]


def test_silence_gets_a_reprompt_then_a_goodbye() -> None:
    floor = CallFloor(reprompt_s=8.0, goodbye_s=30.0)
    events: list[tuple[float, FloorEvent]] = [
        (0.0, AGENT_SPEAKING),  # the greeting
        (3.0, AGENT_QUIET),
        (11.05, AGENT_SPEAKING),  # the re-prompt the floor asked for at 11.0
        (13.0, AGENT_QUIET),
    ]
    decisions = run(floor, events, until=31.0)
    assert prompts(decisions) == [(11.0, 11.0), (30.0, 30.0)]


def test_no_reprompt_while_the_agent_is_busy_or_the_caller_is_mid_turn() -> None:
    floor = CallFloor(reprompt_s=2.0, goodbye_s=30.0)
    events: list[tuple[float, FloorEvent]] = [(0.0, AGENT_QUIET)]
    # The caller starts, pauses mid-sentence on "because", and is held past the re-prompt time.
    events += caller(0.5, [Segment(0.8, "I'm calling because.", 0.05, pause_after=0.0)])
    decisions = run(floor, events, until=3.5)
    assert prompts(decisions) == []
    assert len(turns(decisions)) == 1  # the hold ran out at 1.3 + 2.0
    floor = CallFloor(reprompt_s=2.0, goodbye_s=30.0)
    decisions = run(floor, [(0.0, AgentState(talking=False, interruptible=True, busy=True))], until=5.0)
    assert prompts(decisions) == []  # a slow tool: the conversation is still working on a reply


def test_speech_and_keys_restart_the_silence_clock() -> None:
    floor = CallFloor(reprompt_s=8.0, goodbye_s=30.0)
    events: list[tuple[float, FloorEvent]] = [(0.0, AGENT_QUIET), (6.0, KeyPressed())]
    events += caller(12.0, [Segment(0.5, "Yes.", 0.99)])
    events += [(12.8, AgentState(talking=True, interruptible=True, busy=True)), (14.0, AGENT_QUIET)]
    decisions = run(floor, events, until=23.0)
    # 8 s after the agent finished answering; the caller silent since the VAD reported their pause at 12.75
    assert prompts(decisions) == [(22.0, 9.2)]
