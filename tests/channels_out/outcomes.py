"""Name a TransportError's kind in assertions: ``kind_of(error) == "permanent"``."""

from __future__ import annotations

from channels_out.backends import TransportError


def kind_of(error: TransportError) -> str:
    """Return "ambiguous", "permanent" or "transient", as the dispatcher reads the error."""
    if error.ambiguous:
        return "ambiguous"
    return "permanent" if error.permanent else "transient"
