"""A Realtime call's record: what the caller told us, the outcome, token usage and its price, written as the
call goes (through the call's `CallRecorder`), then closed and settled once at the end.

On a fallback to the offline engine the recorder is handed over still running; the usage so far stays in it.
"""

from __future__ import annotations

import logging
from typing import Any

from silentpartner import metrics
from silentpartner.clock import Clock
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import CallEnded
from silentpartner.logs import log_event
from silentpartner.store.db import Database
from silentpartner.voice.call import CallInfo, outcome_values
from silentpartner.voice.realtime.usage import Usage
from silentpartner.voice.recorder import CallRecorder

log = logging.getLogger(__name__)


class RealtimeRecord:
    def __init__(
        self,
        recorder: CallRecorder,
        driver: ConversationDriver,
        *,
        db: Database,
        clock: Clock,
        info: CallInfo,
        model: str,
        prices: dict[str, float] | None,
    ) -> None:
        self.recorder = recorder
        self.driver = driver
        self.db = db
        self.clock = clock
        self.info = info
        self.model = model
        self.prices = prices
        self.usage = Usage()
        self.closed = False
        self._outcome_seen: dict[str, Any] = {}
        self._details_seen: dict[str, Any] | None = None

    @property
    def outcome(self) -> str | None:
        return self._outcome_seen.get("action")

    def progress(self) -> None:
        """The caller's details and the outcome, when they changed."""
        details = self.driver.caller_details()
        if details != self._details_seen:
            self._details_seen = details
            self.recorder.set(details=details)
        outcome = self.driver.outcome
        values = outcome.as_dict() if hasattr(outcome, "as_dict") else dict(outcome)
        if values and values != self._outcome_seen:
            self._outcome_seen = values
            self.recorder.set(**outcome_values(values))

    def add_usage(self, usage: Any) -> None:
        self.usage.add(usage)
        self.write_usage()

    def write_usage(self) -> None:
        self.recorder.set(**self.usage.record_values(self.model, self.prices))

    async def close(self, reason: str, *, transferred: bool = False) -> None:
        """The call's end, written before anyone hears of it, and handed to messaging if it came to nothing."""
        if self.closed:
            return
        self.closed = True
        self.progress()
        self.write_usage()
        await self.recorder.ended(transferred=transferred, reason=reason)

    async def finish(self, reason: str, **logged: Any) -> None:
        try:
            async for _ in self.driver.handle(CallEnded(reason=reason)):
                pass
        except Exception:
            log.exception("call.driver_end_failed")
        await self.close(reason, transferred=reason == "transferred")
        await self.recorder.close()
        metrics.current().call_ended(self.info.business.slug, self.outcome)
        log_event(
            log,
            "call.ended",
            engine="realtime",
            reason=reason,
            outcome=self.outcome,
            cost_usd=self.usage.cost(self.prices),
            **logged,
        )
