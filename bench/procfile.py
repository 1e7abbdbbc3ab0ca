"""The Procfile's processes as a host runs them: each line started with its own command line in a
process group of its own, its output in a log. The load bench and the production-shape test
(tests/attackacrack/test_production_shape.py) both start the system this way."""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def procfile(path: Path = PROJECT / "Procfile") -> dict[str, str]:
    """``name: command`` lines, as Heroku, Dokku, honcho and the systemd units of docs/operating.md read them."""
    lines = (line.split(":", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in lines}


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, {}

    def start(self, name: str, command: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(
            ["/bin/sh", "-c", command], cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def exited(self) -> str | None:
        """The first process that has exited, with its return code and the end of its log."""
        for name, process in self.running.items():
            if process.poll() is not None:
                return f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}"
        return None

    def stop(self) -> None:
        """SIGTERM to every group, time to finish their work, then SIGKILL to what is left (a pool
        child that outlived its parent)."""
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=25)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
