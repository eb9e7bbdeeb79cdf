"""A loopback SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port) that records what it gets.

It can be scripted to answer the next MAIL, RCPT or DATA commands with a given reply
("451 try later"), to hang before answering (the client times out; a hang on DATA happens
after the content arrived, and the message is then kept, as a real server may), or to drop
the connection. Each scripted step is used by one command; then it behaves normally.

Usage::

    with running_smtp_server() as server:
        server.script("RCPT", 451)               # the next RCPT gets "451 …", then normal
        server.script("DATA", hang=5)            # the next DATA end waits 5 s before its 250
        server.script("RCPT", drop=True)         # the next RCPT loses the connection
        ...
        server.received[0].message["Subject"]    # an email.message.EmailMessage
        server.connections                       # SMTP sessions opened so far

Test-only code: aiosmtpd and the stdlib.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["FakeSmtpServer", "Received", "running_smtp_server"]

_REASONS = {
    421: "Service not available, closing transmission channel",
    450: "Mailbox unavailable, try again later",
    451: "Local error in processing, try again later",
    452: "Insufficient system storage",
    550: "Mailbox unavailable",
    552: "Exceeded storage allocation",
    553: "Mailbox name not allowed",
    554: "Transaction failed",
}


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message: EmailMessage


@dataclass(frozen=True)
class _Step:
    command: str
    code: int = 0
    hang: float = 0.0
    drop: bool = False


class _Handler:
    def __init__(self, server: FakeSmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = await self.server._scripted("MAIL", smtp)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = await self.server._scripted("RCPT", smtp)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        reply = await self.server._scripted("DATA", smtp)
        if reply:
            return reply
        content = envelope.original_content or envelope.content
        self.server._record(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=content,
                # Parsed with Python's line ends so get_content() reads as written.
                message=email.message_from_bytes(
                    content.replace(b"\r\n", b"\n"), policy=email.policy.default
                ),  # type: ignore[arg-type]
            )
        )
        return "250 Message accepted for delivery"


class _CountingController(Controller):
    def __init__(self, server: FakeSmtpServer, **kwargs: Any) -> None:
        super().__init__(_Handler(server), **kwargs)
        self.fake = server

    def factory(self) -> Any:
        self.fake._connected()
        return super().factory()


class FakeSmtpServer:
    """The server; use :func:`running_smtp_server` to get a started one."""

    def __init__(self, **smtp_kwargs: Any) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: deque[_Step] = deque()
        self._connections = 0
        smtp_kwargs.setdefault("server_hostname", "fake-smtp.test")
        self._controller = _CountingController(
            self, hostname=self.host, port=self.port, **smtp_kwargs
        )

    def start(self) -> FakeSmtpServer:
        self._controller.start()
        with self._lock:
            self._connections = 0  # the controller's own "is it up?" probe is not a client
        return self

    def stop(self) -> None:
        self._controller.stop()

    # --- what tests read ---------------------------------------------------------------------
    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def connections(self) -> int:
        """SMTP sessions clients opened."""
        with self._lock:
            return self._connections

    # --- scripting ---------------------------------------------------------------------------
    def script(
        self, command: str, code: int = 0, *, times: int = 1, hang: float = 0.0, drop: bool = False
    ) -> None:
        """Have the next ``times`` ``command``s (MAIL, RCPT or DATA) answer ``code``, hang or drop."""
        command = command.upper()
        if command not in ("MAIL", "RCPT", "DATA"):
            raise ValueError(f"cannot script {command}")
        if not (code or hang or drop):
            raise ValueError("say what to do: a code, hang= or drop=True")
        with self._lock:
            self._script.extend(
                _Step(command, code=code, hang=hang, drop=drop) for _ in range(times)
            )

    async def _scripted(self, command: str, smtp: Any) -> str | None:
        with self._lock:
            if not self._script or self._script[0].command != command:
                return None
            step = self._script.popleft()
        if step.drop:
            smtp.transport.abort()  # no answer, no goodbye: the client reads end-of-file
            return "421 gone"
        if step.hang:
            await asyncio.sleep(step.hang)
        if step.code:
            return f"{step.code} {_REASONS.get(step.code, 'Scripted reply')}"
        return None  # a hang without a code then answers normally

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    def _connected(self) -> None:
        with self._lock:
            self._connections += 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_smtp_server(**smtp_kwargs: Any) -> Iterator[FakeSmtpServer]:
    """Start a :class:`FakeSmtpServer` for the ``with`` block; ``smtp_kwargs`` go to aiosmtpd's SMTP
    (e.g. ``authenticator=…, auth_require_tls=False``)."""
    server = FakeSmtpServer(**smtp_kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
