"""The web process's turn (attackacrack/web/one_at_a_time.py): one request runs at a time, in
the order they came, each after its body has come in full. Real threads and a real pipe for
the body, as gunicorn's threads read from a socket; the production-shape tests run it in
gunicorn from the Procfile."""

import io
import os
import threading
import time

from django.test import override_settings

from attackacrack.web.one_at_a_time import OneRequestAtATime


def request(body: bytes = b"", *, stream=None) -> dict:
    environ = {"REQUEST_METHOD": "POST" if body or stream else "GET", "PATH_INFO": "/api/contacts"}
    if body or stream:
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = stream or io.BytesIO(body)
    return environ


def answer(application, environ: dict) -> bytes:
    return b"".join(application(environ, lambda status, headers: None))


class Recorder:
    """A WSGI application that notes who runs, and how many at once, and answers with the body it read."""

    def __init__(self, hold: float = 0.0) -> None:
        self.hold, self.running, self.most_at_once, self.order = hold, 0, 0, []
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.order.append(environ.get("HTTP_X_NAME"))
        time.sleep(self.hold)
        body = environ["wsgi.input"].read() if "wsgi.input" in environ else b""
        with self.lock:
            self.running -= 1
        start_response("200 OK", [])
        return [body]


def test_requests_run_one_at_a_time_and_each_is_answered():
    recorder = Recorder(hold=0.02)
    application = OneRequestAtATime(recorder)
    answers = {}

    def ask(n: int) -> None:
        answers[n] = answer(application, request(f"body {n}".encode()))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert recorder.most_at_once == 1
    assert answers == {n: f"body {n}".encode() for n in range(6)}


def test_a_body_still_coming_does_not_hold_the_turn():
    """A client that sent half its body keeps its own thread reading; the next request runs and is
    answered meanwhile, and the first runs with its whole body once the rest arrives."""
    recorder = Recorder()
    application = OneRequestAtATime(recorder)
    body = b'{"type": "message.received", "data": "' + b"x" * 1000 + b'"}'
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as stream, open(write_end, "wb", buffering=0) as client:
        client.write(body[: len(body) // 2])
        slow = {}
        reading = threading.Thread(target=lambda: slow.update(answer=answer(application, request(body, stream=stream))))
        reading.start()
        time.sleep(0.1)

        meanwhile = threading.Thread(target=answer, args=(application, request()))
        meanwhile.start()
        meanwhile.join(timeout=2)
        assert not meanwhile.is_alive(), "a request waited for a body still coming"
        assert recorder.order == [None] and reading.is_alive()

        client.write(body[len(body) // 2 :])
        reading.join(timeout=5)

    assert slow["answer"] == body
    assert len(recorder.order) == 2


def test_waiting_requests_run_in_the_order_they_came():
    release = threading.Event()

    def first_holds_the_turn(environ, start_response):
        if environ.get("HTTP_X_NAME") == "first":
            release.wait(timeout=5)
        return recorder(environ, start_response)

    recorder = Recorder()
    application = OneRequestAtATime(first_holds_the_turn)
    threads = []
    for name in ["first", "second", "third", "fourth", "fifth"]:
        environ = request() | {"HTTP_X_NAME": name}
        threads.append(threading.Thread(target=answer, args=(application, environ)))
        threads[-1].start()
        time.sleep(0.05)  # each is waiting before the next comes
    release.set()
    for thread in threads:
        thread.join(timeout=5)

    assert recorder.order == ["first", "second", "third", "fourth", "fifth"]


def test_a_large_body_waits_on_disk_where_uploads_go_and_arrives_whole(tmp_path):
    """Past FILE_UPLOAD_MAX_MEMORY_SIZE the body is in a file of FILE_UPLOAD_TEMP_DIR (an unnamed
    one, as Django's: the folder's entry is gone, its descriptor names it)."""
    where = []

    def note_where(environ, start_response):
        where.append(os.readlink(f"/proc/self/fd/{environ['wsgi.input'].fileno()}"))
        return Recorder()(environ, start_response)

    body = bytes(range(256)) * 1000  # 256,000 bytes: four reads, past the memory size
    with override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=1000, FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        assert answer(OneRequestAtATime(note_where), request(body)) == body

    assert where[0].startswith(f"{tmp_path}/")


def test_a_body_cut_short_is_passed_on_as_it_came():
    """The client said 100 bytes and sent 40, then closed: Django reads the 40, as it would have."""
    recorder = Recorder()
    environ = request(b"x" * 100)
    environ["wsgi.input"] = io.BytesIO(b"x" * 40)

    assert answer(OneRequestAtATime(recorder), environ) == b"x" * 40
