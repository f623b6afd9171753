"""What a Realtime call cost: token counts from each `response.done`'s usage, priced from the settings' table.

OpenAI bills audio and text tokens in and out at different prices, and cached input (the conversation
resent with every response) at a fraction of either. A usage block looks like:

    {"input_tokens": 1200, "output_tokens": 300,
     "input_token_details": {"text_tokens": 400, "audio_tokens": 800, "cached_tokens": 640,
                             "cached_tokens_details": {"text_tokens": 384, "audio_tokens": 256}},
     "output_token_details": {"text_tokens": 60, "audio_tokens": 240}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PER_MILLION = 1_000_000


def _count(block: Any, key: str) -> int:
    value = block.get(key) if isinstance(block, dict) else None
    return value if isinstance(value, int) and value >= 0 else 0


@dataclass
class Usage:
    text_in: int = 0
    text_in_cached: int = 0
    audio_in: int = 0
    audio_in_cached: int = 0
    text_out: int = 0
    audio_out: int = 0

    def add(self, usage: Any) -> None:
        """Add one `response.done` usage block; anything malformed counts as zero."""
        if not isinstance(usage, dict):
            return
        details_in = usage.get("input_token_details") or {}
        cached = (details_in.get("cached_tokens_details") or {}) if isinstance(details_in, dict) else {}
        details_out = usage.get("output_token_details") or {}
        self.text_in += _count(details_in, "text_tokens")
        self.audio_in += _count(details_in, "audio_tokens")
        self.text_in_cached += _count(cached, "text_tokens")
        self.audio_in_cached += _count(cached, "audio_tokens")
        self.text_out += _count(details_out, "text_tokens")
        self.audio_out += _count(details_out, "audio_tokens")

    def cost(self, prices: dict[str, float] | None) -> float | None:
        """USD, or None when the model has no row in the price table. Cached tokens are part of the input
        counts and billed at the cached price instead."""
        if prices is None:
            return None
        text_fresh = max(0, self.text_in - self.text_in_cached)
        audio_fresh = max(0, self.audio_in - self.audio_in_cached)
        total = (
            text_fresh * prices["text_in"]
            + self.text_in_cached * prices["text_in_cached"]
            + audio_fresh * prices["audio_in"]
            + self.audio_in_cached * prices["audio_in_cached"]
            + self.text_out * prices["text_out"]
            + self.audio_out * prices["audio_out"]
        )
        return round(total / PER_MILLION, 6)

    def record_values(self, model: str, prices: dict[str, float] | None) -> dict[str, Any]:
        """The call record's columns for this usage."""
        return {
            "speech_engine": "realtime",
            "speech_model": model[:64],
            "text_tokens_in": self.text_in,
            "audio_tokens_in": self.audio_in,
            "cached_tokens_in": self.text_in_cached + self.audio_in_cached,
            "text_tokens_out": self.text_out,
            "audio_tokens_out": self.audio_out,
            "speech_cost_usd": self.cost(prices),
        }
