"""Which brain a conversation gets, built from settings at the shell: the chat brain (any OpenAI-compatible
chat model) when a key is configured, else None, which means the offline rules brain inside the conversation.

`ChatBrainComponent` puts a factory in `runtime.services["chat_brain_factory"]`; every new conversation that asks
gets its own ChatBrain. Text threads use the chat brain whenever there is one; phone calls only when
CALL_BRAIN=chat (the rules brain answers faster and offline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from silentpartner.conversation.chat_brain import ChatBrain
from silentpartner.settings import ConfigError, Settings

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

SERVICE_NAME = "chat_brain_factory"


def new_chat_brain(settings: Settings) -> ChatBrain:
    """A chat brain for one conversation; ConfigError (one line) when no key is configured."""
    from openai import AsyncOpenAI

    key = settings.secret("openai_api_key")
    if not key:
        raise ConfigError("the chat brain needs OPENAI_API_KEY (or use the offline rules brain: --brain rules)")
    client = AsyncOpenAI(
        base_url=settings.openai_base_url,
        api_key=key,
        max_retries=1,
        timeout=20.0,  # a stuck model must not stall a caller; the failure is handed to the owner
    )
    return ChatBrain(client, settings.openai_chat_model)


def chat_brain_factory(settings: Settings) -> Callable[[], ChatBrain] | None:
    """A per-conversation ChatBrain maker when a key is configured, else None."""
    if not settings.secret("openai_api_key"):
        return None
    return lambda: new_chat_brain(settings)


class ChatBrainComponent:
    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    async def start(self, runtime: Runtime) -> None:
        factory = chat_brain_factory(runtime.settings)
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
