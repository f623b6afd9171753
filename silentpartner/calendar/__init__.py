"""Calendars: one Protocol (`port.CalendarPort`), two backends (Cal.com API v2, embedded local),
slot math, the slot cache, and Cal.com webhooks.

Always imported as `silentpartner.calendar` (a top-level `calendar` would shadow the standard library).
"""

from silentpartner.calendar.port import (
    Booking,
    BookingNotConfirmed,
    BookingRequest,
    CalendarError,
    CalendarPort,
    CalendarUnavailable,
    Hold,
    InvalidRequest,
    NotFound,
    OutsideBookingWindow,
    ServiceInfo,
    Slot,
    SlotUnavailable,
)

__all__ = [
    "Booking",
    "BookingNotConfirmed",
    "BookingRequest",
    "CalendarError",
    "CalendarPort",
    "CalendarUnavailable",
    "Hold",
    "InvalidRequest",
    "NotFound",
    "OutsideBookingWindow",
    "ServiceInfo",
    "Slot",
    "SlotUnavailable",
]
