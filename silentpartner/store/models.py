"""The tables. Every call, booking, message, webhook delivery and job is a row before it is acted on.

When you change a model, add an Alembic migration in `migrations/versions/` (the test
`test_migrations_match_models` fails until the two agree).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from silentpartner.store.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it from the class)
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class CallRecord(Base):
    """One phone call (or simulated call), written as it goes so a crash loses nothing."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    business: Mapped[str] = mapped_column(String(64), index=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    forwarded_from: Mapped[str | None] = mapped_column(String(32))
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="phone")  # phone | browser | simulate
    status: Mapped[str] = mapped_column(String(32), default="ringing")
    outcome: Mapped[str | None] = mapped_column(String(32))  # booked | rescheduled | cancelled | message | ...
    booking_uid: Mapped[str | None] = mapped_column(String(128))
    message_for_owner: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    latencies_ms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    textback_queued: Mapped[bool] = mapped_column(Boolean, default=False)
    # How a transfer to the owner ended (the <Dial action> reports it after our part of the call is over):
    # connected | declined (answered, but the whisper was not accepted) | no-answer | busy | failed | canceled
    transfer_outcome: Mapped[str | None] = mapped_column(String(16))
    # What the caller told us so far (name, problem, address...), so a call cut off still says who called.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    end_reason: Mapped[str | None] = mapped_column(String(64))  # caller hung up | we hung up | cut off ...
    # The process holding the live socket, and the last moment it showed the call alive. A live call
    # beats every few seconds; a call whose beat went stale lost its process and is closed by the sweep.
    instance_id: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    # The call's recording in the recording store (None: not recorded, not yet filed, or purged).
    recording_key: Mapped[str | None] = mapped_column(String(255))
    recording_bytes: Mapped[int | None] = mapped_column(Integer)
    # The speech engine that answered (realtime | offline; None on calls from before it was recorded) and, for
    # Realtime, its model, token counts from each response's usage and their price (USD, settings' table).
    speech_engine: Mapped[str | None] = mapped_column(String(16))
    speech_model: Mapped[str | None] = mapped_column(String(64))
    text_tokens_in: Mapped[int | None] = mapped_column(Integer)
    audio_tokens_in: Mapped[int | None] = mapped_column(Integer)
    cached_tokens_in: Mapped[int | None] = mapped_column(Integer)
    text_tokens_out: Mapped[int | None] = mapped_column(Integer)
    audio_tokens_out: Mapped[int | None] = mapped_column(Integer)
    speech_cost_usd: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_calls_status_heartbeat", "status", "heartbeat_at"),)


class MediaToken(Base):
    """A one-time token minted by the signed voice webhook; the media websocket must present it."""

    __tablename__ = "media_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class BookingRecord(Base):
    """The bookings mirror: our copy of every booking, whichever calendar backend holds it."""

    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    business: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(16))  # local | calcom
    service: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    team_member: Mapped[str | None] = mapped_column(String(128))
    attendee_name: Mapped[str | None] = mapped_column(String(200))
    attendee_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    attendee_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="accepted")  # accepted|pending|cancelled|...
    source: Mapped[str] = mapped_column(String(16), default="call")  # call|sms|cli|calcom|webhook
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    rescheduled_from: Mapped[str | None] = mapped_column(String(128))
    rescheduled_to: Mapped[str | None] = mapped_column(String(128))
    payment_link: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    confirmation_sent_at: Mapped[datetime | None]
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_bookings_business_start", "business", "start_at"),)


class CalendarHold(Base):
    """A slot held for a caller while they confirm (local backend, or a Cal.com reservation uid)."""

    __tablename__ = "calendar_holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    business: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    team_member: Mapped[str | None] = mapped_column(String(128))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    holder: Mapped[str | None] = mapped_column(String(64))  # call sid or thread id
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_holds_business_start", "business", "start_at"),)


class TimeOff(Base):
    """Time the owner (or a team member) took off, or closed for the whole business: the local calendar offers
    no slots in it. `team_member` None closes the business."""

    __tablename__ = "time_off"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business: Mapped[str] = mapped_column(String(64))
    team_member: Mapped[str | None] = mapped_column(String(128))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_time_off_business_start", "business", "start_at"),)


class CalendarLock(Base):
    """One row per business calendar; booking takes it FOR UPDATE so racing writers serialise."""

    __tablename__ = "calendar_locks"
    business: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class MessageRecord(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    business: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="reply")  # confirmation|reminder|textback|...
    status: Mapped[str] = mapped_column(String(32), default="queued")
    error_code: Mapped[int | None] = mapped_column(Integer)
    booking_uid: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """Every accepted webhook delivery, stored before it is processed; `dedupe_key` stops replays."""

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # calcom | twilio
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    trigger: Mapped[str] = mapped_column(String(64))
    booking_uid: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received|processed|ignored|failed
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class OptOut(Base):
    """Whether a number may be texted by a business (carrier STOP/START, landlines, invalid numbers)."""

    __tablename__ = "opt_outs"
    business: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    textable: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class SmsThread(Base):
    """A text conversation with one number: the engine's state and any question awaiting YES."""

    __tablename__ = "sms_threads"
    business: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class Job(Base):
    """Scheduled work (reminders, review requests, text-backs, reconcile), claimed exactly once."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    business: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|done|parked|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)


class SyncState(Base):
    """Small key/value cursors, e.g. the last Cal.com reconcile time per business."""

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
