"""The browser phone in a real headless Chromium whose microphone is a WAV of the synthesized test caller
(Chromium's fake capture device): the page opens a call, speaks Twilio's Media Streams protocol to the app's
media websocket, plays the agent back, and shows the live transcript: the greeting, then the caller's line and
the agent's answer. The call runs through the same voice code as a phone call, with the offline speech engine."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from silentpartner.app import default_components
from silentpartner.voice.audio import resample, to_int16, ulaw_to_array
from silentpartner.voice.speech import OfflineSpeech
from tests.conftest import PINNED_NOW
from tests.dashboard.dashboard_app import dashboard_app, run_async
from tests.support.browser import chromium, chromium_unavailable_reason
from tests.support.caller_voice import caller_available, caller_says, silence

_browser_why = chromium_unavailable_reason()
_speech_ok, _speech_why = OfflineSpeech.available()
_caller_ok, _caller_why = caller_available()
pytestmark = [
    pytest.mark.speech,
    pytest.mark.skipif(_browser_why is not None, reason=f"browser tests skipped: {_browser_why}"),
    pytest.mark.skipif(
        not (_speech_ok and _caller_ok), reason=f"offline speech unavailable: {_speech_why or _caller_why}"
    ),
]

TOKEN = "browser-phone-demo-token-0123456789"
CAPTURE_RATE = 48_000
# The caller waits out the greeting (which starts about a second after the microphone opens and lasts about
# five), says one line, then stays quiet while the agent answers.
BEFORE_SPEAKING_MS = 9_000
AFTER_SPEAKING_MS = 20_000
CALLER_LINE = "My kitchen faucet is leaking."


def caller_wav(path: Path) -> Path:
    """The caller's side of the call as the 16-bit PCM WAV Chromium's fake microphone plays (once, not looped)."""
    ulaw = silence(BEFORE_SPEAKING_MS) + caller_says(CALLER_LINE) + silence(AFTER_SPEAKING_MS)
    samples = to_int16(resample(ulaw_to_array(ulaw).astype(np.float32) / 32768, 8000, CAPTURE_RATE))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(CAPTURE_RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def test_the_owner_talks_to_the_receptionist_from_the_browser(tmp_path: Path) -> None:
    wav = caller_wav(tmp_path / "caller.wav")
    args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with (
        dashboard_app(
            tmp_path, PINNED_NOW, components=default_components, demo_only=True, dashboard_token=TOKEN
        ) as app,
        chromium(args) as browser,
    ):
        run_async(OfflineSpeech.shared())  # the models the app started loading: ready before the microphone opens
        context = browser.new_context(base_url=app.url)
        context.set_default_timeout(60_000)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        try:
            page.goto("/dashboard/phone")
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/dashboard/phone$"))
            page.click("#call-button")
            page.locator("body[data-call=connected]").wait_for(state="attached")
            # The greeting, then the caller's line, then the agent's answer to it.
            page.locator("#phone-transcript li.turn.agent").first.wait_for()
            page.locator("#phone-transcript li.turn.caller").first.wait_for()
            page.locator("#phone-transcript li.turn.caller ~ li.turn.agent").first.wait_for()
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
            roles = page.eval_on_selector_all("#phone-transcript li.turn", "items => items.map(i => i.className)")
            said = page.locator("#phone-transcript li.turn.caller p").first.inner_text()
            page.click("#hangup-button")
            page.locator("body[data-call=ended]").wait_for(state="attached")
        finally:
            context.close()
        assert roles[0] == "turn agent", roles
        assert "faucet" in said.lower(), f"the agent heard {said!r}; console: {console}"
        with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            (listed,) = client.get("/api/calls").json()
            call = client.get(f"/api/calls/{listed['id']}").json()
        assert call["channel"] == "browser" and call["caller_number"] is None
        assert call["transcript"][0]["text"].startswith("Thanks for calling Mike's Plumbing")
        assert call["latencies_ms"], "the answer's turn latency was measured"
        # A call with no Twilio leg: Twilio was never asked to end or move it.
        assert app.twilio.calls == {}
