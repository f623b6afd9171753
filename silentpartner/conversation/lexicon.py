"""What a caller wants, from their words: the intent lexicon of the offline brain.

Words are first put in one plain form (`plain`: lower case, contractions spelled out, "gonna" -> "going to"),
so each phrasing is written once; the reader also writes the owner's own name as "the owner" ("can Mike call
me back" -> "can the owner call me back"), so no business's names live here. Every intent lists the ways trades
customers actually say it; the tests hold at least fifteen paraphrases per intent. Business-specific words
(emergency keywords, the FAQ) are matched in `reading.py` with the business config.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    GAS = "gas"
    URGENT = "urgent"  # "it's an emergency", "urgent"
    NOT_URGENT = "not_urgent"  # "no rush", "it's not an emergency"
    BOOK = "book"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    LOOKUP = "lookup"
    MESSAGE = "message"  # leave a message, have the owner call back
    PERSON = "person"  # put me through to a person
    PRICE = "price"
    HOURS = "hours"
    AREA = "area"
    SERVICES = "services"
    ROBOT = "robot"  # "am I talking to a robot?"
    SHUTOFF = "shutoff"  # "should I turn the water off?": the business's safety line answers it
    GOODBYE = "goodbye"  # bye, never mind, I'll call back, that's all
    THANKS = "thanks"
    GREETING = "greeting"  # only a hello
    REJECT_OFFER = "reject_offer"  # "none of those work"
    REPEAT = "repeat"  # "sorry, say that again?"
    WAIT = "wait"  # "hang on a second"
    UNSURE = "unsure"  # "I don't know"


_CONTRACTIONS = (
    (r"\bcan'?t\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bwon'?t\b", "will not"),
    (r"\bshan'?t\b", "shall not"),
    (r"\bain'?t\b", "is not"),
    (r"n't\b", " not"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|would|could|should|must|need)nt\b", r"\1 not"),
    (r"\b(i|you|he|she|we|they|it|that|there)'ll\b", r"\1 will"),
    (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\bi'm\b|\bim\b", "i am"),
    (r"\b(i|you|we|they)'ve\b", r"\1 have"),
    (r"\b(i|you|he|she|we|they)'d\b", r"\1 would"),
    (r"\b(it|that|what|when|where|who|how|there|here|he|she|name)'s\b", r"\1 is"),
    (r"\b(\w+)'s\b", r"\1s"),  # any other 's is a possessive: "tomorrow's appointment" -> "tomorrows appointment"
    (r"\blet's\b", "let us"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bgimme\b", "give me"),
    (r"\bya\b", "you"),
    (r"\bu\b", "you"),
    (r"\bpls\b|\bplz\b", "please"),
)
_CONTRACTION_PATTERNS = tuple((re.compile(p), r) for p, r in _CONTRACTIONS)


def plain(text: str) -> str:
    """Lower case, one kind of apostrophe, contractions spelled out, punctuation gone."""
    text = text.lower().replace("’", "'").replace("`", "'")
    for pattern, replacement in _CONTRACTION_PATTERNS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"[^a-z0-9'@.+#: ]+", " ", text)
    text = re.sub(r"(?<!\d):|:(?!\d)", " ", text)  # a colon only inside a clock time ("3:10")
    text = re.sub(r"(?<![a-z0-9])'|'(?![a-z])", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# Someone ("you", "somebody", "a plumber"...) and coming out to the house.
_SOMEONE = r"(?:you|you guys|someone|somebody|anyone|anybody|a plumber|a tech|a technician|a guy|one of your guys|him)"
# "come out to my place" is a visit; "come out to Beaverton" is a question about the area.
_COME = (
    r"(?:come|come out|come over|come by|come round|come around|stop by|drop by|swing by|pop over|pop by|get out)"
    r"(?!\s+(?:out\s+)?to\s+(?!(?:my|our|the|us|me|fix|look|check|see|take|do|have|give|help|sort)\b))"
)
_VISIT_NOUN = r"(?:appointment|appt|booking|visit|service call|call out|callout|slot|time|spot)"
_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|today|tonight|next week)"
_MY_VISIT = rf"(?:my|our|the|that|this|tomorrows|todays|{_DAYS}s?) (?:\w+ )?{_VISIT_NOUN}"
_OWNER_WORDS = r"(?:the owner|owner|boss|manager|plumber himself|person in charge|supervisor)"
_NO_LONGER = r"(?:do not|does not|will not|would not|no longer|not going to|am not going to|are not going to)"

_PATTERNS: dict[Intent, tuple[str, ...]] = {
    Intent.GAS: (
        r"\bsmell(?:s|ing|ed)? (?:of |like )?(?:natural )?gas\b",
        r"\bgas (?:smell|leak|odou?r)\b",
        r"\bleaking gas\b",
        r"\bsmells? like (?:rotten )?eggs\b",
        r"\bgas (?:line |pipe |meter )?(?:is )?leaking\b",
        r"\bhissing (?:from|at|near|by) the gas\b",
        r"\b(?:sulfur|sulphur) smell\b",
        r"\breeks? of gas\b|\bstinks? of gas\b",
    ),
    Intent.URGENT: (
        r"(?<!not )(?<!not an )(?<!not really an )(?<!not really )(?<!no )\b(?:emergency|emergencies)\b",
        r"(?<!not )(?<!not super )(?<!not really )(?<!not that )\burgent(?:ly)?\b",
        r"\bright (?:away|now)\b",
        r"\bimmediately\b|\bplease hurry\b|\bhurry\b|\bas fast as (?:you|possible)\b",
    ),
    Intent.NOT_URGENT: (
        r"\bnot (?:really |super |that |very )?(?:an |a )?(?:emergency|urgent|rush|big deal)\b",
        r"\bno (?:big )?(?:rush|hurry|emergency|urgency)\b",
        r"\bnot in a (?:rush|hurry)\b|\bno real rush\b",
        r"\bwhenever (?:suits|works|is convenient)\b",
        r"\bcan wait\b|\blow priority\b|\bnot a priority\b",
    ),
    Intent.BOOK: (
        r"\b(?:book|booking|schedule|set up|line up|arrange|make) (?:me |us |in |an? |for |something )*"
        rf"(?:{_VISIT_NOUN}|visit|estimate|quote|someone|a plumber)\b",
        r"\bbook(?:ed)? (?:in|me|us|it)\b",
        r"\b(?:need|want|like|get|have) (?:an? |some )?(?:appointment|visit|estimate|quote|bid|plumber|service call)\b",
        rf"\b{_SOMEONE} (?:to |could |can |would |will |able to )?{_COME}\b",
        rf"\bsend (?:out )?{_SOMEONE}\b",
        rf"\b(?:get|have) (?:out )?{_SOMEONE} (?:out|over|round|here|to (?:come|look|check|take|fix|see))\b",
        r"\b(?:take|have) a look at\b|\bcome take a look\b|\btake a look\b",
        r"\bneed (?:a |some )?(?:plumber|plumbing|help with|someone to (?:fix|look|check|repair|install|replace))\b",
        r"\b(?:fix|repair|install|replace|unclog|unblock|look at|check out|service) (?:my|our|the|a|an)\b",
        r"\bneed (?:my|our|the) (?:\w+ ){0,2}(?:unclogged|fixed|repaired|replaced|installed|looked at|checked)\b",
        r"\bfree estimate\b|\bestimate for\b|\bquote for\b|\bget a (?:quote|price) on\b",
        r"\bwhen (?:can|could) (?:you|someone|somebody) (?:come|get here|be here|make it)\b",
        r"\bdo you have (?:any )?(?:openings|availability|time|anything|slots?)\b",
        r"\bare you (?:free|available)\b|\bfit (?:me|us) in\b|\bsqueeze (?:me|us) in\b",
        r"\bearliest (?:you|someone) can (?:come|get)\b",
    ),
    Intent.RESCHEDULE: (
        r"\breschedul\w*\b|\brebook\b|\bpostpone\b",
        rf"\b(?:move|change|switch|shift|push|bump|bring|put) (?:back |forward )?{_MY_VISIT}\b",
        r"\b(?:move|change|switch|shift|push|bump|bring) (?:it|that) (?:back|forward|up|to|later|earlier|out)\b",
        r"\b(?:push|bump) (?:it|that|things|the visit|my appointment) (?:back|out|later)\b",
        rf"\b(?:different|another|other|new) (?:day|date|time) for (?:my|our|the) {_VISIT_NOUN}\b",
        rf"\bcan not make (?:it )?(?:on |this |next )?{_DAYS}\b|\bcan not make (?:my|the|that) {_VISIT_NOUN}\b",
        r"\bwill not be (?:home|there|around|in)\b.*\b(?:can|could) (?:we|you)\b",
        rf"\b{_DAYS}\b.{{0,30}}\binstead\b|\binstead\b.{{0,20}}\b{_DAYS}\b",
        r"\b(?:come|do it|make it) (?:\w+ ){0,3}instead\b",
        rf"\b(?:an hour|a day|a week|two hours|a couple (?:of )?hours) (?:earlier|later)\b.{{0,20}}\b{_VISIT_NOUN}\b"
        rf"|\b{_VISIT_NOUN}\b.{{0,25}}\b(?:an hour|a day|a week|two hours) (?:earlier|later)\b",
        r"\bchange (?:the|my) (?:day|date|time)\b",
        # Said while booking, these fix the new booking's time instead (see rules/requests.py switch).
        r"\b(?:a )?(?:different|another|other|new) (?:day|date|time)\b|\blater in the week instead\b",
    ),
    Intent.CANCEL: (
        r"\bcancel\w*\b",
        r"\bcall (?:it|the visit|the appointment|that|the job) off\b|\bcall off (?:the|my|our) \w+",
        rf"\b{_NO_LONGER} (?:think (?:i|we) )?need (?:\w+ ){{0,6}}(?:any ?more|after all|now)\b",
        rf"\b{_NO_LONGER} need (?:it|that|the visit|the appointment|you to come|someone to come|the plumber)\b",
        r"\bno longer need (?:the|my|that|a|you|your)\b",
        r"\b(?:do not|no need to) (?:come|send (?:anyone|anybody|someone|somebody|a plumber|the plumber|out))\b",
        r"\byou do not need to come\b|\bno need for (?:the|a) (?:visit|plumber|appointment)\b",
        r"\b(?:scrap|drop|scratch|kill|forget) (?:the|my|that) (?:appointment|booking|visit)\b",
        r"\btake (?:me|us|my appointment|it) off (?:the|your) (?:schedule|calendar|books|list)\b",
        r"\b(?:got|had) it fixed\b.*\b(?:appointment|booking|visit|coming|come)\b",
    ),
    Intent.LOOKUP: (
        r"\bwhen is (?:my|our|the) (?:\w+ )?(?:appointment|booking|visit|plumber|guy|tech|technician)\b",
        r"\bwhat (?:time|day|date) is (?:my|our|the) (?:\w+ )?(?:appointment|booking|visit)\b",
        r"\bwhen (?:my|our|the) (?:\w+ )?(?:appointment|booking|visit) is\b",
        r"\bwhat time (?:my|our|the) (?:\w+ )?(?:appointment|booking|visit) is\b",
        r"\bwhen (?:are|is) (?:you|you guys|someone|somebody|the plumber|the owner|he|your guy|the tech) "
        r"(?:coming|showing up|going to (?:come|be here|show up|get here)|supposed to come|due|booked)\b",
        r"\bwhen (?:you are|you guys are|the plumber is|he is) (?:coming|showing up)\b",
        r"\bwhat time (?:are|is|will) (?:you|you guys|someone|the plumber|the owner|he) "
        r"(?:coming|be here|come|arrive)\b",
        r"\bdo (?:i|we) (?:have|still have) (?:an? |any )?(?:appointment|booking|visit)s?\b",
        r"\bdo (?:i|we) have (?:anything|something) (?:booked|scheduled|coming up|on the (?:books|calendar))\b",
        r"\b(?:check|confirm|verify|look up|double check) (?:on )?(?:my|our|the) (?:appointment|booking|visit|time)\b",
        r"\b(?:double check|check|remind me|forgot|forget|remember) (?:when|what time|what day)\b",
        r"\bwhat are my (?:appointments|bookings)\b|\bdo i have any (?:appointments|bookings)\b",
        r"\bis (?:my|our|the) (?:appointment|booking|visit) still (?:on|happening|booked|confirmed)\b",
        r"\bwhat (?:day|time) did (?:i|we) book\b|\bwhen did i book\b",
        r"\b(?:am i|are we) (?:booked|scheduled|on the (?:schedule|calendar|books))\b",
        r"\bmy appointment (?:is )?when\b",
        r"\b(?:are you|is he|is she|is the plumber|is the owner|is someone|are you guys) still coming\b",
    ),
    Intent.MESSAGE: (
        r"\bleave (?:a |him a |her a |them a )?(?:message|note|voicemail)\b",
        r"\btake a (?:message|note)\b",
        r"\b(?:pass|give|get) (?:on |along )?(?:him |her )?(?:a )?message\b",
        r"\b(?:have|ask|get|tell) (?:him|her|them|someone|somebody|the owner|the boss) (?:to )?"
        r"(?:call|ring|phone|text|get back to) (?:me|us)\b",
        r"\b(?:need|want|like) (?:him|her|them|the owner|someone) to (?:call|ring|phone|get back to) (?:me|us)\b",
        r"\b(?:call|ring|phone|text) me back\b",
        r"\b(?:can|could|would|will) (?:he|she|someone|somebody|the owner) (?:please )?"
        r"(?:call|ring|phone|text|get back to) me\b",
        r"\b(?:a|like a|want a|need a) (?:call ?back|return call)\b|\bcallback\b",
        r"\bget back to me\b|\breturn my call\b|\bgive me a (?:call|ring|buzz)\b",
        r"\b(?:let|tell) (?:him|her|them|the owner) know\b",
        r"\b(?:can you|could you|please) tell (?:the owner|him|her)\b",
        r"\babout (?:a|my|the) (?:bill|invoice|payment|receipt|charge on my card|warranty claim)\b",
        r"\bcall me when (?:he|she|the owner|someone) (?:can|gets a chance|is free)\b",
    ),
    Intent.PERSON: (
        r"\b(?:talk|speak|chat) (?:to|with) (?:a |an |the )?(?:real |live |actual )?"
        rf"(?:person|someone|somebody|human|human being|people|{_OWNER_WORDS}|representative|agent|receptionist)\b",
        r"\b(?:put|patch|transfer|connect|forward) me (?:through|over|on|to)\b",
        r"\btransfer me\b|\bput me through\b|\bconnect me\b",
        r"\boperator\b|\brepresentative\b|\bcustomer service\b",
        r"\b(?:get|give) me (?:a |an )?(?:real |live )?(?:person|human|representative)\b",
        r"\b(?:i want|i need|i would like|let me have) (?:a |an )?(?:real |live |actual )?(?:person|human)\b",
        rf"\bis {_OWNER_WORDS} (?:there|around|in|available)\b",
        r"\bcan i (?:get|reach) (?:a person|someone|somebody|a human)\b(?! (?:out|over|here|to (?:come|look|fix)))",
        r"\bis there (?:a person|someone|somebody|anyone|a human) i can (?:talk|speak) to\b",
        r"\bget (?:the owner|him|her|someone|a person) on the (?:line|phone)\b",
    ),
    Intent.PRICE: (
        r"\bhow much\b|\bhow pricey\b|\bpricey\b",
        r"\b(?:price|prices|pricing|cost|costs|rate|rates|fee|fees|charge)\b",
        r"\bwhat do you (?:guys )?charge\b|\bdo you (?:guys )?charge\b|\bwhat (?:does|would|will) it (?:cost|run|be)\b",
        r"\bexpensive\b|\bcheap\b|\bcall ?out charge\b|\bper hour\b|\bhourly\b",
        r"\bis (?:the|an|it) (?:estimate|quote|call out|visit) free\b",
        r"\b(?:run|set) (?:me|us) back\b|\bwould (?:\w+ ){1,4}run (?:me|us)\b|\bballpark\b",
    ),
    Intent.HOURS: (
        r"\b(?:opening |business |office )?hours\b",
        r"\bwhat time do you (?:guys )?(?:open|close|start|finish|shut)\b",
        r"\bwhen do you (?:guys )?(?:open|close|start|finish|shut)\b",
        r"\bare you (?:guys )?open\b",
        r"\b(?:do|are) you (?:guys )?(?:work|open|working) (?:on )?"
        r"(?:weekends?|saturdays?|sundays?|evenings?|nights?|holidays?)\b",
        r"\bopening times\b|\bwhat days do you (?:guys )?work\b|\bhow late are you\b|\bopen (?:today|tomorrow|on)\b",
    ),
    Intent.AREA: (
        r"\bservice area\b|\barea(?:s)? (?:do you|you) (?:guys )?(?:cover|serve|service)\b",
        r"\b(?:do|would|will|can) you (?:guys )?(?:come|go|travel|get|drive) (?:out )?"
        r"(?:to (?!(?:my|our|the|us|me|fix|look|check|see|take|do|have)\b)|as far as|that far|out that way"
        r"|all the way)",
        r"\bdo you (?:guys )?(?:cover|serve|work in|do jobs in|work around)\b",
        # "do you service Lake Oswego" (a place), not "do you service water heaters" (a thing)
        r"\bdo you (?:guys )?service (?!(?:water|drain|toilet|tankless|gas|sewer|sump|faucet|pipe|boiler|heater"
        r"|dishwasher|disposal|garbage|softener|shower|tub|sink|navien|rinnai|rheem|kohler|commercial)\w*)\w+",
        r"\bhow far (?:do|will|would) you (?:guys )?(?:go|travel|come|drive)\b|\btoo far\b",
        r"\bwhat areas?\b|\bwhich areas?\b|\bwhere do you (?:guys )?(?:work|go|cover|service)\b",
        r"\bare you (?:local|nearby|near)\b|\bis (?:that|it|\w+) in your area\b",
    ),
    Intent.SERVICES: (
        r"\bwhat (?:services|kind of (?:work|jobs|services)|sort of (?:work|jobs)|do you (?:guys )?do)\b",
        r"\bservices do you\b|\bsomething you (?:guys )?do\b",
        r"\bdo you (?:guys )?(?:also )?(?:do|fix|install|handle|repair|work on|deal with|service)\b",
        r"\bcan you (?:guys )?(?:do|handle) (?:water heaters|drains|toilets|pipes|gas lines|remodels)\b",
    ),
    Intent.ROBOT: (
        r"\b(?:are you|is this|am i (?:talking|speaking) (?:to|with)|you are|this is) (?:a |an |just a |like a )?"
        r"(?:robot|bot|machine|computer|ai|a i|artificial|automated|recording|real person|human|person|live person"
        r"|chat ?bot|answering (?:service|machine)|virtual assistant|actual (?:person|human))\b",
        r"\bam i talking to a (?:real )?(?:person|human)\b",
        r"\bare you real\b|\bare you a real\b|\breal or\b.*\b(?:robot|computer|machine)\b",
    ),
    Intent.SHUTOFF: (
        r"\b(?:should|do|can|how do|how can|where do) (?:i|we) (?:turn|shut|switch) (?:the |my |our )?(?:main )?"
        r"(?:water )?(?:off|valve)\b",
        r"\b(?:turn|shut|switch) (?:the |my |our )?(?:main |water )*(?:off|valve)\b.*\?",
        r"\bwhere (?:is|would) (?:the |my |our )?(?:main |water )?(?:shut ?off|stop ?cock|valve)\b",
        r"\bhow (?:do|can) (?:i|we) stop (?:the )?(?:water|leak|flooding)\b",
        r"\bwhat should (?:i|we) do (?:until|till|in the meantime|while)\b",
    ),
    Intent.GOODBYE: (
        r"\b(?:good ?)?bye\b|\bbye ?bye\b|\bsee (?:you|ya)\b|\btake care\b|\bhave a (?:good|nice|great) (?:one|day)\b",
        r"\b(?:talk|speak|catch) (?:to )?(?:you )?later\b",
        r"\bnever ?mind\b|\bforget (?:it|about it|that)\b|\bdo not worry about it\b",
        r"\bi will (?:just )?(?:call|ring|phone|try) (?:you |you guys |them |him |back )?"
        r"(?:back|again|later|another time|tomorrow)\b",
        r"\bi will (?:just )?(?:call|try) (?:someone|somebody) else\b",
        r"\bthat is (?:all|everything)\b|\bnothing else\b|\bthat will be all\b|\bthat is all i need",
        r"\b(?:i have|i got) to go\b|\bi need to go\b|\bgot to run\b|\bi will let you go\b",
        r"\bno,? (?:that is|i am) (?:good|fine|all)\b|\bi am (?:all )?(?:good|set|done)\b|\ball good\b",
        r"\bhang up\b|\bnot interested\b",
        r"\bi will (?:figure|sort) it out\b|\bi will deal with it\b|\bi changed my mind\b",
    ),
    Intent.THANKS: (
        r"\bthanks?\b|\bthank you\b|\bcheers\b|\bappreciate it\b|\bmuch obliged\b|\bthx\b|\bty\b|\bthnx\b",
    ),
    Intent.GREETING: (r"^(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|yo)(?: there| anyone there)?$",),
    Intent.REJECT_OFFER: (
        r"\bnone of (?:those|them|these|that)\b|\bneither\b",
        r"\b(?:those|that|them|these) (?:do not|does not|will not|would not) (?:work|suit|do)\b",
        r"\b(?:does not|do not|will not|would not) work for me\b",
        r"\bcan not (?:do|make) (?:it|that|those|any|either)\b",
        r"\b(?:anything|something) (?:else|later|earlier|different)\b",
        r"\b(?:other|different|later|earlier) (?:times|options|days)\b",
        r"\b(?:too|bit) (?:early|late|soon)\b",
        r"\bno good\b|\bnot good for me\b",
        r"\b(?:busy|not free|not available|working|at work|not home|away|out) (?:then|at that time|that day)\b",
    ),
    Intent.REPEAT: (
        r"^(?:sorry|pardon|what|huh|excuse me|come again)$",
        r"\b(?:say|repeat) (?:that|it|those|the times|again)\b|\bsay again\b",
        r"\bwhat (?:was|were) (?:that|those|the times)\b|\bi did not (?:catch|hear|get) (?:that|you|it|the)\b",
        r"\bcould you repeat\b|\bone more time\b|\bwhat did you say\b|\byou broke up\b|\bcan not hear you\b",
    ),
    Intent.WAIT: (
        r"\b(?:hold|hang) on\b|\bone (?:sec|second|moment|minute)\b|\bjust a (?:sec|second|moment|minute)\b",
        r"\b(?:give|bear with) me a (?:sec|second|moment|minute)\b|\blet me (?:check|look|find|get|grab|think)\b",
        r"\bwait a (?:sec|second|moment|minute)\b",
    ),
    Intent.UNSURE: (r"\b(?:i )?do not know\b|\bdunno\b|\bnot sure\b|\bno idea\b|\bcan not remember\b|\bno clue\b",),
}

_COMPILED: dict[Intent, re.Pattern[str]] = {
    intent: re.compile("|".join(f"(?:{p})" for p in patterns)) for intent, patterns in _PATTERNS.items()
}

# What a caller says about a problem at their place: fixtures and symptoms. A description implies a visit.
FIXTURES = (
    "water heater",
    "hot water heater",
    "tankless heater",
    "garbage disposal",
    "disposal",
    "washing machine",
    "dishwasher",
    "sump pump",
    "kitchen sink",
    "bathroom sink",
    "sink",
    "toilet",
    "faucet",
    "tap",
    "shower",
    "bathtub",
    "tub",
    "drain",
    "pipe",
    "pipes",
    "sewer line",
    "sewer",
    "main line",
    "water line",
    "gas line",
    "boiler",
    "radiator",
    "valve",
    "spigot",
    "hose bib",
    "sprinkler",
    "water softener",
    "ceiling",
    "basement",
)
_FIXTURE = re.compile(r"\b(" + "|".join(sorted((re.escape(f) for f in FIXTURES), key=len, reverse=True)) + r")s?\b")
# Symptoms that mean a job on their own ("it's leaking", "no hot water", "the pressure is weak")...
_SYMPTOM = re.compile(
    r"\b(leak\w*|drip\w*|clog\w*|blocked|blockage|back(?:ed|ing|s)? up|overflow\w*|burst|flood\w*|gurgl\w*"
    r"|no hot water|no water|not draining|does not drain|will not (?:drain|flush)"
    r"|(?:low|weak|bad|no) (?:water )?pressure"
    r"|pressure\b(?:\W+\w+){0,4}?\W+(?:low|weak|bad|terrible)|frozen pipe\w*|sewage|sewer smell|water damage"
    r"|keeps running|runs constantly|(?:toilet|tap|faucet) (?:is )?running)\b"
)
# ...and words that only describe a job next to a fixture ("the toilet is new", "the disposal is stuck").
_WITH_FIXTURE = re.compile(
    r"\b(broke\w*|crack\w*|running|not working|does not work|will not (?:stop|turn|work)|stopped working|noisy"
    r"|making (?:a )?noise|smell\w*|slow|stuck|jammed|rust\w*|corrod\w*|install\w*|replac\w*|upgrad\w*|new|weak)\b"
)


def intents_in(text: str) -> set[Intent]:
    """Every intent the words match (on the `plain` form), after the few conflicts are settled."""
    found = {intent for intent, pattern in _COMPILED.items() if pattern.search(text)}
    if Intent.GOODBYE in found and _CALLING_BACK_LATER.search(text):
        found -= {Intent.MESSAGE, Intent.RESCHEDULE}  # "I'll call back another time" is leaving
    if Intent.CANCEL in found:
        found.discard(Intent.BOOK)  # "we don't need you to come out anymore"
    if Intent.NOT_URGENT in found:
        found.discard(Intent.URGENT)
    if Intent.BOOK in found and ESTIMATE.search(text):
        found.discard(Intent.PRICE)  # "come give me a ballpark figure" asks for an estimate visit
    if Intent.AREA in found and not _FIXTURE.search(text):
        found.discard(Intent.SERVICES)  # "do you service Lake Oswego?" asks where, not what
    return found


# A visit to price a job: the estimate service.
ESTIMATE = re.compile(r"\b(estimate|quote|bid|ballpark|price (?:it|the job) up|give me a (?:figure|price|number))\b")
_CALLING_BACK_LATER = re.compile(r"\bi will (?:just )?(?:call|ring|phone|try)\b")


def fixture_in(text: str) -> str | None:
    """The fixture the caller talks about ("water heater"), for a short acknowledgement; None if none."""
    match = _FIXTURE.search(text)
    return match.group(1) if match else None


def describes_problem(text: str) -> bool:
    """A fixture or a symptom: "my kitchen sink is leaking", "no hot water", "toilet keeps running"."""
    return bool(_FIXTURE.search(text) or _SYMPTOM.search(text))


def symptom_in(text: str) -> bool:
    """A symptom said (with or without a fixture): "it's leaking", "the disposal is jammed"."""
    return bool(_SYMPTOM.search(text) or (_FIXTURE.search(text) and _WITH_FIXTURE.search(text)))
