"""Puts the chat brain where the channels look for it: `runtime.services["chat_brain_factory"]`.

With OPENAI_API_KEY set, every new conversation that asks for the factory gets its own ChatBrain; without
a key the entry is absent and the channels use the rules brain. Text threads use the chat brain whenever
there is one; phone calls only when CALL_BRAIN=chat (the rules brain answers faster and offline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.conversation.chat_brain import ChatBrain

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

SERVICE_NAME = "chat_brain_factory"


class ChatBrainComponent:
    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    async def start(self, runtime: Runtime) -> None:
        factory = ChatBrain.factory(runtime.settings)
        if factory is not None:
            runtime.services[SERVICE_NAME] = factory
            self._runtime = runtime

    async def stop(self) -> None:
        if self._runtime is not None:
            self._runtime.services.pop(SERVICE_NAME, None)
            self._runtime = None


def chat_brain(runtime: Runtime) -> ChatBrain | None:
    """A fresh chat brain for one conversation, or None (use the rules brain) when no key is configured."""
    factory = runtime.services.get(SERVICE_NAME)
    return factory() if callable(factory) else None


def brain_for_call(runtime: Runtime) -> ChatBrain | None:
    """The brain a phone call uses: the chat brain only when CALL_BRAIN=chat asks for it."""
    return chat_brain(runtime) if runtime.settings.call_brain == "chat" else None
