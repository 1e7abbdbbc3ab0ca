"""The two client pools of bench/load.py, each run in a process of its own so that neither's
Python time shows in the other's figures: staff's API clients (back to back, a bearer token
each) and OpenPhone's webhook deliveries (signed, spread over the run, some delivered again).

Each returns a list of ``(kind, started, milliseconds, outcome)``: ``started`` in seconds from
the start of the run, ``outcome`` the HTTP status, or ``timeout`` / ``connection error``.
"""

import contextlib
import datetime as dt
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

TIMEOUT_SECONDS = 10
# The proxy in front of gunicorn ends HTTPS and says so; without it a DEBUG=false server redirects.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
SHOP = "+16175550100"


def _play_a_remote_machine() -> None:
    """The clients stand in for other machines (staff's laptops, OpenPhone): raised above the
    servers they load, so a wait for this machine's CPU is not counted as the server's time."""
    with contextlib.suppress(OSError):  # not root: the figures then include some of the clients' own waits
        os.setpriority(os.PRIO_PROCESS, 0, -5)


def timed_request(session: requests.Session, method: str, url: str, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    try:
        response = session.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
        outcome: object = response.status_code
        response.content  # noqa: B018 - the whole answer, as a client reads it
    except requests.Timeout:
        outcome = "timeout"
    except requests.ConnectionError:
        outcome = "connection error"
    return (time.perf_counter() - started) * 1000, outcome


def api_requests(*, contacts: int, first_contact_id: int, campaign_id: int) -> dict[str, callable]:
    """What staff's API clients ask for, each a function of a random number generator: the
    paths of bench/pages_and_api.py, on the contacts bench/pages_and_api.py seeds."""

    def someone(rng: random.Random) -> int:
        return rng.randint(1, contacts)

    return {
        "list contacts": lambda rng: "/api/contacts",
        "search name": lambda rng: f"/api/contacts?q=Owner{someone(rng)}",
        "search street": lambda rng: f"/api/contacts?q={someone(rng)}+Elm+St",
        "search phone": lambda rng: "/api/contacts?q=617-{:03d}-{:04d}".format(*divmod(2000000 + someone(rng), 10000)),
        "list conversations": lambda rng: "/api/conversations",
        "list messages": lambda rng: "/api/messages",
        "contact's messages": lambda rng: f"/api/contacts/{first_contact_id + someone(rng) - 1}/messages",
        "campaign members": lambda rng: f"/api/campaigns/{campaign_id}/members",
    }


def run_api_clients(*, base_url: str, tokens: list[str], seconds: float, start_at: float, **paths) -> list[tuple]:
    """One thread per token, each asking for a random kind of list, back to back, for ``seconds``."""
    _play_a_remote_machine()
    kinds = api_requests(**paths)
    results: list[tuple] = []
    lock = threading.Lock()

    def client(index: int, token: str) -> None:
        rng = random.Random(index)
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", **PROXY_HEADERS})
        mine = []
        while (now := time.time()) < start_at + seconds:
            kind = rng.choice(list(kinds))
            milliseconds, outcome = timed_request(session, "GET", base_url + kinds[kind](rng))
            mine.append((kind, now - start_at, milliseconds, outcome))
        with lock:
            results.extend(mine)

    time.sleep(max(0.0, start_at - time.time()))
    threads = [threading.Thread(target=client, args=(n, token)) for n, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def deliveries(*, count: int, contacts: int, outbound_ids: list[str], run: str) -> list[dict]:
    """``count`` deliveries: two in three a text received from a seeded contact (or, one in
    twenty of those, a stranger), one in three a delivery report for a text the shop sent; half
    in OpenPhone's legacy format, half in its current one; one in ten an earlier event
    delivered again (the same body and delivery id, as OpenPhone's retries are)."""
    from messaging import webhook_payloads

    rng = random.Random(40)
    now = dt.datetime.now(dt.UTC)
    planned: list[dict] = []
    for n in range(count):
        if n % 10 == 9:
            planned.append(planned[n - 1 - rng.randrange(min(n, 50) - 1)] | {"retry": True})
            continue
        system = webhook_payloads.CURRENT if n % 2 else webhook_payloads.LEGACY
        common = {"system": system, "recipient": SHOP, "at": now, "event_id": f"EV{run}{n:06d}"}
        if n % 3 == 2:
            kind, message_id = "message.delivered", outbound_ids[n % len(outbound_ids)]
            sender = SHOP
            payload = webhook_payloads.message_event(
                kind, sender=sender, text="Hi Pat", direction="outgoing", status="delivered",
                message_id=message_id, **common,
            )  # fmt: skip
        else:
            kind, message_id = "message.received", f"AC{run}{n:06d}"
            stranger = n % 20 == 0
            sender = f"+1781{3000000 + n:07d}" if stranger else f"+1617{2000000 + rng.randint(1, contacts):07d}"
            payload = webhook_payloads.message_event(
                kind, sender=sender, text="Yes, how much for the crack?", message_id=message_id, **common
            )
        planned.append(
            {"type": kind, "system": system, "event_id": common["event_id"], "message_id": message_id,
             "body": json.dumps(payload).encode(), "webhook_id": f"msg_{run}{n:06d}", "retry": False}
        )  # fmt: skip
    return planned


def run_webhooks(
    *, url: str, planned: list[dict], keys: dict[str, str], seconds: float, start_at: float
) -> list[tuple]:
    """Each delivery at its own moment, evenly spread over ``seconds`` (as events arrive, whether
    or not earlier ones have been answered), signed when it is sent, from a pool of 32 threads."""
    from messaging import webhook_payloads

    _play_a_remote_machine()
    sessions = threading.local()
    every = seconds / max(1, len(planned))

    def deliver(index: int) -> tuple:
        delivery = planned[index]
        due = start_at + index * every
        time.sleep(max(0.0, due - time.time()))
        late = time.time() - due  # a pool too small for the server's pace would show here
        at = dt.datetime.now(dt.UTC)
        headers = webhook_payloads.signed_headers(
            delivery["body"], system=delivery["system"], key=keys[delivery["system"]], at=at,
            webhook_id=delivery["webhook_id"],
        )  # fmt: skip
        headers |= {"Content-Type": "application/json", **PROXY_HEADERS}
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        milliseconds, outcome = timed_request(sessions.session, "POST", url, data=delivery["body"], headers=headers)
        kind = "retry" if delivery["retry"] else delivery["type"]
        return (kind, due - start_at, milliseconds, outcome, late)

    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(deliver, range(len(planned))))
