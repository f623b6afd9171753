"""The owner's assistant over real HTTP: signed Twilio texts to `/twilio/sms` on the app under uvicorn (the demo
business on the embedded calendar, the local Twilio API), from the owner's mobile, a team member's phone, a
customer and a stranger. Changes are checked in the calendar and at the local Twilio API (the customer texted
exactly once); asks about calls read call records as the voice side writes them.

The PIN by phone is checked through `simulate --jsonl` (the same conversation driver a phone call runs) with a
businesses file that sets `owner_pin_env`: a real phone call would also need the offline speech models.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from silentpartner.calendar.port import BookingRequest
from silentpartner.simulate import SimulateOptions, run_simulation
from silentpartner.store.models import BookingRecord, CallRecord
from tests.messaging.conftest import Bench

LOCAL = ZoneInfo("America/Los_Angeles")
OWNER = "+15035550199"
DANA = "+15035550198"
STRANGER = "+15035550122"
ANN = "+15035550103"
BOB = "+15035550102"
CARL = "+15035550179"
KIM = "+15035550178"
PAT = "+15035550111"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in November 2026 (the suite's pinned now is Tuesday the 24th, 10:00)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


async def book(
    bench: Bench,
    start: datetime,
    name: str,
    phone: str,
    address: str,
    *,
    team_member: str | None = None,
    notes: str | None = None,
    source: str = "cli",
) -> str:
    """A booking on the app's own calendar, as `silentpartner calendar book` makes one."""
    calendar = bench.runtime.calendars[bench.business.slug]
    request = BookingRequest(
        service="service-call",
        start=start,
        name=name,
        phone=phone,
        address=address,
        notes=notes,
        team_member=team_member,
        source=source,
    )

    async def run(_session: Any) -> str:
        return (await calendar.book(request)).uid

    return await bench.db(run)


async def booking(bench: Bench, uid: str) -> BookingRecord:
    (row,) = await bench.rows(BookingRecord, BookingRecord.uid == uid)
    return row


async def active_for(bench: Bench, phone: str) -> list[BookingRecord]:
    return await bench.rows(
        BookingRecord, BookingRecord.attendee_phone == phone, BookingRecord.status.in_(("accepted", "pending"))
    )


async def texts(bench: Bench, sender: str, *lines: str) -> None:
    for line in lines:
        response = await bench.text_in(line, sender=sender)
        assert response.status_code == 200, response.text


def bodies(bench: Bench, number: str) -> list[str]:
    return [m.body for m in bench.twilio.messages_to(number)]


async def a_thursday(bench: Bench) -> dict[str, str]:
    """Thursday: Ann Lee 9 AM (Mike), Bob Ray 2 PM (Dana), Lou Vance 4 PM (Mike); Wednesday: Carl Diaz."""
    return {
        "ann": await book(
            bench, at(26, 9), "Ann Lee", ANN, "12 Oak Street, Portland", team_member="Mike", notes="running toilet"
        ),
        "bob": await book(
            bench, at(26, 14), "Bob Ray", BOB, "5 Elm Street, Portland", team_member="Dana", notes="leaking faucet"
        ),
        "lou": await book(bench, at(26, 16), "Lou Vance", "+15035550184", "3 Spruce Lane", team_member="Mike"),
        "carl": await book(bench, at(25, 11), "Carl Diaz", CARL, "31 Cedar Lane", team_member="Mike"),
    }


# -- asking -----------------------------------------------------------------------------------------------


async def test_the_owner_texts_for_a_day_and_gets_one_text_with_a_line_per_job(local_bench: Bench) -> None:
    bench = local_bench
    await a_thursday(bench)
    await texts(bench, OWNER, "what's on thursday?")
    (reply,) = bodies(bench, OWNER)
    lines = reply.splitlines()
    ann = [line for line in lines if "Ann Lee" in line]
    bob = [line for line in lines if "Bob Ray" in line]
    lou = [line for line in lines if "Lou Vance" in line]
    assert len(ann) == len(bob) == len(lou) == 1, reply  # one line per job
    assert ann[0] != bob[0] != lou[0]
    assert re.search(r"\b9(:00)?\s*AM\b", ann[0]) and "12 Oak Street" in ann[0] and "service call" in ann[0], reply
    assert re.search(r"\b2(:00)?\s*PM\b", bob[0]) and "5 Elm Street" in bob[0], reply
    assert lines.index(ann[0]) < lines.index(bob[0]) < lines.index(lou[0]), "in time order"
    assert "Carl Diaz" not in reply  # Wednesday's job
    for filler in ("Anything else", "How can I help", "I wish I could help", "nothing booked today"):
        assert filler.lower() not in reply.lower()


