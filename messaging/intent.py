"""What a reply says, for the staff working the replies and for the numbers: interested, question,
not now, not interested, opt-out, wrong number, automatic reply, other. Rules to read and test, in order;
staff correct a label from the thread, and the correction is what counts from then on."""

import datetime as dt
import re

from django.db import models

from messaging.consent import Consent, consent_intent
from messaging.suggested_dates import names_a_time


class ReplyIntent(models.TextChoices):
    INTERESTED = "interested", "Interested"
    QUESTION = "question", "Question"
    NOT_NOW = "not_now", "Not now"
    NOT_INTERESTED = "not_interested", "Not interested"
    OPT_OUT = "opt_out", "Opt-out"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    AUTOMATIC = "automatic", "Automatic reply"
    OTHER = "other", "Other"


# Phones answering by themselves: driving mode, out-of-office, and iMessage reactions sent as text.
# Driving, in the phones' own words: iOS 11-14 "I'm Driving with Do Not Disturb While Driving
# turned on. I'll see your message when I get where I'm going.", iOS 15+ "I'm driving with Driving
# Focus turned on. ..." and "... has notifications silenced with Focus", Android "I'm driving right
# now - I'll get back to you later." (apostrophes straight or curly).
_AUTOMATIC = re.compile(
    r"^(?:liked|loved|disliked|laughed at|emphasized|emphasised|questioned) [“\"]"
    r"|do not disturb|auto[- ]?reply|automatic reply|out of (?:the )?office"
    r"|can['’]?t (?:get to|answer) the phone|no longer in service|not monitored"
    r"|\bi['’]?m driving with (?:do not disturb|driving focus)\b|\bdriving focus turned on\b"
    r"|\bi['’]?ll see your message when i get where i['’]?m going\b|\bnotifications silenced with focus\b"
    r"|^i['’]?m driving right now\W+i['’]?ll get back to you later\b",
    re.IGNORECASE,
)
# Not the person we meant: a wrong number, or not (or no longer) the homeowner.
_WRONG_NUMBER = re.compile(
    r"\bwrong (?:number|person|#)|\bnot the (?:home)?owner|\bi don'?t own\b"
    r"|\bsold (?:the|that|this|my) (?:house|home|property)|\bsold it\b|\bwe moved\b|\bi moved\b"
    r"|\b(?:renter|tenant)\b|\bi rent\b|\blandlord\b|passed away|\bno one by that name\b",
    re.IGNORECASE,
)
_NOT_INTERESTED = re.compile(
    r"^(?:no|nope|nah|no thanks?|no thank you|not interested|pass|i'?ll pass|not for me)\b"
    r"|\bnot interested\b|\ball set\b|\bwe'?re (?:good|fine|set)\b|\balready (?:fixed|had|have|did|done)"
    r"|\bhad (?:it|someone|that) (?:fixed|done|do it)|\bhave a contractor\b|\busing someone else\b"
    r"|\btoo (?:expensive|much)\b|\bnot at this time\b|\bdon'?t need\b"
    r"|\bno (?:problems|issues)\b|\bdon'?t have (?:a basement|any problems|cracks)",
    re.IGNORECASE,
)
# Wanting the work, but later: a put-off in so many words, or a time to come ("maybe in the spring",
# "try me in a few weeks") said with a put-off, or two weeks off or more with no sign of wanting the
# work ("next week is better" is an appointment being moved). "Not at this
# time" stays a polite no, and "call me next week" stays interested.
_NOT_NOW = re.compile(
    r"\bnot (?:interested |ready )?(?:right now|just now|now|yet|just yet|at the moment|this (?:year|month|week))\b"
    r"|\bnot (?:until|till)\b|\bmaybe (?:later|another time|some ?time|down the road)\b|\bdown the road\b"
    r"|\bnot a (?:good|great) time\b|\b(?:another|some other) time\b|\bcheck back\b|\bcircle back\b|\bremind me\b",
    re.IGNORECASE,
)
_PUT_OFF = re.compile(
    r"\b(?:maybe|not|busy|swamped|slammed|later|wait|until|till|after|away|out of town|try me|ask me"
    r"|text me|hit me|reach (?:back )?out|get back|contact me|talk to me|give (?:me|it|us)|probably|thinking)\b",
    re.IGNORECASE,
)
# Wanting the work: yes, a price, a visit, a call, a problem described.
_INTERESTED = re.compile(
    r"^(?:yes|yeah|yea|ya|yep|yup|sure|si|sim|oui)\b|\binterested\b|\binteresa\b"
    r"|\bhow much\b|\bprice\b|\bcost\b|\bquote\b|\bestimate\b|\bballpark\b|\binspection\b|\bcall me\b"
    r"|\bcome (?:out|by|over)\b|\bstop by\b|\bavailable\b|\bschedule\b|\bappointment\b|\bhow soon\b"
    r"|\bwhen can\b|\bworks for me\b|\b(?:a|the|my|have|got) cracks?\b|\bleaks?\b|\bwater in\b|\bbasement\b"
    r"|\bfoundation\b|\bbowing\b|\bsinking\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?|^(?:who|what|when|where|why|how|is|are|do|does|did|can|could|will|would)\b", re.IGNORECASE)


def reply_intent(text: str) -> str:
    """The label of an inbound reply (a ReplyIntent value), by the first rule that applies."""
    body = " ".join(text.split())
    if not body:
        return ReplyIntent.OTHER
    consent = consent_intent(body)
    if consent == Consent.OPT_OUT:
        return ReplyIntent.OPT_OUT
    if _AUTOMATIC.search(body):
        return ReplyIntent.AUTOMATIC
    if _WRONG_NUMBER.search(body):
        return ReplyIntent.WRONG_NUMBER
    if (
        _NOT_NOW.search(body)
        or (_PUT_OFF.search(body) and names_a_time(body))
        or (not _INTERESTED.search(body) and names_a_time(body, at_least=dt.timedelta(weeks=2)))
    ):
        return ReplyIntent.NOT_NOW
    if _NOT_INTERESTED.search(body):
        return ReplyIntent.NOT_INTERESTED
    if _INTERESTED.search(body):
        return ReplyIntent.INTERESTED
    if consent not in (Consent.HELP, Consent.OPT_IN) and _QUESTION.search(body):
        return ReplyIntent.QUESTION
    return ReplyIntent.OTHER
