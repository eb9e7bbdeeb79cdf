"""A small loopback IMAP4rev1 server for tests: one mailbox folder, the commands a poller uses.

It speaks the protocol over a real socket on 127.0.0.1 (a free port), so ``imaplib`` talks to
it exactly as to a mail server: the greeting, CAPABILITY, LOGIN, SELECT (with EXISTS and
UIDVALIDITY), UID SEARCH with ``UID n:*`` (which, as RFC 3501 says, names the newest message
even when its UID is below n), UID FETCH of ``BODY.PEEK[]`` / ``BODY[]`` as a literal, NOOP,
CLOSE and LOGOUT. Anything else gets ``BAD``.

Usage::

    with running_imap_server(user="replies", password="pw") as server:
        server.deliver(raw_bytes)     # a new message with the next UID
        server.uid_validity = 2       # the server renumbered its messages
        server.commands               # every command line received

Test-only code: the stdlib.
"""

from __future__ import annotations

import contextlib
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["FakeImapServer", "running_imap_server"]

_LINE = re.compile(r"^(\S+) (\S+)(?: (.*))?$")


@dataclass
class FakeImapServer:
    user: str
    password: str
    folder: str = "INBOX"
    uid_validity: int = 1
    messages: dict[int, bytes] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    fetched: list[int] = field(default_factory=list)
    port: int = 0
    _next_uid: int = 1

    def deliver(self, raw: bytes) -> int:
        uid = self._next_uid
        self.messages[uid] = raw
        self._next_uid += 1
        return uid


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        state = self.server.state
        self.send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
        logged_in = selected = False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            state.commands.append(line)
            match = _LINE.match(line)
            if match is None:
                self.send("* BAD syntax")
                continue
            tag, command, rest = match.group(1), match.group(2).upper(), match.group(3) or ""
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif command == "LOGIN":
                parts = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', rest)
                values = [quoted.replace('\\"', '"') or bare for quoted, bare in parts]
                if values[:2] == [state.user, state.password]:
                    logged_in = True
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif command == "SELECT" and logged_in:
                if rest.strip('"') != state.folder:
                    self.send(f"{tag} NO no such mailbox")
                    continue
                selected = True
                self.send(f"* {len(state.messages)} EXISTS")
                self.send("* 0 RECENT")
                self.send(f"* OK [UIDVALIDITY {state.uid_validity}] UIDs valid")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif command == "UID" and selected:
                self.uid(tag, rest)
            elif command in ("CLOSE", "UNSELECT") and selected:
                selected = False
                self.send(f"{tag} OK {command} completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD {command} not allowed now")

    def uid(self, tag: str, rest: str) -> None:
        state = self.server.state
        sub, _space, args = rest.partition(" ")
        uids = sorted(state.messages)
        if sub.upper() == "SEARCH":
            match = re.search(r"UID (\d+):\*", args, re.IGNORECASE)
            low = int(match.group(1)) if match else 1
            found = [u for u in uids if u >= low] or uids[-1:]
            self.send("* SEARCH" + "".join(f" {u}" for u in found))
            self.send(f"{tag} OK SEARCH completed")
        elif sub.upper() == "FETCH":
            wanted, _space, _items = args.partition(" ")
            for uid in [int(u) for u in wanted.split(",") if u.isdigit()]:
                if uid not in state.messages:
                    continue
                state.fetched.append(uid)
                body = state.messages[uid]
                sequence = uids.index(uid) + 1
                self.wfile.write(
                    f"* {sequence} FETCH (UID {uid} BODY[] {{{len(body)}}}\r\n".encode()
                    + body
                    + b")\r\n"
                )
            self.send(f"{tag} OK FETCH completed")
        else:
            self.send(f"{tag} BAD UID {sub} not supported")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: FakeImapServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextlib.contextmanager
def running_imap_server(
    *, user: str, password: str, folder: str = "INBOX"
) -> Iterator[FakeImapServer]:
    state = FakeImapServer(user=user, password=password, folder=folder)
    server = _Server(state)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
