"""Getting the speech engine (and a business's free slots) ready before the caller needs them.

The engine a call uses is `runtime.speech` when something put one there (a cloud engine, or a test),
else the process-wide offline engine. `VoiceComponent` starts loading the offline
models when the app starts, in the background: startup neither waits for it nor fails when the
`[speech]` extra is missing (calls then get the spoken apology and a text-back).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from silentpartner.logs import log_event
from silentpartner.voice.control import TwilioCallControl
from silentpartner.voice.engines import SpeechEngine

if TYPE_CHECKING:
    from silentpartner.business import Business
    from silentpartner.runtime import Runtime

log = logging.getLogger(__name__)


def speech_health(runtime: Runtime) -> tuple[bool, str]:
    """Can a call be answered with speech right now? (False, why) when not."""
    if runtime.speech is not None:
        return True, ""
    try:
        from silentpartner.voice.speech import OfflineSpeech
    except ImportError as exc:
        return False, f"offline speech cannot be imported: {exc}"
    return OfflineSpeech.available()


async def speech_engine(runtime: Runtime) -> SpeechEngine:
    if runtime.speech is not None:
        return runtime.speech
    from silentpartner.voice.speech import OfflineSpeech

    return await OfflineSpeech.shared()


async def warm_for_call(runtime: Runtime, business: Business) -> None:
    """At the ring: start the slot cache fetching and make sure the models are loaded. Never raises."""
    if runtime.slot_cache is not None:
        try:
            runtime.slot_cache.warm_soon(business)
        except Exception as exc:
            log_event(log, "call.slot_warm_failed", logging.WARNING, error=repr(exc))
    try:
        await speech_engine(runtime)
    except Exception as exc:
        log_event(log, "call.speech_warm_failed", logging.WARNING, error=repr(exc))


class VoiceComponent:
    """The voice package's long-lived parts: the Twilio call control (one pooled REST client per process,
    `runtime.call_control`) and the offline speech models, loaded in the background."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._control: TwilioCallControl | None = None

    async def start(self, runtime: Runtime) -> None:
        self._control = TwilioCallControl(runtime.settings)
        runtime.call_control = self._control
        ok, why = speech_health(runtime)
        if not ok:
            log_event(log, "speech.unavailable", logging.WARNING, why=why)
            return
        if runtime.speech is not None:
            return
        from silentpartner.voice.speech import OfflineSpeech

        settings = runtime.settings
        OfflineSpeech.configure(window=settings.speech_stt_window, workers=settings.speech_workers)
        self._task = asyncio.create_task(self._load(runtime), name="speech.warmup")

    async def _load(self, runtime: Runtime) -> None:
        try:
            await speech_engine(runtime)
        except Exception as exc:
            log_event(log, "speech.load_failed", logging.WARNING, error=repr(exc))

    async def stop(self) -> None:
        # The load runs in the speech worker pool; only stop waiting for it.
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._control is not None:
            await self._control.close()


def call_control(runtime: Runtime) -> TwilioCallControl:
    """The process's call control; one is made (and kept) when the voice component is not running."""
    if runtime.call_control is None:
        runtime.call_control = TwilioCallControl(runtime.settings)
    return runtime.call_control
