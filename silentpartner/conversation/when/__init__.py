"""When the caller wants to be seen: "tomorrow at two", "Thursday afternoon", "the 14th", "as soon as possible".

Dates are resolved here, on the server, in the business timezone and anchored to an injected `now`; no
model ever does date arithmetic (DESIGN principle 2). Explicit rules cover the ways trades customers say
times; dateparser, with `RELATIVE_BASE` pinned to the business-local day, reads calendar dates such as
"December 3rd" and "12/3". Wall-clock results are always built from a local date and a local time with
the zone attached, never by adding a timedelta across a DST change.

Reading order: `understand` (the entry point) cleans the words with `phrases`, reads each stretch with
`segment` (which asks `days` and `clock_times`), and builds the answer with `windows`; `choice` settles a
question asked back. This package re-exports the public names.
"""

from silentpartner.conversation.when.choice import resolve_choice
from silentpartner.conversation.when.results import Alternatives, Ambiguous, InThePast, TimeWindow, WhenResult
from silentpartner.conversation.when.understand import understand_when
from silentpartner.conversation.when.windows import AFTERNOON, ASAP_DAYS, END_OF_DAY, EVENING, MORNING

__all__ = [
    "AFTERNOON",
    "ASAP_DAYS",
    "END_OF_DAY",
    "EVENING",
    "MORNING",
    "Alternatives",
    "Ambiguous",
    "InThePast",
    "TimeWindow",
    "WhenResult",
    "resolve_choice",
    "understand_when",
]
