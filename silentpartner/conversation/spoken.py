"""What a caller said, turned into data: phone numbers, digits, names, spelled words, yes/no, addresses, emails.

Everything here works on text from speech recognition or a text message, so numbers arrive as words
("five oh three"), as numerals ("503") or mixed, and letters arrive spelled out ("S M I T H", "s-m-i-t-h").
Pure functions, no I/O.
"""

from __future__ import annotations

import re

import phonenumbers

UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "nought": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
TENS["ninety"] = 90
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
REPEATS = {"double": 2, "triple": 3}

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _is_number_word(token: str) -> bool:
    return token in UNITS or token in TEENS or token in TENS or token in ("hundred", "thousand")


def _read_group(tokens: list[str], i: int) -> tuple[str, int]:
    """Read one spoken number starting at tokens[i] ("forty four", "eight hundred", "twelve"); return its digits.

    Single digit words are returned one at a time: in phone numbers and house numbers people say digits
    one by one, so "five five five" must stay "555", not be added up.
    """
    token = tokens[i]
    if token.isdigit():
        return token, i + 1
    if token in TENS:
        value = TENS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] in UNITS and UNITS[tokens[j]] > 0 and tokens[j] not in ("o", "oh"):
            value += UNITS[tokens[j]]
            j += 1
        return str(value), j
    if token in TEENS:
        value = TEENS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] == "hundred":
            # "twelve hundred" = 1200, "fifteen hundred" = 1500
            return str(value * 100), j + 1
        return str(value), j
    if token in UNITS:
        value = UNITS[token]
        j = i + 1
        if j < len(tokens) and tokens[j] in ("hundred", "thousand") and token not in ("o", "oh"):
            scale = 100 if tokens[j] == "hundred" else 1000
            value *= scale
            j += 1
            # "eight hundred fifty" = 850, "four thousand five hundred" = 4500
            if j < len(tokens) and scale == 1000 and tokens[j] in UNITS and j + 1 < len(tokens):
                if tokens[j + 1] == "hundred":
                    value += UNITS[tokens[j]] * 100
                    j += 2
            if j < len(tokens) and tokens[j] == "and":
                j += 1
            if j < len(tokens) and (tokens[j] in TENS or tokens[j] in TEENS):
                rest, j = _read_group(tokens, j)
                value += int(rest)
            elif j < len(tokens) and tokens[j] in UNITS and tokens[j] not in ("o", "oh", "zero"):
                # "two hundred five" is 205, but in "eight hundred five five five" the digits run on
                if not (j + 1 < len(tokens) and (tokens[j + 1] in UNITS or tokens[j + 1] in REPEATS)):
                    value += UNITS[tokens[j]]
                    j += 1
            return str(value), j
        return str(value), j
    return "", i + 1


def digits_from_speech(text: str) -> str:
    """All the digits said, in order: "five oh three, 555 double one two" -> "50355512"."""
    tokens = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in REPEATS and i + 1 < len(tokens) and (tokens[i + 1] in UNITS or tokens[i + 1].isdigit()):
            nxt = tokens[i + 1]
            digit = nxt if nxt.isdigit() else str(UNITS[nxt])
            out.append(digit * REPEATS[token])
            i += 2
            continue
        if token.isdigit() or _is_number_word(token):
            if token in ("o", "oh") and not _near_number(tokens, i):
                # a lone "o" is a letter and a lone "oh" a sigh, unless among digits ("five oh three")
                i += 1
                continue
            digits, i = _read_group(tokens, i)
            out.append(digits)
            continue
        i += 1
    return "".join(out)


def _near_number(tokens: list[str], i: int) -> bool:
    """Whether the "o"/"oh" at i sits in an unbroken run of number words that holds a real number."""

    def numeric(t: str) -> bool:
        return t.isdigit() or _is_number_word(t) or t in REPEATS

    def real(t: str) -> bool:
        return numeric(t) and t not in ("o", "oh")

    j = i
    while j > 0 and numeric(tokens[j - 1]):
        j -= 1
    k = i
    while k + 1 < len(tokens) and numeric(tokens[k + 1]):
        k += 1
    return any(real(t) for t in tokens[j : k + 1])


def parse_phone_number(text: str, region: str = "US") -> str | None:
    """A phone number said or typed, in E.164; None unless it is a valid number for the region.

    The whole utterance is tried first; failing that, each stretch of numbers between other words
    ("it's 503 555 1234 and I'm at 12 Main Street").
    """
    candidates = [text, *_number_stretches(text)]
    for candidate in candidates:
        number = _valid_e164(candidate, region)
        if number:
            return number
    return None


