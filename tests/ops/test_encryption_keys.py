"""A FIELD_ENCRYPTION_KEY that is not a Fernet key stops start-up and fails the checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error
from django.test import override_settings

from channels_out.checks import encryption_keys_check
from crm_messaging.encryption_keys import fernet_key_errors

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "change-me"  # what .env.example holds


def _run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # Not what the test run set for itself (the browser tests allow async-unsafe calls).
    leave_out = {"DJANGO_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in leave_out}
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(key: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.hotel.example",
        "FIELD_ENCRYPTION_KEY": key,
        "CRM_VAR_DIR": str(tmp_path),
    }


def test_the_rule_names_the_position_and_never_the_key() -> None:
    good = Fernet.generate_key().decode()
    assert fernet_key_errors([good]) == []
    errors = fernet_key_errors([good, PLACEHOLDER, good[:-4]])
    assert [e.split(" is not")[0] for e in errors] == [
        "FIELD_ENCRYPTION_KEY: key 2 of 3",
        "FIELD_ENCRYPTION_KEY: key 3 of 3",
    ]
    assert not any(PLACEHOLDER in e or good[:-4] in e for e in errors)


def test_the_system_check_reports_a_bad_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[PLACEHOLDER]):
        messages = encryption_keys_check()
    assert [(type(m), m.id) for m in messages] == [(Error, "channels_out.E001")]
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        assert encryption_keys_check() == []


def test_the_web_app_does_not_start_with_the_placeholder_key(tmp_path: Path) -> None:
    started = _run(
        ["-c", "from crm_messaging.wsgi import application"],
        **_production(PLACEHOLDER, tmp_path),
    )
    assert started.returncode != 0
    assert "FIELD_ENCRYPTION_KEY: key 1 of 1 is not a Fernet key" in started.stderr


def test_check_deploy_fails_with_the_placeholder_and_passes_with_a_real_key(
    tmp_path: Path,
) -> None:
    failed = _run(["manage.py", "check", "--deploy"], **_production(PLACEHOLDER, tmp_path))
    assert failed.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in failed.stderr
    passed = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **_production(Fernet.generate_key().decode(), tmp_path),
    )
    assert passed.returncode == 0, passed.stderr


@pytest.mark.django_db
def test_a_development_run_with_a_bad_key_fails_too(tmp_path: Path) -> None:
    started = _run(
        ["manage.py", "check"], FIELD_ENCRYPTION_KEY=PLACEHOLDER, CRM_VAR_DIR=str(tmp_path)
    )
    assert started.returncode != 0
    assert "not a Fernet key" in started.stderr
