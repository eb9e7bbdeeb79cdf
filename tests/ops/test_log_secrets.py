"""No log line carries a secret of an address: gunicorn's access log (as gunicorn.conf.py sets
it up), Django's request loggers (as settings.LOGGING filters them) — sign-in links' tokens,
the Mews webhook's ``token=`` are masked, the rest of the line stays."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import get_resolver, reverse
from gunicorn.config import Config

from crm_messaging.ops.redaction import MASK, redact_url

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN_TOKEN = "qa-sign-in-token-abcdefghijklmnop"
MEWS_TOKEN = "qa-mews-token-0123456789"
UNSUBSCRIBE_TOKEN = "qa-unsubscribe-token-9876543210"


def _gunicorn_logger():
    """The logger gunicorn makes from the project's gunicorn.conf.py."""
    cfg = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg.logger_class(cfg)


def _access_line(capsys, method: str, raw_uri: str, status: str, referer: str = "-") -> str:
    logger = _gunicorn_logger()
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Mews/1.0",
    }
    response = SimpleNamespace(status=status, sent=12, headers=[])
    request = SimpleNamespace(headers=[("REFERER", referer), ("USER-AGENT", "Mews/1.0")])
    capsys.readouterr()
    logger.access(response, request, environ, dt.timedelta(microseconds=1500))
    return capsys.readouterr().out


def test_the_access_log_masks_a_sign_in_link(capsys) -> None:
    path = reverse("portal:login-link", kwargs={"token": SIGN_IN_TOKEN})
    referer = "https://hotel.example" + reverse(
        "portal:unsubscribe", kwargs={"token": UNSUBSCRIBE_TOKEN}
    )
    line = _access_line(capsys, "GET", path, "302 Found", referer=referer)
    assert SIGN_IN_TOKEN not in line
    assert UNSUBSCRIBE_TOKEN not in line
    assert f'"GET /guest/login/link/{MASK}/ HTTP/1.1" 302 12' in line
    assert f'"https://hotel.example/guest/unsubscribe/{MASK}/"' in line
    assert line.startswith("203.0.113.9 ")


def test_the_access_log_masks_the_mews_token(capsys) -> None:
    uri = f"{reverse('mews:webhook')}?token={MEWS_TOKEN}&attempt=2"
    line = _access_line(capsys, "POST", uri, "202 Accepted")
    assert MEWS_TOKEN not in line
    assert f'"POST /hooks/mews/?token={MASK}&attempt=2 HTTP/1.1" 202 12' in line


@pytest.mark.django_db
def test_django_request_log_of_a_bad_sign_in_link_has_no_token(client: Client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = client.get(reverse("portal:login-link", kwargs={"token": SIGN_IN_TOKEN}))
        refused = client.post(
            f"{reverse('mews:webhook')}?token={MEWS_TOKEN}",
            b'{"EnterpriseId": "nobody", "Events": []}',
            content_type="application/json",
        )
    assert (answer.status_code, refused.status_code) == (400, 403)
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == [
        f"Bad Request: /guest/login/link/{MASK}/",
        "Forbidden: /hooks/mews/",
    ]
    for record in records:
        # Every attribute a formatter may write (LOG_FORMAT=json writes the request's too).
        for value in vars(record).values():
            assert SIGN_IN_TOKEN not in str(value)
            assert MEWS_TOKEN not in str(value)
    assert records[1].request == f"<WSGIRequest: POST '/hooks/mews/?token={MASK}'>"


def test_runserver_request_log_has_no_token(caplog) -> None:
    server_log = logging.getLogger("django.server")
    server_log.addHandler(caplog.handler)  # django.server does not propagate to the root
    try:
        handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
        handler.request = None
        path = reverse("portal:login-link", kwargs={"token": SIGN_IN_TOKEN})
        handler.requestline = f"GET {path} HTTP/1.1"
        handler.log_request(400, 31)
    finally:
        server_log.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "django.server"]
    assert record.getMessage() == f'"GET /guest/login/link/{MASK}/ HTTP/1.1" 400 31'


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        (
            f"/guest/unsubscribe/{UNSUBSCRIBE_TOKEN}/one-click/",
            f"/guest/unsubscribe/{MASK}/one-click/",
        ),
        (f"/guest/email/confirm/{SIGN_IN_TOKEN}/", f"/guest/email/confirm/{MASK}/"),
        ("/t/o/eyJ.signed.gif", f"/t/o/{MASK}"),
        ("/t/c/eyJ.signed/", f"/t/c/{MASK}/"),
        ("/s/Ab3dE9fGh2", f"/s/{MASK}"),
        ("/accounts/reset/MQ/cl6x3e-0123abcd/", f"/accounts/reset/MQ/{MASK}/"),
        (f"/guest/login/link/{SIGN_IN_TOKEN}", f"/guest/login/link/{MASK}"),
        (f"/guest/%6Cogin/link/{SIGN_IN_TOKEN}/", f"/guest/login/link/{MASK}/"),
        (
            f"/guest/login/?next=/guest/unsubscribe/{UNSUBSCRIBE_TOKEN}/",
            f"/guest/login/?next=/guest/unsubscribe/{MASK}/",
        ),
        ("/desk/guests/42/?tab=history", "/desk/guests/42/?tab=history"),
        ("/static/portal.css", "/static/portal.css"),
        ("/hooks/3/status/", "/hooks/3/status/"),
    ],
)
def test_which_parts_of_an_address_are_masked(address: str, shown: str) -> None:
    assert redact_url(address) == shown


