"""The day to text again a person who wrote "not now" (issue 39), measured on a labelled set of
replies written for this project (tests/data/not_now_replies.tsv): every row must read as labelled,
both the day suggested and the reply's label."""

import datetime as dt
from pathlib import Path

import pytest

from messaging.intent import ReplyIntent, reply_intent
from messaging.suggested_dates import Suggestion, names_a_time, suggested_date

LABELLED = Path(__file__).resolve().parents[1] / "data" / "not_now_replies.tsv"


def labelled() -> list[tuple[dt.date, dt.date | None, str, str]]:
    rows = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            today, expected, label, text = line.split("\t")
            day = None if expected == "-" else dt.date.fromisoformat(expected)
            rows.append((dt.date.fromisoformat(today), day, ReplyIntent(label), text))
    return rows


def test_the_labelled_set_is_large_and_has_replies_that_name_no_time():
    rows = labelled()
    assert len(rows) >= 40
    assert sum(1 for _, expected, _, _ in rows if expected is None) >= 10
    assert {label for _, _, label, _ in rows} >= {ReplyIntent.NOT_NOW, ReplyIntent.NOT_INTERESTED}


def test_every_labelled_reply_gets_the_day_it_is_labelled_with():
    wrong = []
    for today, expected, _, text in labelled():
        suggestion = suggested_date(text, today=today)
        if (suggestion.on if suggestion else None) != expected:
            wrong.append((text, str(today), str(expected), suggestion))
    assert not wrong


def test_every_labelled_reply_gets_its_label():
    wrong = [(text, label, reply_intent(text)) for _, _, label, text in labelled() if reply_intent(text) != label]
    assert not wrong


def test_a_suggested_day_is_always_a_weekday_after_the_day_it_was_read():
    for today, _, _, text in labelled():
        for shift in range(0, 366, 7):  # the same words read on a weekday of every week of the year
            day = today + dt.timedelta(days=shift)
            suggestion = suggested_date(text, today=day)
            if suggestion:
                assert suggestion.on > day and suggestion.on.weekday() < 5, (text, day, suggestion)


@pytest.mark.parametrize(
    ("text", "today", "on", "because"),
    [
        ("maybe in the spring", "2026-10-14", "2027-03-15", "in the spring"),
        ("Maybe in the spring", "2026-04-08", "2026-05-06", "in the spring"),  # under way: four weeks on
        ("next spring", "2026-04-08", "2027-03-15", "next spring"),
        ("after the holidays", "2026-12-03", "2027-01-04", "after the holidays"),  # 2 January is a Saturday
        ("I’m slammed, text me next month", "2026-12-03", "2027-01-04", "next month"),  # not New Year's Day
        ("busy this month, text in a few weeks", "2026-10-14", "2026-11-04", "a few weeks"),  # the latest wins
        ("hit me up in like a month or two", "2026-10-14", "2026-12-14", "a month or two"),
        ("Maybe in a month", "2027-01-20", "2027-02-22", "a month"),  # 20 February is a Saturday
        ("Not this winter", "2026-12-03", "2027-03-15", "Not this winter"),  # after it
    ],
)
def test_the_day_and_the_words_it_was_read_from(text, today, on, because):
    suggestion = suggested_date(text, today=dt.date.fromisoformat(today))

    assert suggestion == Suggestion(on=dt.date.fromisoformat(on), because=because)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Not now",
        "We had it fixed last spring",
        "we get water in the basement every spring",
        "Fixed it 2 years ago",
        "Can you do it before winter?",
        "I may be interested",
        "Ask my wife June",
        "The wall could fall any day",
        "Happy holidays",
    ],
)
def test_nothing_is_suggested_when_no_time_to_come_is_named(text):
    assert suggested_date(text, today=dt.date(2026, 10, 14)) is None
    assert not names_a_time(text)


def test_a_time_a_few_days_off_is_not_far_enough_to_put_off_the_work_alone():
    assert names_a_time("Next week is better")
    assert not names_a_time("Next week is better", at_least=dt.timedelta(weeks=2))
    assert reply_intent("Next week is better") == ReplyIntent.OTHER
    assert reply_intent("maybe next week") == ReplyIntent.NOT_NOW
