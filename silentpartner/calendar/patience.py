"""How long a calendar request may wait on the calendar service's rate limit.

Background work (reconcile, reminders, the CLI) waits as long as the service asks, up to its block.
A person on the line cannot: a phone call (or a text thread Twilio is waiting on) runs inside
`interactive()`, and a request that would have to wait longer than its budget fails at once with
`CalendarUnavailable`, which the conversation turns into "I can't reach the calendar; we'll call you back".

The budget is a context variable, so it follows the call's tasks and no calendar object needs to know
which call it is serving.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# A caller hears a filler line after a second; two more seconds of waiting is the most a turn can spare.
INTERACTIVE_WAIT_SECONDS = 2.0

_max_wait: ContextVar[float | None] = ContextVar("calendar_max_wait", default=None)


@contextmanager
def interactive(max_wait: float = INTERACTIVE_WAIT_SECONDS) -> Iterator[None]:
    """Within this block (and the tasks it starts), no calendar request waits more than `max_wait`
    seconds on a rate limit."""
    token = _max_wait.set(max_wait)
    try:
        yield
    finally:
        _max_wait.reset(token)


def max_wait() -> float | None:
    """The current budget in seconds, or None for background work (wait as asked)."""
    return _max_wait.get()
