"""Request and response rules that hold for every page, download and API call."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


def client_address(request: HttpRequest) -> str:
    """The address a request came from, for the sign-in lockout.

    Behind the HTTPS proxy every connection comes from the proxy: the client's address is the
    last one the proxy appended to X-Forwarded-For, since anything before it the client wrote."""
    if settings.BEHIND_HTTPS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


class RefuseNulInQuery:
    """A NUL character in a page's query string is answered 400, naming the parameter.

    PostgreSQL cannot hold NUL in text, so a search or filter that passed one on would fail in
    the database (a 500) wherever it was read: the pages, the admin's filters. (The API's query
    serializers refuse it themselves, 422 naming the parameter.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            for name, values in request.GET.lists():
                if "\0" in name or any("\0" in value for value in values):
                    raise BadRequest(f"The query string may not contain a NUL character (parameter {name!r}).")
        return self.get_response(request)


class NoStoreByDefault:
    """Staff pages, API answers and downloads hold customers' names and numbers: no browser or
    proxy cache keeps a copy. (Static files never reach this: WhiteNoise answers them first.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
