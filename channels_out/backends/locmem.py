"""The in-memory backend for tests (like Django's locmem e-mail backend).

Accepted messages are appended to ``outbox``; ``script`` queues outcomes (a TransportError
to raise, or None to accept) consumed one per send, so tests can stage failures.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING

from guests.models import ContactChannel

from .base import Accepted, Backend, TransportError

if TYPE_CHECKING:
    from ..models import OutboundMessage

outbox: list[OutboundMessage] = []
_script: list[TransportError | None] = []
_lock = threading.Lock()
_ids = itertools.count(1)


def script(*outcomes: TransportError | None) -> None:
    """Queue outcomes for the next sends: a TransportError is raised, None accepts."""
    with _lock:
        _script.extend(outcomes)


def reset() -> None:
    with _lock:
        outbox.clear()
        _script.clear()


class LocmemBackend(Backend):
    name = "locmem"
    label = "In-memory"
    channels = tuple(ContactChannel.values)

    def build_request(self, message: OutboundMessage) -> OutboundMessage:
        return message

    def transmit(self, request: OutboundMessage, message: OutboundMessage) -> str:
        """Take the next scripted outcome: raise it, or keep the message and return its id."""
        with _lock:
            outcome = _script.pop(0) if _script else None
            if outcome is not None:
                raise outcome
            outbox.append(message)
            return f"LM{next(_ids):08d}"

    def parse_accepted(self, answer: str, request: OutboundMessage) -> Accepted:
        return self.accepted(answer)