async def test_whats_on_thurs_then_whos_the_2_in_the_same_thread(local_bench: Bench) -> None:
    bench = local_bench
    await a_thursday(bench)
    await texts(bench, OWNER, "whats on thurs", "who's the 2pm on thurs")
    schedule, who = bodies(bench, OWNER)
    assert "Ann Lee" in schedule and "Bob Ray" in schedule
    assert "Bob Ray" in who and "5 Elm Street" in who and "leaking faucet" in who
    assert "Ann Lee" not in who


async def test_how_many_calls_today_counts_customers_calls_by_how_they_ended(local_bench: Bench) -> None:
    bench = local_bench

    def call(sid: str, started: datetime, outcome: str, **extra: Any) -> CallRecord:
        return CallRecord(
            sid=sid,
            business=bench.business.slug,
            from_number=extra.pop("from_number", "+15035550160"),
            to_number=bench.business.main_number,
            status="completed",
            outcome=outcome,
            started_at=started,
            ended_at=started + timedelta(minutes=3),
            **extra,
        )

    async def calls(session: Any) -> None:
        session.add(call("CA" + "1" * 32, at(24, 8, 5), "booked", booking_uid="loc_x"))
        session.add(call("CA" + "2" * 32, at(24, 8, 40), "message", message_for_owner="Wants a quote"))
        session.add(call("CA" + "3" * 32, at(24, 9, 15), "none"))
        session.add(call("CA" + "4" * 32, at(24, 9, 30), "booked", booking_uid="loc_y"))
        session.add(call("CA" + "5" * 32, at(23, 15, 0), "booked", booking_uid="loc_z"))  # yesterday
        session.add(call("CA" + "6" * 32, at(24, 7, 50), "info", from_number=OWNER, is_owner=True))  # the owner

    await bench.db(calls)
    await texts(bench, OWNER, "how many calls today")
    (reply,) = bodies(bench, OWNER)
    assert re.search(r"\b4 calls\b", reply), reply
    assert re.search(r"\b2 booked\b", reply), reply


async def test_what_did_the_caller_at_310_want(local_bench: Bench) -> None:
    bench = local_bench
    bench.clock.set(at(24, 16, 0))

    async def calls(session: Any) -> None:
        session.add(
            CallRecord(
                sid="CA" + "a" * 32,
                business=bench.business.slug,
                from_number="+15035550161",
                to_number=bench.business.main_number,
                status="completed",
                outcome="message",
                message_for_owner="Water heater leaking in the garage, please call back",
                details={"name": "Rosa Diaz", "problem": "water heater leaking"},
                transcript=[
                    {"role": "agent", "text": "Thanks for calling Mike's Plumbing."},
                    {"role": "caller", "text": "Hi, my water heater is leaking in the garage."},
                ],
                started_at=at(24, 15, 9),
                ended_at=at(24, 15, 12),
            )
        )
        session.add(
            CallRecord(
                sid="CA" + "b" * 32,
                business=bench.business.slug,
                from_number="+15035550162",
                to_number=bench.business.main_number,
                status="completed",
                outcome="booked",
                details={"name": "Otto Klein", "problem": "clogged toilet"},
                started_at=at(24, 14, 0),
                ended_at=at(24, 14, 4),
            )
        )

    await bench.db(calls)
    await texts(bench, OWNER, "what did the caller at 3:10 want")
    (reply,) = bodies(bench, OWNER)
    assert "Rosa Diaz" in reply and "water heater" in reply.lower(), reply
    assert "Otto Klein" not in reply


