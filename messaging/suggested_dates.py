"""When to text again a person who wrote "not now": the day suggested by what they wrote.

A pure function of the text and the day it is read. Staff see the suggestion beside a "not now"
reply, with the words it was read from, and set the day themselves; it never sends anything.

How New England homeowners' words are read (tests/data/not_now_replies.tsv is the labelled set):
- Seasons: "spring" 15 March (the thaw: cracks show and people think of the basement again),
  "summer" 15 June, "fall"/"autumn" 15 September, "winter" 15 January (December is the holidays:
  nobody wants a contractor's text then). "Early" a season is the 1st of its first month (winter:
  1 December), "late" or "end of" the 1st of its last month; "after" a season is the next season.
- Months: "April", "in April" the 1st; "mid April" the 15th; "late"/"end of April" the 20th;
  "April 15th" that day; "after April" 1 May.
- "After the holidays", "after Christmas", "in the new year", "after the first of the year": the
  first weekday after New Year's Day. "After Thanksgiving": the Monday after. "After Labor Day":
  the Tuesday after. "After tax season": 1 May. "When it warms up", "when the snow melts": 15 April.
- "Next year" 15 January (with a season or month: that one, next year); "in 2028" its 15 January.
  "Next month" the 1st of the next month, "next week" Monday, "tomorrow" tomorrow.
- Durations: "in 2 weeks", "in a few weeks" (3), "a couple of months" (2), "several" (4),
  "a month or two" (the longer), from today; "2 years ago" is the past and is not read.
- "Not this X", "busy this X": after X ("busy this month" → next month).
- A season or month already under way ("in the spring" said in April): four weeks from today
  for a season, two weeks for a month (or a week, for "after the holidays" said in January).
  "Next spring" said in spring is next year's.
- Several times named: the latest wins, since texting too early is what annoys.
- Always after today, on a weekday, not New Year's Day, the 4th of July or Christmas; the shop's
  own holidays (campaigns.models.Holiday) are the send path's concern, which waits for a window.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_DAY = dt.timedelta(days=1)
_FIXED_HOLIDAYS = {(1, 1), (7, 4), (12, 25)}

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
# Month words that are also everyday words or names ("I may be", "ask June") need a cue before them.
_AMBIGUOUS_MONTHS = {"may", "june", "april", "august", "jan", "mar", "jun", "jul", "aug", "sep", "dec"}

_SEASON_WORDS = r"spring|sprng|sping|summer|sumer|summmer|fall|autumn|autum|winter|wintr"
_SEASONS = {"spring": 0, "summer": 1, "fall": 2, "winter": 3}
# Each season: its months, its plain day, its early day and its late day.
_SEASON_DAYS = {
    0: ((3, 4, 5), (3, 15), (3, 1), (5, 1)),
    1: ((6, 7, 8), (6, 15), (6, 1), (8, 1)),
    2: ((9, 10, 11), (9, 15), (9, 1), (11, 1)),
    3: ((12, 1, 2), (1, 15), (12, 1), (2, 1)),
}

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "few": 3, "several": 4,
}  # fmt: skip
_NUMBER = r"\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple|few|several"
_UNIT = r"days?|weeks?|wks?|months?|mos?|mths?|mnths?|years?|yrs?"
# Words before a time that make it not a time to text again: the past, a habit, a deadline.
_NOT_LATER = {"last", "every", "past", "each", "since", "before"}
_READ_ON = (dt.date(2001, 1, 10), dt.date(2001, 7, 10))


@dataclass(frozen=True)
class Suggestion:
    on: dt.date
    because: str  # the words it was read from, as written


def suggested_date(text: str, *, today: dt.date) -> Suggestion | None:
    """The day to text again a person who wrote ``text`` on ``today``, or None if they named no time."""
    body = _plain(text)
    found = [(day, words) for day, words in _times(body, today) if day is not None]
    if not found:
        return None
    day, words = max(found, key=lambda found: found[0])
    return Suggestion(on=_next_weekday(max(day, today + _DAY)), because=words)


def names_a_time(text: str, *, at_least: dt.timedelta = _DAY) -> bool:
    """Whether ``text`` names a time to come at least ``at_least`` away, on some day of the year
    (read in January and in July: "after the holidays" is near in one, "in the summer" in the other)."""
    body = _plain(text)
    return any(day - today >= at_least for today in _READ_ON for day, _ in _times(body, today) if day is not None)


def _plain(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def _next_weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5 or (day.month, day.day) in _FIXED_HOLIDAYS:
        day += _DAY
    return day


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


def _coming(
    today: dt.date, month: int, day: int, *, during: tuple[int, ...] = (), meanwhile: int = 0, year: int | None = None
) -> dt.date:
    """The next ``month``/``day`` after today (or in ``year``); if it has just passed and today is
    still ``during`` the time it names, ``meanwhile`` days from today instead."""
    if year is not None:
        return dt.date(year, month, day)
    this_year = dt.date(today.year, month, day)
    coming = this_year if this_year > today else dt.date(today.year + 1, month, day)
    if today.month in during and (coming - today).days > 120:
        return today + dt.timedelta(days=meanwhile)
    return coming


def _season(word: str) -> int:
    word = word.lower()
    if word.startswith("sp"):
        return 0
    if word.startswith("su"):
        return 1
    if word.startswith(("fa", "au")):
        return 2
    return 3


_Reader = Callable[[re.Match, dt.date, int | None], dt.date | None]


def _season_day(match: re.Match, today: dt.date, year: int | None) -> dt.date | None:
    season, when = _season(match["season"]), (match["when"] or "").lower()
    if season == 2 and match["season"].lower() == "fall" and not when and not match["cue"]:
        return None  # "the wall could fall": the verb
    if when == "after" or when.endswith("this"):  # "after the winter", "not this winter"
        season, when = (season + 1) % 4, ""
    months, plain, early, late = _SEASON_DAYS[season]
    month, day = early if when == "early" else late if when in ("late", "end of") else plain
    if year is not None and month == 12:
        year -= 1  # early winter next year is December of this one
    if when == "next":
        return _coming(today, month, day)
    return _coming(today, month, day, during=months, meanwhile=28, year=year)


def _month_day(match: re.Match, today: dt.date, year: int | None) -> dt.date | None:
    name, when = match["month"].lower(), (match["when"] or "").lower()
    alone = match.string.strip(" .!?").lower() == name  # the whole reply: "April"
    if name in _AMBIGUOUS_MONTHS and not (when or match["cue"] or match["day"] or alone):
        return None  # "I may be", "ask June"
    month = _MONTHS[name]
    if when == "after":
        month, day = month % 12 + 1, 1
    elif match["day"]:
        day = int(match["day"])
    else:
        day = 15 if when in ("mid", "middle of") else 20 if when in ("late", "end of") else 1
    try:
        dt.date(2000, month, day)
    except ValueError:
        return None
    if (match["cue"] or "").lower() == "next":
        return _coming(today, month, day, year=year)
    return _coming(today, month, day, during=(month,), meanwhile=14, year=year)


def _duration(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    if match["unit2"]:  # "a month or two"
        numbers, unit = (match["m"], match["m2"]), match["unit2"].lower()
    else:  # "2 weeks", "2 or 3 weeks", "2-3 weeks"
        numbers, unit = (match["n"], match["n2"] or match["n3"]), match["unit"].lower()
    count = max(_NUMBERS.get(number.lower()) or int(number) for number in numbers if number)
    if unit.startswith("d"):
        return today + dt.timedelta(days=count)
    if unit.startswith("w"):
        return today + dt.timedelta(weeks=count)
    if unit.startswith("m"):
        return _add_months(today, count)
    return _add_months(today, 12 * count)


def _after_this(match: re.Match, today: dt.date, year: int | None) -> dt.date | None:
    unit = match["unit"].lower()
    if unit == "week":
        return today + dt.timedelta(days=7 - today.weekday())
    if unit == "month":
        return _add_months(today.replace(day=1), 1)
    if unit == "year":
        return dt.date(today.year + 1, 1, 15)
    return _season_day(match, today, None)


def _new_year(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    return _coming(today, 1, 2, during=(1,), meanwhile=7)


def _thanksgiving(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    def monday_after(year: int) -> dt.date:
        first = dt.date(year, 11, 1)
        thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
        return thursday + dt.timedelta(days=4)

    coming = monday_after(today.year)
    return coming if coming > today else monday_after(today.year + 1)


def _labor_day(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    def tuesday_after(year: int) -> dt.date:
        first = dt.date(year, 9, 1)
        return first + dt.timedelta(days=(0 - first.weekday()) % 7 + 1)

    coming = tuesday_after(today.year)
    return coming if coming > today else tuesday_after(today.year + 1)


def _warm(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    return _coming(today, 4, 15, during=(4, 5), meanwhile=28, year=year)


def _fixed(month: int, day: int) -> _Reader:
    return lambda match, today, year: _coming(today, month, day, year=year)


def _next_year(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    return dt.date(today.year + 1, 1, 15)


def _in_year(match: re.Match, today: dt.date, year: int | None) -> dt.date | None:
    named = int(match["year"])
    return dt.date(named, 1, 15) if named > today.year else None


def _relative(match: re.Match, today: dt.date, year: int | None) -> dt.date:
    word = match["word"].lower()
    if word == "tomorrow":
        return today + _DAY
    if word.endswith("week"):
        return today + dt.timedelta(days=7 - today.weekday())
    return _add_months(today.replace(day=1), 1)


_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_READERS: list[tuple[re.Pattern, _Reader]] = [
    (
        re.compile(
            r"\b(?P<when>(?:not|busy|swamped|slammed)(?: until| till)? this)"
            rf" (?P<unit>week|month|year|(?P<season>{_SEASON_WORDS})(?P<cue>))\b",
            re.IGNORECASE,
        ),
        _after_this,
    ),
    (
        re.compile(
            r"(?:\b(?P<when>early|late|end of|after|next)\s+(?:the\s+)?)?"
            rf"(?:\b(?P<cue>in|this|by|until|till|come|around|maybe|the)\s+(?:the\s+)?)?\b(?P<season>{_SEASON_WORDS})\b",
            re.IGNORECASE,
        ),
        _season_day,
    ),
    (
        re.compile(
            r"(?:\b(?P<when>early|mid|middle of|late|end of|beginning of|start of|after)\s*-?\s*(?:the\s+)?)?"
            r"(?:\b(?P<cue>in|by|until|till|around|maybe|this|next|try me|ask me|text me|reach out|"
            r"check back|talk to me)\s+)?"
            rf"\b(?P<month>{_MONTH_NAMES})\b\.?(?:\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b)?",
            re.IGNORECASE,
        ),
        _month_day,
    ),
    (
        re.compile(
            rf"\b(?P<m>an?)\s+(?P<unit2>{_UNIT})\s+or\s+(?P<m2>{_NUMBER})\b"
            rf"|\b(?:an?\s+)?(?P<n>{_NUMBER})(?:\s+(?:or|to)\s+(?:an?\s+)?(?P<n2>{_NUMBER})|\s*-\s*(?P<n3>\d{{1,2}}))?"
            rf"(?:\s+of)?\s+(?P<unit>{_UNIT})\b(?!\s+(?:ago|back)\b)",
            re.IGNORECASE,
        ),
        _duration,
    ),
    (
        re.compile(
            r"\b(?:after|past)\s+(?:the\s+)?(?:hol+id?a?ys?|christmas|xmas|new years?'?s?|first of the year)\b"
            r"|\b(?:in|into)\s+the\s+new\s+year\b|\bfirst of the year\b",
            re.IGNORECASE,
        ),
        _new_year,
    ),
    (re.compile(r"\bafter\s+thanksgiving\b", re.IGNORECASE), _thanksgiving),
    (re.compile(r"\bafter\s+labou?r\s+day\b", re.IGNORECASE), _labor_day),
    (re.compile(r"\bafter\s+(?:the\s+)?tax(?:es| season)\b", re.IGNORECASE), _fixed(5, 1)),
    (re.compile(r"\b(?:warms? up|warmer|snow melts|thaws?)\b", re.IGNORECASE), _warm),
    (re.compile(r"\b(?:next|nxt)\s+(?:year|yr)\b", re.IGNORECASE), _next_year),
    (re.compile(r"\b(?:in|until|till|by)\s+(?P<year>20\d\d)\b", re.IGNORECASE), _in_year),
    (re.compile(r"\b(?P<word>tomorrow|(?:next|nxt) week|(?:next|nxt) month)\b", re.IGNORECASE), _relative),
]


def _times(body: str, today: dt.date) -> Iterator[tuple[dt.date | None, str]]:
    """Each time to come named in ``body``, with its words; "last spring", "before winter" are not."""
    year = today.year + 1 if re.search(r"\b(?:next|nxt)\s+(?:year|yr)\b", body, re.IGNORECASE) else None
    for pattern, read in _READERS:
        for match in pattern.finditer(body):
            before = body[: match.start()].split()
            if before and before[-1].lower().strip(",.") in _NOT_LATER:
                continue
            day = read(match, today, year)
            if day is not None:
                yield day, match.group(0).strip()