SENTRY_SCRIPT = f"""
import json
import django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
from django.conf import settings
from wsgiref.util import setup_testing_defaults
from crm_messaging.ops.sentry import sentry_init
from crm_messaging.wsgi import application
from interfaces.portal.views import login

events = []

class Recorder(Transport):
    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            events.append(event)

sentry_init(dsn="http://public@127.0.0.1:9/1", environment="test")
sentry_sdk.get_client().transport = Recorder(sentry_sdk.get_client().options)
settings.ALLOWED_HOSTS = ["hotel.example"]
settings.SECURE_SSL_REDIRECT = False

def broken(*args, **kwargs):
    raise RuntimeError("the portal broke")

login.visitor_language = broken
# Through the WSGI application, as gunicorn calls it (Sentry reads the request there).
environ = {{
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/guest/login/link/{SIGN_IN_TOKEN}/",
    "QUERY_STRING": "token={MEWS_TOKEN}",
    "HTTP_REFERER": "https://hotel.example/guest/unsubscribe/{UNSUBSCRIBE_TOKEN}/",
}}
setup_testing_defaults(environ)
environ["HTTP_HOST"] = "hotel.example"
statuses = []
b"".join(application(environ, lambda status, headers, *rest: statuses.append(status)))
sentry_sdk.flush()
print(statuses[0].split()[0])
print(json.dumps(events, default=str))
"""


def test_an_error_reported_to_sentry_carries_no_secret_of_its_address() -> None:
    environment = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "SENTRY_DSN"}}
    done = subprocess.run(
        [sys.executable, "-c", SENTRY_SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    status, sent = done.stdout.strip().splitlines()[-2:]
    assert status == "500"
    [event] = json.loads(sent)
    assert event["request"]["url"] == f"http://hotel.example/guest/login/link/{MASK}/"
    assert event["request"]["query_string"] == f"token={MASK}"
    assert event["request"]["headers"]["Referer"] == (
        f"https://hotel.example/guest/unsubscribe/{MASK}/"
    )
    for secret in (SIGN_IN_TOKEN, MEWS_TOKEN, UNSUBSCRIBE_TOKEN):
        assert secret not in sent


def _routes(entries, above=""):
    for entry in entries:
        route = getattr(entry.pattern, "_route", None)
        if route is None:  # a regex route (the admin's, the API's keys): no token of ours
            continue
        if hasattr(entry, "url_patterns"):
            yield from _routes(entry.url_patterns, above + str(route))
        else:
            yield above + str(route)


SAMPLES = {"int": "7", "uuid": "0b7e9a52-4d1c-4a8e-9f0e-2c1d3b4a5f60"}
SECRET_VALUE = "Sample-secret-0123456789"
SECRET_NAMES = {"token", "code", "secret"}


def _sample(parameter: re.Match[str]) -> str:
    converter, name = parameter.group(1) or "str", parameter.group(2)
    return SECRET_VALUE if name in SECRET_NAMES else SAMPLES.get(converter, "MQ")


def test_every_route_with_a_token_or_code_is_masked() -> None:
    """A route written with ``<str:token>`` instead of ``<secret:token>`` would be logged."""
    checked = []
    for route in _routes(get_resolver().url_patterns):
        names = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        if not any(name in SECRET_NAMES for _converter, name in names):
            continue
        path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", _sample, route)
        assert SECRET_VALUE not in redact_url(path), route
        checked.append(route)
    assert "guest/login/link/<secret:token>/" in checked
    assert "accounts/reset/<uidb64>/<token>/" in checked  # Django's own, shadowed by ours
    assert len(checked) >= 8


def test_with_url_patterns_that_do_not_load_the_whole_path_is_masked(settings) -> None:
    settings.ROOT_URLCONF = "tests.ops.no_such_urlconf"
    assert redact_url(f"/guest/login/link/{SIGN_IN_TOKEN}/?tab=1") == f"/{MASK}?tab=1"
