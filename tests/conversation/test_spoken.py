"""Spoken numbers, names, spelled words, yes/no, addresses and emails, as speech recognition writes them."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silentpartner.conversation.spoken import (
    digits_from_speech,
    extract_address,
    extract_email,
    extract_name,
    is_no,
    is_yes,
    parse_phone_number,
    spelled_word,
)


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("five oh three", "503"),
        ("five o three", "503"),
        ("zero nine", "09"),
        ("double five", "55"),
        ("triple seven", "777"),
        ("503 555 1234", "5035551234"),
        ("five five five, one two three four", "5551234"),
        ("twelve thirty four", "1234"),
        ("forty four ten", "4410"),
        ("one eight hundred five five five", "1800555"),
        ("two hundred five", "205"),
        ("my code is 4, 2 and seven", "427"),
        ("no numbers here", ""),
        ("O'Brien", ""),
        ("oh, it's 503 555 1234", "5035551234"),
        ("oh oh seven", "007"),
    ],
)
def test_digits_from_speech(said: str, digits: str) -> None:
    assert digits_from_speech(said) == digits


@pytest.mark.parametrize(
    ("said", "e164"),
    [
        ("five oh three five five five one two three four", "+15035551234"),
        ("(503) 555-1234", "+15035551234"),
        ("503.555.1234", "+15035551234"),
        ("+1 503 555 1234", "+15035551234"),
        ("one five oh three five five five one two three four", "+15035551234"),
        ("plus one five oh three five five five one two three four", "+15035551234"),
        ("five oh three, five five five, twelve thirty four", "+15035551234"),
        ("my number is 503 double five five, 1 2 3 4", "+15035551234"),
        ("call me at five oh three triple five one two three four", "+15035551234"),
        ("five o three five five five o one two three", "+15035550123"),
        ("one eight hundred five five five one two one two", "+18005551212"),
        ("+44 20 7946 0958", "+442079460958"),
        ("it's 503 555 1234 and I'm at 12 Main Street", "+15035551234"),
        ("area code 503, then 555 1234", "+15035551234"),
        ("my number is five oh three five five five one two three four thanks", "+15035551234"),
    ],
)
def test_parse_phone_number(said: str, e164: str) -> None:
    assert parse_phone_number(said) == e164


@pytest.mark.parametrize(
    "said",
    [
        "five five five one two three four",
        "12345",
        "yes",
        "",
        "one one one, one one one, one one one one",
        "five oh three five five five one two three four five six",
    ],
)
def test_parse_phone_number_rejects_what_is_not_a_number(said: str) -> None:
    assert parse_phone_number(said) is None


def test_parse_phone_number_in_another_region() -> None:
    assert parse_phone_number("oh two oh, seven nine four six, oh nine five eight", region="GB") == "+442079460958"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("my name is John Smith", "John Smith"),
        ("My name's john smith.", "John Smith"),
        ("this is Maria", "Maria"),
        ("Hi, this is maria from next door", "Maria"),
        ("it's Bob Jones", "Bob Jones"),
        ("it's Bob Jones and I've got a leak", "Bob Jones"),
        ("I'm Dave and my toilet is clogged", "Dave"),
        ("John Smith", "John Smith"),
        ("um, john smith", "John Smith"),
        ("yeah, it's Maria", "Maria"),
        ("sarah connor speaking", "Sarah Connor"),
        ("call me Al", "Al"),
        ("my name is Maria Garcia-Lopez", "Maria Garcia-Lopez"),
        ("my name is john o'brien", "John O'Brien"),
        ("J O H N", "John"),
        ("j-o-h-n", "John"),
        ("j-o-h-n s-m-i-t-h", "John Smith"),
        ("my last name is Nguyen, N G U Y E N", "Nguyen"),
        ("Mark", "Mark"),
        ("It's Bill", "Bill"),
        ("This is John Smith calling about a leak", "John Smith"),
        ("Smith. S M I T H.", "Smith"),
    ],
)
def test_extract_name(said: str, name: str) -> None:
    assert extract_name(said) == name


@pytest.mark.parametrize(
    "said",
    [
        "yes",
        "yeah",
        "no",
        "okay",
        "thanks",
        "uh huh",
        "my sink is leaking",
        "I need a plumber",
        "I'm calling about a leak",
        "I want to book",
        "the toilet",
        "it's me",
        "I'm ready",
        "I'm at home",
        "garbage disposal",
        "it's urgent",
        "",
    ],
)
def test_extract_name_rejects_non_names(said: str) -> None:
    assert extract_name(said) is None


@pytest.mark.parametrize(
    ("said", "word"),
    [
        ("S M I T H", "Smith"),
        ("s-m-i-t-h", "Smith"),
        ("S. M. I. T. H.", "Smith"),
        ("s, m, i, t, h", "Smith"),
        ("it's spelled N G U Y E N", "Nguyen"),
        ("b as in boy o b", "Bob"),
        ("h a double n a h", "Hannah"),
        ("J-O-H-N S-M-I-T-H", "John Smith"),
    ],
)
def test_spelled_word(said: str, word: str) -> None:
    assert spelled_word(said) == word


@pytest.mark.parametrize("said", ["Smith", "yes", "a", "I am here", ""])
def test_spelled_word_needs_spelled_letters(said: str) -> None:
    assert spelled_word(said) is None


YES = [
    "yes",
    "yeah that works",
    "sounds good",
    "correct",
    "yep",
    "yes please",
    "sure",
    "sure thing",
    "ok",
    "okay that's fine",
    "all right",
    "perfect",
    "absolutely",
    "go ahead and book it",
    "that works for me",
    "uh huh",
    "mm hmm",
    "that is correct",
    "yep that's it",
    "no problem",
    "sure, no worries",
    "not a problem",
    "no worries, that works",
    "I don't mind",
]
NO = [
    "no",
    "No.",
    "nope",
    "nah",
    "no thanks",
    "not really",
    "that's wrong",
    "no, that's not right",
    "incorrect",
    "that is not correct",
    "that won't work",
    "that doesn't work for me",
    "I don't think so",
    "the number is wrong",
    "not that one",
    "yeah, no",
]
NEITHER = ["hmm", "maybe", "I'm not sure", "I don't know", "what?", "can you repeat that", "can you please repeat that"]
NEITHER += ["i dunno", ""]


@pytest.mark.parametrize("said", YES)
def test_is_yes(said: str) -> None:
    assert is_yes(said) and not is_no(said)


@pytest.mark.parametrize("said", NO)
def test_is_no(said: str) -> None:
    assert is_no(said) and not is_yes(said)


@pytest.mark.parametrize("said", NEITHER)
def test_neither_yes_nor_no(said: str) -> None:
    assert not is_yes(said) and not is_no(said)


@pytest.mark.parametrize(
    ("said", "address"),
    [
        ("123 Main Street", "123 Main Street"),
        ("it's 4410 SE Hawthorne Blvd apartment 2", "4410 SE Hawthorne Blvd Apartment 2"),
        ("one two three main street", "123 Main Street"),
        ("forty four ten northeast glisan street unit 3b", "4410 Northeast Glisan Street Unit 3B"),
        ("forty four ten north east glisan street", "4410 Northeast Glisan Street"),
        ("4410 Southeast Hawthorne Boulevard, Portland", "4410 Southeast Hawthorne Boulevard, Portland"),
        ("it's 12 Main St in Lake Oswego, and tomorrow works", "12 Main St, Lake Oswego"),
        ("9 Elm St, Gresham OR 97030", "9 Elm St, Gresham 97030"),
        ("12 Main Street in the basement", "12 Main Street"),
        ("my address is two hundred five elm st", "205 Elm St"),
        ("the address is 55 Oak Lane, Portland", "55 Oak Lane, Portland"),
        ("1600 Pennsylvania Avenue NW", "1600 Pennsylvania Avenue NW"),
        ("I live at 12 1st Ave", "12 1st Ave"),
        ("350 5th Avenue suite 3400", "350 5th Avenue Suite 3400"),
        ("4410 SE Hawthorne Blvd #2", "4410 SE Hawthorne Blvd #2"),
        ("21 Jump Street apt 4", "21 Jump Street Apt 4"),
    ],
)
def test_extract_address(said: str, address: str) -> None:
    assert extract_address(said) == address


@pytest.mark.parametrize("said", ["I need it at 2 tomorrow", "my sink is leaking", "apartment 5", "9 Elm", ""])
def test_extract_address_rejects_non_addresses(said: str) -> None:
    assert extract_address(said) is None


@pytest.mark.parametrize(
    ("said", "email"),
    [
        ("john at example dot com", "john@example.com"),
        ("JOHN@EXAMPLE.COM", "john@example.com"),
        ("my email is john dot smith at gmail dot com please", "john.smith@gmail.com"),
        ("j o h n at example dot com", "john@example.com"),
        ("mary underscore jones at yahoo dot co dot uk", "mary_jones@yahoo.co.uk"),
        ("bob 42 at hotmail dot com", "bob42@hotmail.com"),
        ("mike at my dash site dot com", "mike@my-site.com"),
        ("john at example.com", "john@example.com"),
        ("john.smith @ example dot com.", "john.smith@example.com"),
    ],
)
def test_extract_email(said: str, email: str) -> None:
    assert extract_email(said) == email


@pytest.mark.parametrize("said", ["I'll be there at 2", "at example dot com", "my email is not available", ""])
def test_extract_email_rejects_non_emails(said: str) -> None:
    assert extract_email(said) is None


# ---------------------------------------------------------------- properties

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=15), st.booleans())
def test_digits_said_one_by_one_come_back_in_order(digits: list[int], as_words: bool) -> None:
    said = " ".join(WORDS[d] if as_words else str(d) for d in digits)
    assert digits_from_speech(said) == "".join(map(str, digits))


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[2-9][0-8][0-9][2-9][0-9]{6}", fullmatch=True), st.sampled_from([" ", ", ", " - ", ". "]))
def test_a_valid_us_number_said_as_words_parses_to_its_e164(number: str, separator: str) -> None:
    expected = phonenumbers.format_number(phonenumbers.parse(number, "US"), phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(phonenumbers.parse(number, "US"))
    words = [("oh" if ch == "0" else WORDS[int(ch)]) for ch in number]
    said = separator.join([" ".join(words[:3]), " ".join(words[3:6]), " ".join(words[6:])])
    assert parse_phone_number(said) == (expected if valid else None)
