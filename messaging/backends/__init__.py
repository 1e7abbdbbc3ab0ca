"""SMS backends, chosen by ``settings.SMS_BACKEND`` the way Django picks ``EMAIL_BACKEND``."""

from django.conf import settings
from django.utils.module_loading import import_string

from messaging.backends.base import BaseSMSBackend, SMSSendError

__all__ = ["BaseSMSBackend", "SMSSendError", "get_backend"]


def get_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()
