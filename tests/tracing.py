"""What the suite runs untraced by coverage, whose tracer doubles the time of the Python it watches
(on Python 3.11 it is called for every line of every frame, Django's included).

- The suite's own set-up: the run's databases are migrated by ``manage.py migrate`` in a Python
  started with ``unmeasured_environment``: Django's migration machinery and our migration files,
  which coverage omits.
- Tests marked ``no_cover`` (pytest-cov's marker): the migration tests, the state machines, the
  API, CSV and query-string fuzzers and the import's properties. They repeat what quicker tests
  reach; each was marked only once every line and branch it reached was reached by a quicker
  test too, so the coverage figure is the same. They still run and fail as before, and a
  subprocess they start is measured as any other. Mark another only on the same evidence: per-test
  contexts (``--cov-context=test``) show what it alone reaches."""

import os

# What coverage's `patch = ["subprocess"]` (pyproject.toml) puts in the environment: a Python
# started with it is measured.
MEASURE_SUBPROCESSES = "COVERAGE_PROCESS_CONFIG"


def unmeasured_environment() -> dict[str, str]:
    """This process's environment without what makes coverage measure a Python started with it."""
    return {key: value for key, value in os.environ.items() if key != MEASURE_SUBPROCESSES}
