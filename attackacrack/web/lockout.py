"""Who may try a password on the two login forms, the staff pages' and the admin's.

django-axes records each wrong password by username and address, and asks this handler before
every sign-in whether it may go ahead. Two rules, each for the cool-off time:

1. ``AXES_FAILURE_LIMIT`` wrong passwords for one username from one address refuse that username
   from that address, the right password included. From any other address it still signs in: a
   stranger's guesses, or one person's typos behind the office's one address, cannot lock the
   owner out everywhere.
2. An address that has failed for ``LOGIN_ADDRESS_USERNAME_LIMIT`` different usernames is refused
   for every username: one password tried against many names. It counts usernames, not wrong
   passwords, so one person retrying their own username never locks out everyone else there.

Rule 2 is counted here rather than as an ``"ip_address"`` entry of ``AXES_LOCKOUT_PARAMETERS``:
axes holds every entry to the one ``AXES_FAILURE_LIMIT`` and counts all of an address's wrong
passwords, so one person's five typos would lock out the whole office again.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest


class SignInLockoutHandler(AxesDatabaseHandler):
    """axes' own database handler (rule 1, from ``AXES_LOCKOUT_PARAMETERS``), with rule 2."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # axes compares this one number with AXES_FAILURE_LIMIT before a password is checked (to
        # refuse it) and after one fails (to answer with the lockout page at once): an address
        # that has tried too many usernames has reached the limit for all of them.
        failures = super().get_failures(request, credentials)
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        if recent.values("username").distinct().count() >= settings.LOGIN_ADDRESS_USERNAME_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures
