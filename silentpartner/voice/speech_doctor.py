"""`doctor` checks for the offline speech engine: the [speech] extra and a voice, and the optional
end-of-turn model (calls work without it, but every caller waits longer after they finish)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.findings import Finding
from silentpartner.voice.speech import models
from silentpartner.voice.speech.engine import OfflineSpeech

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime


async def check_speech(runtime: Runtime) -> list[Finding]:
    ok, why = OfflineSpeech.available()
    if not ok:
        return [Finding("warn", "offline speech", f"{why}; until then calls get an apology and a text-back")]
    return [
        Finding("ok", "offline speech", "Silero VAD, Whisper tiny.en and a voice are installed"),
        end_of_turn_model(),
    ]


def end_of_turn_model(files: models.ModelFiles | None = None) -> Finding:
    """The smart-turn file is there and is the pinned one (hashing it takes a moment, like loading it)."""
    subject = "end-of-turn model"
    try:
        files = files or models.smart_turn_files()
        models.verify(files)
    except (models.SpeechUnavailable, models.ModelIntegrityError) as error:
        return Finding(
            "warn",
            subject,
            f"{error}. Calls still work, but turns end on the words and a 1.2 s pause, so every caller waits longer",
        )
    return Finding("ok", subject, f"smart-turn v3.2 ({files.directory})")
