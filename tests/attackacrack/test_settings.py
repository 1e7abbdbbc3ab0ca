"""Settings come from the environment; with none set, the project runs on embedded defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "conn_max_age": db["CONN_MAX_AGE"],
    "health_checks": db["CONN_HEALTH_CHECKS"], "broker": settings.CELERY_BROKER_URL,
    "sms_backend": settings.SMS_BACKEND, "time_zone": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS,
    "openphone_url": settings.OPENPHONE_API_URL, "from_number": settings.OPENPHONE_FROM_NUMBER,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "hsts_subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "hsts_preload": settings.SECURE_HSTS_PRELOAD,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER, "trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
    "silenced": settings.SILENCED_SYSTEM_CHECKS, "db_options": db.get("OPTIONS", {}),
    "redis_keys": [settings.REDIS_KEY_PREFIX, settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix")],
    "automatic_texts": [
        settings.SMS_OPT_OUT_CONFIRMATION, settings.SMS_RESUBSCRIBE_CONFIRMATION, settings.SMS_HELP_REPLY
    ],
}))
"""
OUR_VARIABLES = {
    "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMS_BACKEND", "ALLOWED_HOSTS",
    "OPENPHONE_API_KEY", "OPENPHONE_API_URL", "OPENPHONE_FROM_NUMBER", "CONN_MAX_AGE", "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "BEHIND_HTTPS_PROXY", "CSRF_TRUSTED_ORIGINS", "REDIS_KEY_PREFIX", "BUSINESS_NAME", "BUSINESS_CONTACT",
    "SMS_HELP_REPLY",
}  # fmt: skip


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES}
    clean.update(DJANGO_SETTINGS_MODULE="attackacrack.settings", VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_no_environment_it_runs_on_sqlite_the_filesystem_broker_and_the_console(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "attackacrack.sqlite3")
    assert loaded["broker"] == "filesystem://"
    assert loaded["sms_backend"] == "messaging.backends.console.SMSBackend"
    assert loaded["from_number"] == "+16175550100"  # a fictional number, so local texts can be tried
    assert loaded["time_zone"] == "America/New_York"
    assert loaded["use_tz"] is True
    assert loaded["conn_max_age"] > 0 and loaded["health_checks"] is True
    assert (tmp_path / "broker").is_dir()


def test_environment_switches_to_postgresql_redis_and_openphone(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://app:secret@db.example:5432/crm",
        REDIS_URL="redis://cache.example:6379/0",
        SMS_BACKEND="messaging.backends.openphone.SMSBackend",
        OPENPHONE_API_URL="http://127.0.0.1:9999",
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "crm"
    assert loaded["broker"] == "redis://cache.example:6379/0"
    assert loaded["redis_keys"] == ["attackacrack", "attackacrack:"]
    assert loaded["sms_backend"] == "messaging.backends.openphone.SMSBackend"
    assert loaded["openphone_url"] == "http://127.0.0.1:9999"
    assert loaded["from_number"] == ""  # a backend that really sends never borrows the stand-in


@pytest.mark.django_db
def test_postgresql_statements_are_never_jit_compiled_and_url_options_are_kept(tmp_path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
    result = load_settings(tmp_path, DATABASE_URL="postgres://app@db.example:5432/crm?sslmode=require")
    assert json.loads(result.stdout)["db_options"] == {"sslmode": "require", "options": "-c jit=off"}


def test_the_automatic_texts_name_the_business_and_help_says_how_to_reach_it(tmp_path):
    default = load_settings(tmp_path, OPENPHONE_FROM_NUMBER="+17815550142")
    configured = load_settings(tmp_path, BUSINESS_NAME="Acme Foundations", BUSINESS_CONTACT="help@acme.example")

    stop, start, help_reply = json.loads(default.stdout)["automatic_texts"]
    assert "Attack-a-Crack Foundation Repair" in stop and "Attack-a-Crack Foundation Repair" in start
    assert help_reply.startswith("Attack-a-Crack Foundation Repair:") and "Reach us at (781) 555-0142." in help_reply
    stop, start, help_reply = json.loads(configured.stdout)["automatic_texts"]
    assert stop == (
        "You've been unsubscribed from Acme Foundations texts and will get no more. Reply START to resubscribe."
    )
    assert start == "You're subscribed to Acme Foundations texts again. Reply STOP to unsubscribe."
    assert help_reply == (
        "Acme Foundations: foundation repair texts. Reach us at help@acme.example. "
        "Reply STOP to unsubscribe. Msg&data rates may apply."
    )


def test_a_separate_celery_broker_url_wins_over_redis_url(tmp_path):
    result = load_settings(tmp_path, REDIS_URL="redis://a:6379/0", CELERY_BROKER_URL="redis://b:6379/1")

    assert json.loads(result.stdout)["broker"] == "redis://b:6379/1"


def test_a_deployment_sharing_redis_names_every_key_under_its_own_prefix(tmp_path):
    result = load_settings(tmp_path, REDIS_URL="redis://shared:6379/0", REDIS_KEY_PREFIX="second-shop")
    refused = load_settings(tmp_path, REDIS_URL="redis://shared:6379/0", REDIS_KEY_PREFIX="two words")

    assert json.loads(result.stdout)["redis_keys"] == ["second-shop", "second-shop:"]
    assert refused.returncode != 0 and "REDIS_KEY_PREFIX must be letters, digits" in refused.stderr


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = load_settings(tmp_path, DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_with_debug_off_hosts_come_only_from_the_environment(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="crm.example.com, www.x.com")

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["debug"] is False
    assert loaded["allowed_hosts"] == ["crm.example.com", "www.x.com"]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_boolean_that_is_not_one_is_refused_by_name(tmp_path, value):
    result = load_settings(tmp_path, DEBUG=value)

    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_a_phone_number_id_as_the_sending_number_stops_startup_with_the_reason(tmp_path):
    result = load_settings(tmp_path, OPENPHONE_FROM_NUMBER="PNshop0001")

    assert result.returncode != 0
    assert "OPENPHONE_FROM_NUMBER must be the sending number in E.164" in result.stderr


def test_with_debug_off_https_protections_are_on_by_default(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", SECRET_KEY="x" * 50)

    loaded = json.loads(result.stdout)
    assert loaded["ssl_redirect"] is True
    assert loaded["hsts_seconds"] == 31536000 and loaded["hsts_subdomains"] is True
    assert loaded["hsts_preload"] is False and loaded["silenced"] == ["security.W021"]
    assert loaded["secure_cookies"] == [True, True]
    assert loaded["proxy_header"] is None  # only behind a proxy that says so


def test_each_https_protection_is_set_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="x" * 50,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="true",
        SECURE_COOKIES="false",
        BEHIND_HTTPS_PROXY="true",
        CSRF_TRUSTED_ORIGINS="https://crm.example.com,https://www.example.com",
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["ssl_redirect"] is False
    assert (loaded["hsts_seconds"], loaded["hsts_subdomains"], loaded["hsts_preload"]) == (3600, False, True)
    assert loaded["silenced"] == []  # preload asked for: nothing left to silence
    assert loaded["secure_cookies"] == [False, False]
    assert loaded["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["trusted_origins"] == ["https://crm.example.com", "https://www.example.com"]


@pytest.mark.parametrize(
    "name", ["SMS_DAILY_LIMIT_PER_NUMBER", "SECURE_HSTS_SECONDS", "CONN_MAX_AGE", "LOGIN_FAILURE_LIMIT"]
)
def test_a_number_that_is_not_one_is_refused_by_name(tmp_path, name):
    result = load_settings(tmp_path, **{name: "ten"})

    assert result.returncode != 0
    assert f"{name} must be a whole number, not 'ten'" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BUSINESS_OPENS", "9am", "BUSINESS_OPENS must be a time of day such as 09:00, not '9am'"),
        ("BUSINESS_DAYS", "mon,tue", "BUSINESS_DAYS must list weekdays as numbers"),
    ],
)
def test_a_business_hour_or_day_that_cannot_be_read_is_refused_by_name(tmp_path, name, value, message):
    result = load_settings(tmp_path, **{name: value})

    assert result.returncode != 0
    assert message in result.stderr
