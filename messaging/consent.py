"""What an inbound text means for consent: the one place that decides it.

Since April 2025 the FCC requires a revocation of consent made by any reasonable means to be
honoured, so "Please stop", "Take me off your list" and "S T O P" are opt-outs as surely as STOP.
`consent_intent` reads a text as one of:

- ``opt_out``: a clear revocation (the keywords, and their natural phrasings in any case, spacing,
  punctuation or emoji, with a name or a please around them): acted on at once, like STOP;
- ``opt_in``: START or UNSTOP (only these: "yes" is an ordinary answer to a campaign text);
- ``help``: HELP or INFO;
- ``possible_opt_out``: it might be a revocation but is not clearly one ("can you stop by
  Tuesday?", "don't stop, I'm interested"): a person decides, and meanwhile no campaign texts them;
- ``none``.

The rules are read on a normalised text (lower case, letters and digits only, spelled-out
letters joined: "S.T.O.P" → "stop"). tests/data/inbound_texts.tsv is the labelled corpus they
are measured on (bench/consent_corpus.py prints precision and recall per class).
"""

import re
import unicodedata
from enum import StrEnum


class Consent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    POSSIBLE_OPT_OUT = "possible_opt_out"
    NONE = "none"


# The carriers' keywords and the FCC's examples, each a whole text.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "remove", "revoke", "optout", "opt out"}
)
OPT_IN_KEYWORDS = frozenset({"start", "unstop"})
HELP_KEYWORDS = frozenset({"help", "info"})

# Words that may stand around a clear request without changing it.
_POLITE = (
    r"(?:please|pls|plz|pleas|thanks|thank you|thank u|thx|ty|now|asap|immediately|already|again|ok|okay"
    r"|sir|maam|guys|kindly)"
)
# One word or phrase that may stand around a request.
_AROUND = re.compile(rf"(?:{_POLITE}|and|i said|i asked you to|wrong number|wrong person|not interested)")
_ME = r"(?:me|us|my number|this number|my phone|this phone|my cell|this)"
_MESSAGES = (
    r"(?:text|texts|texting|txt|txts|txting|message|messages|messaging|msg|msgs|sms|contact|contacting|spam|spamming)"
)
_DET = r"(?:these|the|your|this|those|any|ur|yr|all)"
_LIST = r"(?:list|lists|texts|texting list|text list|mailing list|contact list|contacts|database|system)"
_NEVER = r"(?:do not|dont|don t|never|pls dont|please dont)"
_WANT = r"(?:i )?(?:want to|wanna|would like to|wish to|d like to)"
_REFUSE = rf"(?:stop|remove me|don t {_MESSAGES} me|dont {_MESSAGES} me|do not {_MESSAGES} me|lose my number)"

# Clear revocations, each matched against the whole normalised text (politeness around allowed).
_CLEAR = [
    rf"(?:stop|quit|cease|end)(?: {_MESSAGES})?(?: {_ME})?(?: {_MESSAGES})?",
    rf"(?:stop|quit|cease) (?:sending|with)(?: me)?(?: {_DET})?(?: {_MESSAGES})?",
    rf"(?:stop|quit)(?: (?:this|it|these|that|all|the))?(?: {_MESSAGES})?",
    rf"{_NEVER} send (?:me )?(?:any )?(?:more )?(?:these |your )?{_MESSAGES}",
    rf"no more {_MESSAGES}(?: (?:to|for) {_ME})?",
    rf"{_NEVER} (?:ever )?{_MESSAGES} {_ME}(?: (?:again|anymore|any more|ever))?",
    rf"(?:take|remove|delete|drop|get) {_ME} (?:off|from|out of)(?: {_DET} ?{_LIST}?)?",
    rf"(?:remove|delete) {_ME}",
    rf"(?:unsubscribe|unsub|opt out|optout|opt me out)(?: {_ME})?(?: (?:from|of) {_DET} ?(?:list|texts|messages)?)?",
    rf"{_WANT} (?:unsubscribe|opt out|be removed|stop (?:getting|receiving) (?:{_DET} )?{_MESSAGES})",
    rf"(?:i )?(?:do not|dont|don t) want (?:any )?(?:more )?(?:{_DET} )?{_MESSAGES}(?: (?:anymore|any more))?",
    rf"not interested {_REFUSE}(?: {_MESSAGES}(?: me)?)?",
    rf"wrong (?:number|person|#) (?:{_POLITE} )?(?:{_REFUSE}|delete my number)(?: {_MESSAGES}(?: {_ME})?)?",
    r"(?:lose|delete) (?:my|this) number",
    r"leave me alone",
    r"(?:stop ?)+",  # "stop stop stop", "stopstop"
]
_ONE_CLEAR = re.compile("|".join(_CLEAR))
# A request or a word around one spans at most this many words; a text of more than _MOST_WORDS
# words is not a clear opt-out (at most a possible one, for a person).
_LONGEST_SPAN, _MOST_WORDS = 12, 40