async def test_anything_new_since_this_morning_lists_new_bookings_and_messages(local_bench: Bench) -> None:
    bench = local_bench
    bench.clock.set(at(20, 9, 0))
    await book(bench, at(26, 9), "Ann Lee", ANN, "12 Oak Street")  # booked last Friday: not news
    bench.clock.set(at(24, 8, 30))
    await book(bench, at(27, 10), "Rita Gomez", "+15035550183", "8 Fern Street", source="sms")

    async def message(session: Any) -> None:
        session.add(
            CallRecord(
                sid="CA" + "c" * 32,
                business=bench.business.slug,
                from_number="+15035550163",
                to_number=bench.business.main_number,
                status="completed",
                outcome="message",
                message_for_owner="Billing question about last week's invoice",
                details={"name": "Hugo Park"},
                started_at=at(24, 9, 5),
                ended_at=at(24, 9, 8),
            )
        )

    await bench.db(message)
    bench.clock.set(at(24, 10, 0))
    await texts(bench, OWNER, "anything new since this morning?")
    (reply,) = bodies(bench, OWNER)
    assert "Rita Gomez" in reply and "Hugo Park" in reply, reply
    assert "Ann Lee" not in reply


# -- changing -------------------------------------------------------------------------------------------


async def test_the_owner_moves_the_2pm_to_friday_morning_and_the_customer_is_texted_once(local_bench: Bench) -> None:
    bench = local_bench
    uid = await book(bench, at(26, 14), "Bob Ray", BOB, "5 Elm Street", team_member="Mike")
    await texts(bench, OWNER, "move the 2pm on thursday to friday morning")
    offer = bodies(bench, OWNER)[-1]
    assert "8" in offer and "Friday" in offer, offer
    await texts(bench, OWNER, "8am", "yes")
    await bench.drain()
    (moved,) = await active_for(bench, BOB)
    assert moved.start_at.astimezone(LOCAL) == at(27, 8)
    calendar = bench.runtime.calendars[bench.business.slug]
    seen = await bench.db(lambda _s: calendar.get_booking(moved.uid))
    assert seen.start.astimezone(LOCAL) == at(27, 8) and seen.is_active
    if moved.uid != uid:
        assert (await booking(bench, uid)).status != "accepted"
    (text,) = bodies(bench, BOB)  # exactly once
    assert "Fri" in text and "8" in text, text
    assert "Done" in bodies(bench, OWNER)[-1]


async def test_the_owner_cancels_the_9am_and_tells_her_once(local_bench: Bench) -> None:
    bench = local_bench
    ids = await a_thursday(bench)
    await texts(bench, OWNER, "cancel the 9am on thursday and tell her")
    assert "Ann Lee" in bodies(bench, OWNER)[-1]
    assert bodies(bench, ANN) == []  # nothing before the yes
    await texts(bench, OWNER, "yes")
    await bench.drain()
    assert (await booking(bench, ids["ann"])).status == "cancelled"
    assert (await booking(bench, ids["bob"])).status == "accepted"
    (text,) = bodies(bench, ANN)
    assert "cancel" in text.lower(), text
    assert bodies(bench, BOB) == []


async def test_no_to_the_read_back_changes_nothing_and_texts_no_one(local_bench: Bench) -> None:
    bench = local_bench
    ids = await a_thursday(bench)
    await texts(bench, OWNER, "cancel thursday's 9am", "no")
    await bench.drain()
    assert (await booking(bench, ids["ann"])).status == "accepted"
    assert bodies(bench, ANN) == []


async def test_running_late_texts_the_customer_the_new_expected_time(local_bench: Bench) -> None:
    bench = local_bench
    await book(bench, at(24, 14), "Kim Park", KIM, "22 Birch Avenue", team_member="Mike")
    await book(bench, at(24, 16), "Gus Hill", "+15035550181", "40 Willow Way", team_member="Mike")
    bench.clock.set(at(24, 13, 30))
    await texts(bench, OWNER, "running 20 late to the 2pm")
    assert bodies(bench, KIM) == []  # read back first
    await texts(bench, OWNER, "yes")
    await bench.drain()
    (text,) = bodies(bench, KIM)
    assert "2:20" in text, text
    assert bodies(bench, "+15035550181") == []
    (still,) = await active_for(bench, KIM)
    assert still.start_at.astimezone(LOCAL) == at(24, 14)  # a late arrival moves nothing


