"""The production shape, run as a host would run it: every process started from the production
Procfile with DEBUG off, on PostgreSQL and Redis, behind an HTTPS proxy (played by this test's
X-Forwarded-Proto header), texting through OpenPhone (the local fake that follows its published
file). Two workers with different host names, as two machines would run them, share the texts.
"""

import datetime as dt
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from django.conf import settings

from bench.fake_openphone import FakeOpenPhone
from bench.procfile import Processes, procfile
from messaging import webhook_payloads
from tests import shared_servers
from tests.contacts.csv_files import hundred_contacts

PROJECT = Path(__file__).resolve().parents[2]
SHOP = "+16175550100"
HTTPS = {"X-Forwarded-Proto": "https"}  # what the proxy in front of the web process adds
TEXTS = 100
# Half-sent requests held open at once: three per web process (WEB_CONCURRENCY is 2 here).
HALF_SENT = 6

# Processes started for the module (its fixture), then tests against them: kept together, started first.
pytestmark = pytest.mark.long


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(name: str) -> str:
    """The suite's PostgreSQL server, another database on it."""
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/attackacrack").rsplit("/", 1)[0]
    return f"{server}/{name}"


def production_environment(*, var: Path, port: int, openphone_url: str, database_url: str, redis_prefix: str) -> dict:
    rules = var / "rules.json"
    rules.write_text('{"default_hours": ["00:00", "23:59:59"], "state_hours": {}, "state_caps": {}}')
    machine = {key: value for key, value in os.environ.items() if key in ("HOME", "LANG")}
    return machine | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # gunicorn, celery, python
        "PORT": str(port),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
        "BEHIND_HTTPS_PROXY": "true",
        "DATABASE_URL": database_url,
        # The suite's Redis database, under this run's own prefix: never flushed, others use it too.
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": redis_prefix,
        "VAR_DIR": str(var),
        "XDG_RUNTIME_DIR": str(var),  # gunicorn's control socket, else ~/.gunicorn/ that other runs share
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "SMS_BACKEND": "messaging.backends.openphone.SMSBackend",
        "OPENPHONE_API_KEY": "production-shape-key",
        "OPENPHONE_API_URL": openphone_url,
        "OPENPHONE_FROM_NUMBER": SHOP,
        "OPENPHONE_WEBHOOK_SECRET": "whsec_" + "cHJvZHVjdGlvbi1zaGFwZS13ZWJob29r",
        # Open every hour for this run (the workers read the real clock), texts as fast as allowed.
        "BUSINESS_DAYS": "0,1,2,3,4,5,6",
        "BUSINESS_OPENS": "00:00",
        "BUSINESS_CLOSES": "23:59:59",
        "RECIPIENT_RULES_FILE": str(rules),
        "CAMPAIGN_PACE_BATCH": "1200",
        "CAMPAIGN_PACE_MINUTES": "1",
    }


def wait_until(condition, seconds: float, what: str, processes: Processes):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if exited := processes.exited():
            pytest.fail(exited)
        if result := condition():
            return result
        time.sleep(0.5)
    logs = "\n".join(f"--- {name}\n{processes.log(name)[-2000:]}" for name in processes.running)
    pytest.fail(f"{what} within {seconds} s\n{logs}")


