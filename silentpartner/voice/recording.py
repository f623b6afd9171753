"""The recording tap of a live call: the caller's audio as it came in and the agent's as it was played to
the caller, on one timeline, each written to a raw μ-law track file as the call goes on (so a long call
costs no memory, and a process killed mid-call leaves tracks that can still be filed: see
`recording_files.py`). `LiveCall` feeds it three things: each caller frame, each agent chunk sent, and
each `clear`.

The timeline counts 8 kHz samples from Twilio's `start` message.
- Caller: Twilio sends a 20 ms frame every 20 ms for the whole call, and `media.timestamp` is the frame's
  place in the stream, so a frame goes where its timestamp says. A jump forward (frames missing, or a
  client that only sends while the caller speaks) becomes silence; a frame that overlaps the one before
  goes right after it. A timestamp ahead of our clock is not believed, and frames arriving faster than
  real time are dropped once they run `MAX_LEAD_S` ahead (no phone line does that; a hostile client could
  otherwise grow the track without bound). Frames without a timestamp are placed by arrival, back to back
  unless a gap of more than `ARRIVAL_JITTER_S` says the client stopped sending.
- Agent: Twilio buffers what we send and plays it in order at real time, so a chunk starts playing when it
  is sent or when the chunk before it ends, whichever is later. A `clear` drops everything still buffered:
  the agent track is cut at that moment; the end of the call cuts it the same way.
Our clock and Twilio's differ by the network's delay (tens of milliseconds), which nobody can hear.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from silentpartner.logs import log_event
from silentpartner.voice.audio import MULAW_SILENCE, PHONE_RATE

log = logging.getLogger(__name__)

MAX_LEAD_S = 2.0
ARRIVAL_JITTER_S = 0.1  # frames without a timestamp arriving this much apart are back to back, not a gap
_SILENCE_BLOCK = bytes([MULAW_SILENCE]) * PHONE_RATE


class Track:
    """One channel as raw μ-law, one byte per sample, in a file that only grows at its end or is cut back."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.end = 0  # samples written; the file's position is always here

    def place(self, at: int, audio: bytes) -> None:
        """Write `audio` starting at sample `at` (the end, if `at` is before it), with silence in any gap."""
        at = max(at, self.end)
        gap = at - self.end
        while gap > 0:
            block = _SILENCE_BLOCK[: min(gap, len(_SILENCE_BLOCK))]
            self.file.write(block)
            gap -= len(block)
        self.file.write(audio)
        self.end = at + len(audio)

    def cut(self, at: int) -> None:
        """Forget everything from sample `at` on."""
        if at < self.end:
            self.file.truncate(max(0, at))
            self.file.seek(max(0, at))
            self.end = max(0, at)


def _never_breaks_the_call(method: Callable[..., None]) -> Callable[..., None]:
    """A full disk or a lost folder stops the recording, not the call."""

    @functools.wraps(method)
    def guarded(self: CallTape, *args: object) -> None:
        if self.stopped:
            return
        try:
            method(self, *args)
        except OSError as exc:
            log_event(log, "recording.write_failed", logging.ERROR, error=repr(exc))
            self.stop()

    return guarded


class CallTape:
    """Both sides of one call on one timeline. `finish` stops it and hands the tracks on (`file_tracks`)."""

    def __init__(
        self,
        caller: BinaryIO,
        agent: BinaryIO,
        *,
        began: float,
        monotonic: Callable[[], float] = time.monotonic,
        file_tracks: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.caller = Track(caller)
        self.agent = Track(agent)
        self.began = began
        self.monotonic = monotonic
        self.dropped = 0  # caller frames that came faster than real time
        self.stopped = False
        self._file_tracks = file_tracks

    def _now(self) -> int:
        return max(0, int((self.monotonic() - self.began) * PHONE_RATE))

    @_never_breaks_the_call
    def heard(self, ulaw: bytes, timestamp_ms: int = 0) -> None:
        """A caller frame (μ-law) and its `media.timestamp`."""
        now = self._now()
        lead = int(MAX_LEAD_S * PHONE_RATE)
        if timestamp_ms > 0:
            at = timestamp_ms * (PHONE_RATE // 1000)
        else:  # by arrival: a frame a little early or late still follows the one before it
            at = now - len(ulaw)
            at = self.caller.end if at - self.caller.end < ARRIVAL_JITTER_S * PHONE_RATE else at
        at = max(self.caller.end, min(at, now + lead))
        if at > now + lead:
            self.dropped += 1
            return
        self.caller.place(at, ulaw)

    @_never_breaks_the_call
    def sent(self, ulaw: bytes) -> None:
        """Agent audio handed to Twilio: it plays once everything sent before it has played."""
        self.agent.place(max(self._now(), self.agent.end), ulaw)

    @_never_breaks_the_call
    def cleared(self) -> None:
        """Twilio dropped the agent audio it still held: none of it was played."""
        self.agent.cut(self._now())

    @property
    def seconds(self) -> float:
        return max(self.caller.end, self.agent.end) / PHONE_RATE

    def stop(self) -> None:
        """The call is over: what the agent had not played by now never was. Closes the track files."""
        if self.stopped:
            return
        self.stopped = True
        try:
            self.agent.cut(self._now())
        finally:
            for track in (self.caller, self.agent):
                try:
                    track.file.close()  # flushes
                except OSError as exc:
                    log_event(log, "recording.write_failed", logging.ERROR, error=repr(exc))

    async def finish(self) -> None:
        """Stop, and file the recording."""
        try:
            self.stop()
        except OSError as exc:
            log_event(log, "recording.write_failed", logging.ERROR, error=repr(exc))
        if self._file_tracks is not None:
            await self._file_tracks()


class NoTape:
    """A call that is not recorded."""

    def heard(self, ulaw: bytes, timestamp_ms: int = 0) -> None:
        return None

    def sent(self, ulaw: bytes) -> None:
        return None

    def cleared(self) -> None:
        return None

    async def finish(self) -> None:
        return None


NOT_RECORDING = NoTape()
