"""The caller's side of a call, between the VAD and the floor, with a speech engine whose transcriptions
finish when the test says so (the real models are exercised in test_turn_model and test_call_e2e)."""

from __future__ import annotations

import asyncio

from silentpartner.voice.floor import CallFloor, Decision, EndTurn, Tick, TurnRules
from silentpartner.voice.listener import TurnListener
from silentpartner.voice.speech.vad import SpeechEnded, SpeechPausing, SpeechStarted


class GatedSpeech:
    """Each transcription waits until `finish` gives its text."""

    def __init__(self) -> None:
        self.asked: list[bytes] = []
        self._pending: list[asyncio.Future[str]] = []

    async def transcribe(self, pcm16k: bytes) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.asked.append(pcm16k)
        self._pending.append(future)
        return await future

    async def end_of_turn(self, pcm16k: bytes) -> float | None:
        return 0.99

    def finish(self, index: int, text: str) -> bool:
        """Give transcription `index` its text; False if the listener had already given up on it."""
        future = self._pending[index]
        if future.cancelled():
            return False
        future.set_result(text)
        return True


class EarlySpeech(GatedSpeech):
    """Also transcribes early (as the offline engine does when a worker is idle), gated the same way."""

    def __init__(self) -> None:
        super().__init__()
        self.early_asked: list[bytes] = []

    async def transcribe_early(self, pcm16k: bytes) -> str | None:
        self.early_asked.append(pcm16k)
        return await self.transcribe(pcm16k)

    async def end_of_turn_early(self, pcm16k: bytes) -> float | None:
        return 0.99


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def pauses(listener: TurnListener, clock: Clock, *segments: bytes) -> None:
    """The caller says each segment, with a pause after it that closes it."""
    for pcm in segments:
        clock.t += 0.3
        await listener.heard([SpeechStarted(at=clock.t)], stream_time=clock.t, hearing=True)
        clock.t += 1.0
        ended = SpeechEnded(at=clock.t - 0.25, pcm16k=pcm, duration=1.0)
        await listener.heard([ended], stream_time=clock.t, hearing=False)
        await settle()  # the jobs for this pause start


def listener_for(rules: TurnRules) -> tuple[TurnListener, GatedSpeech, Clock, list[Decision]]:
    speech, clock, decided = GatedSpeech(), Clock(), []

    async def apply(decisions: list[Decision]) -> None:
        decided.extend(decisions)

    floor = CallFloor(rules)
    return TurnListener(speech, floor, now=clock, apply=apply, pause_s=0.25), speech, clock, decided


async def test_a_turn_that_spans_pauses_is_transcribed_whole_and_stale_jobs_are_dropped() -> None:
    listener, speech, clock, decided = listener_for(TurnRules())
    await pauses(listener, clock, b"\x01\x00", b"\x02\x00")
    await settle()
    assert speech.asked == [b"\x01\x00", b"\x01\x00\x02\x00"]  # the second job hears the whole turn so far
    assert speech.finish(0, "I'm calling because.") is False  # superseded by the second pause
    assert speech.finish(1, "I'm calling because my sink is blocked.")
    await settle()
    clock.t += 2.0
    decided += listener.floor.feed(clock.t, Tick())
    assert [d.text for d in decided if isinstance(d, EndTurn)] == ["I'm calling because my sink is blocked."]


async def test_under_the_old_policy_every_pause_is_a_turn_of_its_own() -> None:
    listener, speech, clock, decided = listener_for(TurnRules(policy="silence"))
    await pauses(listener, clock, b"\x01\x00", b"\x02\x00")
    await settle()
    assert speech.asked == [b"\x01\x00", b"\x02\x00"]
    assert speech.finish(1, "my sink is blocked.")  # the later one first: handed over in order all the same
    assert speech.finish(0, "I'm calling because.")
    await settle()
    assert [d.text for d in decided if isinstance(d, EndTurn)] == ["I'm calling because.", "my sink is blocked."]


async def test_a_pause_announced_early_is_transcribed_once_from_the_announcement() -> None:
    speech, clock, decided = EarlySpeech(), Clock(), []

    async def apply(decisions: list[Decision]) -> None:
        decided.extend(decisions)

    listener = TurnListener(speech, CallFloor(TurnRules()), now=clock, apply=apply, pause_s=0.25)
    await listener.heard([SpeechStarted(at=0.3)], stream_time=0.3, hearing=True)
    clock.t = 1.5
    await listener.heard([SpeechPausing(at=1.3, pcm16k=b"\x01\x00")], stream_time=1.5, hearing=True)
    await settle()
    assert speech.early_asked == [b"\x01\x00"]  # started before the pause is certain
    clock.t = 1.55
    await listener.heard([SpeechEnded(at=1.3, pcm16k=b"\x01\x00", duration=1.0)], stream_time=1.55, hearing=False)
    await settle()
    assert speech.asked == [b"\x01\x00"]  # the pause reused it: no second transcription
    assert speech.finish(0, "My sink is blocked.")
    await settle()
    clock.t = 3.0
    decided += listener.floor.feed(clock.t, Tick())
    assert [d.text for d in decided if isinstance(d, EndTurn)] == ["My sink is blocked."]
    assert listener.early_used == 1


async def test_an_early_transcription_of_other_audio_is_dropped() -> None:
    speech, clock = EarlySpeech(), Clock()

    async def apply(decisions: list[Decision]) -> None:
        return None

    listener = TurnListener(speech, CallFloor(TurnRules()), now=clock, apply=apply, pause_s=0.25)
    await listener.heard([SpeechStarted(at=0.3)], stream_time=0.3, hearing=True)
    await listener.heard([SpeechPausing(at=1.3, pcm16k=b"\x01\x00")], stream_time=1.5, hearing=True)
    await settle()
    # The caller went on; the pause that came closed a longer segment.
    longer = SpeechEnded(at=2.3, pcm16k=b"\x01\x00\x02\x00", duration=2.0)
    await listener.heard([longer], stream_time=2.6, hearing=False)
    await settle()
    assert speech.asked == [b"\x01\x00", b"\x01\x00\x02\x00"]
    assert speech.finish(0, "My sink") is False  # given up on
    assert listener.early_used == 0
