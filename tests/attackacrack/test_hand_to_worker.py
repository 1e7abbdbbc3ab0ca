"""Handing work to a worker: the broker is a nudge, tried once, never waited on, and never the
reason a request fails; a mistake of ours is not taken for the broker being away."""

import logging

import pytest
from kombu.exceptions import EncodeError

from attackacrack.celery import app as celery_app
from attackacrack.celery import hand_to_worker
from messaging import tasks


@pytest.fixture
def queue():
    """The broker's queue as the worker reads it, emptied after the test."""
    with celery_app.connection_for_write() as broker:
        channel = broker.default_channel
        yield lambda: channel.queue_declare(celery_app.conf.task_default_queue).message_count
        channel.queue_purge(celery_app.conf.task_default_queue)


def test_work_reaches_the_broker_when_it_answers(queue):
    waiting = queue()

    assert hand_to_worker(tasks.hand_over_webhook_events) is True

    assert queue() == waiting + 1


def test_a_broker_away_is_tried_once_then_left_alone_for_a_while(broker_away, caplog):
    with caplog.at_level(logging.WARNING, logger="attackacrack.celery"):
        first = hand_to_worker(tasks.hand_over_webhook_events)
        second = hand_to_worker(tasks.hand_over_webhook_events)

    assert (first, second) == (False, False)
    [warning] = caplog.records  # the second call did not try
    assert "Could not hand messaging.tasks.hand_over_webhook_events to a worker" in warning.getMessage()


def test_a_mistake_of_ours_is_raised_and_the_broker_stays_trusted(queue):
    waiting = queue()

    with pytest.raises(EncodeError):
        hand_to_worker(tasks.process_webhook_events, object())  # nothing a broker can carry

    assert hand_to_worker(tasks.hand_over_webhook_events) is True
    assert queue() == waiting + 1
