"""What the Realtime session is told: the GA `session.update`, and the responses we ask for.

The conversation engine stays in charge: the instructions are the chat brain's for the current phase, the
tools are that phase's only (the guards refuse any other anyway), and lines the engine must say word for
word (the greeting, a read-back) are handed to the model as a response's instructions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from silentpartner.conversation.chat_brain import instructions
from silentpartner.conversation.chat_tools import tool_specs

if TYPE_CHECKING:
    from silentpartner.business import Business
    from silentpartner.conversation.machine import ConversationMachine

SPEECH_RULES = (
    "\nYou are on a phone call: speak, never read out ids, JSON or markdown. Keep each reply to one or two "
    "short sentences. When a tool result has `say`, say that text to the caller word for word."
)


def realtime_tools(machine: ConversationMachine) -> list[dict[str, Any]]:
    """The phase's tools in the Realtime shape (flat: no `function` wrapper)."""
    return [{"type": "function", **spec["function"]} for spec in tool_specs(machine.memory.state)]


def phase_config(machine: ConversationMachine, *, summary: str | None = None) -> dict[str, Any]:
    """The parts of the session that follow the conversation: instructions and tools."""
    text = instructions(machine) + SPEECH_RULES
    if summary:
        text += "\nThe call so far (you are continuing it; do not greet again):\n" + summary
    tools = realtime_tools(machine)
    return {"instructions": text, "tools": tools, "tool_choice": "auto" if tools else "none"}


def session_update(business: Business, model: str, machine: ConversationMachine, *, summary: str | None = None):
    """The whole session: μ-law in and out (Twilio's payloads pass through untouched), semantic VAD that
    answers and lets the caller interrupt, the business's voice, transcripts of the caller's side."""
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "model": model,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "noise_reduction": {"type": "near_field"},
                    "transcription": {"model": "gpt-live-transcribe"},
                    "turn_detection": {
                        "type": "semantic_vad",
                        "eagerness": "auto",
                        "create_response": True,
                        "interrupt_response": True,
                    },
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": business.voice},
            },
            "truncation": "auto",
            **phase_config(machine, summary=summary),
        },
    }


def phase_update(machine: ConversationMachine) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime", **phase_config(machine)}}


def say_verbatim(text: str) -> dict[str, Any]:
    """A response that says the engine's own line (the greeting, a fallback line), and nothing else."""
    return {
        "type": "response.create",
        "response": {"instructions": f"Say exactly this to the caller, then stop: {text}"},
    }


def filler(text: str) -> dict[str, Any]:
    """A short out-of-band line while a slow tool runs: outside the conversation, so the model's context is
    not polluted with it, and with no tools, so it cannot start anything."""
    return {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["audio"],
            "tool_choice": "none",
            "instructions": f"Say exactly this, then stop: {text}",
        },
    }
