"""The suite's settings: the project's own, with this run's name on the servers it shares.

Two runs of the suite on one PostgreSQL and one Redis (two clones, two engineers, CI beside a
developer) must not meet. Each run creates its own test databases (named in tests/conftest.py)
and every key it writes to Redis starts with its own ``REDIS_KEY_PREFIX``: Celery's queues, from
which two runs' workers would take each other's tasks, the API's request counts and OpenPhone's
rate-limit window. The prefix goes through the environment, so the processes the suite starts
inherit it. pytest-django loads this module before anything else (pyproject.toml).

A process that plays `make run` or production sets DJANGO_SETTINGS_MODULE=attackacrack.settings:
importing the project's settings from here runs `attackacrack/celery.py`, which reads the broker
before this module is whole, so it would not make the filesystem broker's folders.
"""

import datetime as dt
import os

# When the run started (UTC) and its process: what a crashed run left behind is recognised by its
# name, and dropped once it is clearly old (tests/shared_servers.py). Processes the suite starts
# inherit the name.
TEST_RUN = os.environ.setdefault("ATTACKACRACK_TEST_RUN", f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}_{os.getpid()}")
# `make test` runs the suite in parallel processes (pytest-xdist's gw0, gw1 …), each started with
# the run's name: each takes a name of its own, so each has its own databases, Redis keys and Celery
# queues, and a worker thread of one never takes another's tasks.
if (worker := os.environ.get("PYTEST_XDIST_WORKER")) and not TEST_RUN.endswith(f"_{worker}"):
    TEST_RUN = os.environ["ATTACKACRACK_TEST_RUN"] = f"{TEST_RUN}_{worker}"
# Set, not defaulted: a prefix from the developer's shell may be their `make run`'s, whose keys
# the suite would delete at its end.
os.environ["REDIS_KEY_PREFIX"] = f"attackacrack_test_{TEST_RUN}"

from attackacrack.settings import *  # noqa: E402, F403

# The run's databases are dropped at its end: none of their commits needs to wait for the disk
# (a crash loses at most the last moments of a run that is lost anyway). Commits are many here:
# each test of a real worker, a live server or a migration commits as production does.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = f"{_options.get('options', '')} -c synchronous_commit=off".strip()
