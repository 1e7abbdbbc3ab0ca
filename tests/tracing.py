"""The suite's own set-up, run untraced by coverage: migrating the run's databases executes
Django's migration machinery and our migration files (which coverage omits), and tracing it
makes each process wait half as long again before its first test."""

import contextlib
import os
from collections.abc import Iterator

import coverage

# What coverage's `patch = ["subprocess"]` (pyproject.toml) puts in the environment: a Python
# started with it is measured.
MEASURE_SUBPROCESSES = "COVERAGE_PROCESS_CONFIG"


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """Coverage paused in this process until the block ends (as pytest-cov's ``no_cover`` does
    for a test)."""
    measuring = coverage.Coverage.current()
    if measuring is None:
        yield
        return
    measuring.stop()
    try:
        yield
    finally:
        measuring.start()


def unmeasured_environment() -> dict[str, str]:
    """This process's environment without what makes coverage measure a Python started with it."""
    return {key: value for key, value in os.environ.items() if key != MEASURE_SUBPROCESSES}
