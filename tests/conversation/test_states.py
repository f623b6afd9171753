"""The conversation's state table: complete, consistent with the chat tools, and enforced."""

from __future__ import annotations

import pytest

from silentpartner.conversation.chat_tools import SPECS
from silentpartner.conversation.states import ANYWHERE, TABLE, IllegalTransition, State, check_move, tools_for


def test_every_state_has_a_row_and_every_tool_a_schema() -> None:
    assert set(TABLE) == set(State)
    for state, row in TABLE.items():
        assert row.expect in ("open", "name", "phone", "address", "time", "choice", "yes_no"), state
        unknown = set(row.tools) - set(SPECS)
        assert not unknown, f"{state} offers tools with no schema: {unknown}"
        assert row.next <= set(State)


def test_the_caller_can_always_leave_or_start_over() -> None:
    for state in State:
        if state == State.DONE:
            continue
        for way_out in (State.DONE, State.TRANSFERRED, State.MESSAGE, State.NEED):
            check_move(state, way_out)


def test_a_read_back_only_follows_a_chosen_time_or_a_named_booking() -> None:
    check_move(State.SLOT_CHOICE, State.CONFIRM)
    check_move(State.WHICH_BOOKING, State.CONFIRM)
    for state in (State.PHONE, State.ADDRESS):
        check_move(state, State.CONFIRM)  # details collected after the time was held
    with pytest.raises(IllegalTransition):
        check_move(State.MESSAGE, State.CONFIRM)
    with pytest.raises(IllegalTransition):
        check_move(State.OWNER, State.CHANGE)


def test_nothing_moves_once_the_conversation_is_over() -> None:
    with pytest.raises(IllegalTransition, match="over"):
        check_move(State.DONE, State.NEED)


def test_booking_is_a_tool_only_where_a_read_back_can_be_answered() -> None:
    offering_book = {state for state in State if "book" in tools_for(state)}
    assert offering_book == {State.CONFIRM, State.EMERGENCY_OFFER}
    assert not tools_for(State.DONE)
    assert State.CONFIRM not in ANYWHERE and State.CHANGE not in ANYWHERE
