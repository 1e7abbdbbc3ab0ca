"""The one base class of the domain's refusals (the HackSoft styleguide's ``ApplicationError``).

A service raises a subclass when a rule says no. Each subclass carries what it means over HTTP,
so the API's one exception handler (``attackacrack.web.api.exception_handler``) answers every one of
them in the error shape, and the pages and the admin show the same message from the same
exception (``except ApplicationError``). Nobody translates them by hand.
"""


class ApplicationError(Exception):
    """A request the domain refuses; ``str(error)`` says why, in words for staff."""

    status = 409  # the state of things forbids it
    code = "conflict"  # the error entry's ``type``
    loc: tuple[str, ...] = ()  # where in the request the problem is, if one place is to blame
