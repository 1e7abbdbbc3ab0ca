"""The drills' settings: production's, with the engineering constants that time an outage
shortened, so that a drill goes through hours of recovery in a minute. `bench/drill.py` runs itself
and every worker with them (DJANGO_SETTINGS_MODULE=bench.drill_settings)."""

from attackacrack.settings import *  # noqa: F403

OPENPHONE_READ_TIMEOUT = 1.5  # the flaky fake answers some requests after this
SMS_STUCK_AFTER_SECONDS = 5  # a killed worker's texts are asked about within seconds
OUTBOX_REENQUEUE_SECONDS = 5
SMS_MAX_ATTEMPTS = 50  # the fake refuses often; a text must outlast its refusals to be delivered
WEBHOOK_HANDOVER_SECONDS = 5  # an event no worker took is handed over again within seconds
