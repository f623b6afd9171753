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


def dial(number: str, *, caller_id: str, timeout: int = 25) -> str:
    response = VoiceResponse()
    response.dial(number, caller_id=caller_id, timeout=timeout)
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
