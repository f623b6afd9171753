"""Text threads: the business's texts grouped by the other party's number, with each text's delivery status and
whether the number may be texted (opted out with STOP, a landline, an invalid number)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from silentpartner.business import Business
from silentpartner.dashboard.schemas import MessageOut, ThreadOut
from silentpartner.runtime import Runtime
from silentpartner.store.models import BookingRecord, MessageRecord, OptOut

MESSAGES_READ = 2000  # the latest texts the threads are made from
THREADS_SHOWN = 100
PER_THREAD = 50


async def threads(runtime: Runtime, business: Business) -> list[ThreadOut]:
    """The latest threads first; each thread's texts oldest first."""
    tz = business.tz
    async with runtime.db.session() as session:
        rows = list(
            await session.scalars(
                select(MessageRecord)
                .where(MessageRecord.business == business.slug)
                .order_by(MessageRecord.created_at.desc(), MessageRecord.id.desc())
                .limit(MESSAGES_READ)
            )
        )
        by_phone: dict[str, list[MessageRecord]] = defaultdict(list)
        for row in rows:
            other = row.from_number if row.direction == "in" else row.to_number
            by_phone[other].append(row)
        phones = list(by_phone)[:THREADS_SHOWN]
        opt_outs = {
            o.phone: o
            for o in await session.scalars(
                select(OptOut).where(OptOut.business == business.slug, OptOut.phone.in_(phones))
            )
        }
        names: dict[str, str] = {}
        for booking in await session.scalars(
            select(BookingRecord)
            .where(BookingRecord.business == business.slug, BookingRecord.attendee_phone.in_(phones))
            .order_by(BookingRecord.created_at)
        ):
            if booking.attendee_name and booking.attendee_phone:
                names[booking.attendee_phone] = booking.attendee_name  # the latest booking's name wins
    out = []
    for phone in phones:
        texts = list(reversed(by_phone[phone][:PER_THREAD]))
        opt = opt_outs.get(phone)
        member = business.staff(phone)
        who = "owner" if business.is_owner(phone) else "team" if member else "customer"
        name = business.owner_name if who == "owner" else member.name if member else names.get(phone)
        out.append(
            ThreadOut(
                phone=phone,
                name=name,
                who=who,
                opted_out=bool(opt and opt.opted_out),
                textable=opt.textable if opt else True,
                opt_out_reason=opt.reason if opt else None,
                last_at=by_phone[phone][0].created_at.astimezone(tz),
                messages=[
                    MessageOut(
                        id=m.id,
                        direction="in" if m.direction == "in" else "out",
                        at=m.created_at.astimezone(tz),
                        body=m.body,
                        kind=m.kind,
                        status=m.status,
                        error_code=m.error_code,
                    )
                    for m in texts
                ],
            )
        )
    return out