# A clear keyword followed by nothing but a name: "STOP. Dave", "Stop - Mary Smith".
_NAME_WORD = re.compile(r"^[A-Z][a-z'\-]{1,20}$")
_NOT_NAMES = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday today tomorrow tonight by in at on over "  # noqa: SIM905
    "here there when and but if the for".split()
)

# Words that make a text worth a person's look: it might be a revocation.
_MAYBE = re.compile(
    rf"\b(?:stop|stopp?ed|unsubscribe|unsub|opt ?out|remove|take me off|no more|wrong (?:number|person)"
    rf"|(?:do not|dont|don t|never) {_MESSAGES}|leave me alone|lose my number|quit {_MESSAGES}|cease"
    rf"|why (?:do|are|did) you (?:keep )?(?:texting|messaging|contacting))\b"
)
# ...unless the word is plainly not about our texts.
_NOT_REVOCATION = re.compile(
    r"\b(?:non ?stop|(?:can t|cant|cannot|couldn t|couldnt|won t|wont|will not) stop(?! {_MESSAGES})"
    r"|stop(?:ped)? (?:working|leaking|raining)|stopped (?:by|at|in)|bus stop|full stop|pit stop|one stop"
    r"|stop (?:the )?(?:water|cracking|cracks?|damage|leaks?|it from|them from|settling|sinking|moisture|flooding"
    r"|mold)"
    r"|shortstop|truck stop|remove (?:the|a|that|those|these|any|some|old|my (?:old|basement|porch|deck))"
    r"|remove and replace|removed? (?:it|them)|i (?:do not|don t|dont) text)\b".replace("{_MESSAGES}", _MESSAGES)
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"(?<=\w)'(?=\w)", " ", text)  # don't → don t, can't → can t
    text = re.sub(r"[^a-z0-9#]+", " ", text)
    # Letters spelled out one by one ("s t o p", "s.t.o.p"): joined.
    text = re.sub(r"\b(?:[a-z] ){2,}[a-z]\b", lambda match: match.group(0).replace(" ", ""), text)
    return " ".join(text.split())


def _clear_requests_only(words: str) -> bool:
    """The whole text is clear requests and the politeness around them ("please stop, and remove
    me, thanks"): split into spans word by word, each span matched on its own, so the time grows
    with the square of the words, never exponentially (a regex over the whole text repeating
    overlapping alternatives takes minutes on "stop stop stop ... x")."""
    tokens = words.split()
    if len(tokens) > _MOST_WORDS:
        return False
    # reached[i]: the ways the first i words can be read (True: with at least one request).
    reached: list[set[bool]] = [set() for _ in range(len(tokens) + 1)]
    reached[0].add(False)
    for start in range(len(tokens)):
        if not reached[start]:
            continue
        for end in range(start + 1, min(len(tokens), start + _LONGEST_SPAN) + 1):
            span = " ".join(tokens[start:end])
            if _AROUND.fullmatch(span):
                reached[end] |= reached[start]
            if _ONE_CLEAR.fullmatch(span):
                reached[end].add(True)
    return True in reached[-1]


def _keyword_and_a_name(text: str) -> bool:
    """A keyword first, then only a name (each word capitalised, none a day or a preposition)."""
    words = re.sub(r"[^\w']+", " ", unicodedata.normalize("NFKC", text)).split()
    if len(words) < 2 or len(words) > 4 or words[0].lower() not in OPT_OUT_KEYWORDS:
        return False
    return all(_NAME_WORD.match(word) and word.lower() not in _NOT_NAMES for word in words[1:])


def _misspelt_keyword(words: str) -> bool:
    """One word that is STOP or UNSUBSCRIBE typed in a hurry: "Stopp", "STOPPPP", "Sotp", "Unsubcribe"."""
    collapsed = re.sub(r"(.)\1+", r"\1", words)
    return " " not in words and any(
        collapsed == keyword or (words[0] == keyword[0] and _edits(words, keyword) <= allowed)
        for keyword, allowed in (("stop", 1), ("unsubscribe", 2))
    )


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two neighbours is one edit)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def consent_intent(text: str) -> Consent:
    """What this inbound text means for consent (see the module's docstring)."""
    words = _normalise(text)
    if not words:
        return Consent.NONE
    if words in OPT_IN_KEYWORDS:
        return Consent.OPT_IN
    if words in HELP_KEYWORDS:
        return Consent.HELP
    if (
        words in OPT_OUT_KEYWORDS
        or _clear_requests_only(words)
        or _keyword_and_a_name(text)
        or _misspelt_keyword(words)
    ):
        return Consent.OPT_OUT
    if _MAYBE.search(words) and not _NOT_REVOCATION.search(words):
        return Consent.POSSIBLE_OPT_OUT
    return Consent.NONE
