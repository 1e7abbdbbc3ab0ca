"""`make run` on a fresh copy of the project with no environment variables: the embedded default
(SQLite, the filesystem broker, the console SMS backend) keeps working, web, worker and beat.

The copy holds exactly what a clone would (tracked files plus new files git does not ignore), so
a file the project forgot to commit, or an install step it forgot to declare, fails here."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 300  # a new virtualenv is installed first


def copy_of_project(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = PROJECT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bare_environment(port: int) -> dict[str, str]:
    """Nothing of the project's configuration: only what the machine needs to run programs
    (and pip's own settings, which say where this machine's packages come from)."""
    machine = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    pip = {key: value for key, value in os.environ.items() if key.startswith("PIP_")}
    return machine | pip | {"PORT": str(port)}


def wait_for_health(base_url: str, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`make run` exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            response = requests.get(f"{base_url}/healthz", timeout=2)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"/healthz did not answer 200 within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def wait_until(condition, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.mark.long
def test_make_run_on_a_fresh_copy_with_no_environment(tmp_path):
    project = copy_of_project(tmp_path / "attackacrack")
    port = free_port()
    environment = bare_environment(port)
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=project,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        health = wait_for_health(base_url, process, log)
        assert health == {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "webhooks": "ok",
            "sending": "ok",
            "webhook_keys": "ok",
            "webhook_events": "ok",
            "imports": "ok",
            "texts": "ok",
        }

        token = subprocess.run(
            [str(project / ".venv/bin/python"), "manage.py", "create_api_token", "owner"],
            cwd=project,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"

        created = api.post(
            f"{base_url}/api/campaigns",
            json={"name": "January Promo", "template_a": "Hi {name}, special offer!"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        campaign = created.json()
        assert (campaign["name"], campaign["status"]) == ("January Promo", "draft")
        assert api.get(f"{base_url}/api/campaigns/{campaign['id']}", timeout=10).json()["name"] == "January Promo"

        # The worker and beat run too: a staff text is queued by the web process, picked up by
        # beat's dispatch tick, sent by the worker through the console backend, and reported
        # delivered by it through the webhook intake, as OpenPhone's report would be.
        contact = api.post(
            f"{base_url}/api/contacts", json={"phone": "(617) 555-0142", "first_name": "Dana"}, timeout=10
        )
        assert contact.status_code == 201, contact.text
        text = api.post(
            f"{base_url}/api/contacts/{contact.json()['id']}/messages", json={"body": "Checking in"}, timeout=10
        )
        assert text.status_code == 202, text.text
        message_url = f"{base_url}/api/messages/{text.json()['id']}"
        wait_until(
            lambda: api.get(message_url, timeout=10).json()["status"] == "delivered",
            60,
            "the staff text was not sent by the worker and reported delivered",
            log,
        )
        assert "To: +16175550142" in log.read_text()

        # A reply (current webhooks) and a STOP (legacy webhooks), signed with the local keys the
        # embedded defaults configure: the contact is opted out and confirmed.
        for words, system in (("Yes, how much?", "current"), ("STOP", "legacy")):
            subprocess.run(
                [str(project / ".venv/bin/python"), "manage.py", "simulate_inbound", "(617) 555-0142", words,
                 "--format", system, "--url", f"{base_url}/api/webhooks/openphone"],
                cwd=project, env=environment, capture_output=True, text=True, check=True,
            )  # fmt: skip
        contact_url = f"{base_url}/api/contacts/{contact.json()['id']}"
        wait_until(lambda: api.get(contact_url, timeout=10).json()["opted_out"], 60, "STOP did not opt out", log)
        wait_until(lambda: "You've been unsubscribed" in log.read_text(), 60, "no opt-out confirmation", log)
        thread = api.get(f"{contact_url}/messages", timeout=10).json()["results"]
        assert [m["body"] for m in thread if m["direction"] == "inbound"] == ["STOP", "Yes, how much?"]

        # All of it was stored in the embedded SQLite database of the copy.
        with sqlite3.connect(project / "var" / "attackacrack.sqlite3") as database:
            assert database.execute("SELECT name FROM campaigns_campaign").fetchall() == [("January Promo",)]
            delivered = "SELECT status FROM messaging_webhookevent WHERE event_type = 'message.delivered'"
            assert ("processed",) in database.execute(delivered).fetchall()
    finally:
        # Ctrl-C, as a developer stops it: every process of the group gets SIGINT.
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"`make run` did not stop on Ctrl-C within 30 s:\n{log.read_text()[-3000:]}")