def manage(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    database, redis_prefix = shared_servers.database_name("_production"), f"{settings.REDIS_KEY_PREFIX}_production"
    with shared_servers.server() as db:
        db.execute(f'CREATE DATABASE "{database}"')
    fake = FakeOpenPhone(from_number=SHOP, slow_seconds=0, flaky=False)
    var = tmp_path_factory.mktemp("production")
    port, webhooks_port = free_port(), free_port()
    env = production_environment(
        var=var, port=port, openphone_url=fake.url, database_url=database_url(database), redis_prefix=redis_prefix
    ) | {"WEBHOOKS_PORT": str(webhooks_port), "WEBHOOKS_CONCURRENCY": "1"}
    commands = procfile()
    release = subprocess.run(
        ["/bin/sh", "-c", commands["release"]], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
    )
    assert release.returncode == 0, release.stdout + release.stderr
    processes = Processes(env, var)
    base_url, webhooks_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{webhooks_port}"

    def healthy():
        try:
            return all(requests.get(f"{url}/healthz", timeout=5).status_code == 200 for url in (base_url, webhooks_url))
        except requests.RequestException:
            return False

    try:
        processes.start("web", commands["web"])
        processes.start("webhooks", commands["webhooks"])
        processes.start("beat", commands["beat"])
        # Two machines: the same worker line, each under its own host name.
        processes.start("worker-a", commands["worker"] + " --hostname a@%h")
        processes.start("worker-b", commands["worker"] + " --hostname b@%h")
        wait_until(healthy, 60, "the web process did not answer /healthz", processes)
        yield {
            "url": base_url, "webhooks_url": webhooks_url, "env": env, "fake": fake, "processes": processes,
            "release": release.stdout,
        }  # fmt: skip
    finally:
        processes.stop()
        fake.stop()
        for name in (database, shared_servers.database_name("_restored")):
            shared_servers.drop_database(name)
        shared_servers.delete_redis_keys(redis_prefix)


def test_the_release_step_migrates_and_collects_hashed_static_files(production):
    assert "Applying" in production["release"] or "No migrations to apply" in production["release"]
    assert re.search(r"\d+ static files? copied", production["release"])


def test_check_deploy_is_clean_under_the_production_environment(production):
    result = manage(production["env"], "check", "--deploy", "--fail-level", "DEBUG")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_gunicorn_serves_the_login_page_with_the_browser_protections(production):
    page = requests.get(f"{production['url']}/login/", headers=HTTPS, timeout=5)

    assert page.status_code == 200 and "Log in" in page.text
    assert page.headers["Server"].startswith("gunicorn")
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert {"no-store", "private"} <= {part.strip() for part in page.headers["Cache-Control"].split(",")}
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "csrftoken" in cookie


def test_plain_http_is_sent_to_https_except_the_health_check(production):
    login = requests.get(f"{production['url']}/login/", timeout=5, allow_redirects=False)
    health = requests.get(f"{production['url']}/healthz", timeout=5, allow_redirects=False)

    assert login.status_code == 301 and login.headers["Location"].startswith("https://")
    assert health.status_code == 200


def test_static_files_are_served_from_hashed_names_cached_for_ever(production):
    page = requests.get(f"{production['url']}/login/", headers=HTTPS, timeout=5).text
    [stylesheet] = re.findall(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)

    response = requests.get(production["url"] + stylesheet, headers=HTTPS, timeout=5)

    assert response.status_code == 200 and "text/css" in response.headers["Content-Type"]
    assert "immutable" in response.headers["Cache-Control"]
    assert "progress.bar" in response.text


def half_sent_request(url: str) -> socket.socket:
    """A client that sends a POST's headers and half the body they announce, then nothing."""
    address = urlsplit(url)
    client = socket.create_connection((address.hostname, address.port), timeout=5)
    body = b'{"type": "message.received", "data": "' + b"x" * 1000 + b'"}'
    client.sendall(
        b"POST /api/webhooks/openphone HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body[: len(body) // 2])
    )
    return client


def waits_unanswered(client: socket.socket) -> bool:
    """Still connected, and nothing was answered: the server is still reading the body."""
    client.setblocking(False)
    try:
        client.recv(1, socket.MSG_PEEK)  # an answer's first byte, or b"" if the server closed it
    except BlockingIOError:
        return True
    return False


def test_half_sent_requests_do_not_hold_up_the_api(production):
    """Slow clients (a phone on a bad network, or someone doing it on purpose) must not take every
    web process: with gunicorn's sync workers two half-sent bodies held both processes until the
    120 s timeout killed them, and the next ones in the queue took the new processes."""
    token = manage(production["env"], "create_api_token", "reader").stdout.strip()
    url = production["url"]
    slow_clients = [half_sent_request(url) for _ in range(HALF_SENT)]
    try:
        time.sleep(1)  # each has reached Django, which is waiting for the rest of its body
        started = time.monotonic()
        answer = requests.get(f"{url}/api/campaigns", headers={"Authorization": f"Bearer {token}", **HTTPS}, timeout=30)
        took = time.monotonic() - started

        assert answer.status_code == 200, answer.text
        assert took < 5, f"the API answered after {took:.1f} s"
        assert all(waits_unanswered(client) for client in slow_clients)
    finally:
        for client in slow_clients:
            client.close()


def test_the_webhooks_process_stores_openphones_deliveries_and_refuses_anything_else(production):
    """The proxy sends /api/webhooks/ to the `webhooks` process (docs/operating.md): it stores a
    signed delivery, and a wrong rule that sends it an API call is answered 404."""
    now = dt.datetime.now(dt.UTC)
    body = json.dumps(
        webhook_payloads.message_event(
            "message.received",
            system=webhook_payloads.CURRENT,
            sender="+16175550199",
            recipient=SHOP,
            text="Yes, how much?",
            at=now,
            event_id="EVproduction",
        )  # fmt: skip
    ).encode()
    headers = webhook_payloads.signed_headers(
        body, system=webhook_payloads.CURRENT, key=production["env"]["OPENPHONE_WEBHOOK_SECRET"], at=now
    )
    url = production["webhooks_url"]

    stored = requests.post(f"{url}/api/webhooks/openphone", data=body, headers={**headers, **HTTPS}, timeout=10)
    elsewhere = requests.get(f"{url}/api/campaigns", headers=HTTPS, timeout=10)

    assert stored.status_code == 200, stored.text
    assert stored.json() == {"received": True, "event_id": "EVproduction", "duplicate": False}
    assert elsewhere.status_code == 404 and elsewhere.json()["detail"][0]["type"] == "not_found"
    with psycopg.connect(production["env"]["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        rows = db.execute("SELECT raw_body FROM messaging_webhookevent WHERE event_id = 'EVproduction'").fetchall()
    assert [bytes(row[0]) for row in rows] == [body]


def test_the_api_starts_a_campaign_and_two_workers_text_everyone_once(production):
    token = manage(production["env"], "create_api_token", "owner", "--role", "owner").stdout.strip()
    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {token}", **HTTPS})
    url, fake, processes = production["url"], production["fake"], production["processes"]

    campaign = api.post(f"{url}/api/campaigns", json={"name": "Spring", "template_a": "Hi {first_name}"}, timeout=10)
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    upload = api.post(
        f"{url}/api/campaigns/{campaign_id}/upload", files={"file": ("list.csv", hundred_contacts())}, timeout=60
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["imported"] == TEXTS
    started = api.post(f"{url}/api/campaigns/{campaign_id}/start", timeout=30)
    assert started.status_code == 200, started.text

    wait_until(lambda: len(fake.accepted) >= TEXTS, 180, f"OpenPhone did not receive {TEXTS} texts", processes)
    time.sleep(12)  # two more dispatch ticks: nothing may go out twice

    recipients = [text["to"][0] for text in fake.accepted]
    assert len(recipients) == TEXTS and len(set(recipients)) == TEXTS
    with psycopg.connect(production["env"]["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        sent, distinct = db.execute(
            "SELECT count(*), count(DISTINCT contact_id) FROM messaging_message "
            "WHERE campaign_id = %s AND status = 'sent'",
            [campaign_id],
        ).fetchone()
    assert sent == distinct == TEXTS
    for worker in ("worker-a", "worker-b"):
        log = processes.log(worker)
        assert re.search(rf"\b{worker[-1]}@\S+ ready", log), log[-2000:]
        assert "deliver_messages" in log and "received" in log, f"{worker} took no texts:\n{log[-2000:]}"


def test_a_backup_restores_into_an_empty_database_with_everything_in_it(production, tmp_path):
    restored = shared_servers.database_name("_restored")
    restored_url = database_url(restored)
    backup = tmp_path / "attackacrack.dump"
    with shared_servers.server() as db:
        db.execute(f'CREATE DATABASE "{restored}"')
    tables = ["contacts_contact", "campaigns_campaign", "campaigns_campaignsend", "messaging_message", "auth_user"]
    # Something of each kind to back up, whichever of this module's tests ran before (or elsewhere).
    listed = tmp_path / "list.csv"
    listed.write_bytes(hundred_contacts())
    for arguments in (["create_api_token", "backup-owner"], ["import_contacts", str(listed)]):
        made = manage(production["env"], *arguments)
        assert made.returncode == 0, made.stdout + made.stderr

    def counts(url: str) -> dict[str, int]:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
            return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}

    env = {**os.environ, "DATABASE_URL": production["env"]["DATABASE_URL"]}
    subprocess.run([PROJECT / "scripts" / "backup-database", backup], env=env, check=True, capture_output=True)
    subprocess.run(
        [PROJECT / "scripts" / "restore-database", backup],
        env={**env, "DATABASE_URL": restored_url},
        check=True,
        capture_output=True,
    )

    original = counts(production["env"]["DATABASE_URL"])
    assert original["contacts_contact"] > 0 and original["auth_user"] > 0
    assert counts(restored_url) == original
    migrated = manage({**production["env"], "DATABASE_URL": restored_url}, "migrate", "--check")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr  # the schema came back whole
