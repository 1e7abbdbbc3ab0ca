"""The `webhooks` process's WSGI application (Procfile): the project, answering only OpenPhone's
webhook endpoint and the health check.

The proxy sends /api/webhooks/ to this process, so staff's API calls never take its threads or a
place in its queue (docs/operating.md, measured by bench/load.py). Anything else sent here is
answered 404 before Django sees it: a proxy rule that sends it more than the webhooks shows at
once, instead of quietly letting API calls in. The web process serves the webhooks too, so a
deployment without this process (or `make run`) loses nothing.
"""

import json
import os
from collections.abc import Callable, Iterable

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")

project = get_wsgi_application()

from attackacrack.web.api import error_body  # noqa: E402 - once Django is set up

PATHS = frozenset({reverse("openphone-webhook"), reverse("healthz")})
NOT_HERE = json.dumps(error_body(msg="This process serves only OpenPhone's webhooks.", type="not_found")).encode()


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    if environ.get("PATH_INFO") in PATHS:
        return project(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(NOT_HERE)))])
    return [NOT_HERE]
