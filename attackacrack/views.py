import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from attackacrack.celery import app as celery_app

logger = logging.getLogger(__name__)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "down"; the reason goes to the log
        logger.warning("healthz: database check failed: %s", type(error).__name__)
        return "down"
    return "ok"


def _broker_status() -> str:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as error:
        logger.warning("healthz: broker check failed: %s", type(error).__name__)
        return "down"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks: is the database up, is the broker up?"""
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def dispatch_404(self, request: Request, *args: object, **kwargs: object) -> None:
        raise exceptions.NotFound("No API endpoint at this path.")

    get = post = put = patch = delete = dispatch_404
