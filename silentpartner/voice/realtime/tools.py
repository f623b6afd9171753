"""The model's function calls, run through the conversation engine: the same guarded tool handlers the chat
brain uses (`ChatBrain.invoke`: the state's tools only, `guards.py` before anything touches the calendar, the
driver's tool runner with its timeout). Whatever the model asks for, a refused call comes back to it as
`{"refused": reason}` and nothing happens.

Lines the engine says itself (a read-back, a confirmation, an apology) come back in the output's `say`, for
the model to speak word for word; texts, transfers and hang-ups come back as actions for the call to carry out.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from silentpartner.conversation.chat_brain import ChatBrain
from silentpartner.conversation.driver import ConversationDriver
from silentpartner.conversation.events import Action, EndOfTurn, Say

log = logging.getLogger(__name__)

MAX_ARGUMENTS = 4096  # a function call's JSON arguments; anything longer is not one of ours


@dataclass
class ToolOutcome:
    output: dict[str, Any]
    actions: list[Action] = field(default_factory=list)  # SendSms, Transfer, HangUp: the call's to carry out

    def output_json(self) -> str:
        return json.dumps(self.output, default=str)


class RealtimeTools:
    def __init__(self, driver: ConversationDriver, *, timeout: float) -> None:
        self.driver = driver
        self.timeout = timeout
        # The chat brain's tool handlers are the guarded tool layer; the Realtime model replaces only its chat
        # loop, so no chat client is needed.
        self._handlers = ChatBrain(None, "realtime")  # type: ignore[arg-type]

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        args = _arguments(arguments)
        if args is None:
            return ToolOutcome({"error": f"bad arguments for {name}"})
        try:
            async with asyncio.timeout(self.timeout):
                result, actions, _ = await self._handlers.invoke(self.driver, name, args)
        except TimeoutError:
            log.warning("realtime.tool_timeout", extra={"tool": name})
            return ToolOutcome({"error": f"{name} timed out; apologise and offer to take a message"})
        except Exception:
            log.exception("realtime.tool_crashed", extra={"tool": name})
            return ToolOutcome({"error": f"{name} failed; apologise and offer to take a message"})
        says = [action.text for action in actions if isinstance(action, Say) and action.text.strip()]
        output = dict(result)
        if says:
            output["say"] = " ".join(says)
        outward = [action for action in actions if not isinstance(action, Say | EndOfTurn)]
        return ToolOutcome(output, outward)


def _arguments(raw: str) -> dict[str, Any] | None:
    if not raw:
        return {}
    if len(raw) > MAX_ARGUMENTS:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) and key.isidentifier() for key in value):
        return None
    return value
