"""How fast the webhook endpoint acknowledges OpenPhone, on PostgreSQL and Redis (target p99 ≤ 50 ms).

    .venv/bin/python bench/webhook_intake.py [--requests 2000]

Each request goes through the whole Django stack in this process (middleware, signature check,
the insert, the Celery enqueue to Redis); network time to the server is not included. One request
in ten repeats an earlier event id, as OpenPhone's retries do. Runs against a fresh database
`attackacrack_bench` and Redis database 14 (flushed before and after).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KEY = base64.b64encode(b"bench-signing-key").decode()


def setup() -> None:
    sys.path.insert(0, str(PROJECT / "bench"))
    from campaign_execution import setup_database

    os.environ["REDIS_URL"] = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/14"
    os.environ["OPENPHONE_WEBHOOK_SIGNING_KEY"] = KEY
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_database()


def signed(payload: dict) -> tuple[bytes, str]:
    raw = json.dumps(payload).encode()
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(base64.b64decode(KEY), timestamp.encode() + b"." + raw, hashlib.sha256).digest()
    return raw, f"hmac;1;{timestamp};{base64.b64encode(digest).decode()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    setup()
    import redis
    from django.conf import settings
    from django.test import Client

    from messaging.models import WebhookEvent

    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.flushdb()
    client = Client()
    timings = []
    for n in range(args.requests):
        event = n - 5 if n % 10 == 9 else n  # every tenth a retry of an earlier event
        payload = {
            "id": f"EV{event:08d}",
            "type": "message.received",
            "data": {"object": {"id": f"AC{event:08d}", "from": "+16175550123", "to": "+16175550100", "body": "Yes"}},
        }
        raw, signature = signed(payload)
        started = time.perf_counter()
        response = client.post(
            "/api/webhooks/openphone", raw, content_type="application/json", HTTP_OPENPHONE_SIGNATURE=signature
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    broker.flushdb()
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(len(timings) * p))]

    stored = WebhookEvent.objects.count()
    print(f"webhook intake, {args.requests} signed deliveries ({stored} distinct events stored)")
    print(f"  p50 {pct(0.50):6.1f} ms   p95 {pct(0.95):6.1f} ms   p99 {pct(0.99):6.1f} ms   max {timings[-1]:6.1f} ms")
    print(f"  mean {statistics.fmean(timings):.1f} ms; target p99 ≤ 50 ms: {'met' if pct(0.99) <= 50 else 'NOT met'}")
    from figures import record

    record("webhook", "acknowledge p99", pct(0.99), "ms", target="≤ 50 ms", met=pct(0.99) <= 50)
    record("webhook", "acknowledge p50", pct(0.50), "ms")


if __name__ == "__main__":
    main()