async def test_time_off_then_a_customer_texting_to_book_is_not_offered_it(local_bench: Bench) -> None:
    bench = local_bench
    calendar = bench.runtime.calendars[bench.business.slug]

    async def friday_afternoon(_session: Any) -> list[Any]:
        return await calendar.find_slots("service-call", at(27, 12), at(27, 17))

    assert await bench.db(friday_afternoon), "Friday afternoon is open before the owner takes it off"
    await texts(bench, OWNER, "I'm off Friday afternoon")
    assert await bench.db(friday_afternoon), "nothing is blocked before the yes"
    await texts(bench, OWNER, "yes")
    assert await bench.db(friday_afternoon) == []

    texter = "+15035550177"
    await texts(
        bench,
        texter,
        "Hi, my kitchen faucet is leaking, can someone come Friday afternoon?",
        "Olga Petrov",
        "12 Ocean Ave, Portland",
    )
    offered = " ".join(bodies(bench, texter))
    # What is said about Friday, up to the next day named or the end of the sentence: no afternoon time in it.
    friday = re.findall(r"Fri(?:day)?((?:(?!Sat|Sun|Mon|Tue|Wed|Thu)[^.?])*)", offered)
    assert friday, offered
    for said in friday:
        assert not re.search(r"\bnoon\b|\b(12|1|2|3|4)(:\d\d)?\s*PM\b", said, re.IGNORECASE), offered


async def test_reopening_time_off_makes_it_bookable_again(local_bench: Bench) -> None:
    bench = local_bench
    calendar = bench.runtime.calendars[bench.business.slug]

    async def friday_afternoon(_session: Any) -> list[Any]:
        return await calendar.find_slots("service-call", at(27, 12), at(27, 17))

    await texts(bench, OWNER, "off fri afternoon", "yes")
    assert await bench.db(friday_afternoon) == []
    await texts(bench, OWNER, "reopen friday afternoon", "yes")
    assert await bench.db(friday_afternoon)


# -- who may ask ----------------------------------------------------------------------------------------


async def test_a_stranger_asking_for_the_schedule_is_refused_and_the_owner_told(local_bench: Bench) -> None:
    bench = local_bench
    await book(bench, at(24, 13), "Victor Hale", "+15035550177", "9 Secret Lane", team_member="Mike")
    await texts(bench, STRANGER, "what's on the schedule today")
    replies = " ".join(bodies(bench, STRANGER))
    assert replies.strip(), "a plain refusal, not silence"
    for secret in ("Victor", "Secret Lane", "1 PM", "1:00"):
        assert secret not in replies
    assert re.search(r"can'?t|cannot|only|not able", replies, re.IGNORECASE), replies
    told = bodies(bench, OWNER)
    assert len(told) == 1 and "0122" in told[0], told


async def test_a_customer_texting_cancel_the_9am_gets_nothing_of_anyone_elses(local_bench: Bench) -> None:
    bench = local_bench
    ids = await a_thursday(bench)
    mine = await book(bench, at(27, 15), "Pat Jones", PAT, "1 Main Street", team_member="Mike")
    await texts(bench, PAT, "cancel the 9am on thursday")
    replies = " ".join(bodies(bench, PAT))
    for secret in ("Ann Lee", "Oak Street", ANN, "running toilet"):
        assert secret not in replies
    await texts(bench, PAT, "no")
    await bench.drain()
    assert (await booking(bench, ids["ann"])).status == "accepted"
    assert (await booking(bench, mine)).status == "accepted"
    assert bodies(bench, ANN) == []


async def test_a_team_member_sees_only_her_jobs_and_cannot_cancel_mikes(local_bench: Bench) -> None:
    bench = local_bench
    ids = await a_thursday(bench)
    await texts(bench, DANA, "what's on thursday")
    (day,) = bodies(bench, DANA)
    assert "Bob Ray" in day
    assert "Ann Lee" not in day and "Lou Vance" not in day
    await texts(bench, DANA, "cancel the 9am thursday", "yes")
    await bench.drain()
    assert (await booking(bench, ids["ann"])).status == "accepted"
    assert bodies(bench, ANN) == []
    assert not any("Ann Lee" in body or "Oak Street" in body for body in bodies(bench, DANA))


