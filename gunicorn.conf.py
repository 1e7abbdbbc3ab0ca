"""gunicorn's settings for the `web` process of the Procfile. PORT and WEB_CONCURRENCY come from the
platform's environment, as before.

Threads, so that a few slow clients cannot take every process. gunicorn's sync worker serves one
request at a time and reads its body in that process: four clients that sent headers and half a body
held all three processes until the 120 s timeout killed them (an API call waited 126 s), and the
next in the queue took the new ones (six on two processes: 371 s). The gthread worker
(gunicorn/workers/gthread.py) accepts in its main loop and gives each connection one of `threads`,
which waits up to 5 s for its first bytes (then hands it back to the main loop for `keepalive`
seconds) and parses the request. attackacrack/wsgi.py then reads the body in that thread, however
slowly it comes, and only then lets the request run, one at a time in each process
(attackacrack/web/one_at_a_time.py). A body that stops coming holds that thread, with no time
limit: `timeout` watches only the main loop, and a thread is never killed.
`worker_connections` equal to `threads` makes a process whose threads are all taken stop accepting,
so the next request goes to a process with a free thread rather than queueing behind stuck ones
(with gunicorn's default of 1,000, six half-sent bodies on 2 processes of 4 threads starved the API
in one try of three). So it takes WEB_CONCURRENCY × threads slow clients (8 by default), not 2, to
stop the site answering: the proxy in front must buffer request bodies.

Two processes by default, one per core of the 2-core machine docs/operating.md sizes: as many
requests run at once as there are processes. 20 API clients asking back to back while 2,000
webhooks arrived (bench/load.py) were answered in 290-386 ms at p99 by two; by three, of 4 threads
each running its request, in 500-526 ms (docs/operating.md has the figures).

Each thread keeps its own PostgreSQL connection (CONN_MAX_AGE), opened when it first serves: a web
process holds up to `threads` connections, a web machine WEB_CONCURRENCY × 4 (8 by default).

The Procfile's `webhooks` process (attackacrack/webhooks_wsgi.py) uses this file too, with its own
port and process count on its command line (WEBHOOKS_PORT, WEBHOOKS_CONCURRENCY): the same slow-client
protection, and a queue of its own, so OpenPhone's deliveries never wait behind API calls
(docs/operating.md, measured by bench/load.py).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
worker_connections = threads
# No keep-alive, as with the sync worker: a kept connection would count against worker_connections.
# A connection that sends nothing for 5 s is closed.
keepalive = 0
# The main loop's heartbeat: a request is never killed by it (see above).
timeout = 30
# On SIGTERM a process finishes what it serves for this long; platforms kill at 30 s (Heroku, Render).
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
