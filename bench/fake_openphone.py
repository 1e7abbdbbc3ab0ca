"""A flaky OpenPhone on a local port, answering as OpenPhone's published OpenAPI file says
(tests/openphone/contract.py checks every answer below against the file), for the drills, the
dispatch bench and the suite.

It rate-limits (429 with Retry-After, as the file's gateway does), fails before accepting (500),
fails after accepting (500: the text is kept), and answers too late after accepting (the client
times out: the text is kept) — the cases that make a sender lose or duplicate texts. It records
every text it accepted (and any a test has someone send the shop: ``receive``) and answers the
lookups of a reconcile and a catch-up: ``GET /v1/phone-numbers`` (the E.164
number is ``number``) and ``GET /v1/messages`` (``participants`` in form style, ``createdAfter``,
pages of ``maxResults`` linked by ``nextPageToken``). With ``reencode`` it stores the text the
way OpenPhone's smart encoding may (curly apostrophes), so a lookup cannot rely on the body.

The body builders (`message_resource`, `phone_number`, `error_body`) are the one place these
shapes are written; the suite's `responses` fakes use them too.
"""

import contextlib
import datetime as dt
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PHONE_NUMBER_ID = "PNdrill0001"
USER_ID = "USdrill0001"
DOCS = "https://openphone.com/docs"

# The error bodies of the message operations, as the file defines them (code, title, and the
# description some of them require).
MESSAGE_ERRORS = {
    400: ("0206400", "A2P Registration Not Approved", "The organization is not approved for A2P", True),
    401: ("0200401", "Unauthorized", "You are unauthorized to access the message", False),
    402: (
        "0200402",
        "Not Enough Credits",
        "The organization does not have enough prepaid credits to send the message",
        True,
    ),
    403: ("0202403", "Not Phone Number User", "You are forbidden to access the message", True),
    404: ("0200404", "Not Found", "Message not found", False),
    500: ("0201500", "Unknown", "An unknown error occurred", False),
}
# Descriptions the file fixes where they differ from the title.
_DESCRIPTIONS = {402: "The organization does not have enough prepaid credits to send the message"}


def iso(moment: dt.datetime) -> str:
    # Written here, not imported from the client: the fake stands for OpenPhone, not for our code.
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_resource(
    *,
    message_id: str,
    from_number: str,
    to_number: str,
    text: str,
    created_at: dt.datetime,
    direction: str = "outgoing",
    status: str = "queued",
) -> dict:
    """A message as POST /v1/messages (202), GET /v1/messages and GET /v1/messages/{id} return it."""
    return {
        "id": message_id,
        "to": [to_number],
        "from": from_number,
        "text": text,
        "phoneNumberId": PHONE_NUMBER_ID,
        "direction": direction,
        "userId": USER_ID,
        "status": status,
        "createdAt": iso(created_at),
        "updatedAt": iso(created_at),
    }


def phone_number(*, number: str, number_id: str = PHONE_NUMBER_ID) -> dict:
    """One entry of GET /v1/phone-numbers: the E.164 form is ``number``."""
    return {
        "id": number_id,
        "groupId": "GRshop0001",
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
        "name": "Shop line",
        "number": number,
        "formattedNumber": number,
        "forward": None,
        "portRequestId": None,
        "portingStatus": None,
        "symbol": None,
        "users": [
            {
                "email": "owner@example.com",
                "firstName": "Pat",
                "groupId": "GRshop0001",
                "id": USER_ID,
                "lastName": "Owner",
                "role": "owner",
            }
        ],
        "restrictions": {
            "messaging": {"CA": "unrestricted", "US": "unrestricted", "Intl": "restricted"},
            "calling": {"CA": "unrestricted", "US": "unrestricted", "Intl": "restricted"},
        },
    }


def error_body(status: int, message: str | None = None) -> dict:
    """An error answer of the message operations (send, list, get), with OpenPhone's code."""
    code, title, default_message, has_description = MESSAGE_ERRORS[status]
    body = {"message": message or default_message, "code": code, "status": status, "docs": DOCS, "title": title}
    if has_description:
        body["description"] = _DESCRIPTIONS.get(status, title)
    return body


