"""This month's spend is read from one index alone, whatever the number of texts: the index of
sent texts carries their kind and segments."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.calendar import BusinessCalendar
from messaging.selectors import spend_this_month
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_the_months_texts_are_summed_from_the_index_alone():
    MessageFactory.create_batch(3, segments=2)
    with CaptureQueriesContext(connection) as queries:
        spend = spend_this_month(
            now=timezone.now() + dt.timedelta(seconds=1), zone=BusinessCalendar.from_settings().zone
        )
    summed = next(query["sql"] for query in queries.captured_queries if "sent_at" in query["sql"])

    with connection.cursor() as cursor:
        # A small table is read whole; told not to, the planner shows what the index can do alone.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {summed}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert spend.segments == 6
    assert "Index Only Scan using message_outbound_sent" in plan
