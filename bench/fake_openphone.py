"""A flaky OpenPhone on a local port, with the API's documented shapes, for the drills and
the dispatch bench.

It rate-limits (429 with Retry-After), fails (503), fails after accepting (500: the text is kept),
and answers too late after accepting (the client times out: the text is kept) — the cases that
make a sender lose or duplicate texts. It records every text it accepted, and answers the
`GET /v1/messages` lookups the client makes to find out whether a text went out.
"""

import contextlib
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PHONE_NUMBER_ID = "PNdrill0001"


class FakeOpenPhone:
    def __init__(self, *, from_number: str, slow_seconds: float, seed: int = 7, flaky: bool = True) -> None:
        self.from_number = from_number
        self.slow_seconds = slow_seconds
        self.flaky = flaky
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[dict] = []  # every text OpenPhone would have delivered
        self.outcomes: dict[str, int] = {}
        self.posted_at: list[float] = []  # monotonic time of every send request, for the rate limit
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_POST(self) -> None:
                fake.posted_at.append(time.monotonic())
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                roll = fake.random.random() if fake.flaky else 1.0
                with fake.lock:
                    if roll < 0.10:
                        fake._count("429")
                        return self._json(429, {"message": "Too many requests"}, {"Retry-After": "1"})
                    if roll < 0.15:
                        fake._count("503")
                        return self._json(503, {"message": "Unavailable"})
                    message = {
                        "id": f"AC{len(fake.accepted):08d}",
                        "to": body["to"],
                        "from": body["from"],
                        "text": body["content"],
                        "direction": "outgoing",
                        "status": "queued",
                        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 1)),
                    }
                    fake.accepted.append(message)
                if roll < 0.20:
                    fake._count("500 after accepting")
                    return self._json(500, {"message": "Internal error"})
                if roll < 0.25:
                    fake._count("too slow after accepting")
                    time.sleep(fake.slow_seconds)
                    return self._json(202, {"data": message})
                fake._count("202")
                return self._json(202, {"data": message})

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == "/v1/phone-numbers":
                    return self._json(200, {"data": [{"id": PHONE_NUMBER_ID, "phoneNumber": fake.from_number}]})
                if url.path == "/v1/messages":
                    participants = set(query.get("participants[]", []))
                    with fake.lock:
                        found = [m for m in fake.accepted if participants & set(m["to"])]
                    return self._json(200, {"data": found, "totalItems": len(found)})
                return self._json(404, {"message": "Not found"})

        return Handler
