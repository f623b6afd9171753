"""What the product keeps: SQLAlchemy 2 models, the database handle, migrations and queries."""

from silentpartner.store.db import Database
from silentpartner.store.models import (
    Base,
    BookingRecord,
    CalendarHold,
    CalendarLock,
    CallRecord,
    Job,
    MediaToken,
    MessageRecord,
    OptOut,
    SmsThread,
    SyncState,
    WebhookEvent,
)
from silentpartner.store.problems import DatabaseUnavailable

__all__ = [
    "Base",
    "BookingRecord",
    "CalendarHold",
    "CalendarLock",
    "CallRecord",
    "Database",
    "DatabaseUnavailable",
    "Job",
    "MediaToken",
    "MessageRecord",
    "OptOut",
    "SmsThread",
    "SyncState",
    "WebhookEvent",
]
