"""The conversation, sans-I/O: the state table (`states.py`), what it remembers (`memory.py`), one reading of each
caller turn (`reading.py`), the machine that runs it (`machine.ConversationMachine`), its guards and tools, the
rules and chat brains, and the one async driver every channel uses (`driver.ConversationDriver`).

Following "tomorrow at two" from a call: `voice/call.py` hands the words to the driver as `CallerSaid`;
`machine.py` reads them (`reading.read` -> `when/understand.py` makes a `TimeWindow`); the rules
(`rules/router.py` -> `rules/times.py`) ask for `find_slots`; the driver runs it through `tools.py` against
`calendar/`.
"""
