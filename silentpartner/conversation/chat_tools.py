"""The tools a chat model is offered (OpenAI function-calling schemas), per conversation state.

The model only names things: a service, the caller's words about time, an opaque slot id it was given,
a booking uid from the caller's own list. Dates are resolved on the server; every call goes through
the machine's guarded capabilities.
"""

from __future__ import annotations

from typing import Any

from silentpartner.conversation.states import State, tools_for

_STR = {"type": "string"}

SPECS: dict[str, dict[str, Any]] = {
    "start_booking": {
        "description": "The caller wants a visit booked. Call before collecting details.",
        "properties": {
            "service": {**_STR, "description": "service slug, if the caller named one"},
            "problem": {**_STR, "description": "what is wrong, in the caller's words"},
        },
    },
    "report_emergency": {
        "description": "Burst pipe, flooding, sewage backing up, no water, or a gas smell.",
        "properties": {"description": {**_STR, "description": "what the caller said is happening"}},
        "required": ["description"],
    },
    "save_details": {
        "description": "Record caller details as they give them. Phone numbers as the caller said them.",
        "properties": {
            "name": _STR,
            "phone": _STR,
            "address": _STR,
            "problem": _STR,
            "email": _STR,
            "phone_confirmed": {"type": "boolean", "description": "caller confirmed the callback number"},
        },
    },
    "find_slots": {
        "description": "Find up to three open times. Pass the caller's own words about when; never compute dates.",
        "properties": {
            "when": {**_STR, "description": "the caller's words, e.g. 'Thursday afternoon'"},
            "booking_uid": {**_STR, "description": "when moving one of the caller's bookings"},
        },
        "required": ["when"],
    },
    "choose_slot": {
        "description": "The caller picked one of the offered times. Holds it and reads the booking back.",
        "properties": {"slot_id": _STR},
        "required": ["slot_id"],
    },
    "book": {
        "description": "Book the chosen slot, only after the caller said yes to the read-back.",
        "properties": {"slot_id": _STR},
        "required": ["slot_id"],
    },
    "my_appointments": {
        "description": "The caller's own upcoming appointments (looked up by the number they call from).",
        "properties": {"purpose": {"type": "string", "enum": ["lookup", "reschedule", "cancel"]}},
        "required": ["purpose"],
    },
    "reschedule_booking": {
        "description": "Move one of the caller's bookings to a chosen slot, after a yes to the read-back.",
        "properties": {"booking_uid": _STR, "slot_id": _STR},
        "required": ["booking_uid", "slot_id"],
    },
    "cancel_booking": {
        "description": "Cancel one of the caller's bookings. The first call asks the caller to confirm.",
        "properties": {"booking_uid": _STR},
        "required": ["booking_uid"],
    },
    "owner_schedule": {"description": "Today's appointments (only for the owner).", "properties": {}},
    "take_message": {
        "description": "Take a message for the owner.",
        "properties": {"message": _STR},
        "required": ["message"],
    },
    "transfer_to_owner": {"description": "Put the caller through to the owner.", "properties": {"reason": _STR}},
    "business_info": {
        "description": "Hours, services, service area, prices or the business's FAQ, as configured.",
        "properties": {"topic": {"type": "string", "enum": ["hours", "services", "area", "prices", "faq"]}},
        "required": ["topic"],
    },
    "end_call": {"description": "Say goodbye and end the conversation.", "properties": {}},
}


def tool_specs(state: State) -> list[dict[str, Any]]:
    out = []
    for name in tools_for(state):
        spec = SPECS[name]
        out.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": spec["description"],
                    "parameters": {
                        "type": "object",
                        "properties": spec.get("properties", {}),
                        "required": spec.get("required", []),
                    },
                },
            }
        )
    return out
