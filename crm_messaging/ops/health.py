"""Liveness (``/healthz``) and readiness (``/readyz``), and the heartbeats readiness reads.

Liveness says only that this process answers. Readiness says whether the whole system can
do its work: the database, the cache (Redis), the Celery broker, at least one worker and
the beat scheduler. A worker reports by running the ``ops.heartbeat`` periodic task (every
30 s); beat reports on every tick of its scheduler (``beat.LockedDatabaseScheduler``). Both
write a timestamp into the cache, which every process of the deployment shares.

Readiness answers 200 when everything is up and 503 otherwise, with a JSON body naming
what is down. It never shows an error's message (a host name or a user could be in it),
only its kind, nor which machine a heartbeat came from.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from crm_messaging.celery import app

WORKER = "worker"
BEAT = "beat"
HEARTBEAT_KEY = "crm:heartbeat:{}"
# Kept well past READINESS_HEARTBEAT_MAX_AGE, so readiness can say how long ago it was.
HEARTBEAT_KEEP_SECONDS = 7 * 24 * 60 * 60
BROKER_TIMEOUT_SECONDS = 3.0

Check = Callable[[], dict[str, Any]]


def heartbeat_record(kind: str) -> None:
    """Note that a ``kind`` process (worker or beat) is alive, now."""
    cache.set(
        HEARTBEAT_KEY.format(kind),
        {"at": time.time(), "host": socket.gethostname(), "pid": os.getpid()},
        timeout=HEARTBEAT_KEEP_SECONDS,
    )


def heartbeat_read(kind: str) -> dict[str, Any] | None:
    """The last heartbeat of a ``kind`` process, or None if none was recorded."""
    value = cache.get(HEARTBEAT_KEY.format(kind))
    return value if isinstance(value, dict) else None


def check_database() -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_cache() -> dict[str, Any]:
    key, token = "crm:readiness:probe", uuid.uuid4().hex
    cache.set(key, token, timeout=30)
    if cache.get(key) != token:
        return {"ok": False, "error": "the cache did not return what was written"}
    return {"ok": True}


def check_broker() -> dict[str, Any]:
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
        )
    return {"ok": True}


def check_heartbeat(kind: str) -> dict[str, Any]:
    beat = heartbeat_read(kind)
    if beat is None:
        return {"ok": False, "error": f"no {kind} has reported yet"}
    age = max(0.0, time.time() - float(beat["at"]))
    # No host names or process ids: the probe answers anyone who reaches the server.
    result: dict[str, Any] = {
        "ok": age <= settings.READINESS_HEARTBEAT_MAX_AGE,
        "last_seen_seconds_ago": round(age, 1),
    }
    if not result["ok"]:
        result["error"] = (
            f"no {kind} has reported for {age:.0f} s "
            f"(allowed: {settings.READINESS_HEARTBEAT_MAX_AGE} s)"
        )
    return result


CHECKS: dict[str, Check] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    WORKER: lambda: check_heartbeat(WORKER),
    BEAT: lambda: check_heartbeat(BEAT),
}


def readiness(only: list[str] | None = None) -> dict[str, Any]:
    """Run the readiness checks (all, or ``only`` these); return the report readiness shows."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        try:
            results[name] = check()
        except Exception as exc:  # anything a check raises means that part is down
            results[name] = {"ok": False, "error": type(exc).__name__}
    down = [name for name, result in results.items() if not result["ok"]]
    return {"status": "unavailable" if down else "ready", "down": down, "checks": results}


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: this process answers (it checks nothing else)."""
    response = HttpResponse("ok", content_type="text/plain")
    add_never_cache_headers(response)
    return response


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when the database, cache, broker, a worker and beat are up; else 503."""
    report = readiness()
    response = JsonResponse(report, status=503 if report["down"] else 200)
    add_never_cache_headers(response)
    return response
