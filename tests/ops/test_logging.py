"""LOG_FORMAT=json writes one JSON object a line; Sentry starts only with SENTRY_DSN."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging
import django
django.setup()
import sentry_sdk
logging.getLogger("channels_out.dispatch").warning("claimed %d messages", 3)
print("sentry active:", sentry_sdk.get_client().is_active())
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "SENTRY_DSN"}}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**environment, "CRM_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_logs_are_one_object_a_line(tmp_path: Path) -> None:
    done = _run(tmp_path, LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "claimed 3 messages"
    assert (line["level"], line["logger"]) == ("WARNING", "channels_out.dispatch")
    assert "time" in line


def test_plain_logs_by_default_and_a_bad_format_is_refused(tmp_path: Path) -> None:
    plain = _run(tmp_path)
    assert "WARNING channels_out.dispatch: claimed 3 messages" in plain.stderr
    bad = _run(tmp_path, LOG_FORMAT="xml")
    assert bad.returncode != 0
    assert "LOG_FORMAT must be 'plain' or 'json'" in bad.stderr


def test_sentry_starts_only_when_a_dsn_is_set(tmp_path: Path) -> None:
    assert "sentry active: False" in _run(tmp_path).stdout
    # A DSN on a closed local port: initialised, and nothing can leave this machine.
    with_dsn = _run(tmp_path, SENTRY_DSN="http://public@127.0.0.1:9/1")
    assert with_dsn.returncode == 0, with_dsn.stderr
    assert "sentry active: True" in with_dsn.stdout
