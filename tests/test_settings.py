"""The environment drives the settings; production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k8Jw2-very-long-random-production-secret-5fH_q9zR7Lm3Xv0Tn6Bc1Yd4Ps8Ue",
    "ALLOWED_HOSTS": "crm.hotel.example",
    "FIELD_ENCRYPTION_KEY": "q3Hn0Y2b7Zt1sQ5rV8wX4kL6mN9pR2tU5vW8yZ1aB3c=",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    settings_vars = {
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "SECRET_KEY",
        "DEBUG",
        "DJANGO_ENV",
        "FIELD_ENCRYPTION_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in settings_vars}
    clean.update(env, CRM_VAR_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings_value(
    code: str, *, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    return _manage("shell", "--no-imports", "-c", code, env=env, tmp_path=tmp_path)


def test_check_deploy_passes_with_production_variables(tmp_path: Path) -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_a_required_variable(
    missing: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_a_local_run_generates_and_keeps_its_secret_key(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _settings_value(code, env={}, tmp_path=tmp_path)
    second = _settings_value(code, env={}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        == second.stdout.strip()
        == (tmp_path / "secret_key").read_text().strip()
    )
    assert len(first.stdout.strip()) >= 50


def test_a_malformed_switch_names_the_variable(tmp_path: Path) -> None:
    result = _manage("check", env={"CONN_HEALTH_CHECKS": "perhaps"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "CONN_HEALTH_CHECKS must be a yes/no value" in result.stderr


def test_the_embedded_defaults_are_sqlite_and_a_filesystem_broker(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); print(settings.CELERY_BROKER_URL)"
    )
    result = _settings_value(code, env={}, tmp_path=tmp_path)
    engine, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert (tmp_path / "celery" / "queue").is_dir()


def test_redis_url_moves_the_broker_and_cache_to_redis(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings; "
        "print(settings.CELERY_BROKER_URL); print(settings.CACHES['default']['BACKEND'])"
    )
    result = _settings_value(code, env={"REDIS_URL": "redis://127.0.0.1:6379/3"}, tmp_path=tmp_path)
    broker, cache = result.stdout.split()
    assert broker == "redis://127.0.0.1:6379/3"
    assert cache.endswith("RedisCache")


# The values the QA round found accepted at start-up and failing later (a 500 on every API
# request, "Buy credits", the logins; British guests refused; the logger's own error).
REFUSED_BY_CHECK = [
    ("API_THROTTLE_RATE", "abc", "API_THROTTLE_RATE must be a number of requests of 1 or more"),
    ("INVOICE_VAT_RATE", "abc", "INVOICE_VAT_RATE must be a number from 0 to 100"),
    ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be a whole number of 0 or more, not '-1'"),
    ("PORTAL_ALLOWED_COUNTRIES", "TR,UK", "PORTAL_ALLOWED_COUNTRIES must be ISO 3166 country"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of 'DEBUG', 'INFO', 'WARNING', 'ERROR'"),
]


@pytest.mark.parametrize(("variable", "value", "message"), REFUSED_BY_CHECK)
def test_check_refuses_a_value_the_variable_cannot_take_and_names_it(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    result = _manage("check", env={variable: value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_a_country_code_that_is_not_iso_gets_the_iso_one_suggested(tmp_path: Path) -> None:
    result = _manage("check", env={"PORTAL_ALLOWED_COUNTRIES": "TR,UK"}, tmp_path=tmp_path)
    assert "not 'TR,UK' (UK is GB)" in result.stderr


def _load_settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Import the settings alone (what every process does first): fast, for the long list."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DEBUG"}}
    clean.update(env, CRM_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="crm_messaging.settings")
    return subprocess.run(
        [sys.executable, "-c", "import crm_messaging.settings"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


REFUSED = [
    ({"EMAIL_PORT": "99999"}, "EMAIL_PORT must be a whole number from 1 to 65535"),
    ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number from 1 to 65535"),
    ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT must be a whole number of 1 or more"),
    ({"EMAIL_USE_SSL": "maybe"}, "EMAIL_USE_SSL must be a yes/no value"),
    (
        {"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
        "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on",
    ),
    ({"DEFAULT_FROM_EMAIL": "crm"}, "DEFAULT_FROM_EMAIL must be an e-mail address"),
    ({"EMAIL_REPLY_ADDRESS": "reply@"}, "EMAIL_REPLY_ADDRESS must be an e-mail address"),
    ({"BOUNCE_ADDRESS": "Bounces <b@hotel.example>"}, "BOUNCE_ADDRESS must be an e-mail address"),
    ({"INVOICE_VAT_RATE": "120"}, "INVOICE_VAT_RATE must be a number from 0 to 100"),
    ({"INVOICE_VAT_RATE": "18.125"}, "INVOICE_VAT_RATE must be a number from 0 to 100 with at"),
    ({"INVOICE_VAT_RATE": "NaN"}, "INVOICE_VAT_RATE must be a number from 0 to 100"),
    ({"API_THROTTLE_RATE": "600/fortnight"}, "API_THROTTLE_RATE must be a number of requests"),
    ({"API_THROTTLE_RATE": "0/min"}, "API_THROTTLE_RATE must be a number of requests of 1"),
    ({"PORTAL_TRUSTED_PROXIES": "one"}, "PORTAL_TRUSTED_PROXIES must be a whole number"),
    ({"HOTEL_DEFAULT_REGION": "XX"}, "HOTEL_DEFAULT_REGION must be one ISO 3166 country code"),
    ({"HOTEL_DEFAULT_LANGUAGE": "english"}, "HOTEL_DEFAULT_LANGUAGE must be one of 'tr', 'en'"),
    ({"TIME_ZONE": "Antalya"}, "TIME_ZONE must be a time zone name"),
    ({"STAFF_TWO_FACTOR": "sometimes"}, "STAFF_TWO_FACTOR must be 'required' or 'optional'"),
    ({"METRICS_ALLOWED_ADDRESSES": "10.0.0.0/33"}, "METRICS_ALLOWED_ADDRESSES must list"),
    ({"WEBHOOKS_ALLOWED_PRIVATE_NETWORKS": "office"}, "WEBHOOKS_ALLOWED_PRIVATE_NETWORKS must"),
    ({"OTA_RELAY_DOMAINS": "@guest.booking.com"}, "OTA_RELAY_DOMAINS must be domain names"),
    ({"PUBLIC_BASE_URL": "crm.hotel.example"}, "PUBLIC_BASE_URL must be an address starting"),
    ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL must be an address starting with redis://"),
    ({"DATABASE_URL": "db:5432/crm"}, "DATABASE_URL must be an address starting with postgres"),
    ({"CELERY_BROKER_URL": "localhost"}, "CELERY_BROKER_URL must be an address starting with"),
    ({"SENTRY_DSN": "sentry.io/1"}, "SENTRY_DSN must be an address starting with https://"),
    ({"CELERY_METRICS_PORT": "70000"}, "CELERY_METRICS_PORT must be a whole number from 0"),
    ({"CELERY_METRICS_ADDRESS": "all"}, "CELERY_METRICS_ADDRESS must be an IP address"),
    ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT must be a whole number of 1 or more"),
    ({"DELIVERY_EVENT_RETENTION_DAYS": "-1"}, "DELIVERY_EVENT_RETENTION_DAYS must be a whole"),
    ({"WEBHOOK_EVENT_RETENTION_DAYS": "0"}, "WEBHOOK_EVENT_RETENTION_DAYS must be a whole"),
    ({"PORTAL_CODES_PER_NUMBER_PER_HOUR": "0"}, "PORTAL_CODES_PER_NUMBER_PER_HOUR must be"),
    ({"READINESS_HEARTBEAT_MAX_AGE": "0"}, "READINESS_HEARTBEAT_MAX_AGE must be a whole"),
    ({"CONN_MAX_AGE": "-5"}, "CONN_MAX_AGE must be a whole number of 0 or more"),
]


def test_an_address_that_may_hold_a_password_is_not_repeated_in_the_message(
    tmp_path: Path,
) -> None:
    result = _load_settings({"DATABASE_URL": "postgres//crm:s3cret-pw@db/crm"}, tmp_path)
    assert "DATABASE_URL must be an address starting with postgres://" in result.stderr
    assert "s3cret-pw" not in result.stderr


@pytest.mark.parametrize(("env", "message"), REFUSED, ids=[",".join(e) for e, _ in REFUSED])
def test_a_value_a_variable_cannot_take_stops_the_settings_naming_it(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    result = _load_settings(env, tmp_path)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr, result.stderr[-500:]


def test_good_values_are_read_and_written_the_way_the_code_compares_them(tmp_path: Path) -> None:
    env = {
        "API_THROTTLE_RATE": "10/sec",
        "INVOICE_VAT_RATE": "18.5",
        "TRUSTED_PROXIES": "1",
        "PORTAL_ALLOWED_COUNTRIES": "gb, tr",
        "HOTEL_DEFAULT_REGION": "de",
        "LOG_LEVEL": "warning",
        "DEFAULT_FROM_EMAIL": "Hotel Lykia Bay <crm@lykiabay.example>",
        "OTA_RELAY_DOMAINS": "Guest.Booking.com",
        "EMAIL_USE_SSL": "1",
        "EMAIL_PORT": "465",
    }
    code = (
        "from django.conf import settings as s; print(repr((s.API_THROTTLE_RATE, "
        "s.INVOICE_VAT_RATE, s.TRUSTED_PROXIES, s.PORTAL_ALLOWED_COUNTRIES, "
        "s.HOTEL_DEFAULT_REGION, s.LOGGING['root']['level'], s.DEFAULT_FROM_EMAIL, "
        "s.OTA_RELAY_DOMAINS, s.EMAIL_USE_SSL, s.EMAIL_PORT)))"
    )
    result = _settings_value(code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        (
            "10/sec",
            Decimal("18.5"),
            1,
            ["GB", "TR"],
            "DE",
            "WARNING",
            "Hotel Lykia Bay <crm@lykiabay.example>",
            ["guest.booking.com"],
            True,
            465,
        )
    )


def test_gunicorn_refuses_a_worker_count_that_is_not_one_naming_it(tmp_path: Path) -> None:
    def load(value: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import runpy; print(runpy.run_path('gunicorn.conf.py')['workers'])",
            ],
            cwd=ROOT,
            env={**os.environ, "WEB_CONCURRENCY": value, "CRM_VAR_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert load("5").stdout.strip() == "5"
    refused = load("0")
    assert refused.returncode != 0
    assert "WEB_CONCURRENCY must be a whole number of 1 or more, not '0'" in refused.stderr
