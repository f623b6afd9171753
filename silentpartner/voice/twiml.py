"""The TwiML documents the voice webhook answers with."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from silentpartner.settings import Settings

MEDIA_PATH = "/twilio/media"
AFTER_PATH = "/twilio/voice-after"
STREAM_STATUS_PATH = "/twilio/stream-status"


def media_stream_url(settings: Settings) -> str:
    """The wss URL of the media websocket: no query string (Twilio refuses one), parameters go in <Parameter>."""
    return settings.public_ws_base + MEDIA_PATH


def connect_stream(settings: Settings, *, call_sid: str, token: str) -> str:
    response = VoiceResponse()
    connect = response.connect(action=settings.public_url + AFTER_PATH, method="POST")
    stream = connect.stream(
        url=media_stream_url(settings),
        status_callback=settings.public_url + STREAM_STATUS_PATH,
        status_callback_method="POST",
    )
    stream.parameter(name="token", value=token)
    stream.parameter(name="call_sid", value=call_sid)
    return str(response)


def apology(text: str) -> str:
    """A short spoken apology and a clean hang-up: never a dead line."""
    response = VoiceResponse()
    response.say(text)
    response.pause(length=1)
    response.hangup()
    return str(response)


def warm_dial(number: str, *, caller_id: str, whisper_url: str, action_url: str, timeout: int = 25) -> str:
    """Ring `number`; whoever answers first hears the whisper at `whisper_url`, and the outcome goes to
    `action_url` (`DialCallStatus`), which decides what the caller hears next."""
    response = VoiceResponse()
    # answerOnBridge: the caller keeps hearing ringing while the whisper plays (Twilio's call-whisper guide).
    dial = response.dial(caller_id=caller_id, action=action_url, method="POST", timeout=timeout, answer_on_bridge=True)
    dial.number(number, url=whisper_url, method="POST")
    return str(response)


def whisper(text: str, *, accept_url: str, wait_s: int = 6) -> str:
    """Said to the person answering a transfer, before the caller is put through: any key takes the call.

    The key is what tells a person from a voicemail greeting (which would otherwise "answer" and swallow
    the caller). No key: the leg hangs up unbridged, and the Dial action treats it as not picked up.
    """
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=wait_s, action=accept_url, method="POST")
    gather.say(text)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