def _valid_e164(text: str, region: str) -> str | None:
    digits = digits_from_speech(text)
    if not 7 <= len(digits) <= 15:
        return None
    international = bool(re.search(r"\+|\bplus\b", text.lower()))
    try:
        parsed = phonenumbers.parse(f"+{digits}" if international else digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_STRETCH_TOKEN = re.compile(r"\+|[a-z]+|\d+")


def _number_stretches(text: str) -> list[str]:
    """Runs of number words and numerals, split wherever another word comes between them."""
    stretches: list[list[str]] = [[]]
    for token in _STRETCH_TOKEN.findall(text.lower()):
        if token.isdigit() or token == "+" or token == "plus" or token in REPEATS or _is_number_word(token):
            stretches[-1].append(token)
        elif stretches[-1]:
            stretches.append([])
    return [" ".join(stretch) for stretch in stretches if stretch]


# ---------------------------------------------------------------- yes / no

_YES_ONLY_NEGATIONS = re.compile(
    r"\b(no problem|no problems|no worries|no doubt|not a problem|why not|no prob|no issue|no issues"
    r"|(?:i )?(?:don't|do not|wouldn't|would not) mind|don't worry)\b"
)
_NO = re.compile(
    r"^(no|nope|nah|naw|negative)\b"
    r"|\b(no|nope|nah)$"
    r"|\bno (thanks|thank you|way|sir|ma'am)\b"
    r"|\bnot (really|quite|right|correct|that|at all|now|today|good)\b"
    r"|\b(that's|that is|thats|it's|its) (wrong|not)\b"
    r"|\b(wrong|incorrect)\b"
    r"|\b(doesn't|does not|won't|will not|wouldn't|would not|don't|do not|can't|cannot|can not) (work|do|suit|fit)\b"
    r"|\bi don't think so\b|\bi'd rather not\b|\bplease don't\b|\bdon't\b"
)
_YES = re.compile(
    r"\b(yes|yeah|yea|yep|yup|ya|yah|sure|correct|right|exactly|absolutely|definitely|certainly|perfect|great"
    r"|ok|okay|alright|affirmative|fine|good|works|book it|go ahead|please do|do it|of course"
    r"|uh huh|mm hmm|mhm|sounds good|sounds great|that's it|you got it|you bet|yes please|lovely|indeed|true)\b"
)
_NOT_SURE = re.compile(r"\bnot (sure|certain)\b|\b(?:i )?(?:don't|do not|dunno) know\b|\bdunno\b|\bmaybe\b")


def _plain(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def is_no(text: str) -> bool:
    """ "no", "nope", "not really", "that's wrong", "that doesn't work" (but not "no problem")."""
    plain = _plain(text)
    if not plain:
        return False
    cleaned = _YES_ONLY_NEGATIONS.sub(" ", plain).strip()
    if not cleaned or _NOT_SURE.search(cleaned):
        return False
    return bool(_NO.search(cleaned))


def is_yes(text: str) -> bool:
    """ "yeah that works", "sounds good", "correct", "yep", "sure, no worries"."""
    plain = _plain(text)
    if not plain or is_no(text) or _NOT_SURE.search(plain):
        return False
    if _YES_ONLY_NEGATIONS.search(plain):
        return True
    return bool(_YES.search(plain))


# ---------------------------------------------------------------- names

# Words that show the answer is not a name (so "my sink is leaking" or "yes" is never taken as one).
_NOT_NAME_WORDS = frozenset(
    """
    a an the and or but if so to of in on at by for from with about as into over under up down out off
    i me my mine we us our you your he him his she her it its they them their this that these those there here
    is am are was were be been being do does did have has had will would can could should may might must
    not no yes yeah yep yup nope sure okay ok right correct wrong hi hello hey thanks thank please sorry
    well um uh huh hmm mm mhm hm er ah oh nah nope
    like just really very good great fine bad what when where why how who which
    calling call called need needs want wants looking look trying try help leak leaking leaks broken break
    sink toilet pipe pipes water heater drain clogged clog faucet shower tub bath kitchen basement flood
    flooding burst gas smell sewer sewage plumber plumbing appointment book booking schedule cancel
    reschedule today tomorrow morning afternoon evening tonight monday tuesday wednesday thursday friday
    saturday sunday week weekend time number phone address street email name last first
    emergency urgent problem issue question quote price cost estimate service repair install
    calls got get going go come coming something nothing anything everything someone somebody
    one two three four five six seven eight nine ten owner person human manager customer
    spell spelled spelling letter letters mister mrs ms miss mr dr doctor sir madam
    ready home back done busy new happy interested wondering hoping available free outside inside away late
    early worried afraid glad fixed stuck cold hot warm running dripping noise noisy loud wet dry full empty
    disposal garbage furnace boiler radiator valve meter sprinkler hose roof gutter tile outlet breaker panel
    wiring electrical heating cooling ac hvac thermostat dishwasher washer dryer fridge sump pump septic main
    line backup backed blocked overflowing overflow smells smelly house apartment building office store shop
    job work working works quick quickly asap soon later now then also too again still yet
    """.split()
)
_NAME_INTRO = re.compile(
    r"\b(?:my name is|my name's|name is|name's|names|my first name is|my last name is|the name is"
    r"|this is|it's|it is|i'm|i am|call me|you can call me|they call me|speaking with|you're speaking with)\s+(.+)",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:(?:um+|uh+|er+|so|well|yeah|yes|yep|sure|okay|ok|oh|hi|hello|hey|right)\b[\s,.!-]*)+", re.IGNORECASE
)
_NAME_TOKEN = re.compile(r"^[A-Za-z][A-Za-z'\-]*$")
_NAME_STOP = frozenset({"and", "from", "calling", "i", "with", "at", "my", "here", "speaking", "but", "who"})


def _title(word: str) -> str:
    """ "garcia-lopez" -> "Garcia-Lopez", "o'brien" -> "O'Brien"."""
    parts = []
    for part in word.split("-"):
        head, apostrophe, tail = part.partition("'")
        if apostrophe and len(head) == 1 and tail:
            parts.append(f"{head.upper()}'{tail[:1].upper()}{tail[1:].lower()}")
        else:
            parts.append(part[:1].upper() + part[1:].lower())
    return "-".join(parts)


def _name_from_words(words: list[str]) -> str | None:
    taken: list[str] = []
    for word in words:
        if word.lower() in _NAME_STOP:
            break
        taken.append(word)
    if not taken or len(taken) > 3:
        return None
    for word in taken:
        if not _NAME_TOKEN.match(word) or word.lower() in _NOT_NAME_WORDS:
            return None
        if len(word.replace("'", "").replace("-", "")) < 2:
            return None
    return " ".join(_title(w) for w in taken)


def extract_name(text: str) -> str | None:
    """A caller's name: "my name is John Smith", "this is Maria", "J O H N", or just "John Smith"."""
    text = text.strip().replace("’", "'")
    if not text:
        return None
    spelled = spelled_word(text)
    if spelled:
        return spelled
    intro = _NAME_INTRO.search(text)
    if intro:
        rest = intro.group(1)
        # A spelling after the name ("John, J O H N") confirms it; the name itself comes first.
        first_clause = re.split(r"[,.;!?]", rest, maxsplit=1)[0]
        words = first_clause.split()
        name = _name_from_words(words)
        if name:
            return name
        spelled_rest = spelled_word(rest)
        if spelled_rest:
            return spelled_rest
        return None
    # "John Smith." alone, or "John Smith, J O H N", after any "um," or "yeah,"
    text = _LEADING_FILLER.sub("", text)
    first_clause = re.split(r"[,.;!?]", text, maxsplit=1)[0].strip()
    words = first_clause.split()
    if words and words[-1].lower() in ("here", "speaking"):
        words = words[:-1]
    if len(words) == len(first_clause.split()) and any(w.lower() in _NAME_STOP for w in words):
        return None
    return _name_from_words(words)


_LETTER_RUN = re.compile(r"^(?:[A-Za-z](?:\s*[-.,\s]\s*|$)){2,}$")
_AS_IN = re.compile(r"\b([a-z])\s+(?:as in|like)\s+[a-z]+\b", re.IGNORECASE)
_DOUBLE_LETTER = re.compile(r"\b(double|triple)\s+([a-z])\b", re.IGNORECASE)
_SPELL_PREFIX = re.compile(
    r"^(?:(?:it's|it is|that's|that is|its)\s+)?(?:spelled|spelt|spelling is|spelled as|spelt as)?\s*[:,]?\s*",
    re.IGNORECASE,
)


def spelled_word(text: str) -> str | None:
    """Letters spelled out, "S M I T H", "s-m-i-t-h", "S. M. I. T. H.", "double L" -> a title-case word."""
    candidate = _SPELL_PREFIX.sub("", text.strip().replace("’", "'")).strip().rstrip(".!?").strip()
    candidate = _AS_IN.sub(lambda m: m.group(1), candidate)
    candidate = _DOUBLE_LETTER.sub(lambda m: " ".join(m.group(2) * REPEATS[m.group(1).lower()]), candidate)
    if not _LETTER_RUN.match(candidate):
        return None
    # "J-O-H-N S-M-I-T-H": hyphens join the letters of a word, spaces part the words
    groups = re.findall(r"[A-Za-z](?:-[A-Za-z])+", candidate)
    if len(groups) > 1 and re.fullmatch(r"[A-Za-z](?:-[A-Za-z])+(?:\s+[A-Za-z](?:-[A-Za-z])+)+", candidate):
        return " ".join(_title(group.replace("-", "")) for group in groups)
    letters = "".join(ch for ch in candidate if ch.isalpha())
    if len(letters) < 2:
        return None
    return letters[0].upper() + letters[1:].lower()


# ---------------------------------------------------------------- addresses

STREET_TYPES = {
    "street": "Street",
    "st": "St",
    "avenue": "Avenue",
    "ave": "Ave",
    "road": "Road",
    "rd": "Rd",
    "boulevard": "Boulevard",
    "blvd": "Blvd",
    "lane": "Lane",
    "ln": "Ln",
    "drive": "Drive",
    "dr": "Dr",
    "court": "Court",
    "ct": "Ct",
    "way": "Way",
    "place": "Place",
    "pl": "Pl",
    "terrace": "Terrace",
    "parkway": "Parkway",
    "pkwy": "Pkwy",
    "highway": "Highway",
    "hwy": "Hwy",
    "circle": "Circle",
    "cir": "Cir",
    "loop": "Loop",
    "trail": "Trail",
    "square": "Square",
    "alley": "Alley",
    "crescent": "Crescent",
    "row": "Row",
    "path": "Path",
    "pike": "Pike",
}
_DIRECTIONS = {
    "n": "N",
    "s": "S",
    "e": "E",
    "w": "W",
    "ne": "NE",
    "nw": "NW",
    "se": "SE",
    "sw": "SW",
    "north": "North",
    "south": "South",
    "east": "East",
    "west": "West",
    "northeast": "NE",
    "northwest": "NW",
    "southeast": "SE",
    "southwest": "SW",
}
_UNIT_WORDS = {"apartment": "Apartment", "apt": "Apt", "unit": "Unit", "suite": "Suite", "ste": "Suite", "#": "#"}
_ADDRESS_TOKEN = re.compile(r"#|[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:st|nd|rd|th)\b|\d+[A-Za-z]?")


def _number_run(tokens: list[str], i: int) -> tuple[str, int]:
    """Digits said at tokens[i:], as numerals or words ("4410", "one two three", "forty four ten")."""
    spoken: list[str] = []
    j = i
    while j < len(tokens):
        low = tokens[j].lower()
        if low.isdigit() or (_is_number_word(low) and low != "o") or (low == "o" and spoken):
            spoken.append(low)
            j += 1
        elif low in REPEATS and j + 1 < len(tokens) and tokens[j + 1].lower() in UNITS:
            spoken.append(low)
            j += 1
        else:
            break
    return digits_from_speech(" ".join(spoken)), j


def extract_address(text: str) -> str | None:
    """A street address: "123 Main Street", "4410 SE Hawthorne Blvd apartment 2", "one two three main street"."""
    tokens = _ADDRESS_TOKEN.findall(text.replace("’", "'"))
    for start in range(len(tokens)):
        low = tokens[start].lower()
        if not (low.isdigit() or (_is_number_word(low) and low not in ("o", "oh"))):
            continue
        house, j = _number_run(tokens, start)
        if not house or len(house) > 6:
            continue
        parts: list[str] = [house]
        if j + 1 < len(tokens) and f"{tokens[j]}{tokens[j + 1]}".lower() in _DIRECTIONS and len(tokens[j]) > 1:
            # "north east" said as two words
            parts.append(_DIRECTIONS[f"{tokens[j]}{tokens[j + 1]}".lower()])
            j += 2
        elif j < len(tokens) and tokens[j].lower() in _DIRECTIONS:
            parts.append(_DIRECTIONS[tokens[j].lower()])
            j += 1
        name_words: list[str] = []
        street_type: str | None = None
        while j < len(tokens) and len(name_words) <= 4:
            word = tokens[j]
            low = word.lower()
            if low in STREET_TYPES and name_words:
                street_type = STREET_TYPES[low]
                j += 1
                break
            if not (word.isalpha() or re.fullmatch(r"\d+(st|nd|rd|th)", low)) or low in _NOT_ADDRESS_WORDS:
                break
            name_words.append(word)
            j += 1
        if not name_words:
            continue
        has_direction = len(parts) > 1
        if street_type is None and not has_direction:
            continue
        parts.extend(w.lower() if re.fullmatch(r"\d+(st|nd|rd|th)", w.lower()) else _title(w) for w in name_words)
        if street_type:
            parts.append(street_type)
        if j < len(tokens) and tokens[j].lower() in _DIRECTIONS and len(tokens[j]) <= 2:
            parts.append(_DIRECTIONS[tokens[j].lower()])
            j += 1
        if j < len(tokens) and tokens[j].lower() in _UNIT_WORDS:
            unit_word = _UNIT_WORDS[tokens[j].lower()]
            j += 1
            if j < len(tokens) and tokens[j].lower() in ("number", "no"):
                j += 1
            if j < len(tokens):
                unit_digits, k = _number_run(tokens, j)
                if unit_digits:
                    # a letter after the number ("apartment 2 b") belongs to the unit
                    if k < len(tokens) and len(tokens[k]) == 1 and tokens[k].isalpha():
                        unit_digits += tokens[k].upper()
                    parts.append(f"{unit_word}{'' if unit_word == '#' else ' '}{unit_digits}")
                elif len(tokens[j]) <= 3 and tokens[j].isalnum():
                    parts.append(f"{unit_word} {tokens[j].upper()}")
        return " ".join(parts)
    return None


_NOT_ADDRESS_WORDS = frozenset(
    {"at", "in", "on", "and", "or", "but", "pm", "am", "o'clock", "oclock", "tomorrow", "today", "is", "my", "the"}
    | {"minutes", "hours", "days", "weeks", "dollars", "bucks", "years", "people", "times"}
)


# ---------------------------------------------------------------- email

_EMAIL_LITERAL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_EMAIL_INTRO = frozenset(
    {"is", "it's", "its", "email", "e-mail", "address", "my", "me", "at:", "to", "use", "send", "it", "try", "the"}
)
_EMAIL_SYMBOLS = {"dot": ".", "period": ".", "point": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_EMAIL_SHAPE = re.compile(r"^[a-z0-9](?:[a-z0-9._+\-]*[a-z0-9])?@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)+$")


def _email_part(words: list[str]) -> str:
    out: list[str] = []
    for word in words:
        if word in _EMAIL_SYMBOLS:
            out.append(_EMAIL_SYMBOLS[word])
        elif word in UNITS and word not in ("o", "oh"):
            out.append(str(UNITS[word]))
        else:
            out.append(word)
    return "".join(out)


def extract_email(text: str) -> str | None:
    """An email address said out loud or typed: "john at example dot com" -> "john@example.com"."""
    literal = _EMAIL_LITERAL.search(text)
    if literal:
        return literal.group(0).lower().rstrip(".")
    # speech recognisers mix forms: "john at example.com", "john @ example dot com"
    spoken = re.sub(r"(?<=\w)\.(?=\w)", " dot ", text.lower().replace("’", "'")).replace("@", " at ")
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", spoken)
    for at in range(len(words) - 1, 0, -1):
        if words[at] != "at":
            continue
        local_words: list[str] = []
        k = at - 1
        while k >= 0 and words[k] not in _EMAIL_INTRO:
            local_words.insert(0, words[k])
            k -= 1
        domain_words: list[str] = []
        k = at + 1
        # labels joined by separators: "example dot co dot uk", "my dash site dot com"
        while k < len(words) and words[k] not in _EMAIL_SYMBOLS:
            domain_words.append(words[k])
            if k + 2 < len(words) and words[k + 1] in ("dot", "period", "point", "dash", "hyphen"):
                domain_words.append(words[k + 1])
                k += 2
                continue
            break
        if not local_words or not ({"dot", "period", "point"} & set(domain_words)):
            continue
        candidate = f"{_email_part(local_words)}@{_email_part(domain_words)}"
        if _EMAIL_SHAPE.match(candidate):
            return candidate
    return None
