"""The `web` process runs one request at a time, in the order they came, after reading each
request's body in full (gunicorn.conf.py, attackacrack/wsgi.py).

gunicorn's threads give a process several connections, so that a client that sends half a body
holds one thread, not the process. But every thread that has its request also runs it: with 3
processes of 4 threads, 12 requests shared 2 cores, and the long ones (a page of conversations)
took longest. Under 20 API clients asking back to back (bench/load.py) half the calls took
170-190 ms and one in a hundred 500 ms; run two at a time, 290-386 ms (docs/operating.md).

So a thread reads its request's body first, however slowly it comes, and then waits its turn:
the process runs one request at a time, and as many requests run at once as there are processes
(WEB_CONCURRENCY, one per core). A body over FILE_UPLOAD_MAX_MEMORY_SIZE waits on disk where
Django keeps large uploads (FILE_UPLOAD_TEMP_DIR), so an import of hundreds of megabytes lands
where the operator made room for it.
"""

import tempfile
import threading
from collections.abc import Callable, Iterable

from django.conf import settings

READ_BYTES = 64 * 1024


class OneRequestAtATime:
    """A WSGI application that runs ``application`` for one request at a time, each request's
    body read before its turn. Waiting threads are let in in the order they came."""

    def __init__(self, application: Callable) -> None:
        self.application = application
        self.turn = threading.Semaphore(1)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH", "")
        if length.isdigit() and int(length) > 0:
            environ["wsgi.input"] = _read_body(environ["wsgi.input"], int(length))
        with self.turn:
            # The answer's bytes are written after the turn: a client that reads slowly waits alone.
            return self.application(environ, start_response)


def _read_body(stream, length: int) -> tempfile.SpooledTemporaryFile:
    """The body's ``length`` bytes as they come (fewer if the client stops sending), from the top."""
    # The request's body from here on: it goes (and its file on disk with it) when the request does.
    body = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    remaining = length
    while remaining and (chunk := stream.read(min(READ_BYTES, remaining))):
        body.write(chunk)
        remaining -= len(chunk)
    body.seek(0)
    return body
