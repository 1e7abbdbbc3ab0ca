"""The business calendar: local wall-clock windows in America/New_York, DST, weekends, holidays."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.calendar import BusinessCalendar
from tests.campaigns.conftest import eastern

CALENDAR = BusinessCalendar(
    zone="America/New_York",
    days=frozenset(range(5)),
    opens=dt.time(9),
    closes=dt.time(18),
    holidays=frozenset({dt.date(2024, 7, 4)}),
)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (eastern(2024, 1, 15, 8, 59, 59), False),
        (eastern(2024, 1, 15, 9, 0), True),
        (eastern(2024, 1, 15, 17, 59, 59), True),
        (eastern(2024, 1, 15, 18, 0), False),
        (eastern(2024, 1, 13, 12, 0), False),  # Saturday
        (eastern(2024, 7, 4, 12, 0), False),  # a holiday
        (dt.datetime(2024, 1, 15, 14, 0, tzinfo=dt.UTC), True),  # 09:00 EST
        (dt.datetime(2024, 7, 15, 13, 0, tzinfo=dt.UTC), True),  # 09:00 EDT
        (dt.datetime(2024, 7, 15, 22, 0, tzinfo=dt.UTC), False),  # 18:00 EDT
        (dt.datetime(2024, 1, 15, 23, 30, tzinfo=dt.UTC), False),  # 18:30 EST, same UTC day
    ],
)
def test_is_open_reads_the_new_york_wall_clock(moment, is_open):
    assert CALENDAR.is_open(moment) is is_open


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (eastern(2024, 1, 15, 7, 0), eastern(2024, 1, 15, 9, 0)),
        (eastern(2024, 1, 15, 11, 0), eastern(2024, 1, 15, 11, 0)),
        (eastern(2024, 1, 15, 18, 0), eastern(2024, 1, 16, 9, 0)),
        (eastern(2024, 1, 19, 20, 0), eastern(2024, 1, 22, 9, 0)),  # Friday evening → Monday
        (eastern(2024, 7, 3, 19, 0), eastern(2024, 7, 5, 9, 0)),  # over the holiday
        (eastern(2024, 3, 8, 19, 0), dt.datetime(2024, 3, 11, 13, 0, tzinfo=dt.UTC)),  # into DST
        (eastern(2024, 11, 1, 19, 0), dt.datetime(2024, 11, 4, 14, 0, tzinfo=dt.UTC)),  # out of DST
    ],
)
def test_next_opening(moment, expected):
    assert CALENDAR.next_opening(moment) == expected


# Hypothesis takes naive bounds and attaches the zone itself.
SPAN = {"min_value": dt.datetime(2020, 1, 1), "max_value": dt.datetime(2030, 12, 31)}  # noqa: DTZ001


@given(st.datetimes(**SPAN, timezones=st.just(dt.UTC)))
def test_next_opening_is_open_and_nothing_opens_earlier(moment):
    opening = CALENDAR.next_opening(moment)

    assert opening >= moment
    assert CALENDAR.is_open(opening)
    if opening > moment:
        # Either the window opened exactly then, or nothing between was open.
        local = opening.astimezone(CALENDAR.zone)
        assert local.time() == dt.time(9)
        assert not CALENDAR.is_open(opening - dt.timedelta(seconds=1))


def test_hours_must_open_before_they_close():
    with pytest.raises(ValueError, match="open before they close"):
        BusinessCalendar(zone="America/New_York", days=frozenset({0}), opens=dt.time(18), closes=dt.time(9))
