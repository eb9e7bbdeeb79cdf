"""The environment drives the settings; production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
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
