"""The Celery app: configuration comes from Django settings (``CELERY_*``)."""

import logging
import os
import time
from pathlib import Path

from celery import Celery, Task
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from django.db import close_old_connections
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")

logger = logging.getLogger(__name__)

# After a failed hand-over, this process stops trying for a while: every caller would otherwise
# wait on the same unreachable broker, and the sweeps hand the work over once it is back.
BROKER_AWAY_SECONDS = 30.0
_broker_away_until = 0.0


class PersistentConnectionsWorkerFixup(DjangoWorkerFixup):
    """Treat each task like Django treats a request: keep the connection within CONN_MAX_AGE.

    Celery's own fixup closes every database connection before and after every task, which
    costs a new PostgreSQL backend per task (87 tasks/s instead of ~600 on this machine).
    ``close_old_connections`` drops only connections that are broken, in a failed transaction
    or older than CONN_MAX_AGE, as Django does around requests. After a fork the inherited
    connections are still closed outright (``on_worker_process_init`` uses ``_close_database``).
    """

    def close_database(self, **kwargs: object) -> None:
        close_old_connections()


class PersistentConnectionsDjangoFixup(DjangoFixup):
    @property
    def worker_fixup(self) -> DjangoWorkerFixup:
        if self._worker_fixup is None:
            self._worker_fixup = PersistentConnectionsWorkerFixup(self.app)
        return self._worker_fixup


def install_django_fixup(app: Celery) -> DjangoFixup:
    return PersistentConnectionsDjangoFixup(app).install()


app = Celery("attackacrack", fixups=[install_django_fixup])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


if str(app.conf.broker_url).startswith("filesystem://"):
    # kombu's filesystem transport expects its folders (settings' transport options) to exist;
    # the embedded default must work on a fresh clone without a set-up step.
    for folder in app.conf.broker_transport_options.values():
        Path(folder).mkdir(parents=True, exist_ok=True)


def hand_to_worker(task: Task | str, *args: object) -> bool:
    """Give a worker work that is already recorded in the database, if the broker takes it now.

    The broker is only a nudge: whatever is handed over here is also found by a beat sweep
    (webhook events, queued imports, due texts) when no worker took it in time, so a broker that
    is down, slow or wiped delays the work and never loses it. Hence one quick try, no waiting,
    and False (logged) instead of an error for the caller, who has already stored what matters.

    A service names the task by its registered name (``"messaging.tasks.deliver_messages"``), as
    beat's schedule does: a tasks module calls its app's services, so they never import it back.
    """
    global _broker_away_until
    if isinstance(task, str):
        task = app.tasks[task]  # each app's tasks are registered when Django starts (its apps.py)
    if task.app.conf.task_always_eager:
        task.apply_async(args)
        return True
    if time.monotonic() < _broker_away_until:
        return False
    try:
        with task.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            # One reconnect for a pooled connection that went stale when the broker restarted.
            task.apply_async(args, producer=producer, retry=True, retry_policy={"max_retries": 1, "interval_start": 0})
    except Exception as error:
        broker = task.app.connection_for_write()
        if not isinstance(error, (OperationalError, OSError, *broker.connection_errors, *broker.channel_errors)):
            raise  # a mistake of ours (arguments that cannot be sent), not the broker being away
        _broker_away_until = time.monotonic() + BROKER_AWAY_SECONDS
        logger.warning("Could not hand %s to a worker (%s: %s); the sweep will", task.name, type(error).__name__, error)
        return False
    return True
