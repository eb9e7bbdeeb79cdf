"""Shared plumbing for the provider fakes: a loopback threaded HTTP server,
request recording, a per-request outcome queue and webhook posting.

Nothing here knows about Twilio or Vonage; see ``twilio_api.py`` and
``vonage_messages.py``.  Test-only code: stdlib only.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "CallbackRecord",
    "FakeProviderServer",
    "Outcome",
    "RecordedRequest",
    "Response",
    "WebhookSink",
    "post_webhook",
    "running_webhook_sink",
]


@dataclass
class RecordedRequest:
    """One HTTP request as the fake received it."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # header names as sent (case preserved)
    body: bytes
    auth: tuple[str, str] | None  # HTTP Basic (username, password), if any
    bearer: str | None  # "Authorization: Bearer <token>" token, if any
    form: dict[str, list[str]] = field(default_factory=dict)  # form-encoded body
    json: Any = None  # JSON body, if it parsed
    outcome: str = ""  # what the fake answered, e.g. "201", "429", "delay+201", "disconnect"
    received_at: float = field(default_factory=time.time)

    @property
    def data(self) -> dict[str, str]:
        """The form body with the first value of each field (what most tests want)."""
        return {k: v[0] for k, v in self.form.items()}

    def header(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        for key, value in self.headers.items():
            if key.lower() == low:
                return value
        return default


@dataclass
class CallbackRecord:
    """One webhook the fake POSTed (or tried to POST) to the product."""

    url: str
    headers: dict[str, str]
    body: bytes
    payload: Any  # dict of form params (Twilio) or the JSON object (Vonage)
    status_code: int | None = None  # HTTP status the receiver answered, None on failure
    response_body: bytes = b""
    error: str | None = None  # connection error etc.


@dataclass(frozen=True)
class Outcome:
    """A canned answer for one request.  Build these with the provider modules'
    ``TwilioOutcome`` / ``VonageOutcome`` helpers rather than by hand.

    kind:
      "accept"     -- normal success handling (create the resource, answer 2xx)
      "error"      -- answer ``http_status`` with ``body`` (JSON)
      "disconnect" -- read the request, then close the socket without answering
    delay: seconds to wait *after* processing and before answering (the
      resource already exists when the client times out).
    callbacks: provider-specific webhook specs posted after an "accept".
    methods: HTTP methods this outcome applies to; a request with another
      method does not consume it.
    """

    kind: str
    http_status: int = 0
    body: Any = None
    delay: float = 0.0
    callbacks: tuple[Any, ...] = ()
    callback_delay: float = 0.0
    methods: tuple[str, ...] = ("POST",)
    headers: tuple[tuple[str, str], ...] = ()
    label: str = ""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    disconnect: bool = False
    after: Callable[[], None] | None = None  # run in a thread once the answer is sent


def json_response(status: int, obj: Any, **kwargs: Any) -> Response:
    return Response(status, json.dumps(obj).encode("utf-8"), **kwargs)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: FakeProviderServer, host: str) -> None:
        self.app = app
        super().__init__((host, 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out and hang up are part of the game.
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The handler writes a response's headers and body separately; with Nagle's algorithm
    # the body then waits for the client's delayed ACK (~40 ms a request). Real API servers
    # answer without that wait, so the fakes do too (TCP_NODELAY).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _dispatch(self) -> None:
        self.server.app._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class FakeProviderServer:
    """Base class: owns the HTTP server thread, the recordings and the script."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._callbacks: list[CallbackRecord] = []
        self._script: collections.deque[Outcome] = collections.deque()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._bg: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------
    def start(self) -> FakeProviderServer:
        if self._httpd is not None:
            return self
        self._httpd = _Server(self, self._host)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        for t in list(self._bg):
            t.join(timeout=2)
        self._httpd = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    # -- recordings --------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def callbacks(self) -> list[CallbackRecord]:
        """Webhooks posted so far (automatic and explicit)."""
        with self._lock:
            return list(self._callbacks)

    def wait_for_callbacks(self, count: int, timeout: float = 5.0) -> list[CallbackRecord]:
        """Block until at least ``count`` webhooks were posted (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cbs = self.callbacks
            if len(cbs) >= count:
                return cbs
            time.sleep(0.01)
        raise TimeoutError(f"expected {count} callbacks, got {len(self.callbacks)}")

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._callbacks.clear()
            self._script.clear()

    # -- scripting ---------------------------------------------------------
    def script(self, *outcomes: Outcome) -> None:
        """Queue canned outcomes; each matching request consumes one, in order.
        When the queue is empty the fake behaves like the happy path."""
        with self._lock:
            self._script.extend(outcomes)

    @property
    def pending_script(self) -> list[Outcome]:
        with self._lock:
            return list(self._script)

    def _take_outcome(self, method: str) -> Outcome | None:
        with self._lock:
            if self._script and method in self._script[0].methods:
                return self._script.popleft()
            return None

    # -- request handling ----------------------------------------------------
    def route(self, req: RecordedRequest) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def _handle(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k: v for k, v in h.headers.items()}
        auth, bearer = _parse_authorization(h.headers.get("Authorization"))
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form: dict[str, list[str]] = {}
        parsed_json: Any = None
        if ctype == "application/x-www-form-urlencoded":
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        elif body:
            with contextlib.suppress(ValueError):
                parsed_json = json.loads(body)
        req = RecordedRequest(
            method=h.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            auth=auth,
            bearer=bearer,
            form=form,
            json=parsed_json,
        )
        with self._lock:
            self._requests.append(req)
        try:
            resp = self.route(req)
        except Exception as exc:  # a bug in the fake: answer 500 and say why
            resp = json_response(500, {"fake_error": repr(exc)})
        req.outcome = ("delay+" if resp.delay else "") + (
            "disconnect" if resp.disconnect else str(resp.status)
        )
        if resp.delay:
            # Interruptible sleep so stop() does not hang on a long delay.
            self._stopping.wait(resp.delay)
            if self._stopping.is_set():
                h.close_connection = True
                return
        if resp.disconnect:
            h.close_connection = True
            return
        h.send_response(resp.status)
        h.send_header("Content-Type", resp.content_type)
        h.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(resp.body)
        h.wfile.flush()
        if resp.after is not None:
            self._background(resp.after)

    def _background(self, fn: Callable[[], None]) -> None:
        t = threading.Thread(target=fn, daemon=True)
        with self._lock:
            self._bg = [x for x in self._bg if x.is_alive()]
            self._bg.append(t)
        t.start()

    def _record_callback(self, rec: CallbackRecord) -> CallbackRecord:
        with self._lock:
            self._callbacks.append(rec)
        return rec

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True if we should carry on."""
        if seconds:
            self._stopping.wait(seconds)
        return not self._stopping.is_set()


def _parse_authorization(value: str | None) -> tuple[tuple[str, str] | None, str | None]:
    if not value:
        return None, None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, pwd = base64.b64decode(rest.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return (user, pwd), None
    if scheme.lower() == "bearer":
        return None, rest.strip()
    return None, None


def post_webhook(
    url: str, body: bytes, headers: dict[str, str], payload: Any, timeout: float = 10.0
) -> CallbackRecord:
    """POST ``body`` to ``url`` (no proxies) and describe what happened."""
    rec = CallbackRecord(url=url, headers=dict(headers), body=body, payload=payload)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as resp:
            rec.status_code = resp.status
            rec.response_body = resp.read()
    except urllib.error.HTTPError as exc:
        rec.status_code = exc.code
        rec.response_body = exc.read()
    except (urllib.error.URLError, OSError) as exc:
        rec.error = repr(exc)
    return rec


def first(values: dict[str, list[str]], key: str) -> str | None:
    got = values.get(key)
    return got[0] if got else None


class WebhookSink(FakeProviderServer):
    """A loopback receiver for the fakes' webhooks when no Django server runs:
    records every request (see ``.requests``) and answers ``status`` (200)."""

    def __init__(self, status: int = 200, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.status = status

    def url(self, path: str = "/status") -> str:
        return self.base_url + path

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.requests
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise TimeoutError(f"expected {count} webhook requests, got {len(self.requests)}")

    def route(self, req: RecordedRequest) -> Response:
        return Response(self.status, b"", content_type="text/plain")


@contextlib.contextmanager
def running_webhook_sink(status: int = 200) -> Iterator[WebhookSink]:
    sink = WebhookSink(status)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
