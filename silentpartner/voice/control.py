"""Ending and transferring a live call through Twilio's REST API (the Calls resource).

Without Twilio credentials (the browser phone, local runs) there is no call to update: the live call
ends by closing its websocket instead, and a transfer is refused (returns False) so the conversation
can take a message.
"""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException

from silentpartner.logs import log_event
from silentpartner.settings import Settings
from silentpartner.twilio_api import make_twilio_client
from silentpartner.voice import warm_transfer

log = logging.getLogger(__name__)

# Updating a call that already ended answers 404 ("not found") or 400 with code 21220 ("not in-progress").
_ALREADY_ENDED_CODES = frozenset({20404, 21220})


class TwilioCallControl:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = make_twilio_client(settings)

    @property
    def available(self) -> bool:
        return self._client is not None

    async def close(self) -> None:
        """Close the pooled HTTP session (one per process, opened by the voice component)."""
        if self._client is not None:
            await self._client.http_client.close()  # type: ignore[attr-defined]

    async def hang_up(self, call_sid: str) -> bool:
        """End the call; a call that already ended counts as success."""
        if self._client is None:
            return False
        try:
            await self._client.calls(call_sid).update_async(status="completed")
        except TwilioRestException as exc:
            if exc.status == 404 or exc.code in _ALREADY_ENDED_CODES:
                log_event(log, "call.hangup_already_ended", code=exc.code)
                return True
            log_event(log, "call.hangup_failed", logging.WARNING, status=exc.status, code=exc.code)
            return False
        except Exception as exc:
            log_event(log, "call.hangup_failed", logging.WARNING, error=repr(exc))
            return False
        log_event(log, "call.hung_up")
        return True

    async def transfer(self, call_sid: str, number: str, *, caller_id: str, summary: str) -> bool:
        """Move the caller onto a <Dial> to `number`, showing the business number as caller ID; whoever
        answers hears `summary` first and takes the call with a key (see `warm_transfer.py`)."""
        if self._client is None:
            return False
        document = warm_transfer.dial_twiml(self._settings, number=number, caller_id=caller_id, summary=summary)
        try:
            await self._client.calls(call_sid).update_async(twiml=document)
        except Exception as exc:
            log_event(log, "call.transfer_failed", logging.WARNING, error=repr(exc))
            return False
        log_event(log, "call.transferred")
        return True


class NoCallControl:
    """A call with no Twilio leg (the browser phone): it ends by closing its websocket, and cannot be transferred,
    so the conversation takes a message instead. Twilio is never asked about a call it does not carry."""

    available = False

    async def hang_up(self, call_sid: str) -> bool:
        return False

    async def transfer(self, call_sid: str, number: str, *, caller_id: str, summary: str) -> bool:
        return False