def gateway_body(message: str = "API rate limit exceeded") -> dict:
    """What the gateway in front of the API answers (429, 502-504): Kong's ``{"message"}``."""
    return {"message": message}


class FakeOpenPhone:
    OUTCOMES = ("202", "429", "500 before accepting", "500 after accepting", "too slow after accepting")

    def __init__(
        self,
        *,
        from_number: str,
        slow_seconds: float,
        seed: int = 7,
        flaky: bool = True,
        reencode: bool = False,
        script: list[str] | None = None,
        refused_numbers: frozenset[str] = frozenset(),
    ) -> None:
        self.from_number = from_number
        self.slow_seconds = slow_seconds
        self.flaky = flaky
        self.reencode = reencode
        self.script = list(script or [])  # outcomes to give in order, then 202s
        # Recipients OpenPhone refuses every time (a dead or invalid number): 404, final.
        self.refused_numbers = refused_numbers
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[dict] = []  # every text OpenPhone would have delivered
        self.received: list[dict] = []  # every text someone sent the shop
        self.outcomes: dict[str, int] = {}
        self.posted_at: list[float] = []  # monotonic time of every send request, for the rate limit
        self.listed_at: list[float] = []  # and of every listing request (reconciles, catch-ups)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    def receive(self, *, sender: str, text: str) -> dict:
        """A text someone sends the shop: OpenPhone keeps it, whether or not a webhook tells us."""
        with self.lock:
            message = message_resource(
                message_id=f"ACin{len(self.received):06d}",
                from_number=sender,
                to_number=self.from_number,
                text=text,
                created_at=dt.datetime.now(dt.UTC),
                direction="incoming",
                status="delivered",
            )
            self.received.append(message)
        return message

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _next_outcome(self) -> str:
        if self.script:
            return self.script.pop(0)
        roll = self.random.random() if self.flaky else 1.0
        for outcome, below in zip(self.OUTCOMES[1:], (0.10, 0.15, 0.20, 0.25), strict=True):
            if roll < below:
                return outcome
        return "202"

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
                if urlparse(self.path).path != "/v1/messages":
                    return self._json(404, error_body(404))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    if body["to"][0] in fake.refused_numbers:
                        fake._count("refused")
                        return self._json(404, error_body(404, "Invalid 'to' number"))
                    outcome = fake._next_outcome()
                    fake._count(outcome)
                    if outcome == "429":
                        return self._json(429, gateway_body(), {"Retry-After": "1"})
                    if outcome == "500 before accepting":
                        return self._json(500, error_body(500))
                    text = body["content"].replace("'", "\u2019") if fake.reencode else body["content"]
                    message = message_resource(
                        message_id=f"AC{len(fake.accepted):08d}",
                        from_number=fake.from_number,
                        to_number=body["to"][0],
                        text=text,
                        created_at=dt.datetime.now(dt.UTC),
                    )
                    fake.accepted.append(message)
                if outcome == "500 after accepting":
                    return self._json(500, error_body(500))
                if outcome == "too slow after accepting":
                    time.sleep(fake.slow_seconds)
                return self._json(202, {"data": message})

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == "/v1/phone-numbers":
                    return self._json(200, {"data": [phone_number(number=fake.from_number)]})
                if url.path == "/v1/messages":
                    fake.listed_at.append(time.monotonic())
                    return self._list_messages(query)
                return self._json(404, error_body(404))

            def _list_messages(self, query: dict[str, list[str]]) -> None:
                participants = set(query.get("participants", []))
                if not participants or query.get("phoneNumberId") != [PHONE_NUMBER_ID]:
                    # What the live API does with `participants[]=` or a wrong number id.
                    return self._json(400, error_body(400, "participants and phoneNumberId are required"))
                after = query.get("createdAfter", [""])[0]
                page_size = int(query.get("maxResults", ["10"])[0])
                start = int(query.get("pageToken", ["0"])[0])
                with fake.lock:
                    found = [
                        message
                        for message in [*fake.accepted, *fake.received]
                        if participants & {message["from"], *message["to"]}
                        and (not after or message["createdAt"] >= after)
                    ]
                page = found[start : start + page_size]
                more = start + page_size < len(found)
                return self._json(
                    200,
                    {"data": page, "totalItems": len(found), "nextPageToken": str(start + page_size) if more else None},
                )

        return Handler
