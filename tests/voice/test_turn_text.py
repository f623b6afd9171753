"""What the words of a turn so far say about its end. The texts are Whisper tiny.en's transcripts of the
synthesized caller at pauses (mid-sentence and at the end), plus answers a receptionist hears all day."""

from __future__ import annotations

import pytest

from silentpartner.voice.turn_text import digits_said, read_turn, words_of

UNFINISHED = [
    ("Hi. Yeah. I'm calling because.", "open"),
    ("So the thing is...", "open"),
    ("I need...", "open"),
    ("I need a plumber to look at my.", "open"),
    ("I was hoping.", "open"),
    ("My name is.", "open"),
    ("Yeah, so", "open"),
    ("I'd like to book. Like.", "open"),
    ("The toilet is clogged and", "open"),
    ("Can someone come out to", "open"),
    ("It's at 42 Oak Street, um", "open"),
    ("We've had this problem for, you know", "open"),
    ("I think it's the,", "open"),
    ("My number is 503.", "open"),
    ("Please call me back at 503-555.", "open"),
    ("503 555", "phone"),
    ("five oh three five five five", "phone"),
    ("It's 1234", "address"),
    ("Yes, but", "yes_no"),
]
UNSURE = [
    ("Bye.", "open"),  # what tiny.en made of a lone "Hi," at a pause
    ("Hi, yeah.", "open"),
    ("Hello?", "open"),
    ("Yeah.", "open"),
    ("Okay.", "open"),
    ("Hi. Yeah. I'm calling because. My water heater.", "open"),
    ("So the thing is, the kitchen sink.", "open"),
    ("My toilet upstairs.", "open"),
    ("Yeah, so the pipe under the house", "open"),
    ("Jordan.", "name"),
]
FINISHED = [
    ("Yes.", "open"),
    ("No.", "open"),
    ("Yes, please.", "open"),
    ("Yeah.", "yes_no"),
    ("Okay.", "yes_no"),
    ("Yes, it is.", "yes_no"),
    ("I do.", "open"),
    ("I think so.", "yes_no"),
    ("John Smith.", "name"),
    ("John Smith.", "open"),
    ("1234 Oak Street.", "address"),
    ("Tomorrow at two, please.", "time"),
    ("The afternoon.", "choice"),  # a noun phrase is a whole answer to a choice
    ("No, that's all.", "open"),
    ("My kitchen faucet is leaking.", "open"),
    ("So the thing is, the kitchen sink, it's been draining really slowly.", "open"),
    ("Hi. Yeah. I'm calling because. Um, my water heater. It's making a banging noise.", "open"),
    ("My number is 503-555-0199.", "open"),
    ("503-555-0199", "phone"),
    ("five oh three five five five zero one nine nine", "phone"),
    ("Can you come on Monday at ten in the morning?", "open"),
    ("Thank you, goodbye.", "open"),
]


@pytest.mark.parametrize(("text", "expect"), UNFINISHED)
def test_unfinished(text: str, expect: str) -> None:
    assert read_turn(text, expect).verdict == "unfinished"  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expect"), UNSURE)
def test_unsure(text: str, expect: str) -> None:
    assert read_turn(text, expect).verdict == "unsure"  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expect"), FINISHED)
def test_finished(text: str, expect: str) -> None:
    assert read_turn(text, expect).verdict == "finished"  # type: ignore[arg-type]


def test_the_reason_names_what_was_unfinished() -> None:
    assert read_turn("I'm calling because.").reason == "clause ends on 'because'"
    assert read_turn("I'm calling about, um").reason == "filler 'um'"
    assert read_turn("503 555", "phone").reason == "part of a phone number (6 digits)"
    assert read_turn("So the thing is...").reason == "trailing pause mark"


def test_digits_said() -> None:
    assert digits_said(words_of("five oh three, double five five, 0199")) == 10
    assert digits_said(words_of("oh, and my number is triple five")) == 3  # the first "oh" is not a zero
    assert digits_said(words_of("503-555-0199")) == 10
    assert digits_said(words_of("tomorrow at two")) == 1


def test_no_words_is_not_finished() -> None:
    assert read_turn("").verdict == "unsure"
    assert read_turn("...").verdict == "unsure"