async def test_a_team_member_running_late_texts_her_own_customer(local_bench: Bench) -> None:
    bench = local_bench
    await book(bench, at(24, 14), "Kim Park", KIM, "22 Birch Avenue", team_member="Dana")
    bench.clock.set(at(24, 13, 40))
    await texts(bench, DANA, "running 10 min late to the 2pm", "yes")
    await bench.drain()
    sent = bodies(bench, KIM)
    assert len(sent) == 1, f"to the customer: {sent}; to Dana: {bodies(bench, DANA)}"
    assert "2:10" in sent[0] and "Dana" in sent[0], sent


# -- by phone: the PIN ----------------------------------------------------------------------------------


def _businesses_with_pin(tmp_path: Path) -> Path:
    """The demo business with `owner_pin_env` set, as an operator's businesses.toml would have it."""
    demo = (Path(__file__).resolve().parents[2] / "silentpartner" / "demo_business.toml").read_text()
    path = tmp_path / "businesses.toml"
    path.write_text(
        demo.replace('owner_mobile = "+15035550199"\n', 'owner_mobile = "+15035550199"\nowner_pin_env = "OWNER_PIN"\n')
    )
    return path


async def _phone_call(tmp_path: Path, lines: list[str], *, bookings: list[tuple[datetime, str, str]]) -> list[dict]:
    """The owner calling (simulate, no --text: the phone conversation) with today's bookings on the calendar."""
    from silentpartner.business import load_businesses
    from silentpartner.calendar.local import LocalCalendar
    from silentpartner.clock import FixedClock
    from silentpartner.settings import load_settings
    from silentpartner.store import migrate
    from silentpartner.store.db import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'pin.db'}"
    business = load_businesses(load_settings()).get(None)
    db = Database(url)
    await migrate.upgrade(db)
    calendar = LocalCalendar(business, db, FixedClock(at(1, 9)))
    for start, name, phone in bookings:
        await calendar.book(BookingRequest(service="service-call", start=start, name=name, phone=phone, source="cli"))
    await calendar.close()
    await db.close()
    out = io.StringIO()
    options = SimulateOptions(business=None, caller=OWNER, now="2026-11-24T10:00", db=url, jsonl=True)
    assert await run_simulation(options, stdin=io.StringIO("".join(f"{line}\n" for line in lines)), stdout=out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def owner_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESSES_FILE", str(_businesses_with_pin(tmp_path)))
    monkeypatch.setenv("OWNER_PIN", "4321")


@pytest.mark.usefixtures("owner_pin")
async def test_by_phone_the_pin_comes_first_then_todays_jobs(tmp_path: Path) -> None:
    turns = await _phone_call(tmp_path, ["#dtmf 4321#", "bye"], bookings=[(at(24, 13), "Victor Hale", "+15035550177")])
    first = turns[0].get("say", "")
    assert "PIN" in first and "Victor" not in first
    after_pin = turns[1].get("say", "")
    assert "Victor Hale" in after_pin, turns


@pytest.mark.usefixtures("owner_pin")
async def test_by_phone_a_wrong_pin_twice_ends_the_call_and_texts_the_owner(tmp_path: Path) -> None:
    turns = await _phone_call(
        tmp_path, ["#dtmf 1111#", "#dtmf 2222#"], bookings=[(at(24, 13), "Victor Hale", "+15035550177")]
    )
    said = " ".join(turn.get("say", "") for turn in turns)
    assert "Victor" not in said
    assert any(turn.get("hung_up") for turn in turns), turns
    texted = [t for turn in turns for t in turn.get("texts", [])]
    assert [t["to"] for t in texted] == [OWNER], texted
    assert turns[-1]["outcome"]["action"] == "none"


@pytest.mark.usefixtures("owner_pin")
async def test_by_phone_with_the_pin_the_owner_can_cancel(tmp_path: Path) -> None:
    turns = await _phone_call(
        tmp_path,
        ["#dtmf 4321#", "cancel the 1pm", "yes", "bye"],
        bookings=[(at(24, 13), "Victor Hale", "+15035550177")],
    )
    outcome = turns[-1]["outcome"]
    assert outcome["action"] == "cancelled" and outcome["booking"]["name"] == "Victor Hale", turns
    texted = [t["to"] for turn in turns for t in turn.get("texts", [])]
    assert texted.count("+15035550177") == 1, texted
