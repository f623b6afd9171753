"""Structured logging: one JSON object per line, with call sid and business from context.

Phone numbers and street addresses are masked before anything is written: logs travel further than
the database does.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

call_sid_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_sid", default=None)
business_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("business", default=None)

_PHONE = re.compile(r"(?<![\w])\+?\d[\d\-\s().]{8,}\d(?![\w])")
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][a-z]+\s){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Lane|Ln|Dr|Drive|Way|Ct|Court)\b\.?"
)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return f"***{digits[-4:]}" if len(digits) >= 4 else "***"


def mask(text: str) -> str:
    """Mask phone numbers (keep the last four digits) and street addresses in free text."""
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return _ADDRESS.sub("[address]", text)


# What every LogRecord carries; anything else on a record came from `extra={...}` and is logged as a field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "fields"}
_STANDARD |= {"color_message"}  # uvicorn's ANSI-coloured copy of its message


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": mask(record.getMessage()),
        }
        for key, var in (("call_sid", call_sid_var), ("business", business_var)):
            value = var.get()
            if value:
                entry[key] = value
        fields = getattr(record, "fields", None)
        extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        for key, value in {**extra, **(fields if isinstance(fields, dict) else {})}.items():
            entry[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one structured event: `log_event(log, "call.started", sid=..., business=...)`. (Plain
    `log.warning("event", extra={...})` works too: the formatter keeps every extra field.)"""
    logger.log(level, event, extra={"fields": fields})
