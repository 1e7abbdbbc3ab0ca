"""What every staff page shares: who may see it, and how a page reports a service's answer."""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from attackacrack.errors import ApplicationError

T = TypeVar("T")


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; signed-in users who are not staff get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def attempt(request: HttpRequest, action: Callable[[], T], *, success: Callable[[T], str]) -> T | None:
    """Do what a button asks through its service: a refusal (ApplicationError) becomes the page's
    error message and None, a result the success message ``success(result)`` and the result."""
    try:
        result = action()
    except ApplicationError as error:
        messages.error(request, str(error))
        return None
    messages.success(request, success(result))
    return result
