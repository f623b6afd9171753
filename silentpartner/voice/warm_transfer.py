"""A warm transfer to the owner: what they hear before being put through, and what everyone gets if they
don't pick up. No I/O here; `control.py` sends the `<Dial>`, `transfer_routes.py` answers Twilio.

    live call ──REST update──► <Dial callerId=business action=ENDED_PATH?...>
                                  <Number url=WHISPER_PATH?...>owner</Number>
    owner answers ─► WHISPER_PATH: the summary, "press any key" ─► key: bridged · none: leg hangs up
    Dial over ─────► ENDED_PATH (DialCallStatus): connected: hang up · otherwise: text the owner the
                     summary and tell the caller they'll be called back

The summary (and the number dialled) travel in the query strings of those two URLs rather than in the
database. Twilio signs the full URL it requests (X-Twilio-Signature), so they arrive exactly as we wrote
them and cannot be swapped by anyone without the auth token; Twilio's <Dial> docs suggest this for
custom data. Any instance can answer the whisper, nothing has to be written before the REST update,
and the routes verify the signature before trusting a byte of it. The cost is that the sentence sits in
Twilio's request log for the call, which already holds the call itself. Only the outcome is stored
(`CallRecord.transfer_outcome`).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlencode

from silentpartner.business import Business
from silentpartner.phones import national_format
from silentpartner.settings import Settings
from silentpartner.voice import twiml

WHISPER_PATH = "/twilio/transfer/whisper"
ENDED_PATH = "/twilio/transfer/ended"
RING_S = 25  # how long the owner's phone rings before the caller is told they'll be called back
MAX_SUMMARY_CHARS = 300  # one sentence; longer is cut at a word
MAX_TWIML_CHARS = 4000  # Twilio's limit on a `Twiml` parameter

Outcome = Literal["connected", "declined", "no-answer", "busy", "failed", "canceled"]
_NOT_PICKED_UP: dict[str, Outcome] = {
    "no-answer": "no-answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "canceled",
}


def clean_summary(text: str | None, limit: int = MAX_SUMMARY_CHARS) -> str:
    """One line, at most `limit` characters, cut at a word."""
    line = " ".join((text or "").split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def owner_summary(summary: str | None, caller: str | None) -> str:
    """The conversation's sentence for the owner, or a plain one from the caller ID when it wrote none."""
    line = clean_summary(summary)
    if line:
        return line
    if caller:
        return f"A caller at {national_format(caller)} asked to speak with you."
    return "A caller with a withheld number asked to speak with you."


def whisper_line(summary: str) -> str:
    return f"Call transfer from your assistant. {summary} Press any key to take the call."


def missed_text(summary: str, caller: str | None) -> str:
    """The owner's text when they didn't pick up: the same summary, and the number to call back."""
    back = f" Call them back at {national_format(caller)}." if caller else ""
    return f"Missed transfer: {summary}{back}"


def missed_for_caller(business: Business) -> str:
    return (
        f"Sorry, {business.owner_name} couldn't pick up just now. I've passed your details on, "
        "and they'll call you back as soon as they can. Goodbye."
    )


def dial_outcome(dial_status: str, bridged: str | None) -> Outcome:
    """Twilio's `DialCallStatus` (and `DialBridged`) as our outcome. Anything unexpected counts as not
    picked up: a needless text to the owner is better than a caller nobody hears about."""
    status = dial_status.strip().lower()
    if status in ("completed", "answered"):
        # Answered but never bridged: the whisper was not accepted (voicemail, or the owner hung up).
        return "declined" if (bridged or "").strip().lower() == "false" else "connected"
    return _NOT_PICKED_UP.get(status, "failed")


def _signed_route(settings: Settings, path: str, **query: str) -> str:
    # Everything outside the unreserved set is percent-encoded, so Twilio has nothing to re-encode and
    # signs the very string we wrote.
    return settings.public_url + path + "?" + urlencode(query, quote_via=quote, safe="")


def whisper_url(settings: Settings, summary: str) -> str:
    return _signed_route(settings, WHISPER_PATH, summary=summary)


def ended_url(settings: Settings, summary: str, number: str) -> str:
    return _signed_route(settings, ENDED_PATH, summary=summary, to=number)


def dial_twiml(settings: Settings, *, number: str, caller_id: str, summary: str) -> str:
    """The `<Dial>` a live call is updated to, kept under Twilio's 4000 characters by shortening the summary
    (it appears, percent-encoded, in both URLs)."""
    limit = MAX_SUMMARY_CHARS
    while True:
        line = clean_summary(summary, limit)
        document = twiml.warm_dial(
            number,
            caller_id=caller_id,
            whisper_url=whisper_url(settings, line),
            action_url=ended_url(settings, line, number),
            timeout=RING_S,
        )
        if len(document) <= MAX_TWIML_CHARS or limit <= 20:
            return document
        limit //= 2
